"""Network rules for Kubernetes manifests (LSH-NET-0NN), over the network model.

Mainstream scanners ask whether a NetworkPolicy exists; these rules ask what
the policies actually allow: namespaces left open, rules that admit every
namespace or every address, egress anywhere, datastores reachable from
outside (LSH-NET-001..006). The likely mistakes in the policies themselves
are in k8s_policies.py.

hostNetwork, hostPort and NodePort/LoadBalancer Services are judged by
LSH-K8S-012, LSH-K8S-013 and LSH-K8S-050 (all in the network surface); they
are not repeated here. LSH-NET-006 uses the same exposures to find
datastores published outside the cluster.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from lashing.model import FindingKind, Location, Severity, Surface
from lashing.network import Exposure, Workload
from lashing.network.ports import PortMap, intersect
from lashing.network.reach import selects_everywhere
from lashing.rules.framework import Example, Violation, rule
from lashing.rules.network.k8s_subject import (
    EGRESS,
    NETPOL,
    SEPARATION,
    SERVICES,
    WEB,
    K,
    admits_any_address,
    names,
    policy_at,
    ports_text,
    rules_of,
    workload_at,
)
from lashing.rules.network.services import SERVICE_PORTS


def _default_deny(k: K, direction: str) -> Iterator[Violation]:
    for ns, workloads in k.by_namespace().items():
        covering = [p for p in k.model.policies if p.namespace == ns
                    and p.pod_selector.is_empty and direction in p.policy_types]
        if covering:
            continue
        open_ = [w for w in workloads if not k.selecting(w, direction)]
        what = "ingress" if direction == "Ingress" else "egress"
        detail = (f"; {len(open_)} workload(s) accept any {what}: {names(open_)}" if open_
                  else "; every workload has a policy today, but new ones will not")
        yield Violation(
            f"namespace {ns} has no NetworkPolicy selecting all pods for {direction}{detail}",
            Location(path=workloads[0].path, line=None, resource=f"Namespace/{ns}"),
            f"{ns}:{direction}")


_DENY_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [%s]
---
""" + WEB


@rule(
    id="LSH-NET-001", title="Namespace without a default-deny ingress policy",
    severity=Severity.MEDIUM, surface=Surface.NETWORK, nist=SEPARATION,
    aliases=("checkov:CKV2_K8S_6", "kubescape:C-0260"),
    remediation="Add a NetworkPolicy with `podSelector: {}` and `policyTypes: [Ingress]` to the "
                "namespace, then allow only the traffic each workload needs.",
    references=(NETPOL + "#default-deny-all-ingress-traffic",),
    examples=(Example(WEB, True), Example(_DENY_INGRESS % "Ingress", False)),
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



_POLICY_FROM = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [%s]
---
""" + WEB


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
        for p, r in rules_of(k, w, "Ingress"):
            if any(selects_everywhere(peer) for peer in r.peers):
                yield Violation(
                    f"{w.resource} accepts {ports_text(r)} from every pod in every namespace "
                    f"({p.resource})", policy_at(p, r.line), f"{w.resource}:{p.resource}:{r.line}")


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
        for p, r in rules_of(k, w, "Ingress"):
            if not r.peers or any(admits_any_address(peer) for peer in r.peers):
                why = "no `from` peers" if not r.peers else "an ipBlock of all addresses"
                yield Violation(
                    f"{w.resource} accepts {ports_text(r)} from any address ({p.resource}: "
                    f"{why})", policy_at(p, r.line), f"{w.resource}:{p.resource}:{r.line}")


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
""" + WEB


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
        for p, r in rules_of(k, w, "Egress"):
            if r.ports:
                continue
            if not r.peers or any(admits_any_address(peer) for peer in r.peers):
                yield Violation(f"{w.resource} may connect to any address on all ports "
                                f"({p.resource})", policy_at(p, r.line),
                                f"{w.resource}:{p.resource}:{r.line}")


def _sensitive(w: Workload) -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for port in w.ports:
        name = SERVICE_PORTS.get(port.number)
        if name is not None:
            found[port.protocol].append((port.number, name))
    return found


def _open_from_everywhere(k: K, w: Workload, protocol: str, port: int) -> str | None:
    """Why `port` of `w` admits every namespace or every address, or None."""
    if not k.selecting(w, "Ingress"):
        return "no NetworkPolicy isolates it"
    for p, r in rules_of(k, w, "Ingress"):
        ports: PortMap = k.analysis.rule_ports(r, w.ports)
        if not intersect(ports.get(protocol, ()), ((port, port),)):
            continue
        if not r.peers or any(admits_any_address(peer) or selects_everywhere(peer)
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
                                    + "; ".join(reasons), workload_at(w),
                                    f"{w.resource}:{protocol}/{number}")



RULES = (default_deny_ingress, default_deny_egress, every_namespace, any_address,
         egress_anywhere, sensitive_port)

__all__ = ["RULES"]
