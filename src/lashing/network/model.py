"""The network model: workloads, policies, services and ingresses read from
Kubernetes objects, with the problems found reading them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lashing.errors import InputError
from lashing.model import Endpoint, Issue
from lashing.network.cidr import IPBlock
from lashing.network.ports import ALL_PORTS, Range
from lashing.network.selectors import Selector

__all__ = ["ContainerPort", "Exposure", "HostPort", "Ingress", "IngressBackend",
           "NetworkInputError", "NetworkModel", "Peer", "Policy", "PolicyPort", "PolicyRule",
           "Service", "ServicePort", "Workload"]


class NetworkInputError(InputError):
    """Nothing could be analysed, or a query named something the model lacks (exit 2)."""


@dataclass(frozen=True)
class ContainerPort:
    name: str | None
    number: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class HostPort:
    port: int
    protocol: str = "TCP"
    host_ip: str | None = None


@dataclass(frozen=True)
class Workload:
    """One node of the graph: a workload and the pods its template makes."""

    endpoint: Endpoint
    labels: Mapping[str, str] = field(hash=False)
    ports: tuple[ContainerPort, ...] = ()
    host_network: bool = False
    host_ports: tuple[HostPort, ...] = ()
    path: str = ""
    line: int = 0

    @property
    def namespace(self) -> str:
        return self.endpoint.namespace or "default"

    @property
    def resource(self) -> str:
        return f"{self.endpoint.workload_kind}/{self.namespace}/{self.endpoint.name}"


@dataclass(frozen=True)
class PolicyPort:
    """One `ports` entry: a number, a range (port..end_port), a container
    port name or, with `port` None, every port of the protocol."""

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None

    def resolve(self, ports: tuple[ContainerPort, ...]) -> tuple[Range, ...]:
        """The port ranges this entry allows on a pod with these container ports."""
        if self.port is None:
            return ALL_PORTS
        if isinstance(self.port, str):
            return tuple(sorted({(p.number, p.number) for p in ports
                                 if p.name == self.port and p.protocol == self.protocol}))
        return ((self.port, self.end_port or self.port),)

    def __str__(self) -> str:
        if self.port is None:
            return f"{self.protocol} all ports"
        if self.end_port is not None:
            return f"{self.protocol} {self.port}-{self.end_port}"
        return f"{self.protocol} {self.port}"


@dataclass(frozen=True)
class Peer:
    """A from/to entry. With no ip_block: pods chosen by pod_selector (None:
    all pods) in the namespaces chosen by namespace_selector (None: the
    policy's own namespace)."""

    pod_selector: Selector | None = None
    namespace_selector: Selector | None = None
    ip_block: IPBlock | None = None

    def __str__(self) -> str:
        if self.ip_block is not None:
            return str(self.ip_block)
        ns = ("the policy's namespace" if self.namespace_selector is None
              else f"namespaces [{self.namespace_selector}]")
        pods = "all pods" if self.pod_selector is None else f"pods [{self.pod_selector}]"
        return f"{pods} in {ns}"


@dataclass(frozen=True)
class PolicyRule:
    """An ingress or egress rule; no peers means every peer, no ports every port."""

    peers: tuple[Peer, ...] = ()
    ports: tuple[PolicyPort, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Policy:
    namespace: str
    name: str
    pod_selector: Selector
    policy_types: tuple[str, ...]  # "Ingress", "Egress"
    ingress: tuple[PolicyRule, ...] = ()
    egress: tuple[PolicyRule, ...] = ()
    path: str = ""
    line: int = 0

    @property
    def resource(self) -> str:
        return f"NetworkPolicy/{self.namespace}/{self.name}"

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def rules(self, direction: str) -> tuple[PolicyRule, ...]:
        return self.ingress if direction == "Ingress" else self.egress


@dataclass(frozen=True)
class ServicePort:
    name: str | None
    port: int
    target_port: int | str
    protocol: str = "TCP"
    node_port: int | None = None


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    type: str  # ClusterIP, NodePort, LoadBalancer, ExternalName
    selector: Mapping[str, str] | None = field(default=None, hash=False)
    ports: tuple[ServicePort, ...] = ()
    external_name: str | None = None
    external_ips: tuple[str, ...] = ()  # spec.externalIPs: reachable on these node addresses
    source_ranges: tuple[str, ...] = ()  # spec.loadBalancerSourceRanges
    path: str = ""
    line: int = 0

    @property
    def resource(self) -> str:
        return f"Service/{self.namespace}/{self.name}"


@dataclass(frozen=True)
class IngressBackend:
    service: str
    port: int | str | None  # service port number or name; None: the route's only/any port
    host: str | None = None
    http_path: str | None = None


@dataclass(frozen=True)
class Ingress:
    """An Ingress (or OpenShift Route): traffic from the ingress controller to services."""

    namespace: str
    name: str
    backends: tuple[IngressBackend, ...]
    kind: str = "Ingress"
    path: str = ""
    line: int = 0

    @property
    def resource(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Exposure:
    """Something reachable from outside the cluster."""

    kind: str  # NodePort, LoadBalancer, externalIPs, ExternalName, Ingress, Route, hostNetwork,
    # hostPort
    resource: str  # the object that exposes (Service/ns/name, Ingress/ns/name, workload)
    workload: Endpoint | None  # the workload reached, None for ExternalName
    protocol: str
    ports: tuple[Range, ...]  # ports reached on the workload
    path: str
    line: int
    detail: str


@dataclass
class NetworkModel:
    namespaces: dict[str, Mapping[str, str]] = field(default_factory=dict)
    workloads: list[Workload] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    ingresses: list[Ingress] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    def namespace_labels(self, name: str) -> Mapping[str, str]:
        return self.namespaces.get(name) or {"kubernetes.io/metadata.name": name}
