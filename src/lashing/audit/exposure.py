"""Which workloads are reachable from outside, and which images they run, for
the vulnerable x exposed join of `lashing audit`.

Exposure comes from lashing.network: for Kubernetes, NodePort and
LoadBalancer Services, Ingress and Route backends, hostNetwork and hostPort
(an exposure whose network policies block every outside address does not
count); for compose, ports Docker publishes on all interfaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lashing.manifests.compose import ComposeProject
from lashing.manifests.kubernetes import K8sObject
from lashing.network import build_model, exposure
from lashing.network.compose import build_compose_model

BLOCKED = "(network policy: blocked)"


@dataclass(frozen=True)
class Workload:
    """A workload as the join needs it: where it is declared, the images its
    containers run (as written) and how it is exposed (empty: not exposed)."""

    resource: str  # Deployment/ns/name, or service/project/name for compose
    path: str
    line: int
    images: tuple[str, ...]
    exposures: tuple[str, ...]


def _images(obj: K8sObject) -> tuple[str, ...]:
    found = (c.get("image") for c in obj.containers())
    return tuple(dict.fromkeys(i for i in found if isinstance(i, str) and i))


def kubernetes_workloads(objects: Iterable[K8sObject]) -> list[Workload]:
    objs = list(objects)
    images = {(o.kind, o.namespace or "default", o.name): _images(o)
              for o in objs if o.is_workload}
    model = build_model(objs)
    exposed: dict[str, list[str]] = {}
    for e in exposure(model):
        if e.workload is None or BLOCKED in e.detail:
            continue
        key = f"{e.workload.workload_kind}/{e.workload.namespace or 'default'}/{e.workload.name}"
        exposed.setdefault(key, []).append(f"{e.kind} {e.resource}: {e.detail}")
    out = []
    for w in model.workloads:
        ep = w.endpoint
        out.append(Workload(w.resource, w.path, w.line,
                            images.get((ep.workload_kind or "", w.namespace, ep.name or ""), ()),
                            tuple(dict.fromkeys(exposed.get(w.resource, ())))))
    return out


def compose_workloads(project: ComposeProject) -> list[Workload]:
    model = build_compose_model(project)
    out = []
    for s in model.services:
        exposures = tuple(f"port {m.describe()} published on all interfaces"
                          for m in s.published if m.all_interfaces) if model.publishes(s) else ()
        out.append(Workload(s.resource, s.path, s.line, (s.image,) if s.image else (),
                            exposures))
    return out


__all__ = ["Workload", "compose_workloads", "kubernetes_workloads"]
