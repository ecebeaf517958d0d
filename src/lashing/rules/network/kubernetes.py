"""Network rules for Kubernetes manifests (LSH-NET-0NN), over the network model.

Mainstream scanners ask whether a NetworkPolicy exists; these rules ask what
the policies actually allow: namespaces left open, rules that admit every
namespace or every address, egress anywhere, datastores reachable from
outside, and the likely mistakes — policies
that select nothing, peers whose labels match nothing, rules another rule
already covers.

hostNetwork, hostPort and NodePort/LoadBalancer Services are judged by
LSH-K8S-012, LSH-K8S-013 and LSH-K8S-050 (all in the network surface); they
are not repeated here. LSH-NET-006 uses the same exposures to find
datastores published outside the cluster.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from lashing.manifests.kubernetes import load_kubernetes
from lashing.model import FindingKind, Location, Severity, Surface
from lashing.network import Exposure, NetworkModel, Peer, Policy, PolicyRule, Workload
from lashing.network import build_model as build_network_model
from lashing.network import exposure as network_exposure
from lashing.network.ports import PortMap, intersect, merge
from lashing.network.reach import Analysis, selects_everywhere
from lashing.rules.framework import Example, NotApplicable, Violation, rule

NETPOL = "https://kubernetes.io/docs/concepts/services-networking/network-policies/"
SERVICES = "https://kubernetes.io/docs/concepts/services-networking/service/"
SEPARATION = ("4.3.3",)
EGRESS = ("4.4.2",)
ANY_V4 = ipaddress.ip_network("0.0.0.0/0")
ANY_V6 = ipaddress.ip_network("::/0")

# Ports of services that must never be reachable from outside or from every
# namespace: datastores, caches, queues and container/cluster control APIs.
SENSITIVE_PORTS: dict[int, str] = {
    3306: "MySQL", 5432: "PostgreSQL", 6379: "Redis", 27017: "MongoDB", 9200: "Elasticsearch",
    9300: "Elasticsearch", 11211: "memcached", 5984: "CouchDB", 1433: "SQL Server",
    1521: "Oracle", 9042: "Cassandra", 8086: "InfluxDB", 7687: "Neo4j", 26257: "CockroachDB",
    5672: "RabbitMQ", 9092: "Kafka", 2181: "ZooKeeper", 2379: "etcd", 2380: "etcd",
    2375: "Docker API (plain)", 2376: "Docker API", 10250: "kubelet API",
}


@dataclass
class KubernetesNetworkSubject:
    """A network model and what the rules derive from it, computed once."""

    model: NetworkModel
    exposures: list[Exposure] = field(default_factory=list)

    @cached_property
    def analysis(self) -> Analysis:
        return Analysis(self.model)

    def workloads(self) -> list[Workload]:
        if not self.model.workloads:
            raise NotApplicable("no workloads")
        return self.model.workloads

    def policies(self) -> list[Policy]:
        if not self.model.policies:
            raise NotApplicable("no NetworkPolicies")
        return self.model.policies

    def selecting(self, w: Workload, direction: str) -> list[Policy]:
        return self.analysis.selecting[direction][self.analysis.class_of[id(w)]]

    def by_namespace(self) -> dict[str, list[Workload]]:
        found: dict[str, list[Workload]] = defaultdict(list)
        for w in self.workloads():
            found[w.namespace].append(w)
        return dict(sorted(found.items()))


K = KubernetesNetworkSubject


def subject_of(model: NetworkModel, exposures: Sequence[Exposure] | None = None) -> K:
    return KubernetesNetworkSubject(
        model, list(exposures) if exposures is not None else network_exposure(model))


def load_example(example: Example) -> K:
    if not isinstance(example.data, str):
        raise TypeError(f"a network example is YAML text, not {type(example.data).__name__}")
    loaded = load_kubernetes(example.data, "manifest.yaml")
    if loaded.error is not None:
        raise loaded.error
    return subject_of(build_network_model(loaded.objects))


def _at(w: Workload) -> Location:
    return Location(path=w.path, line=w.line or None, resource=w.resource)


def _policy_at(p: Policy, line: int = 0) -> Location:
    return Location(path=p.path, line=line or p.line or None, resource=p.resource)


def _names(workloads: Sequence[Workload], limit: int = 5) -> str:
    names = sorted(w.resource for w in workloads)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _default_deny(k: K, direction: str) -> Iterator[Violation]:
    for ns, workloads in k.by_namespace().items():
        covering = [p for p in k.model.policies if p.namespace == ns
                    and p.pod_selector.is_empty and direction in p.policy_types]
        if covering:
            continue
        open_ = [w for w in workloads if not k.selecting(w, direction)]
        what = "ingress" if direction == "Ingress" else "egress"
        detail = (f"; {len(open_)} workload(s) accept any {what}: {_names(open_)}" if open_
                  else "; every workload has a policy today, but new ones will not")
        yield Violation(
            f"namespace {ns} has no NetworkPolicy selecting all pods for {direction}{detail}",
            Location(path=workloads[0].path, line=None, resource=f"Namespace/{ns}"),
            f"{ns}:{direction}")


_WEB_ONLY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
"""
_CLIENT = """---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: shop}
spec:
  template:
    metadata: {labels: {app: client}}
    spec:
      containers: [{name: c, image: busybox}]
"""
_DENY_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [%s]
---
""" + _WEB_ONLY


@rule(
    id="LSH-NET-001", title="Namespace without a default-deny ingress policy",
    severity=Severity.MEDIUM, surface=Surface.NETWORK, nist=SEPARATION,
    aliases=("checkov:CKV2_K8S_6", "kubescape:C-0260"),
    remediation="Add a NetworkPolicy with `podSelector: {}` and `policyTypes: [Ingress]` to the "
                "namespace, then allow only the traffic each workload needs.",
    references=(NETPOL + "#default-deny-all-ingress-traffic",),
    examples=(Example(_WEB_ONLY, True), Example(_DENY_INGRESS % "Ingress", False)),
)
def default_deny_ingress(k: K) -> Iterator[Violation]:
    """Without a policy that selects every pod for ingress, any pod of the cluster (and any
    address that reaches the pod network) can connect to the pods no policy selects."""
    yield from _default_deny(k, "Ingress")


@rule(
    id="LSH-NET-002", title="Namespace without a default-deny egress policy",
    severity=Severity.LOW, surface=Surface.NETWORK, nist=EGRESS,
    aliases=("kubescape:C-0030",),
    remediation="Add a NetworkPolicy with `podSelector: {}` and `policyTypes: [Egress]`, then "
                "allow DNS and the destinations each workload needs.",
    references=(NETPOL + "#default-deny-all-egress-traffic",),
    examples=(Example(_DENY_INGRESS % "Ingress", True),
              Example(_DENY_INGRESS % "Ingress, Egress", False)),
)
def default_deny_egress(k: K) -> Iterator[Violation]:
    """Pods that no egress policy selects may open connections anywhere: to other
    namespaces, to cloud metadata endpoints and to the internet, which is how data leaves."""
    yield from _default_deny(k, "Egress")


def _rules_of(k: K, w: Workload, direction: str) -> Iterator[tuple[Policy, PolicyRule]]:
    for p in k.selecting(w, direction):
        for r in p.rules(direction):
            yield p, r


def _any_address(peer: Peer) -> bool:
    block = peer.ip_block
    return (block is not None and block.cidr in (ANY_V4, ANY_V6) and not block.excepts)


def _ports_text(r: PolicyRule) -> str:
    return ", ".join(str(p) for p in r.ports) if r.ports else "all ports"


_POLICY_FROM = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [%s]
---
""" + _WEB_ONLY


