"""dockerd's effective configuration and where each setting came from.

Flags come from the live command line when dockerd runs; otherwise from the
last ExecStart= of docker.service (drop-ins applied), with `$OPTIONS` /
`$DOCKER_OPTS` expanded from the unit's EnvironmentFile= (/etc/sysconfig/docker
on RHEL, /etc/default/docker on Debian) and attributed to that file; without a
unit, from DOCKER_OPTS in /etc/default/docker and OPTIONS in
/etc/sysconfig/docker. daemon.json (or --config-file) is merged over them.
dockerd refuses to start when one option is set both as a flag and in
daemon.json: those are recorded as conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lashing.host.parse import (
    LIST_KEYS,
    Unit,
    dockerd_flag_items,
    environment_assignments,
    expand_exec_words,
    parse_env_file,
)
from lashing.rules.framework import NotCheckable

if TYPE_CHECKING:
    from lashing.host.subject import HostSubject

DAEMON_JSON = "/etc/docker/daemon.json"
DEFAULT_DOCKER = "/etc/default/docker"
SYSCONFIG_DOCKER = "/etc/sysconfig/docker"
# Environment files a distribution's init scripts read, and the variable holding flags.
ENV_FLAG_FILES = ((DEFAULT_DOCKER, "DOCKER_OPTS"), (SYSCONFIG_DOCKER, "OPTIONS"))
# Flags that never conflict with daemon.json: they select the file or validate it.
NO_CONFLICT = frozenset({"config-file", "validate"})


@dataclass(frozen=True)
class Conflict:
    """An option dockerd was given both as a flag and in daemon.json."""

    key: str
    flag_origin: str
    flag_value: object
    json_path: str
    json_value: object


@dataclass
class DaemonConfig:
    """dockerd's effective settings: command-line flags over daemon.json."""

    settings: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # key -> where it was set
    sources: list[str] = field(default_factory=list)
    json_path: str = DAEMON_JSON
    flags: dict[str, tuple[str, object]] = field(default_factory=dict)  # key -> origin, value
    conflicts: list[Conflict] = field(default_factory=list)
    user: str = ""  # the user whose rootless dockerd this is; "" for the system's
    ignored: list[str] = field(default_factory=list)  # flag files dockerd does not read

    @property
    def prefix(self) -> str:
        """What a finding's message starts with: who runs this daemon."""
        return f"rootless dockerd of {self.user}: " if self.user else ""

    def hosts(self) -> list[str]:
        hosts = self.settings.get("hosts", [])
        return [str(h) for h in ([hosts] if isinstance(hosts, str) else hosts)]

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

    def add_flags(self, items: list[tuple[str, object, str]]) -> None:
        """(key, value, origin) of command-line flags, in order: repeatable flags
        collect, others take the last value."""
        for key, value, origin in items:
            if key in LIST_KEYS:
                self.settings.setdefault(key, []).append(value)
                first, values = self.flags.get(key, (origin, []))
                assert isinstance(values, list)
                self.flags[key] = (first, [*values, value])
                self.origin.setdefault(key, origin)
            else:
                self.settings[key] = value
                self.flags[key] = (origin, value)
                self.origin[key] = origin

    def add_json(self, data: dict[str, Any], path: str) -> None:
        for key, value in sorted(data.items()):
            if key in self.flags and key not in NO_CONFLICT:
                origin, flag_value = self.flags[key]
                self.conflicts.append(Conflict(key, origin, flag_value, path, value))
        self.add(data, path)


def _env_with_origins(s: HostSubject, unit: Unit, where: str,
                      ) -> tuple[dict[str, str], dict[str, str]]:
    env: dict[str, str] = {}
    origins: dict[str, str] = {}
    for value in unit.values("Service.EnvironmentFile"):
        path = value.lstrip("-")
        text = s.text(path)
        if text is not None:
            found = parse_env_file(text)
            env.update(found)
            origins.update(dict.fromkeys(found, path))
    assigned = environment_assignments(unit.values("Service.Environment"))
    env.update(assigned)
    origins.update(dict.fromkeys(assigned, where))
    return env, origins


