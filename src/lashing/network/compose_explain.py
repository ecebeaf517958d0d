"""Why one compose service can or cannot reach another (or the host, or the
outside) on a port: `lashing network --explain` for compose projects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lashing.network.compose import ComposeModel, ComposeService, lan_sources

__all__ = ["ComposeExplanation", "explain_compose"]


@dataclass(frozen=True)
class ComposeExplanation:
    source: str
    destination: str
    port: int | None
    protocol: str
    allowed: bool
    lines: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "destination": self.destination, "port": self.port,
                "protocol": self.protocol, "allowed": self.allowed, "reasons": list(self.lines)}


def _endpoint_name(model: ComposeModel, text: str) -> ComposeService | str | None:
    low = text.lower()
    if low in ("host", "external", "internet"):
        return "external" if low == "internet" else low
    name = text.rsplit("/", 1)[-1]
    prefix = text.rsplit("/", 1)[0] if "/" in text else None
    if prefix is not None and prefix.split("/")[-1] != model.project:
        return None
    return model.service(name)


def explain_compose(model: ComposeModel, source: str, destination: str, port: int | None,
                    protocol: str = "TCP") -> ComposeExplanation | None:
    """Why `source` can or cannot reach `destination` (services named `svc` or
    `project/svc`; also `host`, `external`); None when a name is not in this project."""
    src = _endpoint_name(model, source)
    dst = _endpoint_name(model, destination)
    if src is None or dst is None or (not isinstance(dst, ComposeService) and not isinstance(
            src, ComposeService)):
        return None
    proto = protocol.upper()
    allowed, lines = _explain(model, src, dst, port, proto)
    what = f"{proto} {port}" if port is not None else f"{proto} (any port)"
    lines = [f"{_label(model, src)} -> {_label(model, dst)} on {what}", *lines,
             f"Result: {'ALLOWED' if allowed else 'DENIED'}"]
    return ComposeExplanation(source, destination, port, proto, allowed, tuple(lines))


def _label(model: ComposeModel, party: ComposeService | str) -> str:
    return f"service {model.project}/{party.name}" if isinstance(party, ComposeService) \
        else party


def _explain(model: ComposeModel, src: ComposeService | str, dst: ComposeService | str,
             port: int | None, proto: str) -> tuple[bool, list[str]]:
    what = f"{proto} port {port}" if port is not None else f"{proto} (any port)"
    if isinstance(dst, str):  # a service to the host or the internet
        assert isinstance(src, ComposeService)
        if dst == "host":
            return False, [f"{src.name} is a container; lashing does not model connections "
                           "from containers to the host's own services"]
        if model.egress(src):
            nets = ", ".join(src.networks) or src.mode
            return True, [f"{src.name} is on {nets}, not internal: it can open connections "
                          f"to the internet ({what})"]
        why = ("network_mode: none" if src.mode == "none" else
               "every network it is on is internal: " + ", ".join(src.networks))
        return False, [f"{src.name} has no route out: {why}"]
    if isinstance(src, str):
        return _explain_inbound(model, src, dst, port, proto)
    if src is dst:
        return True, [f"{src.name} reaches itself over loopback"]
    if src.namespace_of == dst.name or dst.namespace_of == src.name:
        return True, [f"{src.name} and {dst.name} share one network namespace "
                      "(network_mode: service:...): every port over loopback"]
    shared = model.shared(src, dst)
    if shared:
        nets = ", ".join(f"{n} ({model.networks[n].name})" for n in shared)
        return True, [f"{src.name} and {dst.name} are both on {nets}",
                      f"a bridge network does not filter ports: {what} is reachable"]
    return False, [f"{src.name} is on {', '.join(src.networks) or src.mode}; {dst.name} is on "
                   f"{', '.join(dst.networks) or dst.mode}: no network in common"]


def _explain_inbound(model: ComposeModel, src: str, dst: ComposeService, port: int | None,
                     proto: str) -> tuple[bool, list[str]]:
    lan = sorted(e.cidr or "" for e in lan_sources(model, dst))
    if lan and src == "external":
        return True, [f"{dst.name} is on a macvlan/ipvlan network: it has its own address on "
                      f"{', '.join(lan)} and every port is reachable from there"]
    if dst.mode == "host":
        if src == "host":
            return True, [f"{dst.name} uses network_mode: host: it listens on the host itself"]
        ok = port is None or any(lo <= port <= hi and p == proto for lo, hi, p in dst.declared)
        return ok, [f"{dst.name} uses network_mode: host: its ports are the host's ports; "
                    + ("it declares this port" if ok else "it declares no such port")
                    + " (the host firewall decides)"]
    if not model.publishes(dst):
        why = ("its networks are all internal: Docker maps no ports" if dst.published
               else "it publishes no ports")
        return False, [f"{dst.name}: {why}"]
    matching = [m for m in dst.published if m.protocol == proto and (
        port is None or m.container_ports[0] <= port <= m.container_ports[1])]
    if src == "external":
        matching = [m for m in matching if m.all_interfaces]
    if not matching:
        listed = ", ".join(m.describe() for m in dst.published)
        scope = "on all interfaces " if src == "external" else ""
        return False, [f"{dst.name} publishes {listed}; none {scope}matches"]
    return True, [f"{dst.name} publishes {m.describe()} ({m.path}:{m.line})" for m in matching]
