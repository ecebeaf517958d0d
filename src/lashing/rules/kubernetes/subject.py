"""What Kubernetes rules receive: the objects of one manifest file, the rule
config, and helpers for pod specs, containers and locations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lashing.manifests.kubernetes import Container, K8sObject, dig
from lashing.manifests.yaml import YMap
from lashing.model import Location
from lashing.rules.framework import NotApplicable, RuleConfig, Violation

K8S_DOCS = "https://kubernetes.io/docs/"
PSS = K8S_DOCS + "concepts/security/pod-security-standards/"
SECCTX = K8S_DOCS + "tasks/configure-pod-container/security-context/"
CHECKOV = "https://www.checkov.io/5.Policy%20Index/kubernetes.html"


@dataclass(frozen=True)
class Workload:
    obj: K8sObject
    spec: YMap

    @property
    def resource(self) -> str:
        return self.obj.resource

    def containers(self, *roles: str) -> list[Container]:
        return self.obj.containers(roles or ("container", "initContainer",
                                             "ephemeralContainer"))

    def pod_get(self, *keys: str) -> Any:
        return dig(self.spec, *keys)

    def annotations(self) -> dict[str, Any]:
        """Pod template annotations, falling back to the object's own."""
        found: dict[str, Any] = {}
        own = dig(self.obj.data, "metadata", "annotations")
        if isinstance(own, dict):
            found.update(own)
        meta = self.obj.pod_metadata
        pod = meta.get("annotations") if meta is not None else None
        if isinstance(pod, dict):
            found.update(pod)
        return found

    def effective(self, c: Container, key: str) -> Any:
        """A securityContext field: the container's, else the pod's."""
        value = dig(c.data, "securityContext", key)
        return value if value is not None else dig(self.spec, "securityContext", key)


@dataclass(frozen=True)
class K8sSubject:
    path: str
    objects: tuple[K8sObject, ...]
    config: RuleConfig = field(default_factory=RuleConfig)

    def workloads(self) -> Iterator[Workload]:
        found = False
        for obj in self.objects:
            spec = obj.pod_spec
            if spec is not None:
                found = True
                yield Workload(obj, spec)
        if not found:
            raise NotApplicable("no workloads (pods or pod templates)")

    def of_kind(self, *kinds: str) -> Iterator[K8sObject]:
        found = False
        for obj in self.objects:
            if obj.kind in kinds:
                found = True
                yield obj
        if not found:
            raise NotApplicable(f"no {'/'.join(kinds)} objects")

    def violation(self, obj: K8sObject, message: str, line: int | None = None,
                  container: Container | None = None, anchor: str = "") -> Violation:
        where = f"{obj.resource}"
        if container is not None:
            where += f" {container.role} {container.name}"
        line = line or (container.line if container is not None else obj.line)
        key = anchor or (f"{container.role}/{container.name}" if container else "")
        return Violation(f"{where}: {message}",
                         Location(path=self.path, line=line, resource=obj.resource),
                         f"{self.path}:{obj.resource}:{key}")


def line_at(node: Any, *keys: str, default: int = 0) -> int:
    """The line of the last key in `keys` under `node` (or of the deepest mapping found)."""
    line = default
    for key in keys:
        if not isinstance(node, YMap):
            break
        if key not in node:
            return line or node.line
        line = node.line_of(key)
        node = node[key]
    return line


def truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "yes", "on"))


def falsy(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() in ("false", "no", "off"))


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def caps(c: Container, which: str) -> list[str]:
    items = dig(c.data, "securityContext", "capabilities", which)
    if not isinstance(items, list):
        return []
    return [str(x).upper().removeprefix("CAP_") for x in items if x is not None]
