"""Who can reach whom: NetworkPolicy semantics over equivalence classes.

Workloads with the same namespace, labels and container ports are
indistinguishable to every policy, so they are grouped into classes first.
Each policy's pod selector is matched once per class in its namespace and
each rule peer once per class, so the cost grows with (class, policy)
pairs; the final pairing walks only the allowed relation (plus the classes
no policy isolates), never every pair times every policy.

A connection needs the source's egress and the destination's ingress to
allow it. A pod is isolated in a direction only when some policy of its
namespace selects it with that policy type; the rules of all such policies
add up. External addresses are cut into the pieces ipBlocks distinguish
(see cidr.py); the ingress controller is an unknown pod in an unknown
namespace, so only rules that allow every namespace admit it."""

from __future__ import annotations

import bisect
import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lashing.model import Connection, Endpoint, EndpointKind
from lashing.network.cidr import AddressBlock, IPBlock, atomic_blocks
from lashing.network.model import (
    ContainerPort,
    NetworkModel,
    Peer,
    Policy,
    PolicyRule,
    Service,
    Workload,
)
from lashing.network.ports import (
    ALL,
    PortMap,
    Range,
    intersect,
    intersect_maps,
    merge,
    union_maps,
)
from lashing.network.selectors import Selector

__all__ = ["Analysis", "backend_ports", "connections", "endpoint_key", "ingress_backends"]

INGRESS_CONTROLLER = Endpoint(EndpointKind.INGRESS_CONTROLLER)
_KIND_ORDER = {EndpointKind.WORKLOAD: 0, EndpointKind.EXTERNAL: 1, EndpointKind.HOST: 2,
               EndpointKind.INGRESS_CONTROLLER: 3}


@dataclass
class PodClass:
    """Workloads no policy can tell apart."""

    index: int
    namespace: str
    labels: Mapping[str, str]
    ports: tuple[ContainerPort, ...]
    members: list[Workload] = field(default_factory=list)


@dataclass(frozen=True)
class RuleTarget:
    """What a rule's peers select: classes and external blocks (None: all)."""

    classes: frozenset[int] | None
    blocks: frozenset[int] | None
    controller: bool


def endpoint_key(e: Endpoint) -> tuple[int, str, str, str, tuple[int, int, int]]:
    net = (0, 0, 0)
    if e.cidr:
        n = ipaddress.ip_network(e.cidr, strict=False)
        net = (n.version, int(n.network_address), n.prefixlen)
    return (_KIND_ORDER[e.kind], e.namespace or "", e.name or "", e.workload_kind or "", net)


def selects_everywhere(peer: Peer) -> bool:
    """Whether a peer admits a pod of any namespace whatever its labels."""
    return (peer.ip_block is None and peer.namespace_selector is not None
            and peer.namespace_selector.is_empty
            and (peer.pod_selector is None or peer.pod_selector.is_empty))


