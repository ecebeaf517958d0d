"""The containers tools' (podman, buildah, skopeo, CRI-O) effective configuration,
merged in their own precedence order, remembering which file set each value.

- registries.conf (containers-registries.conf.d(5)): /etc/containers/registries.conf,
  then /etc/containers/registries.conf.d/*.conf in alphanumeric order, then the
  user's ~/.config/containers/registries.conf.d/*.conf. When the user has
  ~/.config/containers/registries.conf, it replaces the system file and the system
  drop-ins. Later files override top-level keys; [[registry]] tables with the same
  prefix (or location) replace earlier ones, others are added.
- containers.conf (containers.conf(5), containers-config(5)): in
  /usr/share/containers then in /etc/containers, containers.conf,
  containers.conf.d/*.conf, then containers.rootful.conf.d/*.conf for root, or
  containers.rootless.conf.d/*.conf and containers.rootless.conf.d/UID/*.conf for
  other users; then the user's ~/.config/containers/containers.conf and
  containers.conf.d/*.conf. Each key of each table overrides earlier files'.
- policy.json and storage.conf: the user's file, when present, replaces the
  system one for that user.

A scope is the system (what root gets without files of its own), all rootless
users (when containers.rootless.conf.d has files), or one user with files of
their own (under ~/.config/containers, or containers.rootless.conf.d/UID).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ETC = "/etc/containers"
VENDOR_DIR = "/usr/share/containers"
USER_DIR = ".config/containers"


@dataclass(frozen=True)
class Scope:
    """Whose configuration: the system's, or one user's."""

    user: str = ""  # "" for the system; ROOTLESS for every user but root
    home: str = ""
    uid: int = 0

    @property
    def prefix(self) -> str:
        if self.user == ROOTLESS:
            return "for rootless users: "
        return f"for user {self.user}: " if self.user else ""

    def user_path(self, name: str) -> str:
        return posixpath.join(self.home, USER_DIR, name)


ROOTLESS = "(rootless)"
SYSTEM = Scope()
ANY_ROOTLESS = Scope(ROOTLESS, uid=-1)


@dataclass
class Merged:
    """A TOML configuration merged from several files."""

    scope: Scope
    data: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # "table.key" -> file
    files: list[str] = field(default_factory=list)
    own: set[str] = field(default_factory=set)  # files of this scope alone

    def inherited(self, path: str) -> bool:
        """Whether a user scope got the value at `path` from the system's files
        (reported for the system scope already)."""
        return bool(self.scope.user) and path not in self.own

    def where(self, key: str) -> str:
        """The file that set `key` ("key", "table.key", "registry:PREFIX")."""
        return self.origin.get(key) or (self.files[-1] if self.files else "")

    def table(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        return value if isinstance(value, dict) else {}


TomlReader = Callable[[str], "dict[str, Any] | None"]
Globber = Callable[[str, str], list[str]]


def _dropins(glob: Globber, directory: str) -> list[str]:
    return sorted(glob(directory, "*.conf"), key=posixpath.basename)


def _registry_prefix(reg: dict[str, Any]) -> str:
    return str(reg.get("prefix") or reg.get("location") or "")


def merge_registries(files: list[tuple[str, dict[str, Any]]], scope: Scope) -> Merged:
    merged = Merged(scope)
    registries: dict[str, dict[str, Any]] = {}
    for path, data in files:
        merged.files.append(path)
        for key, value in data.items():
            if key == "registry" and isinstance(value, list):
                for reg in value:
                    if isinstance(reg, dict):
                        prefix = _registry_prefix(reg)
                        registries.pop(prefix, None)  # a replaced table moves to the end
                        registries[prefix] = reg
                        merged.origin[f"registry:{prefix}"] = path
                continue
            merged.data[key] = value
            merged.origin[key] = path
    if registries:
        merged.data["registry"] = list(registries.values())
    return merged


def merge_tables(files: list[tuple[str, dict[str, Any]]], scope: Scope) -> Merged:
    """containers.conf: each table's keys override the same keys of earlier files."""
    merged = Merged(scope)
    for path, data in files:
        merged.files.append(path)
        for key, value in data.items():
            current = merged.data.get(key)
            if isinstance(value, dict) and isinstance(current, dict):
                merged.data[key] = {**current, **value}
                merged.origin.update({f"{key}.{k}": path for k in value})
            else:
                merged.data[key] = dict(value) if isinstance(value, dict) else value
                if isinstance(value, dict):
                    merged.origin.update({f"{key}.{k}": path for k in value})
                merged.origin[key] = path
    return merged