@rule(
    id="LSH-NET-003", title="Ingress rule admits every pod of every namespace",
    severity=Severity.MEDIUM, surface=Surface.NETWORK, nist=SEPARATION,
    remediation="Name the client namespaces (`namespaceSelector.matchLabels`) and pods "
                "(`podSelector`) instead of an empty namespaceSelector.",
    references=(NETPOL + "#behavior-of-to-and-from-selectors",),
    examples=(Example(_POLICY_FROM % "{namespaceSelector: {}}", True),
              Example(_POLICY_FROM % "{namespaceSelector: {matchLabels: {team: shop}}}", False)),
)
def every_namespace(k: K) -> Iterator[Violation]:
    """`namespaceSelector: {}` without a pod selector admits every pod in the cluster, including
    those of namespaces created later: the policy isolates in name only."""
    for w in k.workloads():
        for p, r in _rules_of(k, w, "Ingress"):
            if any(selects_everywhere(peer) for peer in r.peers):
                yield Violation(
                    f"{w.resource} accepts {_ports_text(r)} from every pod in every namespace "
                    f"({p.resource})", _policy_at(p, r.line), f"{w.resource}:{p.resource}:{r.line}")


@rule(
    id="LSH-NET-004", title="Ingress rule admits any address",
    severity=Severity.MEDIUM, surface=Surface.NETWORK, nist=SEPARATION,
    remediation="List the peers that may connect (`from:` with pod/namespace selectors, or the "
                "narrowest ipBlock); an empty `from` or 0.0.0.0/0 admits everyone.",
    references=(NETPOL,),
    examples=(Example(_POLICY_FROM % "{ipBlock: {cidr: 0.0.0.0/0}}", True),
              Example(_POLICY_FROM % "{ipBlock: {cidr: 10.0.0.0/8}}", False)),
)
def any_address(k: K) -> Iterator[Violation]:
    """A rule with no `from` peers, or an ipBlock of 0.0.0.0/0 or ::/0, admits every pod and
    every address that can reach the pod network."""
    for w in k.workloads():
        for p, r in _rules_of(k, w, "Ingress"):
            if not r.peers or any(_any_address(peer) for peer in r.peers):
                why = "no `from` peers" if not r.peers else "an ipBlock of all addresses"
                yield Violation(
                    f"{w.resource} accepts {_ports_text(r)} from any address ({p.resource}: "
                    f"{why})", _policy_at(p, r.line), f"{w.resource}:{p.resource}:{r.line}")


