"""The engine API that --docker-host reached: one that answers over TCP without
TLS gives root on the host to anyone who can reach the port (CIS Docker
Benchmark 2.7, seen from the client's side; LSH-HOST-001 reads the daemon's
configuration, this rule what actually answered)."""

from __future__ import annotations

from collections.abc import Iterator

from lashing.host.subject import HostSubject as H
from lashing.model import Location, Severity, Surface
from lashing.rules.framework import Example, NotApplicable, Violation, rule
from lashing.rules.host.running import inspect
from lashing.rules.host.spec import BENCH, CIS, EngineSpec

TAG = ("running",)
B = Surface.BUILD_HOST
PROTECT = "https://docs.docker.com/engine/security/protect-access/"


@rule(
    id="LSH-HOST-124", title="Container engine API answers over TCP without TLS",
    severity=Severity.CRITICAL, surface=B, nist=("4.5.4", "4.3.1"),
    aliases=("cis-docker-1.6:2.7",), tags=TAG, references=(CIS, BENCH, PROTECT),
    remediation="Serve the engine API on its Unix socket only, or over TLS with client "
    "certificates (dockerd --tlsverify --tlscacert --tlscert --tlskey; podman behind a "
    "TLS-terminating proxy that verifies clients), or through SSH.",
    examples=(
        Example(EngineSpec((inspect(),), url="tcp://127.0.0.1:2375"), True, "tcp"),
        Example(EngineSpec((), url="http://10.0.0.5:2375"), True, "no containers"),
        Example(EngineSpec((inspect(),), url="tcp://127.0.0.1:2376"), True,
                "port 2376 but no TLS"),
        Example(EngineSpec((inspect(),), url="https://127.0.0.1:2376"), False, "TLS"),
        Example(EngineSpec((inspect(),)), False, "unix socket"),
    ),
)
def plain_tcp(s: H) -> Iterator[Violation]:
    """Anyone who reaches the port can start a privileged container: root on the host."""
    if s.engine is None:
        raise NotApplicable("no container engine API given (--docker-host)")
    if s.engine.transport == "tcp":
        resource = f"engine/{s.engine.endpoint}"
        yield Violation(f"{s.engine.engine or 'the engine'} at {s.engine.endpoint} answers "
                        "API requests over plain TCP, without TLS or client authentication",
                        Location(resource=resource), resource)


RULES = (plain_tcp,)
