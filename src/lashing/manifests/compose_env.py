"""Compose's `${VAR}` interpolation (with `:-`, `-`, `:?`, `?`, `:+`, `+` and
nesting) and `.env` files, as the Compose Specification defines them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

__all__ = ["InterpolationError", "interpolate", "read_env_file"]


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class InterpolationError(ValueError):
    pass


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`,
    `${VAR?err}`, `${VAR:+alt}`, `${VAR+alt}` and `$$`; nested defaults work.
    Unset variables without a default become "" (as compose does, with a warning)."""
    out, _ = _interp(text, 0, env, nested=False)
    return out


def _interp(text: str, pos: int, env: Mapping[str, str], nested: bool) -> tuple[str, int]:
    out: list[str] = []
    while pos < len(text):
        c = text[pos]
        if nested and c == "}":
            return "".join(out), pos
        if c != "$":
            out.append(c)
            pos += 1
            continue
        nxt = text[pos + 1: pos + 2]
        if nxt == "$":
            out.append("$")
            pos += 2
        elif nxt == "{":
            value, pos = _braced(text, pos + 2, env)
            out.append(value)
        else:
            m = _NAME.match(text, pos + 1)
            if m is None:
                raise InterpolationError(f"invalid interpolation format in {text!r} "
                                         "(use $$ for a literal $)")
            out.append(env.get(m.group(), ""))
            pos = m.end()
    if nested:
        raise InterpolationError(f"unterminated ${{ in {text!r}")
    return "".join(out), pos


def _braced(text: str, pos: int, env: Mapping[str, str]) -> tuple[str, int]:
    m = _NAME.match(text, pos)
    if m is None:
        raise InterpolationError(f"invalid interpolation format in {text!r}")
    var = m.group()
    pos = m.end()
    if text[pos: pos + 1] == "}":
        return env.get(var, ""), pos + 1
    for op in (":-", ":?", ":+", "-", "?", "+"):
        if text.startswith(op, pos):
            arg, end = _interp(text, pos + len(op), env, nested=True)
            value = env.get(var)
            empty_unset = op.startswith(":")
            unset = value is None or (empty_unset and value == "")
            base = op[-1]
            if base == "-":
                return (arg if unset else str(value)), end + 1
            if base == "+":
                return ("" if unset else arg), end + 1
            if unset:
                raise InterpolationError(f"required variable {var} is missing a value"
                                         + (f": {arg}" if arg else ""))
            return str(value), end + 1
    raise InterpolationError(f"invalid interpolation format in {text!r}")



def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a `.env` file (comments, `export `, quotes)."""
    env: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return env
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        if _NAME.fullmatch(key):
            env[key] = value
    return env

