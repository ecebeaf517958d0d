"""Reading lashing's own TOML files: `lashing.toml` and the standalone files
given to `--policy` and `--ignore-file`.

    doc = read_toml(path, "--ignore-file")        # InputError naming the file
    check_keys(doc, SECTIONS, path, "")           # unknown keys suggest the nearest
    table = get_table(doc, "ignore", path)        # a sub-table, type-checked
    base_dir(path) / "relative/path"              # paths are relative to the file

Every problem is an InputError (exit 2) whose message names the file and the
key; unknown keys get a "did you mean ..." hint from difflib.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from lashing.errors import InputError

# The sections of lashing.toml; a standalone file holds one of them.
SECTIONS = ("scan", "policy", "ignore", "audit", "store", "watch")
MAX_CONFIG_BYTES = 1024 * 1024


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The valid choice closest to `word`, if any is close enough."""
    options = list(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        lowered = {o.lower(): o for o in options}
        close = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered),
                                                               n=1, cutoff=0.6)]
    return close[0] if close else None


def read_toml(path: Path, what: str = "config file",
              max_bytes: int = MAX_CONFIG_BYTES) -> dict[str, Any]:
    """Parse a TOML file; a missing, unreadable, oversized or invalid file is an
    InputError naming it."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise InputError(f"{what} {path}: not a regular file")
        if size > max_bytes:
            raise InputError(f"{what} {path}: {size} bytes is too large for a config file "
                             f"(limit {max_bytes})")
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} {path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot read ({exc.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{what} {path}: not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{what} {path}: invalid TOML: {exc}") from None


def _where(path: Path, where: str) -> str:
    return f"{path}: {where}: " if where else f"{path}: "


def check_keys(table: Mapping[str, Any], allowed: Collection[str], path: Path,
               where: str = "") -> None:
    """Refuse keys outside `allowed`, suggesting the nearest valid one."""
    for key in table:
        if key in allowed:
            continue
        near = suggest(key, allowed)
        hint = (f"did you mean {near!r}?" if near
                else f"valid keys: {', '.join(sorted(allowed))}")
        raise InputError(f"{_where(path, where)}unknown key {key!r}", hint)


def get_table(table: Mapping[str, Any], key: str, path: Path,
              where: str = "") -> dict[str, Any] | None:
    """`table[key]` when it is a TOML table, None when absent, else an InputError."""
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        name = f"{where}.{key}" if where else key
        raise InputError(f"{path}: {name}: expected a table ([{name}])")
    return value


def get_str(table: Mapping[str, Any], key: str, path: Path, where: str = "",
            required: bool = False) -> str | None:
    """A non-empty string value, None when absent (an InputError when required)."""
    value = table.get(key)
    if value is None:
        if required:
            raise InputError(f"{_where(path, where)}{key!r} is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{_where(path, where)}{key!r} must be a non-empty string")
    return value.strip()


def base_dir(path: Path) -> Path:
    """The directory paths inside the config file are relative to."""
    return path.resolve().parent


def resolve_path(config_path: Path, value: str) -> Path:
    """A path written in a config file, relative to that file."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else base_dir(config_path) / p


__all__ = [
    "MAX_CONFIG_BYTES",
    "SECTIONS",
    "base_dir",
    "check_keys",
    "get_str",
    "get_table",
    "read_toml",
    "resolve_path",
    "suggest",
]
