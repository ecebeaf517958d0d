"""The running system's state, read only when the audited root is `/`:
the dockerd command line from /proc/*/cmdline, listening TCP ports from
/proc/net/tcp{,6}, and whether the Docker socket accepts connections."""

from __future__ import annotations

import posixpath
import socket
from dataclasses import dataclass, field
from pathlib import Path

DOCKER_PORTS = {2375: "Docker API (plain)", 2376: "Docker API (TLS)"}


@dataclass(frozen=True)
class Process:
    pid: int
    argv: tuple[str, ...]
    uid: int | None


@dataclass(frozen=True)
class LiveState:
    processes: tuple[Process, ...] = ()
    listening: tuple[tuple[str, int], ...] = ()  # (address, port) of TCP LISTEN sockets
    docker_socket_reachable: bool | None = None  # None: no socket
    notes: tuple[str, ...] = field(default=())  # what was read, for the report

    def process(self, name: str) -> Process | None:
        return next((p for p in self.processes
                     if p.argv and posixpath.basename(p.argv[0]) == name), None)


def _processes(proc: Path) -> list[Process]:
    found = []
    try:
        pids = [d.name for d in proc.iterdir() if d.name.isdigit()]
    except OSError:
        return []
    for pid in pids:
        try:
            raw = (proc / pid / "cmdline").read_bytes()
            uid = (proc / pid).stat().st_uid
        except OSError:
            continue
        argv = tuple(a.decode("utf-8", "replace") for a in raw.split(b"\0") if a)
        if argv and posixpath.basename(argv[0]) in ("dockerd", "containerd", "buildkitd",
                                                  "podman", "rootlesskit"):
            found.append(Process(int(pid), argv, uid))
    return sorted(found, key=lambda p: p.pid)


def _hex_addr(text: str) -> tuple[str, int]:
    addr, _, port = text.partition(":")
    raw = bytes.fromhex(addr)
    if len(raw) == 4:
        host = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:
        words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
        host = socket.inet_ntop(socket.AF_INET6, words)
    return host, int(port, 16)


def listening_tcp(proc: Path) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for name in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 3 and parts[3] == "0A":  # TCP_LISTEN
                try:
                    out.append(_hex_addr(parts[1]))
                except (ValueError, OSError):
                    continue
    return sorted(set(out))


def _reachable(path: str) -> bool | None:
    if not Path(path).exists():
        return None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def read_live(proc: Path = Path("/proc"), sock: str = "/var/run/docker.sock") -> LiveState:
    processes = _processes(proc)
    listening = listening_tcp(proc)
    reachable = _reachable(sock)
    notes = [f"{len(processes)} container-engine process(es) from /proc/*/cmdline",
             f"{len(listening)} listening TCP socket(s) from /proc/net/tcp*"]
    if reachable is not None:
        notes.append(f"{sock} {'accepts' if reachable else 'refuses'} connections")
    return LiveState(tuple(processes), tuple(listening), reachable, tuple(notes))
