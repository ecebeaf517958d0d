"""Compose projects: files merged in compose's order, `extends`, and
`${VAR}` interpolation from `.env` and the environment.

`load_compose([base, override...])` interpolates each file, merges them in
the order given (later files win; mappings merge, most lists append, a few
such as `command` are replaced), resolves `extends` and returns the services
with the file and line they were declared at. Values keep their own file and
line (`YMap.source`, `YMap.key_lines`), so a finding on a value set by an
override names the override.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lashing.manifests.yaml import YamlError, YamlLimits, YamlProblem, YMap, YSeq, load_all

__all__ = ["ComposeProject", "Service", "interpolate", "load_compose", "load_compose_text",
           "looks_like_compose", "read_env_file"]

REPLACED = frozenset({"command", "entrypoint", "test", "env_file", "user", "image"})
COMPOSE_KEYS = frozenset({"services", "version", "networks", "volumes", "secrets", "configs",
                          "include", "name"})
SERVICE_KEYS = frozenset({"image", "build", "ports", "volumes", "environment", "command",
                          "depends_on", "networks", "restart", "privileged", "cap_add",
                          "container_name", "expose", "deploy", "healthcheck", "entrypoint",
                          "env_file", "labels", "user", "extends", "network_mode"})


@dataclass(frozen=True)
class Service:
    name: str
    data: YMap
    path: str  # file declaring it (the first file that names it)
    line: int

    def get(self, key: str) -> Any:
        return self.data.get(key)


@dataclass
class ComposeProject:
    name: str
    files: tuple[str, ...]
    services: dict[str, Service] = field(default_factory=dict)
    networks: YMap = field(default_factory=YMap)
    volumes: YMap = field(default_factory=YMap)
    secrets: YMap = field(default_factory=YMap)
    problems: list[YamlProblem] = field(default_factory=list)
    errors: list[YamlError] = field(default_factory=list)
    # (file, line) of values that interpolation changed: not literals in the file
    interpolated: set[tuple[str, int]] = field(default_factory=set)


def looks_like_compose(doc: Any) -> bool:
    """A mapping with `services:` whose entries look like services (and no Kubernetes kind)."""
    if not isinstance(doc, dict) or "kind" in doc or "apiVersion" in doc:
        return False
    services = doc.get("services")
    if not isinstance(services, dict):
        return False
    if not services:
        return set(doc) <= COMPOSE_KEYS | {k for k in doc if str(k).startswith("x-")}
    return any(isinstance(s, dict) and (not s or SERVICE_KEYS & set(s))
               for s in services.values())


# ---- interpolation -------------------------------------------------------------------

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


def _interpolate_tree(value: Any, env: Mapping[str, str], name: str,
                      project: ComposeProject) -> None:
    stack: list[Any] = [value]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, YMap):
            for k, v in list(node.items()):
                if isinstance(v, str):
                    node[k] = _safe(v, env, name, node.line_of(k), project)
                elif isinstance(v, YMap | YSeq):
                    stack.append(v)
        elif isinstance(node, YSeq):
            for i, v in enumerate(node):
                if isinstance(v, str):
                    node[i] = _safe(v, env, name, node.line_at(i), project)
                elif isinstance(v, YMap | YSeq):
                    stack.append(v)


def _safe(text: str, env: Mapping[str, str], name: str, line: int,
          project: ComposeProject) -> str:
    if "$" not in text:
        return text
    try:
        value = interpolate(text, env)
    except InterpolationError as exc:
        project.errors.append(YamlError(name, line, str(exc)))
        return text
    if value != text.replace("$$", "$"):
        project.interpolated.add((name, line))
    return value


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


# ---- merging -------------------------------------------------------------------------


def _merge(base: Any, over: Any, key: str = "") -> Any:
    if isinstance(base, YMap) and isinstance(over, YMap):
        merged = YMap(base.line, base.source)
        merged.update(base)
        merged.key_lines.update(base.key_lines)
        merged.key_sources.update(base.key_sources)
        for k, v in over.items():
            merged[k] = _merge(base[k], v, str(k)) if k in base else v
            merged.key_lines[k] = over.line_of(k)
            merged.key_sources[k] = over.source_of(k)
        return merged
    if isinstance(base, YSeq) and isinstance(over, YSeq) and key not in REPLACED:
        if key in ("environment", "labels"):  # list form: KEY=VALUE, later wins
            return _merge(_as_map(base), _as_map(over), key)
        merged_seq = YSeq(base.line, base.source)
        merged_seq.extend(base)
        merged_seq.item_lines.extend(base.item_lines)
        for i, v in enumerate(over):
            if v not in merged_seq:
                merged_seq.append(v)
                merged_seq.item_lines.append(over.line_at(i))
        return merged_seq
    if key in ("environment", "labels") and isinstance(base, YMap | YSeq) and isinstance(
            over, YMap | YSeq):
        return _merge(_as_map(base), _as_map(over), key)
    return over


def _as_map(value: YMap | YSeq) -> YMap:
    if isinstance(value, YMap):
        return value
    out = YMap(value.line, value.source)
    for i, item in enumerate(value):
        k, _, v = str(item).partition("=")
        out[k] = v if "=" in str(item) else None
        out.key_lines[k] = value.line_at(i)
    return out


def _read(path: Path, limits: YamlLimits, project: ComposeProject) -> YMap | None:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise YamlError(name, None, f"{size} bytes is over the {limits.max_bytes}-byte "
                            "limit for a YAML document")
        data = path.read_bytes()
    except OSError as exc:
        project.errors.append(YamlError(name, None, f"cannot read ({exc.strerror})"))
        return None
    except YamlError as exc:
        project.errors.append(exc)
        return None
    return _parse(data, name, limits, project)


def _parse(data: str | bytes, name: str, limits: YamlLimits,
           project: ComposeProject) -> YMap | None:
    try:
        docs, problems, error = load_all(data, name, limits)
    except YamlError as exc:
        project.errors.append(exc)
        return None
    project.problems.extend(problems)
    if error is not None:
        project.errors.append(error)
    if not docs:
        return None
    if not isinstance(docs[0], YMap):
        project.errors.append(YamlError(name, line_or_none(docs[0]),
                                        "a compose file is a mapping"))
        return None
    return docs[0]


def line_or_none(value: Any) -> int | None:
    return value.line if isinstance(value, YMap | YSeq) else None


def load_compose(paths: Sequence[Path], env: Mapping[str, str] | None = None,
                 limits: YamlLimits | None = None, project_name: str | None = None,
                 ) -> ComposeProject:
    """The compose project made of `paths` (base first, overrides after).

    `env` defaults to the `.env` file in the first file's directory overlaid
    with the process environment. Problems (bad YAML, bad interpolation, a
    broken `extends`) are collected in `errors` / `problems`; what could be
    read is still returned."""
    limits = limits or YamlLimits()
    if not paths:
        raise ValueError("load_compose needs at least one file")
    first = paths[0]
    project_dir = first.parent
    if env is None:
        env = {**read_env_file(project_dir / ".env"), **os.environ}
    name = project_name or env.get("COMPOSE_PROJECT_NAME") or _project_name(project_dir)
    project = ComposeProject(name=name, files=tuple(str(p) for p in paths))
    docs = [(p, _read(p, limits, project)) for p in paths]
    return _assemble(project, [(str(p), d, p.parent) for p, d in docs], env, limits)


def load_compose_text(text: str | bytes, name: str, env: Mapping[str, str] | None = None,
                      limits: YamlLimits | None = None) -> ComposeProject:
    """One compose file given as text (stdin, examples); `extends: file:` is not followed."""
    limits = limits or YamlLimits()
    project = ComposeProject(name=_project_name(Path(name).parent), files=(name,))
    doc = _parse(text, name, limits, project)
    return _assemble(project, [(name, doc, None)], env or {}, limits)


def _project_name(directory: Path) -> str:
    base = directory.resolve().name.lower() if str(directory) not in ("", ".") else ""
    return re.sub(r"[^a-z0-9_-]", "", base) or "default"


def _assemble(project: ComposeProject, docs: list[tuple[str, YMap | None, Path | None]],
              env: Mapping[str, str], limits: YamlLimits) -> ComposeProject:
    merged: YMap | None = None
    declared: dict[str, tuple[str, int]] = {}
    for name, doc, _ in docs:
        if doc is None:
            continue
        _interpolate_tree(doc, env, name, project)
        services = doc.get("services")
        if isinstance(services, YMap):
            for s in services:
                declared.setdefault(str(s), (name, services.line_of(s)))
        merged = doc if merged is None else _merge(merged, doc)
    if merged is None:
        return project
    services = merged.get("services")
    base_dir = docs[0][2]
    if isinstance(services, YMap):
        for sname in list(services):
            value = services[sname]
            if value is None:
                value = YMap(services.line_of(sname), declared.get(str(sname), ("", 0))[0])
            if not isinstance(value, YMap):
                project.errors.append(YamlError(declared.get(str(sname), ("", 0))[0],
                                                services.line_of(sname),
                                                f"service {sname} is not a mapping"))
                continue
            value = _extends(value, services, base_dir, env, limits, project, 0)
            path, line = declared.get(str(sname), (value.source, services.line_of(sname)))
            project.services[str(sname)] = Service(str(sname), value, path, line)
    for key in ("networks", "volumes", "secrets"):
        section = merged.get(key)
        if isinstance(section, YMap):
            setattr(project, key, section)
    return project


def _extends(service: YMap, services: YMap, base_dir: Path | None, env: Mapping[str, str],
             limits: YamlLimits, project: ComposeProject, depth: int) -> YMap:
    ext = service.get("extends")
    if ext is None:
        return service
    where = (service.source, service.line_of("extends"))
    if depth > 10:
        project.errors.append(YamlError(*where, "extends nests too deeply (a cycle?)"))
        return service
    if isinstance(ext, str):
        ext = {"service": ext}
    if not isinstance(ext, dict) or not isinstance(ext.get("service"), str):
        project.errors.append(YamlError(*where, "extends needs a service name"))
        return service
    target_services: Any = services
    target_dir = base_dir
    if isinstance(ext.get("file"), str):
        if base_dir is None:
            project.errors.append(YamlError(*where, f"extends file {ext['file']} not followed "
                                            "(input read from a stream)"))
            return service
        other = base_dir / str(ext["file"])
        doc = _read(other, limits, project)
        if doc is None:
            return service
        _interpolate_tree(doc, env, str(other), project)
        target_services = doc.get("services")
        target_dir = other.parent
    parent = target_services.get(ext["service"]) if isinstance(target_services, dict) else None
    if not isinstance(parent, YMap):
        project.errors.append(YamlError(*where, f"extends names service {ext['service']}, "
                                        "which is not defined"))
        return service
    parent = _extends(parent, target_services, target_dir, env, limits, project, depth + 1)
    own = YMap(service.line, service.source)
    for k, v in service.items():
        if k != "extends":
            own[k] = v
            own.key_lines[k] = service.line_of(k)
            own.key_sources[k] = service.source_of(k)
    merged = _merge(parent, own)
    for k in parent:
        if k not in own:
            merged.key_sources[k] = parent.source_of(k)
    merged.source = service.source
    merged.line = service.line
    result: YMap = merged
    return result