class Analysis:
    """The precomputed facts connections() and explain() share."""

    def __init__(self, model: NetworkModel) -> None:
        self.model = model
        self.classes: list[PodClass] = []
        self.class_of: dict[int, int] = {}  # id(workload) -> class index
        index: dict[tuple[str, frozenset[tuple[str, str]], tuple[ContainerPort, ...]], int] = {}
        for w in model.workloads:
            key = (w.namespace, frozenset(w.labels.items()), w.ports)
            i = index.get(key)
            if i is None:
                i = index[key] = len(self.classes)
                self.classes.append(PodClass(i, w.namespace, w.labels, w.ports))
            self.classes[i].members.append(w)
            self.class_of[id(w)] = i
        self.by_namespace: dict[str, list[int]] = defaultdict(list)
        # (namespace, label, value) -> classes: selectors with an equality or `In`
        # requirement look at those classes only
        self.by_label: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for c in self.classes:
            self.by_namespace[c.namespace].append(c.index)
            for label, value in c.labels.items():
                self.by_label[(c.namespace, label, value)].append(c.index)
        self.blocks: list[AddressBlock] = atomic_blocks(
            net for p in model.policies for rule in (*p.ingress, *p.egress)
            for peer in rule.peers if peer.ip_block is not None
            for net in peer.ip_block.networks())
        self._starts = [(b.version, b.first) for b in self.blocks]
        # per direction, per class: the policies that select it with that type
        self.selecting: dict[str, list[list[Policy]]] = {
            d: [[] for _ in self.classes] for d in ("Ingress", "Egress")}
        for policy in model.policies:
            for ci in self.selected(policy.namespace, policy.pod_selector):
                for direction in policy.policy_types:
                    self.selecting[direction][ci].append(policy)
        self._targets: dict[int, RuleTarget] = {}
        self._ports: dict[tuple[int, tuple[ContainerPort, ...]], PortMap] = {}
        self._namespaces: dict[Selector, list[str]] = {}
        self._runs: dict[tuple[object, ...] | None, list[tuple[str, PortMap]]] = {}

    # -- rules ----------------------------------------------------------------------------

    def peer_classes(self, peer: Peer, policy: Policy) -> Iterable[int]:
        if peer.ip_block is not None:
            return ()
        if peer.namespace_selector is None:
            namespaces: Iterable[str] = (policy.namespace,)
        else:
            namespaces = self.namespaces_of(peer.namespace_selector)
        return [ci for ns in namespaces for ci in self.selected(ns, peer.pod_selector)]

    def namespaces_of(self, selector: Selector) -> list[str]:
        """The namespaces (with workloads) a namespace selector selects."""
        found = self._namespaces.get(selector)
        if found is None:
            found = self._namespaces[selector] = [
                ns for ns in self.by_namespace
                if selector.matches(self.model.namespace_labels(ns))]
        return found

    def selected(self, namespace: str, selector: Selector | None) -> list[int]:
        """The classes of a namespace a pod selector (None: every pod) selects."""
        candidates = self.by_namespace.get(namespace, [])
        if selector is None:
            return candidates
        for req in selector.requirements:
            if req.operator == "In":
                narrowed = [ci for value in req.values
                            for ci in self.by_label.get((namespace, req.key, value), ())]
                if len(narrowed) < len(candidates):
                    candidates = narrowed
        return [ci for ci in candidates if selector.matches(self.classes[ci].labels)]

    def target(self, rule: PolicyRule, policy: Policy) -> RuleTarget:
        found = self._targets.get(id(rule))
        if found is not None:
            return found
        if not rule.peers:
            found = RuleTarget(None, None, True)
        else:
            classes: set[int] = set()
            blocks: set[int] = set()
            for peer in rule.peers:
                classes.update(self.peer_classes(peer, policy))
                if peer.ip_block is not None:
                    blocks.update(self.covered(peer.ip_block))
            found = RuleTarget(frozenset(classes), frozenset(blocks),
                               any(selects_everywhere(p) for p in rule.peers))
        self._targets[id(rule)] = found
        return found

    def covered(self, block: IPBlock) -> Iterable[int]:
        """Indexes of the external blocks inside an ipBlock (blocks are sorted)."""
        net = block.cidr
        lo = bisect.bisect_left(self._starts, (net.version, int(net.network_address)))
        hi = bisect.bisect_right(self._starts, (net.version, int(net.broadcast_address)))
        return [i for i in range(lo, hi) if block.covers(self.blocks[i])]

    def rule_ports(self, rule: PolicyRule, ports: tuple[ContainerPort, ...]) -> PortMap:
        """The ports a rule allows on a destination with these container ports."""
        if not rule.ports:
            return ALL
        named = any(isinstance(p.port, str) for p in rule.ports)
        key = (id(rule), ports if named else ())
        found = self._ports.get(key)
        if found is None:
            found = union_maps({p.protocol: r} for p in rule.ports
                               if (r := p.resolve(ports)))
            self._ports[key] = found
        return found

    # -- directions -----------------------------------------------------------------------

    def ingress(self, d: int) -> tuple[dict[int, PortMap], External, PortMap] | None:
        """For an isolated destination class: allowed source classes, external
        blocks and the ingress controller's ports; None when not isolated."""
        policies = self.selecting["Ingress"][d]
        if not policies:
            return None
        dst_ports = self.classes[d].ports
        sources: dict[int, list[PortMap]] = defaultdict(list)
        external: list[Contribution] = []
        controller: list[PortMap] = []
        for policy in policies:
            for rule in policy.ingress:
                ports = self.rule_ports(rule, dst_ports)
                if not ports:
                    continue
                t = self.target(rule, policy)
                for ci in range(len(self.classes)) if t.classes is None else t.classes:
                    sources[ci].append(ports)
                if t.blocks is None or t.blocks:
                    external.append((rule, t.blocks, ports))
                if t.controller:
                    controller.append(ports)
        return ({k: union_maps(v) for k, v in sources.items()},
                External(tuple(external), dst_ports), union_maps(controller))

    def egress(self, s: int) -> list[tuple[PolicyRule, RuleTarget]] | None:
        """For a source class isolated for egress: its egress rules with what
        they select; None when not isolated."""
        policies = self.selecting["Egress"][s]
        if not policies:
            return None
        return [(rule, self.target(rule, policy)) for policy in policies
                for rule in policy.egress]

    def egress_to(self, rules: list[tuple[PolicyRule, RuleTarget]], d: int) -> PortMap:
        """The ports egress rules allow towards destination class d."""
        ports = self.classes[d].ports
        return union_maps(self.rule_ports(rule, ports) for rule, t in rules
                          if t.classes is None or d in t.classes)

    def egress_external(self, rules: list[tuple[PolicyRule, RuleTarget]]) -> External:
        """What egress rules allow towards external addresses."""
        found: list[Contribution] = []
        for rule, t in rules:
            if t.blocks is None or t.blocks:
                ports = self.rule_ports(rule, ())
                if ports:
                    found.append((rule, t.blocks, ports))
        return External(tuple(found), ())

    def per_block(self, external: External | None) -> list[PortMap]:
        """The ports allowed for each external block (None: everything allowed)."""
        if external is None:
            return [ALL] * len(self.blocks)
        collected: list[list[PortMap]] = [[] for _ in self.blocks]
        for _rule, blocks, ports in external.parts:
            for bi in range(len(self.blocks)) if blocks is None else blocks:
                collected[bi].append(ports)
        return [union_maps(c) if c else {} for c in collected]

    def external_runs(self, external: External | None) -> list[tuple[str, PortMap]]:
        """(CIDR, ports) for the runs of adjacent external blocks with equal ports."""
        key = external.key if external is not None else None
        found = self._runs.get(key)
        if found is not None:
            return found
        found = []
        if external is not None and all(b is None for _r, b, _p in external.parts):
            uniform = union_maps(p for _r, _b, p in external.parts)
            per_block = [uniform] * len(self.blocks)
        else:
            per_block = self.per_block(external)
        blocks = self.blocks
        start = 0
        for i in range(1, len(blocks) + 1):
            if (i < len(blocks) and blocks[i].version == blocks[start].version
                    and per_block[i] == per_block[start]):
                continue
            if per_block[start]:
                first, last = blocks[start], blocks[i - 1]
                found.extend((cidr, per_block[start]) for cidr in
                             AddressBlock(first.version, first.first, last.last).cidrs())
            start = i
        self._runs[key] = found
        return found


