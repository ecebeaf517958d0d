"""What outside the cluster can reach: NodePort and LoadBalancer services,
ExternalName services, Ingress and Route backends, hostNetwork and hostPort
pods. Each exposure says whether the workload's ingress policies admit
external addresses on those ports ("open", "restricted", "blocked")."""

from __future__ import annotations

from lashing.network.model import Exposure, NetworkModel, Workload
from lashing.network.ports import ALL_PORTS, Range, format_ranges, intersect, merge
from lashing.network.reach import Analysis, backend_ports, ingress_backends

__all__ = ["exposure"]


def _policy_state(analysis: Analysis, w: Workload, protocol: str,
                  ranges: tuple[Range, ...], controller: bool = False) -> str:
    info = analysis.ingress(analysis.class_of[id(w)])
    if info is None:
        return "open"
    if controller:
        allowed = intersect(ranges, info[2].get(protocol, ()))
        return "open" if allowed == ranges else ("restricted" if allowed else "blocked")
    per_block = [intersect(ranges, ports.get(protocol, ()))
                 for ports in analysis.per_block(info[1])]
    if all(p == ranges for p in per_block):
        return "open"
    return "restricted" if any(per_block) else "blocked"


def exposure(model: NetworkModel) -> list[Exposure]:
    """Everything reachable from outside the cluster, sorted by path and line."""
    analysis = Analysis(model)
    found: list[Exposure] = []
    for svc in model.services:
        if svc.type == "ExternalName":
            found.append(Exposure("ExternalName", svc.resource, None, "TCP", ALL_PORTS,
                                  svc.path, svc.line,
                                  f"resolves to the external name {svc.external_name}"))
            continue
        if ((svc.type not in ("NodePort", "LoadBalancer") and not svc.external_ips)
                or not svc.selector):
            continue
        selector = svc.selector
        for w in model.workloads:
            if w.namespace != svc.namespace or any(w.labels.get(k) != v
                                                   for k, v in selector.items()):
                continue
            for sp in svc.ports:
                for proto, ranges in backend_ports(svc, w, sp.port).items():
                    if proto != sp.protocol:
                        continue
                    if svc.type == "LoadBalancer":
                        outside = f"load balancer port {sp.port}"
                        if svc.source_ranges:
                            outside += f" (from {', '.join(svc.source_ranges)})"
                    elif svc.type == "NodePort":
                        outside = f"node port {sp.node_port}" if sp.node_port else "a node port"
                    else:
                        outside = f"external IPs {', '.join(svc.external_ips)} port {sp.port}"
                    kind = svc.type if svc.type in ("NodePort", "LoadBalancer") else "externalIPs"
                    state = _policy_state(analysis, w, proto, ranges)
                    found.append(Exposure(
                        kind, svc.resource, w.endpoint, proto, ranges, svc.path, svc.line,
                        f"{outside} -> {w.resource} {proto} {format_ranges(ranges)} "
                        f"(network policy: {state})"))
    for resource, svc, w, proto, ranges in ingress_backends(model):
        ing = next(i for i in model.ingresses if i.resource == resource)
        state = _policy_state(analysis, w, proto, ranges, controller=True)
        found.append(Exposure(ing.kind, resource, w.endpoint, proto, ranges, ing.path, ing.line,
                              f"via {svc.resource} -> {w.resource} {proto} "
                              f"{format_ranges(ranges)} (network policy: {state})"))
    for w in model.workloads:
        if w.host_network:
            by_proto: dict[str, list[Range]] = {}
            for p in w.ports:
                by_proto.setdefault(p.protocol, []).append((p.number, p.number))
            detail = "shares the node's network namespace; network policies do not isolate it"
            if not by_proto:
                found.append(Exposure("hostNetwork", w.resource, w.endpoint, "TCP", ALL_PORTS,
                                      w.path, w.line, detail + " (no declared ports)"))
            for proto, listed in sorted(by_proto.items()):
                found.append(Exposure("hostNetwork", w.resource, w.endpoint, proto,
                                      merge(listed), w.path, w.line, detail))
        for hp in w.host_ports:
            where = f"{hp.host_ip}:{hp.port}" if hp.host_ip else f"port {hp.port}"
            found.append(Exposure("hostPort", w.resource, w.endpoint, hp.protocol,
                                  ((hp.port, hp.port),), w.path, w.line,
                                  f"node {where}/{hp.protocol} forwards to {w.resource}"))
    found.sort(key=lambda e: (e.path, e.line, e.kind, e.resource, e.protocol, e.ports))
    return found
