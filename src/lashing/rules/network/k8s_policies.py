"""Kubernetes network rules about the policies themselves (LSH-NET-007..009):
the likely mistakes — policies that select nothing, peers whose labels match
nothing, rules another rule already covers."""

from __future__ import annotations

from collections.abc import Iterator

from lashing.model import Severity, Surface
from lashing.network import Policy, PolicyRule, Workload
from lashing.network.ports import PortMap, intersect, merge
from lashing.network.reach import selects_everywhere
from lashing.rules.framework import Example, Violation, rule
from lashing.rules.network.k8s_subject import (
    CLIENT,
    NETPOL,
    SEPARATION,
    WEB,
    K,
    policy_at,
    rules_of,
)

_SELECTS_NOTHING = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: %s}}
  ingress: []
---
""" + WEB


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
                            f"(podSelector {p.pod_selector})", policy_at(p), p.resource)


_PEER_TYPO = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: %s}}}]
---
""" + WEB + CLIENT


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
                            policy_at(p, r.line), f"{p.resource}:{direction}:{r.line}:{i}")


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
""" + WEB + CLIENT


def _covers(big: PortMap, small: PortMap) -> bool:
    return all(intersect(big.get(proto, ()), ranges) == merge(ranges)
               for proto, ranges in small.items())


def _shadowing(k: K, w: Workload, direction: str, p: Policy, r: PolicyRule,
               ) -> tuple[Policy, PolicyRule] | None:
    """Another rule applying to `w` that allows at least everything `r` allows."""
    a = k.analysis
    mine = a.target(r, p)
    for q, other in rules_of(k, w, direction):
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
                        policy_at(p, r.line), f"{p.resource}:{direction}:{r.line}")




RULES = (selects_nothing, peer_matches_nothing, shadowed_rule)

__all__ = ["RULES"]
