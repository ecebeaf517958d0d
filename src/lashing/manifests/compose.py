"""Compose projects: files merged in compose's order, `extends`, `include`,
`profiles`, and `${VAR}` interpolation from `.env` and the environment.

`load_compose([base, override...])` interpolates each file, merges them in
the order given (later files win; mappings merge, most lists append, a few
such as `command` are replaced; `ports`, `volumes`, `secrets` and `configs`
entries that share compose's unique key are merged, not repeated; `!reset`
removes a value, `!override` replaces it whole), resolves `extends` and
returns the services with the file and line they were declared at. Values
keep their own file and line (`YMap.source`, `YMap.key_lines`), so a finding
on a value set by an override names the override.

`include:` entries are loaded as projects of their own (their own directory
for relative paths, their own `.env` or `env_file`, overridden by the
including project's environment) and their services, networks, volumes,
secrets and configs are added to the including project. A name defined on
both sides with different content is a conflict compose refuses: it is
reported as a problem naming both files and the including side is kept.
Cycles, nesting deeper than `MAX_INCLUDE_DEPTH` and more than
`MAX_INCLUDED_FILES` files are errors; remote includes (git, OCI) are not
fetched.

Profiles. Compose ignores a service whose `profiles` name no enabled profile,
but a profile can be enabled at deploy time, so a security scan should judge
every service. Hence: when no profile selection is given (`profiles=None`
and no `COMPOSE_PROFILES` in the environment the project is interpolated
with), `services` keeps every service and `inactive` lists, for information,
the services compose would ignore with no profile enabled. When a selection
is given (a collection of names, `*` for all, or `COMPOSE_PROFILES`),
`services` holds only the active services and `inactive` the others.
Services named by `depends_on` of an active service are activated.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lashing.manifests.compose_env import InterpolationError, interpolate, read_env_file
from lashing.manifests.compose_merge import drop_resets, merge
from lashing.manifests.yaml import YamlError, YamlLimits, YamlProblem, YMap, YSeq, load_all

__all__ = ["ComposeProject", "Service", "interpolate", "load_compose", "load_compose_text",
           "looks_like_compose", "read_env_file"]

COMPOSE_KEYS = frozenset({"services", "version", "networks", "volumes", "secrets", "configs",
                          "include", "name"})
SERVICE_KEYS = frozenset({"image", "build", "ports", "volumes", "environment", "command",
                          "depends_on", "networks", "restart", "privileged", "cap_add",
                          "container_name", "expose", "deploy", "healthcheck", "entrypoint",
                          "env_file", "labels", "user", "extends", "network_mode", "profiles"})
MAX_INCLUDE_DEPTH = 10
MAX_INCLUDED_FILES = 200
_REMOTE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|git@)")


@dataclass(frozen=True)
class Service:
    name: str
    data: YMap
    path: str  # file declaring it (the first file that names it)
    line: int

    def get(self, key: str) -> Any:
        return self.data.get(key)

    @property
    def profiles(self) -> tuple[str, ...]:
        """The profiles the service is enabled under (empty: always enabled)."""
        value = self.data.get("profiles")
        if not isinstance(value, list):
            return ()
        return tuple(str(p) for p in value)


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
    configs: YMap = field(default_factory=YMap)
    # services compose leaves out for the profile selection (see the module docstring)
    inactive: dict[str, Service] = field(default_factory=dict)
    # the profile selection; None when none was given (every service is in `services`)
    profiles: tuple[str, ...] | None = None
    included: tuple[str, ...] = ()  # files read through `include:`


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



def _read(path: Path, limits: YamlLimits, project: ComposeProject) -> YMap | None:
    name = str(path)
    try:
        if path.exists() and not path.is_file():  # a device or a FIFO would never end
            raise YamlError(name, None, "not a regular file")
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise YamlError(name, None, f"{size} bytes is over the {limits.max_bytes}-byte "
                            "limit for a YAML document")
        with path.open("rb") as fh:
            data = fh.read(limits.max_bytes + 1)  # the file may grow while read
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
                 profiles: Collection[str] | None = None) -> ComposeProject:
    """The compose project made of `paths` (base first, overrides after).

    `env` defaults to the `.env` file in the first file's directory overlaid
    with the process environment. Problems (bad YAML, bad interpolation, a
    broken `extends` or `include`) are collected in `errors` / `problems`;
    what could be read is still returned. `profiles` selects the enabled
    profiles (None: `COMPOSE_PROFILES` from `env` if set, else no selection;
    see the module docstring)."""
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
    state = _IncludeState(tuple(_resolved(p) for p in paths), 0, [0])
    _assemble(project, [(str(p), d, p.parent) for p, d in docs], env, limits, state)
    return _select_profiles(project, profiles, env)


def load_compose_text(text: str | bytes, name: str, env: Mapping[str, str] | None = None,
                      limits: YamlLimits | None = None, profiles: Collection[str] | None = None,
                      ) -> ComposeProject:
    """One compose file given as text (stdin, examples); `extends: file:` and
    `include:` are not followed. `profiles` as for `load_compose`."""
    limits = limits or YamlLimits()
    project = ComposeProject(name=_project_name(Path(name).parent), files=(name,))
    doc = _parse(text, name, limits, project)
    _assemble(project, [(name, doc, None)], env or {}, limits)
    return _select_profiles(project, profiles, env or {})


def _project_name(directory: Path) -> str:
    base = directory.resolve().name.lower() if str(directory) not in ("", ".") else ""
    return re.sub(r"[^a-z0-9_-]", "", base) or "default"


def _assemble(project: ComposeProject, docs: list[tuple[str, YMap | None, Path | None]],
              env: Mapping[str, str], limits: YamlLimits, state: _IncludeState | None = None,
              ) -> ComposeProject:
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
        merged = doc if merged is None else merge(merged, doc)
    if merged is None:
        return project
    services = drop_resets(drop_resets(merged, deep=False).get("services"), deep=False)
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
            value = drop_resets(_extends(value, services, base_dir, env, limits, project, 0))
            path, line = declared.get(str(sname), (value.source, services.line_of(sname)))
            project.services[str(sname)] = Service(str(sname), value, path, line)
    for key in ("networks", "volumes", "secrets", "configs"):
        section = merged.get(key)
        if isinstance(section, YMap):
            setattr(project, key, drop_resets(section))
    _include(project, docs, env, limits, state)
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
    if target_dir is not None and base_dir is not None:
        parent = _rebase(parent, os.path.relpath(target_dir, base_dir))
    own = YMap(service.line, service.source)
    for k, v in service.items():
        if k != "extends":
            own[k] = v
            own.key_lines[k] = service.line_of(k)
            own.key_sources[k] = service.source_of(k)
            if k in service.key_tags:
                own.key_tags[k] = service.key_tags[k]
    merged = merge(parent, own)
    for k in parent:
        if k not in own:
            merged.key_sources[k] = parent.source_of(k)
    merged.source = service.source
    merged.line = service.line
    result: YMap = merged
    return result



def _rebase(service: YMap, rel: str) -> YMap:
    """`service` from a file in directory `rel` (relative to the project directory) with
    its relative paths (build context, env_file, bind-mount sources) made relative to
    the project directory, as compose resolves them."""
    if rel in ("", "."):
        return service

    def path(value: Any) -> Any:
        if not isinstance(value, str) or value.startswith(("/", "~", "$")) or "://" in value \
                or value.startswith("git@"):
            return value
        joined = posixpath.normpath(posixpath.join(rel, value))
        return joined if joined.startswith("..") else f"./{joined}"

    out = _copy_map(service)
    build = out.get("build")
    if isinstance(build, str):
        out["build"] = path(build)
    elif isinstance(build, YMap) and "context" in build:
        out["build"] = _copy_map(build)
        out["build"]["context"] = path(build["context"])
    env_file = out.get("env_file")
    if isinstance(env_file, str):
        out["env_file"] = path(env_file)
    elif isinstance(env_file, YSeq):
        out["env_file"] = _copy_seq(env_file, [
            path(e) if isinstance(e, str) else _with(e, "path", path) for e in env_file])
    volumes = out.get("volumes")
    if isinstance(volumes, YSeq):
        out["volumes"] = _copy_seq(volumes, [_rebase_volume(v, path) for v in volumes])
    return out


def _rebase_volume(volume: Any, path: Any) -> Any:
    if isinstance(volume, str):
        source, sep, rest = volume.partition(":")
        return f"{path(source)}{sep}{rest}" if sep and source.startswith(".") else volume
    if isinstance(volume, YMap) and volume.get("type") == "bind":
        return _with(volume, "source", path)
    return volume


def _with(value: Any, key: str, change: Any) -> Any:
    if not isinstance(value, YMap) or key not in value:
        return value
    out = _copy_map(value)
    out[key] = change(value[key])
    return out


def _copy_map(value: YMap) -> YMap:
    out = YMap(value.line, value.source)
    out.update(value)
    out.key_lines.update(value.key_lines)
    out.key_sources.update(value.key_sources)
    out.key_tags.update(value.key_tags)
    return out


def _copy_seq(value: YSeq, items: list[Any]) -> YSeq:
    out = YSeq(value.line, value.source)
    out.extend(items)
    out.item_lines.extend(value.item_lines)
    return out


# ---- include -------------------------------------------------------------------------


@dataclass(frozen=True)
class _IncludeState:
    chain: tuple[Path, ...]  # resolved files of the including projects, outermost first
    depth: int
    count: list[int]  # files included so far in the whole project (shared)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _include(project: ComposeProject, docs: list[tuple[str, YMap | None, Path | None]],
             env: Mapping[str, str], limits: YamlLimits, state: _IncludeState | None) -> None:
    """Load every `include:` entry of `docs` and add its resources to `project`.
    Relative paths are relative to the project directory (the first file's)."""
    base_dir = docs[0][2] if docs else None
    for name, doc, _ in docs:
        entries = doc.get("include") if doc is not None else None
        if entries is None:
            continue
        if not isinstance(entries, YSeq):
            project.errors.append(YamlError(name, doc.line_of("include") if doc else None,
                                            "include is a list of files"))
            continue
        for i, entry in enumerate(entries):
            line = entry.line if isinstance(entry, YMap) else entries.line_at(i)
            _include_one(project, entry, name, line, base_dir, env, limits, state)


def _include_one(project: ComposeProject, entry: Any, name: str, line: int,
                 base_dir: Path | None, env: Mapping[str, str], limits: YamlLimits,
                 state: _IncludeState | None) -> None:
    if isinstance(entry, dict):
        paths = _strings(entry.get("path"))
        env_files = _strings(entry.get("env_file")) if entry.get("env_file") is not None else []
        directory = entry.get("project_directory")
        if paths is None or env_files is None or not isinstance(directory, str | None):
            project.errors.append(YamlError(name, line, "an include entry needs `path` (a file "
                                            "or a list of files); `project_directory` is a "
                                            "path and `env_file` a file or a list of files"))
            return
    else:
        paths, env_files, directory = _strings(entry), [], None
        if paths is None:
            project.errors.append(YamlError(name, line, "an include entry is a path or a "
                                            "mapping with `path`"))
            return
    remote = next((p for p in paths if _REMOTE.match(p)), None)
    if remote is not None:
        project.problems.append(YamlProblem(name, line, f"include {remote} not followed "
                                            "(remote includes are not fetched)"))
        return
    if base_dir is None or state is None:
        project.problems.append(YamlProblem(name, line, f"include {paths[0]} not followed "
                                            "(input read from a stream)"))
        return
    files = [base_dir / p for p in paths]
    for text, file in zip(paths, files, strict=True):
        if not file.is_file():
            what = "is not a file" if file.exists() else "does not exist"
            project.errors.append(YamlError(name, line, f"include {text}: {file} {what}"))
            return
    resolved = [_resolved(f) for f in files]
    looped = next((r for r in resolved if r in state.chain), None)
    if looped is not None:
        cycle = " -> ".join(str(p) for p in (*state.chain[state.chain.index(looped):], looped))
        project.errors.append(YamlError(name, line, f"include cycle refused: {cycle}"))
        return
    if state.depth >= MAX_INCLUDE_DEPTH:
        project.errors.append(YamlError(name, line, f"include {paths[0]} not followed: includes "
                                        f"nest deeper than {MAX_INCLUDE_DEPTH} levels"))
        return
    if state.count[0] + len(files) > MAX_INCLUDED_FILES:
        project.errors.append(YamlError(name, line, f"include {paths[0]} not followed: more "
                                        f"than {MAX_INCLUDED_FILES} included files"))
        return
    state.count[0] += len(files)
    sub_dir = base_dir / directory if directory else files[0].parent
    file_env: dict[str, str] = {}
    for env_file in [base_dir / e for e in env_files] or [sub_dir / ".env"]:
        if env_files and not env_file.is_file():
            project.errors.append(YamlError(name, line, f"include {paths[0]}: env_file "
                                            f"{env_file} does not exist"))
            return
        file_env.update(read_env_file(env_file))
    sub = ComposeProject(name=project.name, files=tuple(str(f) for f in files))
    sub_docs: list[tuple[str, YMap | None, Path | None]] = [
        (str(f), _read(f, limits, sub), sub_dir if i == 0 else f.parent)
        for i, f in enumerate(files)]
    _assemble(sub, sub_docs, {**file_env, **env}, limits,
              _IncludeState((*state.chain, *resolved), state.depth + 1, state.count))
    _adopt(project, sub, name, line)


def _adopt(project: ComposeProject, sub: ComposeProject, name: str, line: int) -> None:
    """Add an included project's resources; a name defined on both sides differently is
    a conflict (compose refuses it): reported, and the including side is kept."""
    project.problems.extend(sub.problems)
    project.errors.extend(sub.errors)
    project.interpolated |= sub.interpolated
    project.included = tuple(dict.fromkeys((*project.included, *sub.files, *sub.included)))
    for sname, service in sub.services.items():
        mine = project.services.get(sname)
        if mine is None:
            project.services[sname] = service
        elif mine.data != service.data:
            project.problems.append(YamlProblem(name, line, (
                f"include {sub.files[0]}: service {sname} is defined in both {mine.path}:"
                f"{mine.line} and {service.path}:{service.line}; compose refuses the "
                f"conflict, the definition in {mine.path} is used")))
    for key in ("networks", "volumes", "secrets", "configs"):
        ours: YMap = getattr(project, key)
        theirs: YMap = getattr(sub, key)
        for k, v in theirs.items():
            if k not in ours:
                ours[k] = v
                ours.key_lines[k] = theirs.line_of(k)
                ours.key_sources[k] = theirs.source_of(k)
            elif ours[k] != v:
                project.problems.append(YamlProblem(name, line, (
                    f"include {sub.files[0]}: {key[:-1]} {k} is defined in both "
                    f"{ours.source_of(k)}:{ours.line_of(k)} and {theirs.source_of(k)}:"
                    f"{theirs.line_of(k)}; compose refuses the conflict, the definition in "
                    f"{ours.source_of(k)} is used")))


# ---- profiles ------------------------------------------------------------------------


def _select_profiles(project: ComposeProject, profiles: Collection[str] | None,
                     env: Mapping[str, str]) -> ComposeProject:
    """Split services into active and inactive (see the module docstring)."""
    if profiles is None:
        raw = env.get("COMPOSE_PROFILES")
        selection = None if raw is None else tuple(p.strip() for p in raw.split(","))
    else:
        selection = tuple(profiles.split(",") if isinstance(profiles, str) else profiles)
    if selection is not None:
        selection = tuple(dict.fromkeys(p for p in selection if p))
    enabled = set(selection or ())
    active: set[str] = set()
    for sname, service in project.services.items():
        value = service.get("profiles")
        if value is not None and not (isinstance(value, list)
                                      and all(isinstance(p, str) for p in value)):
            project.problems.append(YamlProblem(
                service.data.source_of("profiles"), service.data.line_of("profiles"),
                f"service {sname}: profiles is a list of names; the service is treated as "
                "always enabled"))
        own = service.profiles
        if not own or "*" in enabled or enabled & set(own):
            active.add(sname)
    todo = list(active)
    while todo:  # what an active service depends on is started with it
        depends = project.services[todo.pop()].get("depends_on")
        for dep in (depends if isinstance(depends, list | dict) else ()):
            if isinstance(dep, str) and dep in project.services and dep not in active:
                active.add(dep)
                todo.append(dep)
    project.profiles = selection
    project.inactive = {n: s for n, s in project.services.items() if n not in active}
    if selection is not None:
        project.services = {n: s for n, s in project.services.items() if n in active}
    return project