def _execstart_path(s: HostSubject, unit: Unit) -> str:
    """The unit file or drop-in whose ExecStart= is in effect."""
    for p in reversed(unit.paths):
        if any(line.strip().startswith("ExecStart=") and line.strip() != "ExecStart="
               for line in (s.text(p) or "").splitlines()):
            return p
    return unit.paths[-1]


def unit_flags(s: HostSubject, unit: Unit) -> list[tuple[str, object, str]]:
    """(key, value, origin) of the flags docker.service starts dockerd with."""
    starts = unit.values("Service.ExecStart")
    if not starts:
        return []
    where = _execstart_path(s, unit)
    env, origins = _env_with_origins(s, unit, where)
    words = expand_exec_words(starts[-1], env)
    argv = [w for w, _ in words]
    out: list[tuple[str, object, str]] = []
    for key, value, at in dockerd_flag_items(argv):
        var = words[at][1]
        out.append((key, value, origins.get(var, where) if var else where))
    return out


def read_daemon_config(s: HostSubject) -> DaemonConfig:
    """dockerd's effective configuration on the host `s` describes."""
    cfg = DaemonConfig()
    proc = s.live.process("dockerd") if s.live is not None else None
    if proc is not None:
        origin = f"live dockerd (pid {proc.pid})"
        cfg.add_flags([(k, v, origin) for k, v, _ in dockerd_flag_items(list(proc.argv))])
        cfg.sources.append(f"live dockerd command line (pid {proc.pid})")
    else:
        unit = s.unit("docker.service")
        items = unit_flags(s, unit) if unit is not None else []
        if unit is not None and unit.values("Service.ExecStart"):
            cfg.add_flags(items)
            cfg.sources.extend(unit.paths)
            cfg.sources.extend(sorted({o for _, _, o in items} - set(unit.paths)))
            read = {v.lstrip("-") for v in unit.values("Service.EnvironmentFile")}
            for path, var in ENV_FLAG_FILES:
                text = s.text(path) if path not in read else None
                if text is not None and parse_env_file(text).get(var):
                    cfg.ignored.append(f"{var} in {path} (docker.service does not read it)")
        else:
            for path, var in ENV_FLAG_FILES:
                text = s.text(path)
                if text is None:
                    continue
                flags = parse_env_file(text).get(var, "")
                cfg.add_flags([(k, v, path) for k, v, _ in
                               dockerd_flag_items(["dockerd", *flags.split()])])
                cfg.sources.append(path)
    return _with_json(s, cfg, DAEMON_JSON)


def _with_json(s: HostSubject, cfg: DaemonConfig, default: str) -> DaemonConfig:
    path = str(cfg.settings.get("config-file") or default)
    cfg.json_path = path
    data = s.json(path)
    if data is not None:
        if not isinstance(data, dict):
            raise NotCheckable(f"{path} is not a JSON object")
        cfg.add_json(data, path)
        cfg.sources.append(path)
    return cfg


def read_rootless_config(s: HostSubject, user: str, home: str) -> DaemonConfig | None:
    """A user's rootless dockerd: ~/.config/systemd/user/docker.service (and its
    drop-ins) and ~/.config/docker/daemon.json; None when the user has neither."""
    unit_path = f"{home}/.config/systemd/user/docker.service"
    json_path = f"{home}/.config/docker/daemon.json"
    dropins = sorted(s.glob(f"{unit_path}.d", "*.conf"))
    if not s.exists(unit_path) and not dropins and not s.exists(json_path):
        return None
    cfg = DaemonConfig(user=user, json_path=json_path)
    unit = Unit("docker.service")
    for path in [p for p in (unit_path,) if s.exists(p)] + dropins:
        unit.apply(path, s.text(path) or "")
    if unit.paths:
        items = unit_flags(s, unit)
        cfg.add_flags(items)
        cfg.sources.extend(unit.paths)
    return _with_json(s, cfg, json_path)
