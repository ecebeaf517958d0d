"""What build-host rules receive: a HostView plus the parsed host configuration,
read lazily. An unreadable file raises NotCheckable (the rule is not-checked);
a file that is absent is simply absent."""

from __future__ import annotations

import json
import posixpath
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

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
    parse_dockerd_flags,
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
DAEMON_JSON = "/etc/docker/daemon.json"
DEFAULT_DOCKER = "/etc/default/docker"
SYSCONFIG_DOCKER = "/etc/sysconfig/docker"
AUDIT_FILES = ("/etc/audit/audit.rules",)
AUDIT_DIR = "/etc/audit/rules.d"


@dataclass
class DaemonConfig:
    """dockerd's effective settings: command-line flags over daemon.json."""

    settings: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # key -> where it was set
    sources: list[str] = field(default_factory=list)
    json_path: str = DAEMON_JSON

    def get(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)

    def where(self, key: str) -> str:
        return self.origin.get(key, self.json_path)

    def add(self, values: dict[str, Any], origin: str) -> None:
        for k, v in values.items():
            if isinstance(v, list) and isinstance(self.settings.get(k), list):
                self.settings[k] = [*self.settings[k], *v]
            else:
                self.settings[k] = v
            self.origin.setdefault(k, origin)


class HostSubject:
    def __init__(self, view: HostView, live: LiveState | None = None,
                 engine: EngineState | None = None) -> None:
        self.view = view
        self.live = live if view.live else None
        self.engine = engine  # the engine API's containers (--docker-host), or None

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
        cfg = DaemonConfig()
        proc = self.live.process("dockerd") if self.live is not None else None
        if proc is not None:
            cfg.add(parse_dockerd_flags(list(proc.argv)), f"live dockerd (pid {proc.pid})")
            cfg.sources.append(f"live dockerd command line (pid {proc.pid})")
        else:
            unit = self.unit("docker.service")
            argv = self.unit_argv(unit) if unit is not None else []
            if unit is not None and argv:
                where = unit.paths[-1] if len(unit.paths) > 1 else unit.paths[0]
                for p in reversed(unit.paths):
                    if any(line for line in (self.text(p) or "").splitlines()
                           if line.strip().startswith("ExecStart=")
                           and line.strip() != "ExecStart="):
                        where = p
                        break
                cfg.add(parse_dockerd_flags(argv), where)
                cfg.sources.extend(unit.paths)
            else:
                opts = self.text(DEFAULT_DOCKER)
                if opts is not None:
                    flags = parse_env_file(opts).get("DOCKER_OPTS", "")
                    cfg.add(parse_dockerd_flags(["dockerd", *flags.split()]), DEFAULT_DOCKER)
                    cfg.sources.append(DEFAULT_DOCKER)
        path = str(cfg.settings.get("config-file") or DAEMON_JSON)
        cfg.json_path = path
        data = self.json(path)
        if data is not None:
            if not isinstance(data, dict):
                raise NotCheckable(f"{path} is not a JSON object")
            cfg.add(data, path)
            cfg.sources.append(path)
        return cfg

    def docker_hosts(self) -> list[str]:
        hosts = self.daemon.get("hosts", [])
        if isinstance(hosts, str):
            hosts = [hosts]
        return [str(h) for h in hosts]

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