Contribution = tuple[PolicyRule, frozenset[int] | None, PortMap]


@dataclass(frozen=True)
class External:
    """The rules of one side that admit external blocks, with their ports."""

    parts: tuple[Contribution, ...]
    dst_ports: tuple[ContainerPort, ...]

    @property
    def key(self) -> tuple[object, ...]:
        return (*(id(rule) for rule, _b, _p in self.parts), self.dst_ports)


class _Collector:
    def __init__(self) -> None:
        self.pairs: dict[tuple[Endpoint, Endpoint], dict[str, list[Range]]] = {}

    def add(self, src: Endpoint, dst: Endpoint, ports: PortMap) -> None:
        if src is dst or (src.name == dst.name and src == dst):
            return
        pair = self.pairs.get((src, dst))
        if pair is None:
            pair = self.pairs[(src, dst)] = defaultdict(list)
        for proto, ranges in ports.items():
            pair[proto].extend(ranges)

    def result(self) -> list[Connection]:
        out = [Connection(s, d, p, merge(r)) for (s, d), by_proto in self.pairs.items()
               for p, r in by_proto.items() if r]
        keys = {e: endpoint_key(e) for e in {e for c in out for e in (c.source, c.destination)}}
        out.sort(key=lambda c: (keys[c.source], keys[c.destination], c.protocol))
        return out


