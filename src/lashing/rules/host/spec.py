"""Small hosts described in code, for rule examples and tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lashing.host.engine import Container, EngineState
from lashing.host.engine_url import parse_endpoint
from lashing.host.live import LiveState
from lashing.host.subject import HostSubject
from lashing.host.view import Kind, MemFile, memory_view
from lashing.rules.framework import Example

CIS = "https://www.cisecurity.org/benchmark/docker"
BENCH = "https://github.com/docker/docker-bench-security"
F = MemFile

DOCKERD = F("/usr/sbin/dockerd", "", 0o755)
GROUP = F("/etc/group", "root:x:0:\ndocker:x:999:\n")
PASSWD = F("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
DEFAULT_DOCKER_PATH = "/etc/default/docker"
UNIT = "/lib/systemd/system/docker.service"
DEBIAN_UNIT = F(UNIT, "[Service]\nEnvironmentFile=-/etc/default/docker\n"
                "ExecStart=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS\n")


def daemon_json(text: str) -> MemFile:
    return F("/etc/docker/daemon.json", text)


def sock(path: str, mode: int = 0o660, gid: int = 999) -> MemFile:
    return F(path, None, mode, 0, gid, Kind.SOCKET)


def unreadable(path: str) -> MemFile:
    return F(path, None)


@dataclass(frozen=True)
class HostSpec:
    files: tuple[MemFile, ...] = ()
    live: LiveState | None = None

    def __str__(self) -> str:
        lines = ["host" + (" (live)" if self.live else "")]
        for f in self.files:
            what = "<unreadable>" if f.content is None and f.kind is Kind.FILE else (
                repr(f.content)[:80] if f.content else "")
            lines.append(f"  {f.kind.value} {f.path} {oct(f.mode)} {f.uid}:{f.gid} {what}")
        return "\n".join(lines)


def host(*files: MemFile, live: LiveState | None = None) -> HostSpec:
    return HostSpec(tuple(files), live)


def docker(*files: MemFile) -> HostSpec:
    """A host with Docker installed and these files."""
    return host(DOCKERD, GROUP, PASSWD, *files)


def subject_from_spec(spec: HostSpec) -> HostSubject:
    return HostSubject(memory_view(spec.files, live=spec.live is not None), spec.live)


@dataclass(frozen=True)
class EngineSpec:
    """An engine API: its containers' inspect documents and GET /info SecurityOptions."""

    inspects: tuple[Mapping[str, Any], ...]
    security_options: tuple[str, ...] = ()
    url: str = "unix:///var/run/docker.sock"

    def __str__(self) -> str:
        return f"engine {self.url} {self.security_options} {list(self.inspects)}"


def engine_subject(*inspects: Mapping[str, Any], security_options: tuple[str, ...] = (),
                   url: str = "unix:///var/run/docker.sock") -> HostSubject:
    """A host whose engine API lists containers with these inspect documents."""
    endpoint = parse_endpoint(url)
    transport = "tls" if endpoint.tls else ("tcp" if endpoint.tcp else "unix")
    state = EngineState(url, "Docker Engine", "1.43",
                        tuple(Container.from_inspect(i) for i in inspects),
                        transport=transport, security_options=security_options)
    return HostSubject(memory_view(()), None, state)


def load_example(example: Example) -> HostSubject:
    """A HostSpec, an EngineSpec, or one container's `GET /containers/{id}/json`
    document (a dict)."""
    if isinstance(example.data, Mapping):
        return engine_subject(example.data)
    if isinstance(example.data, EngineSpec):
        return engine_subject(*example.data.inspects,
                              security_options=example.data.security_options,
                              url=example.data.url)
    if not isinstance(example.data, HostSpec):
        raise TypeError(f"a host example is a HostSpec, an EngineSpec or an inspect dict, not "
                        f"{type(example.data).__name__}")
    return subject_from_spec(example.data)
