"""Renderers of a network report: each is a pure function from `Report` to text.

`table` (grouped by destination), `dot` and `mermaid` graphs, a `csv` matrix and
a self-contained `html` page. The helpers here name endpoints and summarise
the ports of one source -> destination pair the same way in every format.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lashing.model import Connection, Endpoint, EndpointKind
from lashing.network.ports import ALL_PORTS, PROTOCOLS, format_ranges

__all__ = ["COMPOSE_KIND", "endpoint_label", "endpoints", "kind_label", "pairs", "ports_text"]

COMPOSE_KIND = "Service"  # the workload kind of a compose service


def endpoint_label(e: Endpoint) -> str:
    """`Deployment/shop/web` for a Kubernetes workload, `shop/web` for a compose service
    (workload kind `Service`), `any address 0.0.0.0/0`, `host`, `ingress-controller`."""
    if e.kind is EndpointKind.WORKLOAD:
        name = f"{e.namespace}/{e.name}" if e.namespace else str(e.name)
        kind = e.workload_kind
        return name if kind in (None, "", COMPOSE_KIND) else f"{kind}/{name}"
    if e.kind is EndpointKind.EXTERNAL:
        cidr = e.cidr or "0.0.0.0/0"
        return f"any address {cidr}" if cidr in ("0.0.0.0/0", "::/0") else f"external {cidr}"
    return e.kind.value


def kind_label(e: Endpoint) -> str:
    """What a workload is: its Kubernetes kind, or `compose service`."""
    if e.workload_kind == COMPOSE_KIND:
        return "compose service"
    return e.workload_kind or "workload"


def endpoints(connections: Iterable[Connection]) -> list[Endpoint]:
    """Every endpoint of `connections`, sorted."""
    return sorted({e for c in connections for e in (c.source, c.destination)})


def pairs(connections: Iterable[Connection]) -> dict[tuple[Endpoint, Endpoint], list[Connection]]:
    """Connections grouped by (source, destination), in sorted order."""
    out: dict[tuple[Endpoint, Endpoint], list[Connection]] = {}
    for c in sorted(connections, key=lambda c: (c.source, c.destination, c.protocol)):
        out.setdefault((c.source, c.destination), []).append(c)
    return out


def ports_text(connections: Sequence[Connection], short: bool = False) -> str:
    """`TCP:80,443 UDP:53`, protocols in TCP, UDP, SCTP order; with `short`, 1-65535 is
    written `all`, and every port of every protocol `all`."""
    def ports(c: Connection) -> str:
        return "all" if short and c.ports == ALL_PORTS else format_ranges(c.ports)
    if short and {c.protocol for c in connections if c.ports == ALL_PORTS} >= set(PROTOCOLS):
        return "all"
    order = {p: i for i, p in enumerate(PROTOCOLS)}
    return " ".join(f"{c.protocol}:{ports(c)}"
                    for c in sorted(connections, key=lambda c: order.get(c.protocol, 9)))
