"""What build-host rules receive: a HostView plus the parsed host configuration,
read lazily. An unreadable file raises NotCheckable (the rule is not-checked);
a file that is absent is simply absent."""

from __future__ import annotations

import json
import posixpath
import tomllib
from functools import cached_property
from typing import Any

from lashing.host.containers_config import (
    ANY_ROOTLESS,
    SYSTEM,
    Merged,
    Scope,
    containers_conf,
    registries_conf,
    replacing_file,
)
from lashing.host.daemon_config import (
    DAEMON_JSON,
    DaemonConfig,
    read_daemon_config,
    read_rootless_config,
)
from lashing.host.engine import Container, EngineState
from lashing.host.live import LiveState
from lashing.host.parse import (
    Group,
    Unit,
    User,
    audit_watched,
    environment_assignments,
    expand_exec,
    mount_points,
    parse_env_file,
    parse_group,
    parse_passwd,
    parse_subids,
)
from lashing.host.view import HostView, Stat, Unreadable
from lashing.model import Location
from lashing.rules.framework import NotApplicable, NotCheckable, Violation

UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
             "/usr/lib/systemd/system", "/lib/systemd/system")
DOCKERD_PATHS = ("/usr/bin/dockerd", "/usr/sbin/dockerd", "/usr/local/bin/dockerd")
AUDIT_FILES = ("/etc/audit/audit.rules",)
AUDIT_DIR = "/etc/audit/rules.d"


