"""Network rules (LSH-NET-NNN) over the reachability models: Kubernetes
(LSH-NET-0NN, `scan_kubernetes_network`) and compose (LSH-NET-1NN,
`scan_compose_network`)."""

from __future__ import annotations

from collections.abc import Collection

from lashing.manifests.compose import ComposeProject, load_compose_text
from lashing.model import Check, Finding
from lashing.network import NetworkModel
from lashing.rules.framework import Example, Family, Rule, evaluate
from lashing.rules.network import compose, k8s_policies, k8s_subject, kubernetes
from lashing.rules.network.compose import ComposeNetworkSubject
from lashing.rules.network.k8s_subject import KubernetesNetworkSubject

__all__ = ["COMPOSE_FAMILY", "COMPOSE_RULES", "FAMILIES", "KUBERNETES_FAMILY",
           "KUBERNETES_RULES", "ComposeNetworkSubject", "KubernetesNetworkSubject",
           "scan_compose_network", "scan_kubernetes_network"]

COMPOSE_RULES: tuple[Rule[ComposeNetworkSubject], ...] = tuple(
    sorted(compose.RULES, key=lambda r: r.id))
KUBERNETES_RULES: tuple[Rule[KubernetesNetworkSubject], ...] = tuple(
    sorted((*kubernetes.RULES, *k8s_policies.RULES), key=lambda r: r.id))


def load_compose_example(example: Example) -> ComposeNetworkSubject:
    if not isinstance(example.data, str):
        raise TypeError(f"a compose example is YAML text, not {type(example.data).__name__}")
    project = load_compose_text(example.data, "compose.yaml")
    if project.errors:
        raise project.errors[0]
    return compose.subject_of(project)


KUBERNETES_FAMILY = Family(name="network-kubernetes", prefix="LSH-NET", rules=KUBERNETES_RULES,
                           load_example=k8s_subject.load_example,
                           modules=(kubernetes.__name__, k8s_policies.__name__))
COMPOSE_FAMILY = Family(name="network-compose", prefix="LSH-NET", rules=COMPOSE_RULES,
                        load_example=load_compose_example, modules=(compose.__name__,))
FAMILIES = (KUBERNETES_FAMILY, COMPOSE_FAMILY)


def scan_kubernetes_network(model: NetworkModel, target: str,
                            skip: Collection[str] = frozenset(),
                            ) -> tuple[list[Finding], list[Check]]:
    """Run the Kubernetes network rules over one model (every object read, one cluster)."""
    return evaluate(KUBERNETES_RULES, k8s_subject.subject_of(model), target, target, skip)


def scan_compose_network(project: ComposeProject, skip: Collection[str] = frozenset(),
                         ) -> tuple[list[Finding], list[Check]]:
    """Run the compose network rules over one project; the target is its first file."""
    target = project.files[0] if project.files else project.name
    return evaluate(COMPOSE_RULES, compose.subject_of(project), target, target, skip)
