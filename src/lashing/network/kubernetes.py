"""Build the NetworkModel from Kubernetes objects: namespaces, workloads
(one per pod template), NetworkPolicies, Services, Ingresses and Routes.

Bad objects become Issues (stage "network", with file and line) and are
left out; everything else is analysed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lashing.manifests.kubernetes import K8sObject, dig
from lashing.manifests.yaml import YMap, YSeq
from lashing.model import Endpoint, EndpointKind, Issue, Location
from lashing.network.model import (
    ContainerPort,
    HostPort,
    Ingress,
    IngressBackend,
    NetworkModel,
    Service,
    ServicePort,
    Workload,
)
from lashing.network.policies import (
    PolicyError,
    parse_policy,
    parse_port_number,
    parse_protocol,
    valid_port_name,
)

__all__ = ["NOT_EVALUATED", "build_model"]

NAME_LABEL = "kubernetes.io/metadata.name"
# kinds that make pods (PodTemplate does not run anything by itself)
POD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
             "ReplicationController", "Job", "CronJob", "DeploymentConfig")
# api group -> what it is, for policy kinds that are recognised but not evaluated
NOT_EVALUATED = {
    "policy.networking.k8s.io": "admin network policy",
    "projectcalico.org": "Calico policy",
    "crd.projectcalico.org": "Calico policy",
    "cilium.io": "Cilium policy",
    "k8s.cni.cncf.io": "multi-network policy",
}
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")


class _Builder:
    def __init__(self) -> None:
        self.model = NetworkModel()
        self.seen: dict[tuple[str, str, str], K8sObject] = {}
        self.ip_block_noted = False

    def issue(self, obj: K8sObject, message: str, line: int | None = None) -> None:
        self.model.issues.append(Issue("network", "kubernetes",
                                       Location(obj.path, line or obj.line, resource=obj.resource),
                                       message))

    def first(self, obj: K8sObject, key: tuple[str, str, str]) -> bool:
        """False (and an issue) when an object of this kind, namespace and name came before."""
        earlier = self.seen.get(key)
        if earlier is not None:
            self.issue(obj, f"duplicate {key[0]} {key[1]}/{key[2]} (first declared at "
                            f"{earlier.path}:{earlier.line}); this one is ignored")
            return False
        self.seen[key] = obj
        return True

    def add(self, obj: K8sObject) -> None:
        group = obj.api_version.split("/")[0] if "/" in obj.api_version else ""
        for suffix, what in NOT_EVALUATED.items():
            if group == suffix or group.endswith("." + suffix):
                if "Policy" in obj.kind or "policy" in obj.kind:
                    self.issue(obj, f"{obj.kind} ({what}, {obj.api_version}) is not evaluated; "
                                    "reachability ignores it")
                return
        if obj.kind == "Namespace" and obj.api_version == "v1":
            self.namespace(obj)
        elif obj.kind == "NetworkPolicy" and group in ("networking.k8s.io", "extensions"):
            self.policy(obj)
        elif "NetworkPolicy" in obj.kind:
            self.issue(obj, f"{obj.kind} ({obj.api_version}) is not evaluated; reachability "
                            "ignores it")
        elif obj.kind == "Service" and obj.api_version == "v1":
            self.service(obj)
        elif obj.kind == "Ingress" and group in ("networking.k8s.io", "extensions"):
            self.ingress(obj)
        elif obj.kind == "Route" and group == "route.openshift.io":
            self.route(obj)
        elif obj.kind in POD_KINDS and obj.pod_spec is not None:
            self.workload(obj)

    # -- namespaces -----------------------------------------------------------------------

    def namespace(self, obj: K8sObject) -> None:
        if not self.first(obj, ("Namespace", "", obj.name)):
            return
        labels = _labels(dig(obj.data, "metadata", "labels"))
        if labels is None:
            self.issue(obj, "metadata.labels must map names to strings; labels ignored")
            labels = {}
        labels[NAME_LABEL] = obj.name
        self.model.namespaces[obj.name] = labels

    # -- workloads ------------------------------------------------------------------------

    def workload(self, obj: K8sObject) -> None:
        ns = obj.namespace or "default"
        kind, name = obj.kind, obj.name
        owner = _owner(obj) if obj.kind == "Pod" else None
        if owner is not None:
            kind, name = owner
        elif not self.first(obj, (obj.kind, ns, obj.name)):
            return
        meta = obj.pod_metadata
        labels = _labels(meta.get("labels") if meta is not None else None)
        if labels is None:
            self.issue(obj, "pod labels must map names to strings; workload left out")
            return
        spec = obj.pod_spec or YMap()
        ports: list[ContainerPort] = []
        host_ports: list[HostPort] = []
        for container in obj.containers(("container",)):
            items = container.get("ports")
            if items is None:
                continue
            if not isinstance(items, list):
                self.issue(obj, f"container {container.name}: ports must be a list",
                           container.line)
                continue
            for i, item in enumerate(items):
                line = items.line_at(i) if isinstance(items, YSeq) else container.line
                try:
                    port, host = _container_port(item)
                except PolicyError as exc:
                    self.issue(obj, f"container {container.name}: ports[{i}]: {exc}; port "
                                    "ignored", line)
                    continue
                ports.append(port)
                if host is not None:
                    host_ports.append(host)
        endpoint = Endpoint(EndpointKind.WORKLOAD, ns, name, kind)
        self.model.workloads.append(Workload(
            endpoint, labels, tuple(sorted(set(ports), key=_port_key)),
            spec.get("hostNetwork") is True, tuple(sorted(set(host_ports), key=_host_key)),
            obj.path, obj.line))

    # -- policies -------------------------------------------------------------------------

    def policy(self, obj: K8sObject) -> None:
        ns = obj.namespace or "default"
        if not self.first(obj, ("NetworkPolicy", ns, obj.name)):
            return
        try:
            policy = parse_policy(obj)
        except PolicyError as exc:
            self.issue(obj, f"invalid NetworkPolicy: {exc}; the policy is ignored (Kubernetes "
                            "would reject it)")
            return
        self.model.policies.append(policy)
        if not self.ip_block_noted and any(
                peer.ip_block is not None for rule in (*policy.ingress, *policy.egress)
                for peer in rule.peers):
            self.ip_block_noted = True
            self.issue(obj, "pod IPs are not known from manifests: ipBlock peers are matched "
                            "against addresses outside the cluster only")

    # -- services and ingresses -----------------------------------------------------------

    def service(self, obj: K8sObject) -> None:
        ns = obj.namespace or "default"
        if not self.first(obj, ("Service", ns, obj.name)):
            return
        spec = obj.data.get("spec")
        spec = spec if isinstance(spec, Mapping) else {}
        kind = spec.get("type") or "ClusterIP"
        if kind not in SERVICE_TYPES:
            self.issue(obj, f"unknown Service type {kind!r}; the service is ignored")
            return
        raw = spec.get("selector")
        selector = _labels(raw) if raw is not None else None
        if raw is not None and selector is None:
            self.issue(obj, "spec.selector must map names to strings; the service is ignored")
            return
        ports: list[ServicePort] = []
        items = spec.get("ports") or []
        for i, item in enumerate(items if isinstance(items, list) else []):
            try:
                ports.append(_service_port(item, f"spec.ports[{i}]"))
            except PolicyError as exc:
                line = items.line_at(i) if isinstance(items, YSeq) else None
                self.issue(obj, f"{exc}; port ignored", line)
        external = spec.get("externalName")
        self.model.services.append(Service(
            ns, obj.name, str(kind), selector or None, tuple(ports),
            str(external) if external else None, _strings(spec.get("externalIPs")),
            _strings(spec.get("loadBalancerSourceRanges")), obj.path, obj.line))

    def ingress(self, obj: K8sObject) -> None:
        ns = obj.namespace or "default"
        if not self.first(obj, ("Ingress", ns, obj.name)):
            return
        spec = obj.data.get("spec")
        spec = spec if isinstance(spec, Mapping) else {}
        backends: list[IngressBackend] = []
        default = spec.get("defaultBackend") or spec.get("backend")
        if isinstance(default, Mapping):
            backends.extend(_ingress_backend(default, None, None))
        rules = spec.get("rules") or []
        for rule in rules if isinstance(rules, list) else []:
            if not isinstance(rule, Mapping):
                continue
            host = rule.get("host")
            paths = dig(rule, "http", "paths") or []
            for item in paths if isinstance(paths, list) else []:
                if isinstance(item, Mapping) and isinstance(item.get("backend"), Mapping):
                    backends.extend(_ingress_backend(item["backend"], host, item.get("path")))
        self.model.ingresses.append(Ingress(ns, obj.name, tuple(backends), "Ingress",
                                            obj.path, obj.line))

    def route(self, obj: K8sObject) -> None:
        ns = obj.namespace or "default"
        if not self.first(obj, ("Route", ns, obj.name)):
            return
        spec = obj.data.get("spec")
        spec = spec if isinstance(spec, Mapping) else {}
        port = dig(spec, "port", "targetPort")
        targets = [spec.get("to")]
        alternates = spec.get("alternateBackends")
        if isinstance(alternates, list):
            targets.extend(alternates)
        backends = tuple(
            IngressBackend(str(t["name"]), port if isinstance(port, (int, str)) else None,
                           spec.get("host"), spec.get("path"))
            for t in targets if isinstance(t, Mapping) and t.get("name")
            and t.get("kind", "Service") == "Service")
        self.model.ingresses.append(Ingress(ns, obj.name, backends, "Route", obj.path, obj.line))

    def finish(self) -> NetworkModel:
        model = self.model
        used = ({w.namespace for w in model.workloads} | {p.namespace for p in model.policies}
                | {s.namespace for s in model.services} | {i.namespace for i in model.ingresses})
        for ns in sorted(used - set(model.namespaces)):
            model.namespaces[ns] = {NAME_LABEL: ns}
        return model


def _labels(data: Any) -> dict[str, str] | None:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        return None
    out: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(key, str) or isinstance(value, (Mapping, list)):
            return None
        out[key] = "" if value is None else (str(value).lower() if isinstance(value, bool)
                                             else str(value))
    return out


def _owner(obj: K8sObject) -> tuple[str, str] | None:
    owners = dig(obj.data, "metadata", "ownerReferences")
    if not isinstance(owners, list):
        return None
    # a mirror pod owned by its Node keeps its own name
    valid = [o for o in owners if isinstance(o, Mapping) and o.get("name")
             and o.get("kind", "Pod") in POD_KINDS]
    if not valid:
        return None
    chosen = next((o for o in valid if o.get("controller") is True), valid[0])
    return str(chosen.get("kind") or obj.kind), str(chosen["name"])


def _container_port(item: Any) -> tuple[ContainerPort, HostPort | None]:
    if not isinstance(item, Mapping):
        raise PolicyError("must be a mapping")
    number = parse_port_number(item.get("containerPort"), "containerPort")
    protocol = parse_protocol(item.get("protocol"), "protocol")
    name = item.get("name")
    if name is not None and not (isinstance(name, str) and valid_port_name(name)):
        raise PolicyError(f"invalid port name {name!r}")
    host = None
    if item.get("hostPort") is not None:
        host_ip = item.get("hostIP")
        host = HostPort(parse_port_number(item["hostPort"], "hostPort"), protocol,
                        str(host_ip) if host_ip else None)
    return ContainerPort(name, number, protocol), host


def _service_port(item: Any, where: str) -> ServicePort:
    if not isinstance(item, Mapping):
        raise PolicyError(f"{where} must be a mapping")
    port = parse_port_number(item.get("port"), f"{where}.port")
    protocol = parse_protocol(item.get("protocol"), f"{where}.protocol")
    target = item.get("targetPort", port)
    if isinstance(target, str):
        if target.isdigit():
            target = int(target)
        elif not valid_port_name(target):
            raise PolicyError(f"{where}.targetPort: invalid port name {target!r}")
    if isinstance(target, int):
        target = parse_port_number(target, f"{where}.targetPort")
    node_port = item.get("nodePort")
    name = item.get("name")
    return ServicePort(str(name) if name else None, port, target, protocol,
                       parse_port_number(node_port, f"{where}.nodePort")
                       if node_port is not None else None)


def _ingress_backend(data: Mapping[str, Any], host: Any, path: Any) -> list[IngressBackend]:
    service = data.get("service")
    if isinstance(service, Mapping) and service.get("name"):  # networking.k8s.io/v1
        port = service.get("port")
        number = port.get("number") if isinstance(port, Mapping) else None
        name = port.get("name") if isinstance(port, Mapping) else None
        value = number if isinstance(number, int) else (name if isinstance(name, str) else None)
        return [IngressBackend(str(service["name"]), value, _text(host), _text(path))]
    if data.get("serviceName"):  # extensions/v1beta1
        port = data.get("servicePort")
        value = port if isinstance(port, (int, str)) else None
        return [IngressBackend(str(data["serviceName"]), value, _text(host), _text(path))]
    return []


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _port_key(p: ContainerPort) -> tuple[int, str, str]:
    return (p.number, p.protocol, p.name or "")


def _host_key(p: HostPort) -> tuple[int, str, str]:
    return (p.port, p.protocol, p.host_ip or "")


def build_model(objects: Sequence[K8sObject]) -> NetworkModel:
    """The network model of these objects; problems become `issues`."""
    builder = _Builder()
    for obj in objects:
        builder.add(obj)
    return builder.finish()