_POLICY_TO = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-out, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - %s
---
""" + _WEB_ONLY


@rule(
    id="LSH-NET-005", title="Egress to any address on all ports",
    severity=Severity.MEDIUM, surface=Surface.NETWORK, nist=EGRESS,
    remediation="Allow egress only to the destinations and ports the workload needs (and DNS); "
                "an egress rule without `to` and `ports` lets a compromised pod send data "
                "anywhere.",
    references=(NETPOL,),
    examples=(Example(_POLICY_TO % "{}", True),
              Example(_POLICY_TO % "to: [{ipBlock: {cidr: 0.0.0.0/0}}]", True),
              Example(_POLICY_TO % "{to: [{ipBlock: {cidr: 0.0.0.0/0}}], ports: [{port: 443}]}",
                      False)),
)
def egress_anywhere(k: K) -> Iterator[Violation]:
    """An egress policy whose rule allows every address on every port gives the selected pods
    unbounded egress: the policy isolates nothing."""
    for w in k.workloads():
        for p, r in _rules_of(k, w, "Egress"):
            if r.ports:
                continue
            if not r.peers or any(_any_address(peer) for peer in r.peers):
                yield Violation(f"{w.resource} may connect to any address on all ports "
                                f"({p.resource})", _policy_at(p, r.line),
                                f"{w.resource}:{p.resource}:{r.line}")


def _sensitive(w: Workload) -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for port in w.ports:
        name = SENSITIVE_PORTS.get(port.number)
        if name is not None:
            found[port.protocol].append((port.number, name))
    return found


def _open_from_everywhere(k: K, w: Workload, protocol: str, port: int) -> str | None:
    """Why `port` of `w` admits every namespace or every address, or None."""
    if not k.selecting(w, "Ingress"):
        return "no NetworkPolicy isolates it"
    for p, r in _rules_of(k, w, "Ingress"):
        ports: PortMap = k.analysis.rule_ports(r, w.ports)
        if not intersect(ports.get(protocol, ()), ((port, port),)):
            continue
        if not r.peers or any(_any_address(peer) or selects_everywhere(peer)
                              for peer in r.peers):
            return f"{p.resource} admits every peer on it"
    return None


_DB = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: postgres, ports: [{containerPort: 5432}]}]
"""
_DB_ISOLATED = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432}]
---
""" + _DB


@rule(
    id="LSH-NET-006",
    title="Datastore or control-API port reachable from outside or from every namespace",
    severity=Severity.HIGH, surface=Surface.NETWORK, kind=FindingKind.EXPOSURE,
    nist=SEPARATION + EGRESS,
    remediation="Isolate the workload with a NetworkPolicy that admits only its clients on that "
                "port, and do not publish it through a NodePort, LoadBalancer or Ingress.",
    references=(NETPOL, SERVICES),
    examples=(Example(_DB, True), Example(_DB_ISOLATED, False)),
)
def sensitive_port(k: K) -> Iterator[Violation]:
    """Databases, caches, queues, etcd, the kubelet and Docker APIs trust their network; reachable
    from every namespace or from outside the cluster, one compromised pod or one scan away
    from the data."""
    by_endpoint = {w.endpoint: w for w in k.model.workloads}
    outside: dict[int, list[Exposure]] = defaultdict(list)
    for e in k.exposures:
        w_ = by_endpoint.get(e.workload) if e.workload is not None else None
        if w_ is not None:
            outside[id(w_)].append(e)
    for w in k.workloads():
        for protocol, ports in sorted(_sensitive(w).items()):
            for number, name in ports:
                reasons = [f"exposed by {e.resource} ({e.kind})" for e in outside[id(w)]
                           if e.protocol == protocol and intersect(e.ports, ((number, number),))]
                everywhere = _open_from_everywhere(k, w, protocol, number)
                if everywhere is not None:
                    reasons.append(f"reachable from every namespace: {everywhere}")
                if reasons:
                    yield Violation(f"{w.resource} serves {name} on {protocol} {number}, "
                                    + "; ".join(reasons), _at(w),
                                    f"{w.resource}:{protocol}/{number}")


_SELECTS_NOTHING = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: %s}}
  ingress: []
---
""" + _WEB_ONLY


