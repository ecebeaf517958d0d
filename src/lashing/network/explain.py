"""Why a connection is allowed or denied: each policy that isolates the
source (egress) or the destination (ingress), and which of its rules, if
any, admits the traffic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lashing.model import Endpoint, EndpointKind
from lashing.network.cidr import Network, parse_address
from lashing.network.model import NetworkInputError, NetworkModel, Peer, Policy, Workload
from lashing.network.ports import (
    ALL_PORTS,
    PROTOCOLS,
    Range,
    contains,
    format_ranges,
    intersect,
    merge,
)
from lashing.network.reach import INGRESS_CONTROLLER, selects_everywhere

__all__ = ["Explanation", "PolicyVerdict", "explain"]


@dataclass(frozen=True)
class _Party:
    endpoint: Endpoint
    workload: Workload | None = None
    network: Network | None = None

    @property
    def label(self) -> str:
        if self.workload is not None:
            return self.workload.resource
        if self.network is not None:
            return f"external {self.network}"
        return "the ingress controller"


@dataclass(frozen=True)
class PolicyVerdict:
    """One policy that isolates the source (Egress) or destination (Ingress)."""

    direction: str
    policy: str  # NetworkPolicy/ns/name
    path: str
    line: int
    allows: bool
    ports: tuple[Range, ...]  # ports of the protocol this policy admits for the pair
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"direction": self.direction, "policy": self.policy,
                "location": {"path": self.path, "line": self.line}, "allows": self.allows,
                "ports": format_ranges(self.ports), "reason": self.reason}


@dataclass(frozen=True)
class Explanation:
    source: Endpoint
    destination: Endpoint
    protocol: str
    port: int | None
    allowed: bool
    ports: tuple[Range, ...]  # allowed ports of the protocol (all asked when port given)
    verdicts: tuple[PolicyVerdict, ...] = ()
    lines: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def ep(e: Endpoint) -> dict[str, Any]:
            return {k: v for k, v in (("kind", str(e.kind)), ("namespace", e.namespace),
                                      ("name", e.name), ("workload_kind", e.workload_kind),
                                      ("cidr", e.cidr)) if v is not None}
        return {"source": ep(self.source), "destination": ep(self.destination),
                "protocol": self.protocol, "port": self.port, "allowed": self.allowed,
                "ports": format_ranges(self.ports),
                "policies": [v.to_dict() for v in self.verdicts], "explanation": self.lines}


def _resolve(model: NetworkModel, text: str) -> _Party:
    if text == "ingress-controller":
        return _Party(INGRESS_CONTROLLER)
    net = parse_address(text)
    if net is not None:
        return _Party(Endpoint(EndpointKind.EXTERNAL, cidr=str(net)), network=net)
    parts = text.split("/")
    if len(parts) == 1:
        kind, ns, name = None, "default", parts[0]
    elif len(parts) == 2:
        kind, ns, name = None, parts[0], parts[1]
    elif len(parts) == 3:
        kind, ns, name = parts
    else:
        raise NetworkInputError(f"{text!r} is not a workload (name, ns/name or Kind/ns/name), "
                                "an IP address or a CIDR")
    found = [w for w in model.workloads if w.namespace == ns and w.endpoint.name == name
             and (kind is None or (w.endpoint.workload_kind or "").lower() == kind.lower())]
    kinds = sorted({w.endpoint.workload_kind or "" for w in found})
    if not found:
        raise NetworkInputError(f"no workload {text!r} in the manifests",
                                "name it as name, namespace/name or Kind/namespace/name")
    if len(kinds) > 1:
        raise NetworkInputError(f"{text!r} names several workloads ({', '.join(kinds)})",
                                f"name it as Kind/{ns}/{name}")
    return _Party(found[0].endpoint, workload=found[0])


def _peer_matches(model: NetworkModel, peer: Peer, policy: Policy, other: _Party) -> bool:
    if other.network is not None:
        block = peer.ip_block
        return (block is not None and other.network.version == block.cidr.version
                and other.network.subnet_of(block.cidr)  # type: ignore[arg-type]
                and not any(other.network.overlaps(e) for e in block.excepts))
    if other.workload is None:  # the ingress controller
        return selects_everywhere(peer)
    if peer.ip_block is not None:
        return False
    w = other.workload
    if peer.namespace_selector is None:
        if w.namespace != policy.namespace:
            return False
    elif not peer.namespace_selector.matches(model.namespace_labels(w.namespace)):
        return False
    return peer.pod_selector is None or peer.pod_selector.matches(w.labels)


def _verdict(model: NetworkModel, policy: Policy, direction: str, other: _Party,
             dst: _Party, protocol: str, asked: tuple[Range, ...]) -> PolicyVerdict:
    dst_ports = dst.workload.ports if dst.workload is not None else ()
    allowed: list[Range] = []
    reasons: list[str] = []
    word = "from" if direction == "Ingress" else "to"
    rules = policy.rules(direction)
    for i, rule in enumerate(rules):
        where = f"{direction.lower()} rule {i + 1} (line {rule.line})"
        peers = [p for p in rule.peers if _peer_matches(model, p, policy, other)]
        if rule.peers and not peers:
            reasons.append(f"{where}: no peer matches {other.label}")
            continue
        ports = (merge(r for p in rule.ports if p.protocol == protocol
                       for r in p.resolve(dst_ports)) if rule.ports else ALL_PORTS)
        got = intersect(ports, asked)
        peer_text = f"peer {peers[0]}" if peers else f"all {word} peers"
        if got:
            allowed.extend(got)
            reasons.append(f"{where}: {peer_text} allows {protocol} {format_ranges(got)}")
        else:
            spec = ", ".join(str(p) for p in rule.ports)
            reasons.append(f"{where}: {peer_text} matches, but its ports ({spec}) do not "
                           f"include {protocol} {format_ranges(asked)} on {dst.label}")
    if not rules:
        reasons.append(f"no {direction.lower()} rules: denies all {direction.lower()}")
    got_all = merge(allowed)
    return PolicyVerdict(direction, policy.resource, policy.path, policy.line, bool(got_all),
                         got_all, "; ".join(reasons))


def _side(model: NetworkModel, direction: str, subject: _Party, other: _Party, dst: _Party,
          protocol: str, asked: tuple[Range, ...],
          lines: list[str]) -> tuple[tuple[Range, ...], list[PolicyVerdict]]:
    if subject.workload is None:
        what = "source" if direction == "Egress" else "destination"
        lines.append(f"{direction}: the {what} {subject.label} is outside the scope of "
                     "NetworkPolicies; nothing restricts it")
        return asked, []
    w = subject.workload
    policies = [p for p in model.policies if p.namespace == w.namespace
                and direction in p.policy_types and p.pod_selector.matches(w.labels)]
    if not policies:
        lines.append(f"{direction}: no NetworkPolicy of namespace {w.namespace} selects "
                     f"{w.resource} for {direction.lower()}, so it is not isolated: allowed")
        return asked, []
    verdicts = [_verdict(model, p, direction, other, dst, protocol, asked) for p in policies]
    ports = merge(r for v in verdicts for r in v.ports)
    lines.append(f"{direction}: {w.resource} is isolated by {len(policies)} "
                 f"polic{'y' if len(policies) == 1 else 'ies'}; "
                 + ("allowed " + f"{protocol} {format_ranges(ports)}" if ports else "denied"))
    for v in verdicts:
        word = "allows" if v.allows else "does not allow"
        lines.append(f"  {v.policy} ({v.path}:{v.line}) {word}: {v.reason}")
    return ports, verdicts


def explain(model: NetworkModel, source: str, destination: str, port: int | None,
            protocol: str = "TCP") -> Explanation:
    """Whether `source` can reach `destination` on `protocol` `port` (None:
    any port) and why, naming each policy that decides it."""
    protocol = protocol.upper()
    if protocol not in PROTOCOLS:
        raise NetworkInputError(f"unknown protocol {protocol!r} (one of {', '.join(PROTOCOLS)})")
    if port is not None and not 1 <= port <= 65535:
        raise NetworkInputError(f"port {port} is out of range 1-65535")
    src, dst = _resolve(model, source), _resolve(model, destination)
    if dst.workload is None and src.workload is None:
        raise NetworkInputError("at least one of source and destination must be a workload")
    asked: tuple[Range, ...] = ((port, port),) if port is not None else ALL_PORTS
    what = f"{protocol} {port}" if port is not None else f"{protocol} (any port)"
    lines = [f"{src.label} -> {dst.label} on {what}"]
    out_ports, out_verdicts = _side(model, "Egress", src, dst, dst, protocol, asked, lines)
    in_ports, in_verdicts = _side(model, "Ingress", dst, src, dst, protocol, asked, lines)
    ports = intersect(out_ports, in_ports)
    allowed = bool(ports) if port is None else contains(ports, port)
    verdict = "ALLOWED" if allowed else "DENIED"
    if allowed and port is None:
        verdict += f" on {protocol} {format_ranges(ports)}"
    elif not allowed:
        blocked = [side for side, p in (("egress", out_ports), ("ingress", in_ports)) if not p]
        verdict += f" (blocked by {' and '.join(blocked) or 'the combination of both sides'})"
    lines.append(f"Result: {verdict}")
    return Explanation(src.endpoint, dst.endpoint, protocol, port, allowed, ports,
                       tuple(out_verdicts + in_verdicts), lines)