def _read(toml: TomlReader, paths: list[str]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for p in paths:
        data = toml(p)
        if data is not None:
            out.append((p, data))
    return out


def registries_conf(toml: TomlReader, glob: Globber, exists: Callable[[str], bool],
                    scope: Scope) -> Merged | None:
    """The effective registries.conf of a scope; None when no file applies (or, for a
    user, when the user has no registries file of their own)."""
    system = [f"{ETC}/registries.conf", *_dropins(glob, f"{ETC}/registries.conf.d")]
    if not scope.user:
        paths = system
    elif not scope.home:  # every rootless user, or a user known only by uid
        return None
    else:
        own_main = scope.user_path("registries.conf")
        own_dropins = _dropins(glob, scope.user_path("registries.conf.d"))
        if not exists(own_main) and not own_dropins:
            return None
        paths = [own_main, *own_dropins] if exists(own_main) else [*system, *own_dropins]
    files = _read(toml, paths)
    if not files:
        return None
    merged = merge_registries(files, scope)
    if scope.user:
        merged.own = {p for p in paths if p.startswith(scope.home + "/")}
    return merged


def containers_conf_paths(glob: Globber, scope: Scope) -> list[tuple[str, str]]:
    """containers.conf files in load order, each with its kind: "system", "rootless"
    (shared by every user but root) or "own" (this user's alone)."""
    paths: list[tuple[str, str]] = []
    for base in (VENDOR_DIR, ETC):
        paths += [(f"{base}/containers.conf", "system")]
        paths += [(p, "system") for p in _dropins(glob, f"{base}/containers.conf.d")]
        if scope.uid == 0:
            paths += [(p, "system") for p in _dropins(glob, f"{base}/containers.rootful.conf.d")]
            continue
        paths += [(p, "rootless") for p in _dropins(glob, f"{base}/containers.rootless.conf.d")]
        if scope.uid > 0:
            paths += [(p, "own") for p in
                      _dropins(glob, f"{base}/containers.rootless.conf.d/{scope.uid}")]
    if scope.home:
        paths += [(scope.user_path("containers.conf"), "own")]
        paths += [(p, "own") for p in _dropins(glob, scope.user_path("containers.conf.d"))]
    return paths


def containers_conf(toml: TomlReader, glob: Globber, exists: Callable[[str], bool],
                    scope: Scope) -> Merged | None:
    """The effective containers.conf of a scope; None when no file applies, or when
    the scope has no file of its kind (a user with no file of their own, no shared
    rootless drop-ins for ANY_ROOTLESS)."""
    paths = [(p, kind) for p, kind in containers_conf_paths(glob, scope) if exists(p)]
    kinds = {kind for _, kind in paths}
    if (scope.user == ROOTLESS and "rootless" not in kinds) or (
            scope.user and scope.user != ROOTLESS and "own" not in kinds):
        return None
    files = _read(toml, [p for p, _ in paths])
    if not files:
        return None
    merged = merge_tables(files, scope)
    mine = "rootless" if scope.user == ROOTLESS else "own"
    merged.own = {p for p, kind in paths if kind == mine}
    return merged


def replacing_file(exists: Callable[[str], bool], name: str, scope: Scope) -> str | None:
    """policy.json, storage.conf: the file in effect for a scope (the user's replaces
    the system's); None when absent (or, for a user, when the user has none)."""
    if scope.user:
        path = scope.user_path(name) if scope.home else ""
        return path if path and exists(path) else None
    path = f"{ETC}/{name}"
    return path if exists(path) else None
