"""Kubernetes workload rules (LSH-K8S-NNN) and their entry point, `scan_kubernetes`."""

from __future__ import annotations

from lashing.manifests.kubernetes import K8sObject, load_kubernetes
from lashing.model import Check, Finding
from lashing.rules.dockerfile.subject import Configured
from lashing.rules.framework import Example, Family, Rule, RuleConfig, evaluate
from lashing.rules.kubernetes import isolation, security, workload
from lashing.rules.kubernetes.subject import K8sSubject

__all__ = ["FAMILY", "RULES", "K8sSubject", "scan_kubernetes"]

RULES: tuple[Rule[K8sSubject], ...] = tuple(
    sorted((*security.RULES, *isolation.RULES, *workload.RULES), key=lambda r: r.id))
MODULES = (security.__name__, isolation.__name__, workload.__name__)


def load_example(example: Example) -> K8sSubject:
    if isinstance(example.data, Configured):
        subject = load_example(Example(example.data.text, example.fires))
        return K8sSubject(subject.path, subject.objects, example.data.config)
    if not isinstance(example.data, str):
        raise TypeError(f"a Kubernetes example is YAML text, not {type(example.data).__name__}")
    loaded = load_kubernetes(example.data, "example.yaml")
    if loaded.error is not None:
        raise loaded.error
    return K8sSubject("example.yaml", tuple(loaded.objects))


FAMILY = Family(name="kubernetes", prefix="LSH-K8S", rules=RULES, load_example=load_example,
                modules=MODULES)


def scan_kubernetes(path: str, objects: list[K8sObject], config: RuleConfig | None = None,
                    skip: set[str] | frozenset[str] = frozenset(),
                    ) -> tuple[list[Finding], list[Check]]:
    """Run every Kubernetes rule over the objects of one file (or stream) named `path`."""
    subject = K8sSubject(path, tuple(objects), config or RuleConfig())
    return evaluate(RULES, subject, path, path, skip)
