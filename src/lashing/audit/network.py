"""The network surface of the audited manifests, from lashing.network:
connections (who can reach whom), the network model's issues, and the
network rules for Kubernetes manifests and compose projects."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from lashing.manifests.compose import ComposeProject
from lashing.manifests.kubernetes import K8sObject
from lashing.model import Report
from lashing.network import build_model, connections
from lashing.network.compose import build_compose_model, compose_connections
from lashing.rules.network import scan_compose_network, scan_kubernetes_network


def kubernetes_network(objects: Sequence[K8sObject], skip: Collection[str] = frozenset(),
                       target: str = "kubernetes manifests") -> Report:
    """All manifests form one cluster: policies in one file select pods of another."""
    model = build_model(objects)
    findings, checks = scan_kubernetes_network(model, target, skip)
    return Report(findings=tuple(findings), checks=tuple(checks),
                  connections=tuple(connections(model)), issues=tuple(model.issues))


def compose_network(project: ComposeProject, skip: Collection[str] = frozenset()) -> Report:
    model = build_compose_model(project)
    findings, checks = scan_compose_network(project, skip)
    return Report(findings=tuple(findings), checks=tuple(checks),
                  connections=tuple(compose_connections(model)), issues=model.issues)


__all__ = ["compose_network", "kubernetes_network"]
