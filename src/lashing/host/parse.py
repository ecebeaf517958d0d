"""Parsers for the host files the build-host rules read. Pure functions of text."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

# -- systemd units ------------------------------------------------------------


@dataclass
class Unit:
    """The merged [Service]/[Socket] settings of a unit and its drop-ins."""

    name: str
    paths: list[str] = field(default_factory=list)  # unit file, then drop-ins in order
    settings: dict[str, list[str]] = field(default_factory=dict)  # Section.Key -> values

    def values(self, key: str) -> list[str]:
        return self.settings.get(key, [])

    def apply(self, path: str, text: str) -> None:
        self.paths.append(path)
        section = ""
        lines = _join_continuations(text)
        for line in lines:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            key, sep, value = line.partition("=")
            if not sep:
                continue
            full = f"{section}.{key.strip()}"
            value = value.strip()
            if value == "":  # an empty assignment resets the list (ExecStart=)
                self.settings[full] = []
            else:
                self.settings.setdefault(full, []).append(value)


def _join_continuations(text: str) -> list[str]:
    out: list[str] = []
    buf = ""
    for raw in text.splitlines():
        if raw.rstrip().endswith("\\"):
            buf += raw.rstrip()[:-1] + " "
            continue
        out.append(buf + raw)
        buf = ""
    if buf:
        out.append(buf)
    return out


def parse_env_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines (/etc/default/docker, EnvironmentFile=), quotes removed."""
    env: dict[str, str] = {}
    for line in _join_continuations(text):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].strip()
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
            continue
        try:
            words = shlex.split(value, comments=True)
        except ValueError:
            words = [value.strip().strip("'\"")]
        env[key.strip()] = " ".join(words)
    return env


def environment_assignments(values: list[str]) -> dict[str, str]:
    """systemd Environment= values: space-separated, optionally quoted, KEY=VALUE."""
    env: dict[str, str] = {}
    for value in values:
        try:
            words = shlex.split(value)
        except ValueError:
            words = value.split()
        for w in words:
            k, sep, v = w.partition("=")
            if sep:
                env[k] = v
    return env


def expand_exec(line: str, env: dict[str, str]) -> list[str]:
    """An ExecStart= line as argv: prefixes (-@:+!) dropped, $VAR split into words,
    ${VAR} kept as one word (systemd's rules)."""
    line = line.lstrip("-@:+!")
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    argv: list[str] = []
    for w in words:
        m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", w)
        if m:
            argv.extend(env.get(m.group(1), "").split())
            continue
        argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                           lambda g: env.get(g.group(1), ""), w))
    return [a for a in argv if a]


# -- dockerd flags --------------------------------------------------------------

DOCKERD_BOOLS = frozenset({
    "icc", "tls", "tlsverify", "live-restore", "userland-proxy", "no-new-privileges",
    "experimental", "selinux-enabled", "iptables", "ip-forward", "ip-masq", "debug",
    "ipv6", "rootless", "init", "raw-logs", "validate",
})
DOCKERD_SHORT = {"-H": "host", "-D": "debug", "-G": "group", "-g": "data-root",
                 "-l": "log-level", "-p": "pidfile", "-b": "bridge", "-s": "storage-driver"}
# flag name -> daemon.json key
FLAG_TO_JSON = {"host": "hosts", "insecure-registry": "insecure-registries",
                "registry-mirror": "registry-mirrors", "authorization-plugin":
                "authorization-plugins", "default-ulimit": "default-ulimits",
                "log-opt": "log-opts", "storage-opt": "storage-opts", "dns": "dns",
                "label": "labels", "exec-opt": "exec-opts", "add-runtime": "runtimes"}
LIST_KEYS = frozenset({"hosts", "insecure-registries", "registry-mirrors",
                       "authorization-plugins", "default-ulimits", "log-opts", "storage-opts",
                       "dns", "labels", "exec-opts"})


def dockerd_flag_items(argv: list[str]) -> list[tuple[str, object, int]]:
    """dockerd's command-line flags in order as (daemon.json key, value, index of the
    flag's word in argv): booleans for boolean flags, strings otherwise."""
    out: list[tuple[str, object, int]] = []
    start = 1 if argv and not argv[0].startswith("-") else 0  # the program
    if len(argv) > start and argv[start] == "daemon":
        start += 1
    i = start
    while i < len(argv):
        at = i
        a = argv[i]
        i += 1
        if not a.startswith("-") or a in ("-", "--"):
            continue
        name, sep, value = a.partition("=")
        name = DOCKERD_SHORT[name] if name in DOCKERD_SHORT else name.lstrip("-")
        if name in DOCKERD_BOOLS:
            out.append((name, value.lower() not in ("false", "0") if sep else True, at))
            continue
        if not sep:
            if i < len(argv):
                value = argv[i]
                i += 1
            else:
                value = ""
        out.append((FLAG_TO_JSON.get(name, name), value, at))
    return out