@rule(
    id="LSH-NET-007", title="NetworkPolicy selects no workload",
    severity=Severity.LOW, surface=Surface.NETWORK, nist=SEPARATION,
    remediation="Fix the policy's podSelector (a label typo?) or remove the policy.",
    references=(NETPOL,),
    examples=(Example(_SELECTS_NOTHING % "wbe", True), Example(_SELECTS_NOTHING % "web", False)),
)
def selects_nothing(k: K) -> Iterator[Violation]:
    """A policy whose pod selector matches no workload of its namespace protects nothing; it is
    usually a label typo, and the pods it was meant for are still open."""
    k.workloads()
    for p in k.policies():
        if not any(p.pod_selector.matches(w.labels) for w in k.model.workloads
                   if w.namespace == p.namespace):
            yield Violation(f"{p.resource} selects no workload in namespace {p.namespace} "
                            f"(podSelector {p.pod_selector})", _policy_at(p), p.resource)


_PEER_TYPO = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: %s}}}]
---
""" + _WEB_ONLY + _CLIENT


@rule(
    id="LSH-NET-008", title="Policy peer matches no workload",
    severity=Severity.LOW, surface=Surface.NETWORK, nist=SEPARATION,
    remediation="Check the peer's labels against the pods that should connect (a typo denies "
                "the traffic the rule was written for).",
    references=(NETPOL,),
    examples=(Example(_PEER_TYPO % "cleint", True), Example(_PEER_TYPO % "client", False)),
)
def peer_matches_nothing(k: K) -> Iterator[Violation]:
    """A from/to peer whose selectors match no workload in the analysed manifests allows
    nothing; when the manifests are complete, it is almost always a typo."""
    k.workloads()
    for p in k.policies():
        for direction in ("Ingress", "Egress"):
            for r in p.rules(direction):
                for i, peer in enumerate(r.peers):
                    if peer.ip_block is not None or selects_everywhere(peer):
                        continue
                    if not list(k.analysis.peer_classes(peer, p)):
                        yield Violation(
                            f"{p.resource}: {direction.lower()} peer {peer} matches no workload",
                            _policy_at(p, r.line), f"{p.resource}:{direction}:{r.line}:{i}")


_SHADOWED = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {}}]
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{port: %s}]
---
""" + _WEB_ONLY + _CLIENT


