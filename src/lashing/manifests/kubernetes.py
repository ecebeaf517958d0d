"""Kubernetes manifests: objects with kind, namespace, name and line, and the
pod spec and containers of every workload kind."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lashing.manifests.yaml import YamlError, YamlLimits, YamlProblem, YMap, YSeq, load_all

__all__ = ["WORKLOAD_KINDS", "Container", "K8sObject", "LoadedKubernetes", "load_kubernetes",
           "looks_like_kubernetes"]

# kind -> path from the object to its pod spec
WORKLOAD_KINDS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "PodTemplate": ("template", "spec"),
    "DeploymentConfig": ("spec", "template", "spec"),
}
CONTAINER_KEYS = (("containers", "container"), ("initContainers", "initContainer"),
                  ("ephemeralContainers", "ephemeralContainer"))


@dataclass(frozen=True)
class Container:
    name: str
    role: str  # container, initContainer, ephemeralContainer
    data: YMap
    line: int

    def get(self, *keys: str) -> Any:
        return dig(self.data, *keys)


@dataclass(frozen=True)
class K8sObject:
    kind: str
    api_version: str
    namespace: str | None  # as written; None when the manifest sets none
    name: str
    line: int
    data: YMap
    path: str

    @property
    def resource(self) -> str:
        """Kind/namespace/name ("default" when the manifest names no namespace)."""
        return f"{self.kind}/{self.namespace or 'default'}/{self.name}"

    @property
    def is_workload(self) -> bool:
        return self.pod_spec is not None

    @property
    def pod_spec(self) -> YMap | None:
        route = WORKLOAD_KINDS.get(self.kind)
        if route is None:
            return None
        spec = dig(self.data, *route)
        return spec if isinstance(spec, YMap) else None

    @property
    def pod_metadata(self) -> YMap | None:
        route = WORKLOAD_KINDS.get(self.kind)
        if route is None:
            return None
        meta = (self.data.get("metadata") if self.kind == "Pod"
                else dig(self.data, *route[:-1], "metadata"))
        return meta if isinstance(meta, YMap) else None

    def containers(self, roles: tuple[str, ...] = ("container", "initContainer",
                                                    "ephemeralContainer")) -> list[Container]:
        spec = self.pod_spec
        found: list[Container] = []
        if spec is None:
            return found
        for key, role in CONTAINER_KEYS:
            items = spec.get(key)
            if role not in roles or not isinstance(items, YSeq):
                continue
            for i, item in enumerate(items):
                if isinstance(item, YMap):
                    found.append(Container(str(item.get("name") or f"#{i}"), role, item,
                                           items.line_at(i)))
        return found


class LoadedKubernetes(list[K8sObject]):
    """The objects of one input (a list), with what went wrong reading it:
    `problems` (duplicate keys...), `error` (the syntax error or limit that
    stopped reading; the objects before it are kept) and how many documents
    were not Kubernetes objects."""

    def __init__(self, objects: list[K8sObject], problems: list[YamlProblem],
                 error: YamlError | None = None, other_documents: int = 0) -> None:
        super().__init__(objects)
        self.problems = problems
        self.error = error
        self.other_documents = other_documents

    @property
    def objects(self) -> list[K8sObject]:
        return list(self)


def dig(value: Any, *keys: str | int) -> Any:
    for key in keys:
        if isinstance(value, dict) and isinstance(key, str):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
            value = value[key]
        else:
            return None
    return value


def is_object(doc: Any) -> bool:
    return (isinstance(doc, YMap) and isinstance(doc.get("kind"), str)
            and isinstance(doc.get("apiVersion"), str))


def looks_like_kubernetes(docs: list[Any]) -> bool:
    return any(is_object(d) for d in docs)


def objects_of(docs: list[Any], name: str) -> tuple[list[K8sObject], int]:
    objects: list[K8sObject] = []
    others = 0
    for doc in docs:
        for obj in _flatten(doc):
            if not is_object(obj):
                others += 1
                continue
            meta = obj.get("metadata")
            meta = meta if isinstance(meta, YMap) else YMap()
            ns = meta.get("namespace")
            objects.append(K8sObject(
                kind=str(obj["kind"]), api_version=str(obj["apiVersion"]),
                namespace=str(ns) if ns not in (None, "") else None,
                name=str(meta.get("name") or meta.get("generateName") or "<unnamed>"),
                line=obj.line, data=obj, path=name))
    return objects, others


def _flatten(doc: Any) -> Iterator[Any]:
    """A `kind: List` (or any *List with items) yields its items."""
    if (isinstance(doc, YMap) and isinstance(doc.get("kind"), str)
            and str(doc["kind"]).endswith("List") and isinstance(doc.get("items"), list)):
        for item in doc["items"]:
            if str(doc["kind"]) != "List" and isinstance(item, YMap) and "kind" not in item:
                # a typed list (PodList...) from the API omits its items' kind and apiVersion
                item["kind"] = str(doc["kind"])[:-4]
                item.setdefault("apiVersion", doc.get("apiVersion"))
            yield from _flatten(item)
    else:
        yield doc


def load_kubernetes(source: str | bytes | Path, name: str | None = None,
                    limits: YamlLimits | None = None) -> LoadedKubernetes:
    """Kubernetes objects in a YAML (or JSON) file or text.

    `source` is a Path (read here) or the text itself with `name` naming it.
    Raises YamlError when the input is over the size limit or cannot be read;
    syntax errors come back in `error`, with the objects read before it."""
    if isinstance(source, Path):
        name = name or str(source)
        limits = limits or YamlLimits()
        try:
            size = source.stat().st_size
            if size > limits.max_bytes:
                raise YamlError(name, None, f"{size} bytes is over the {limits.max_bytes}-byte "
                                "limit for a YAML document")
            source = source.read_bytes()
        except OSError as exc:
            raise YamlError(name, None, f"cannot read ({exc.strerror})") from None
    name = name or "<manifest>"
    docs, problems, error = load_all(source, name, limits)
    objects, others = objects_of(docs, name)
    return LoadedKubernetes(objects, problems, error, others)
