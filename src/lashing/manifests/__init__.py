"""Kubernetes and compose manifests: a guarded YAML reader with line numbers,
Kubernetes objects with their pod specs, and compose projects (override
merge, `extends`, interpolation). Shared by the workload rules and the
network engine; `lashing.manifests.scan` runs the rules."""

from __future__ import annotations

from lashing.manifests.compose import ComposeProject, Service, load_compose, load_compose_text
from lashing.manifests.kubernetes import Container, K8sObject, LoadedKubernetes, load_kubernetes
from lashing.manifests.yaml import YamlError, YamlLimits, YamlProblem, YMap, YSeq, load_all

__all__ = ["ComposeProject", "Container", "K8sObject", "LoadedKubernetes", "Service",
           "YMap", "YSeq", "YamlError", "YamlLimits", "YamlProblem", "load_all",
           "load_compose", "load_compose_text", "load_kubernetes"]