def _covers(big: PortMap, small: PortMap) -> bool:
    return all(intersect(big.get(proto, ()), ranges) == merge(ranges)
               for proto, ranges in small.items())


def _shadowing(k: K, w: Workload, direction: str, p: Policy, r: PolicyRule,
               ) -> tuple[Policy, PolicyRule] | None:
    """Another rule applying to `w` that allows at least everything `r` allows."""
    a = k.analysis
    mine = a.target(r, p)
    for q, other in _rules_of(k, w, direction):
        if other is r:
            continue
        theirs = a.target(other, q)
        if theirs.classes is not None and (mine.classes is None
                                           or not mine.classes <= theirs.classes):
            continue
        if theirs.blocks is not None and (mine.blocks is None or not mine.blocks <= theirs.blocks):
            continue
        if mine.controller and not theirs.controller:
            continue
        dst_ports = w.ports if direction == "Ingress" else ()
        if direction == "Egress" and any(isinstance(pp.port, str) for pp in r.ports):
            continue  # named egress ports resolve per destination; not compared
        if _covers(a.rule_ports(other, dst_ports), a.rule_ports(r, dst_ports)):
            return q, other
    return None


@rule(
    id="LSH-NET-009", title="Policy rule shadowed by a broader rule",
    severity=Severity.LOW, surface=Surface.NETWORK, nist=SEPARATION,
    remediation="Remove the redundant rule, or narrow the broader one if it allows more than "
                "intended (the narrow rule often shows the intent).",
    references=(NETPOL,),
    examples=(Example(_SHADOWED % "80", True), Example(_SHADOWED.replace(
        "from: [{podSelector: {}}]", "from: [{podSelector: {matchLabels: {app: other}}}]")
        % "80", False)),
)
def shadowed_rule(k: K) -> Iterator[Violation]:
    """A rule that allows nothing another rule for the same pods does not already allow has no
    effect; usually the broader rule allows more than its author meant."""
    k.workloads()
    for p in k.policies():
        selected = [w for w in k.model.workloads
                    if w.namespace == p.namespace and p.pod_selector.matches(w.labels)]
        if not selected:
            continue
        for direction in p.policy_types:
            for r in p.rules(direction):
                found = [_shadowing(k, w, direction, p, r) for w in selected]
                first = found[0]
                if first is not None and all(f is not None for f in found):
                    q, other = first
                    yield Violation(
                        f"{p.resource}: {direction.lower()} rule at line {r.line} allows nothing "
                        f"beyond the rule at {q.resource} line {other.line}",
                        _policy_at(p, r.line), f"{p.resource}:{direction}:{r.line}")


RULES = (default_deny_ingress, default_deny_egress, every_namespace, any_address,
         egress_anywhere, sensitive_port, selects_nothing,
         peer_matches_nothing, shadowed_rule)

__all__ = ["RULES", "SENSITIVE_PORTS", "KubernetesNetworkSubject", "load_example", "subject_of"]
