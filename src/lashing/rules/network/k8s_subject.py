"""The subject of the Kubernetes network rules: a network model with its
analysis and exposures computed once, the helpers the rules share, and the
small manifests their examples are built from."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from lashing.manifests.kubernetes import load_kubernetes
from lashing.model import Location
from lashing.network import Exposure, NetworkModel, Peer, Policy, PolicyRule, Workload
from lashing.network import build_model as build_network_model
from lashing.network import exposure as network_exposure
from lashing.network.reach import Analysis
from lashing.rules.framework import Example, NotApplicable

NETPOL = "https://kubernetes.io/docs/concepts/services-networking/network-policies/"
SERVICES = "https://kubernetes.io/docs/concepts/services-networking/service/"
SEPARATION = ("4.3.3",)
EGRESS = ("4.4.2",)
ANY_V4 = ipaddress.ip_network("0.0.0.0/0")
ANY_V6 = ipaddress.ip_network("::/0")


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


def workload_at(w: Workload) -> Location:
    return Location(path=w.path, line=w.line or None, resource=w.resource)


def policy_at(p: Policy, line: int = 0) -> Location:
    return Location(path=p.path, line=line or p.line or None, resource=p.resource)


def names(workloads: Sequence[Workload], limit: int = 5) -> str:
    names = sorted(w.resource for w in workloads)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more



def rules_of(k: K, w: Workload, direction: str) -> Iterator[tuple[Policy, PolicyRule]]:
    for p in k.selecting(w, direction):
        for r in p.rules(direction):
            yield p, r


def admits_any_address(peer: Peer) -> bool:
    block = peer.ip_block
    return (block is not None and block.cidr in (ANY_V4, ANY_V6) and not block.excepts)


def ports_text(r: PolicyRule) -> str:
    return ", ".join(str(p) for p in r.ports) if r.ports else "all ports"



# The manifests the rules' examples are made of.
WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
"""
CLIENT = """---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: shop}
spec:
  template:
    metadata: {labels: {app: client}}
    spec:
      containers: [{name: c, image: busybox}]
"""

__all__ = ["ANY_V4", "ANY_V6", "CLIENT", "EGRESS", "NETPOL", "SEPARATION", "SERVICES", "WEB", "K",
           "KubernetesNetworkSubject", "admits_any_address", "load_example", "names", "policy_at",
           "ports_text", "rules_of", "subject_of", "workload_at"]