class HostSubject:
    def __init__(self, view: HostView, live: LiveState | None = None,
                 engine: EngineState | None = None) -> None:
        self.view = view
        self.live = live if view.live else None
        self.engine = engine  # the engine API's containers (--docker-host), or None
        # Per-user configuration that could not be read (a home directory the auditing
        # user may not list): left out of the checks and reported as an issue, so one
        # unreadable home does not leave the system-wide checks unchecked.
        self.unread: list[str] = []

    def containers(self) -> tuple[Container, ...]:
        """The engine's containers; NotApplicable without --docker-host or containers."""
        if self.engine is None:
            raise NotApplicable("no container engine API given (--docker-host)")
        if not self.engine.containers:
            raise NotApplicable(f"{self.engine.endpoint} has no containers")
        return self.engine.containers

    # -- reading -------------------------------------------------------------
    def text(self, path: str) -> str | None:
        try:
            return self.view.text(path)
        except Unreadable as exc:
            raise NotCheckable(f"cannot read {exc.path}: {exc.reason}") from None

    def lstat(self, path: str) -> Stat | None:
        try:
            return self.view.lstat(path)
        except Unreadable as exc:
            raise NotCheckable(f"cannot stat {exc.path}: {exc.reason}") from None

    def stat(self, path: str) -> Stat | None:
        try:
            return self.view.stat(path)
        except Unreadable as exc:
            raise NotCheckable(f"cannot stat {exc.path}: {exc.reason}") from None

    def exists(self, path: str) -> bool:
        return self.view.exists(path)

    def glob(self, directory: str, pattern: str) -> list[str]:
        try:
            return self.view.glob(directory, pattern)
        except Unreadable as exc:
            raise NotCheckable(f"cannot list {exc.path}: {exc.reason}") from None

    def toml(self, path: str) -> dict[str, Any] | None:
        text = self.text(path)
        if text is None:
            return None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise NotCheckable(f"cannot parse {path}: {exc}") from None

    def json(self, path: str) -> Any:
        text = self.text(path)
        if text is None:
            return None
        try:
            return json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise NotCheckable(f"cannot parse {path}: {exc}") from None

    @staticmethod
    def violation(path: str, message: str, key: str = "", line: int | None = None,
                  ) -> Violation:
        anchor = path + (f"#{key}" if key else "") + (f":{line}" if line else "")
        return Violation(message, Location(path=path, line=line,
                                           resource=key or None), anchor)

    # -- systemd -------------------------------------------------------------
    def unit(self, name: str) -> Unit | None:
        """A systemd unit with its drop-ins (name.d/*.conf, /etc first), or None."""
        main = next((f"{d}/{name}" for d in UNIT_DIRS if self.exists(f"{d}/{name}")), None)
        dropins: dict[str, str] = {}
        for d in reversed(UNIT_DIRS):  # /etc overrides a same-named drop-in elsewhere
            for path in self.glob(f"{d}/{name}.d", "*.conf"):
                dropins[posixpath.basename(path)] = path
        if main is None and not dropins:
            return None
        unit = Unit(name)
        for path in [*([main] if main else []), *(dropins[k] for k in sorted(dropins))]:
            unit.apply(path, self.text(path) or "")
        return unit

    def unit_argv(self, unit: Unit) -> list[str]:
        env: dict[str, str] = {}
        for value in unit.values("Service.EnvironmentFile"):
            text = self.text(value.lstrip("-"))
            if text is not None:
                env.update(parse_env_file(text))
        env.update(environment_assignments(unit.values("Service.Environment")))
        starts = unit.values("Service.ExecStart")
        return expand_exec(starts[-1], env) if starts else []

    # -- Docker --------------------------------------------------------------
    @cached_property
    def docker_installed(self) -> bool:
        return (any(self.exists(p) for p in DOCKERD_PATHS) or self.exists(DAEMON_JSON)
                or self.unit("docker.service") is not None
                or (self.live is not None and self.live.process("dockerd") is not None))

    def need_docker(self) -> None:
        if not self.docker_installed:
            raise NotApplicable("Docker Engine is not installed")

    @cached_property
    def daemon(self) -> DaemonConfig:
        """dockerd's effective configuration; NotApplicable without Docker."""
        self.need_docker()
        return read_daemon_config(self)

    def docker_hosts(self) -> list[str]:
        return self.daemon.hosts()

    @cached_property
    def daemons(self) -> list[DaemonConfig]:
        """The system's dockerd (when Docker is installed), then each user's rootless
        dockerd; NotApplicable when there is none."""
        found = [self.daemon] if self.docker_installed else []
        for scope in self.user_scopes(".config"):
            try:
                cfg = read_rootless_config(self, scope.user, scope.home)
            except NotCheckable as exc:
                self.unread.append(f"rootless dockerd of {scope.user}: {exc.reason}")
                continue
            if cfg is not None:
                found.append(cfg)
        if not found:
            raise NotApplicable("Docker Engine is not installed")
        return found

    @cached_property
    def rootless_docker(self) -> bool:
        if self.live is not None and self.live.process("rootlesskit") is not None:
            return True
        for home in self.homes():
            if self.exists(f"{home}/.config/systemd/user/docker.service"):
                return True
        return False

    # -- accounts --------------------------------------------------------------
    @cached_property
    def groups(self) -> dict[str, Group]:
        text = self.text("/etc/group")
        if text is None:
            raise NotCheckable("the host has no /etc/group")
        return parse_group(text)

    @cached_property
    def users(self) -> dict[str, User]:
        text = self.text("/etc/passwd")
        return parse_passwd(text) if text is not None else {}

    def group_members(self, name: str) -> list[str]:
        """Members of a group: listed members and users whose primary group it is."""
        g = self.groups.get(name)
        if g is None:
            return []
        members = list(g.members)
        members += [u.name for u in self.users.values() if u.gid == g.gid
                    and u.name not in members]
        return members

    def gid_of(self, name: str) -> int | None:
        try:
            g = self.groups.get(name)
        except NotCheckable:
            return None
        return g.gid if g else None

    def homes(self) -> list[str]:
        try:
            return sorted({u.home for u in self.users.values()
                           if u.home and u.home not in ("/", "/nonexistent")})
        except NotCheckable:
            return []

    # -- containers tools (podman, buildah, skopeo) ---------------------------
    def user_scopes(self, directory: str = ".config/containers") -> list[Scope]:
        """Users from /etc/passwd whose home has `directory`, by name."""
        try:
            users = sorted(self.users.values(), key=lambda u: u.name)
        except NotCheckable:
            return []
        return [Scope(u.name, u.home, u.uid) for u in users
                if u.home and u.home not in ("/", "/nonexistent")
                and self.exists(posixpath.join(u.home, directory))]

    def containers_scopes(self) -> list[Scope]:
        """The system, every rootless user, then each user with files of their own
        (~/.config/containers, /etc/containers/containers.rootless.conf.d/UID)."""
        scopes = {}
        for scope in self.user_scopes():
            try:
                self.glob(posixpath.join(scope.home, ".config/containers"), "*")
            except NotCheckable as exc:  # judged without this user's own files
                self.unread.append(f"containers configuration of {scope.user}: {exc.reason}")
                continue
            scopes[scope.user] = scope
        try:
            users = self.users
        except NotCheckable:
            users = {}
        for name in sorted(users):
            u = users[name]
            if name not in scopes and u.uid > 0 and any(self.exists(
                    f"{base}/containers.rootless.conf.d/{u.uid}")
                    for base in ("/usr/share/containers", "/etc/containers")):
                scopes[name] = Scope(name, "", u.uid)
        return [SYSTEM, ANY_ROOTLESS, *(scopes[k] for k in sorted(scopes))]

    def registries_conf(self, scope: Scope) -> Merged | None:
        return registries_conf(self.toml, self.glob, self.exists, scope)

    def containers_conf(self, scope: Scope) -> Merged | None:
        return containers_conf(self.toml, self.glob, self.exists, scope)

    def containers_file(self, name: str, scope: Scope) -> str | None:
        return replacing_file(self.exists, name, scope)

    # -- audit, mounts, sub ids ------------------------------------------------
    @cached_property
    def audit_rules(self) -> tuple[set[str], list[str]]:
        """Watched paths and the rule files they came from; both empty without auditd."""
        files = [p for p in AUDIT_FILES if self.exists(p)] + self.glob(AUDIT_DIR, "*.rules")
        if not files and not self.exists("/etc/audit") and not self.exists("/sbin/auditd") \
                and not self.exists("/usr/sbin/auditd"):
            return set(), []
        watched: set[str] = set()
        for p in files:
            watched |= audit_watched(self.text(p) or "")
        return watched, files

    def mounts(self) -> list[tuple[str, str, str]]:
        points: list[tuple[str, str, str]] = []
        text = self.text("/etc/fstab")
        if text is not None:
            points += mount_points(text)
        if self.view.live:
            try:
                with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
                    points += mount_points(f.read())
            except OSError:
                pass
        return points

    def subids(self, path: str) -> dict[str, list[tuple[int, int]]]:
        text = self.text(path)
        return parse_subids(text) if text is not None else {}

    def installed(self, *paths: str) -> bool:
        return any(self.exists(p) for p in paths)