def parse_dockerd_flags(argv: list[str]) -> dict[str, object]:
    """dockerd's command-line flags as daemon.json-style keys (lists for repeatable
    flags, booleans for boolean flags)."""
    out: dict[str, object] = {}
    for key, value, _ in dockerd_flag_items(argv):
        if key in LIST_KEYS:
            existing = out.setdefault(key, [])
            assert isinstance(existing, list)
            existing.append(value)
        else:
            out[key] = value
    return out


def expand_exec_words(line: str, env: dict[str, str]) -> list[tuple[str, str | None]]:
    """Like expand_exec, with each word's source: the variable it came from, or None
    for a word written in the line itself."""
    line = line.lstrip("-@:+!")
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    out: list[tuple[str, str | None]] = []
    for w in words:
        m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", w)
        if m:
            out.extend((part, m.group(1)) for part in env.get(m.group(1), "").split())
            continue
        names = re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", w)
        word = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda g: env.get(g.group(1), ""), w)
        if word:
            out.append((word, names[0] if names else None))
    return out


# -- accounts -------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    name: str
    gid: int
    members: tuple[str, ...]


def parse_group(text: str) -> dict[str, Group]:
    groups: dict[str, Group] = {}
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) < 4 or line.startswith("#"):
            continue
        try:
            gid = int(parts[2])
        except ValueError:
            continue
        members = tuple(m.strip() for m in parts[3].split(",") if m.strip())
        groups[parts[0]] = Group(parts[0], gid, members)
    return groups


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    home: str
    shell: str


def parse_passwd(text: str) -> dict[str, User]:
    users: dict[str, User] = {}
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) < 7 or line.startswith("#"):
            continue
        try:
            users[parts[0]] = User(parts[0], int(parts[2]), int(parts[3]), parts[5], parts[6])
        except ValueError:
            continue
    return users


@dataclass(frozen=True)
class SudoRule:
    who: str
    commands: str
    nopasswd: bool
    line: int


def parse_sudoers(text: str) -> list[SudoRule]:
    """User specifications (`who HOSTS=(RUNAS) [TAGS:] CMDS`); aliases and defaults
    are skipped."""
    rules: list[SudoRule] = []
    for n, line in enumerate(_join_continuations(text), 1):
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#include") \
            else ""
        if not line or re.match(r"(Defaults|\w+_Alias)\b", line):
            continue
        m = re.match(r"(\S+)\s+[^=]+=\s*(?:\([^)]*\)\s*)?(.*)", line)
        if not m:
            continue
        cmds = m.group(2)
        nopasswd = "NOPASSWD:" in cmds
        cmds = re.sub(r"\b[A-Z_]+:\s*", "", cmds).strip()
        rules.append(SudoRule(m.group(1), cmds, nopasswd, n))
    return rules


# -- auditd ---------------------------------------------------------------------


def audit_watched(text: str) -> set[str]:
    """Paths watched by audit rules: `-w PATH` and `-F path=/dir=PATH` syscall rules."""
    watched: set[str] = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        for k, w in enumerate(words):
            if w == "-w" and k + 1 < len(words):
                watched.add(words[k + 1].rstrip("/") or "/")
            elif w == "-F" and k + 1 < len(words):
                key, _, value = words[k + 1].partition("=")
                if key in ("path", "dir", "exe"):
                    watched.add(value.rstrip("/") or "/")
    return watched


# -- mounts ---------------------------------------------------------------------


def mount_points(text: str) -> list[tuple[str, str, str]]:
    """(device, mount point, type) from fstab or /proc/mounts."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and not parts[0].startswith("#"):
            point = parts[1].replace("\\040", " ")
            out.append((parts[0], point.rstrip("/") or "/", parts[2]))
    return out


def parse_subids(text: str) -> dict[str, list[tuple[int, int]]]:
    """/etc/subuid or /etc/subgid: user -> [(start, count)]."""
    out: dict[str, list[tuple[int, int]]] = {}
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) != 3 or line.startswith("#"):
            continue
        try:
            out.setdefault(parts[0], []).append((int(parts[1]), int(parts[2])))
        except ValueError:
            continue
    return out