def _external(collector: _Collector, analysis: Analysis, members: list[Workload],
              external: External | None, outgoing: bool) -> None:
    """Connections between these workloads and external address ranges."""
    for cidr, ports in analysis.external_runs(external):
        ext = Endpoint(EndpointKind.EXTERNAL, cidr=cidr)
        for w in members:
            if outgoing:
                collector.add(w.endpoint, ext, ports)
            else:
                collector.add(ext, w.endpoint, ports)


Backend = tuple[str, Service, Workload, str, tuple[Range, ...]]


def ingress_backends(model: NetworkModel) -> list[Backend]:
    """(Ingress resource, service, workload, protocol, target ports) for every
    Ingress/Route backend that reaches a workload."""
    services = {(s.namespace, s.name): s for s in model.services}
    found: list[Backend] = []
    for ing in model.ingresses:
        for backend in ing.backends:
            svc = services.get((ing.namespace, backend.service))
            if svc is None or not svc.selector:
                continue
            for w in model.workloads:
                if w.namespace != svc.namespace or not _matches(svc.selector, w.labels):
                    continue
                for proto, ranges in backend_ports(svc, w, backend.port, ing.kind).items():
                    found.append((ing.resource, svc, w, proto, ranges))
    return found


def _matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def backend_ports(svc: Service, w: Workload, port: int | str | None,
                  kind: str = "Ingress") -> dict[str, tuple[Range, ...]]:
    """The workload ports a service port (number or name; None: all) leads to."""
    out: dict[str, list[Range]] = defaultdict(list)
    for sp in svc.ports:
        if kind == "Route" and port is not None:
            # a Route's targetPort names the service port or the pods' target port
            chosen = (sp.name == port if isinstance(port, str) else sp.target_port == port)
        else:
            chosen = port is None or (sp.name == port if isinstance(port, str)
                                      else sp.port == port)
        if not chosen:
            continue
        if isinstance(sp.target_port, int):
            out[sp.protocol].append((sp.target_port, sp.target_port))
        else:
            out[sp.protocol].extend((p.number, p.number) for p in w.ports
                                    if p.name == sp.target_port and p.protocol == sp.protocol)
    return {p: merge(r) for p, r in out.items() if r}


def connections(model: NetworkModel) -> list[Connection]:
    """Every allowed connection: workload to workload, from and to external
    address ranges, and from the ingress controller; sorted and merged."""
    analysis = Analysis(model)
    classes = analysis.classes
    collector = _Collector()
    ingress = [analysis.ingress(ci) for ci in range(len(classes))]
    open_dsts = [ci for ci, info in enumerate(ingress) if info is None]
    admitted: dict[int, dict[int, PortMap]] = defaultdict(dict)  # src -> isolated dst -> ports
    for d, info in enumerate(ingress):
        if info is not None:
            for s, ports in info[0].items():
                admitted[s][d] = ports
    for s, cls in enumerate(classes):
        rules = analysis.egress(s)
        admits = admitted.get(s, {})
        candidates: Iterable[tuple[int, PortMap]] = [*((d, ALL) for d in open_dsts),
                                                     *admits.items()]
        if rules is not None:
            candidates = [(d, intersect_maps(analysis.egress_to(rules, d), ports))
                          for d, ports in candidates]
        for d, ports in candidates:
            if not ports:
                continue
            for src in cls.members:
                for dst in classes[d].members:
                    collector.add(src.endpoint, dst.endpoint, ports)
        _external(collector, analysis, cls.members,
                  None if rules is None else analysis.egress_external(rules), True)
    for d, info in enumerate(ingress):
        _external(collector, analysis, classes[d].members, None if info is None else info[1],
                  False)
    for _resource, _svc, w, proto, ranges in ingress_backends(model):
        info = ingress[analysis.class_of[id(w)]]
        allowed = ranges if info is None else intersect(ranges, info[2].get(proto, ()))
        if allowed:
            collector.add(INGRESS_CONTROLLER, w.endpoint, {proto: allowed})
    return collector.result()
