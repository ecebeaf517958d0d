"""Network reachability: who can reach whom, and what is exposed outside the
cluster, from NetworkPolicies, Services, Ingresses and the workloads they select."""

from __future__ import annotations

from lashing.network.explain import Explanation, PolicyVerdict, explain
from lashing.network.exposure import exposure
from lashing.network.kubernetes import build_model
from lashing.network.model import (
    ContainerPort,
    Exposure,
    HostPort,
    Ingress,
    IngressBackend,
    NetworkInputError,
    NetworkModel,
    Peer,
    Policy,
    PolicyPort,
    PolicyRule,
    Service,
    ServicePort,
    Workload,
)
from lashing.network.reach import connections

__all__ = ["ContainerPort", "Explanation", "Exposure", "HostPort", "Ingress", "IngressBackend",
           "NetworkInputError", "NetworkModel", "Peer", "Policy", "PolicyPort", "PolicyRule",
           "PolicyVerdict", "Service", "ServicePort", "Workload", "build_model", "connections",
           "explain", "exposure"]
