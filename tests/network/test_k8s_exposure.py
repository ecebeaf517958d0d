"""exposure(): what outside the cluster reaches, and whether policies let it."""

from __future__ import annotations

from collections.abc import Callable

from lashing.network import NetworkModel, exposure

BuildModel = Callable[[str], NetworkModel]  # the k8s fixture (conftest.py)

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: c, image: x, ports: [{name: http, containerPort: 8080}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ops}
spec:
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      containers:
      - {name: c, image: x, ports: [{containerPort: 9100}, {containerPort: 8125,
                                                            protocol: UDP}]}
---
apiVersion: v1
kind: Pod
metadata: {name: proxy, namespace: ops}
spec:
  containers:
  - {name: c, image: x, ports: [{containerPort: 80, hostPort: 8080, hostIP: 127.0.0.1}]}
"""


def service(kind: str, extra: str = "") -> str:
    return f"""---
apiVersion: v1
kind: Service
metadata: {{name: web-{kind.lower()}, namespace: shop}}
spec:
  type: {kind}
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: http, nodePort: 30080}}]
  {extra}
"""


def summary(k8s: BuildModel, text: str) -> list[tuple[str, str, str, str]]:
    return [(e.kind, e.resource, e.protocol, e.detail) for e in exposure(k8s(text))]


def test_host_network_and_host_ports(k8s: BuildModel) -> None:
    assert summary(k8s, APP) == [
        ("hostNetwork", "DaemonSet/ops/agent", "TCP",
         "shares the node's network namespace; network policies do not isolate it"),
        ("hostNetwork", "DaemonSet/ops/agent", "UDP",
         "shares the node's network namespace; network policies do not isolate it"),
        ("hostPort", "Pod/ops/proxy", "TCP", "node 127.0.0.1:8080/TCP forwards to Pod/ops/proxy"),
    ]


def test_node_port_and_load_balancer_but_not_cluster_ip(k8s: BuildModel) -> None:
    got = summary(k8s, APP + service("NodePort") + service("LoadBalancer")
                  + service("ClusterIP"))
    exposed = [g for g in got if g[0] in ("NodePort", "LoadBalancer", "ClusterIP")]
    assert exposed == [
        ("NodePort", "Service/shop/web-nodeport", "TCP",
         "node port 30080 -> Deployment/shop/web TCP 8080 (network policy: open)"),
        ("LoadBalancer", "Service/shop/web-loadbalancer", "TCP",
         "load balancer port 80 -> Deployment/shop/web TCP 8080 (network policy: open)"),
    ]


def test_external_ips_and_load_balancer_source_ranges(k8s: BuildModel) -> None:
    got = summary(k8s, APP + service("ClusterIP", "externalIPs: [198.51.100.7]")
                  + service("LoadBalancer", "loadBalancerSourceRanges: [203.0.113.0/24]"))
    assert [g for g in got if g[0] in ("externalIPs", "LoadBalancer")] == [
        ("externalIPs", "Service/shop/web-clusterip", "TCP",
         "external IPs 198.51.100.7 port 80 -> Deployment/shop/web TCP 8080 "
         "(network policy: open)"),
        ("LoadBalancer", "Service/shop/web-loadbalancer", "TCP",
         "load balancer port 80 (from 203.0.113.0/24) -> Deployment/shop/web TCP 8080 "
         "(network policy: open)"),
    ]


def test_external_name(k8s: BuildModel) -> None:
    got = summary(k8s, APP + service("ExternalName", "externalName: db.example.com"))
    assert ("ExternalName", "Service/shop/web-externalname", "TCP",
            "resolves to the external name db.example.com") in got


def test_policies_decide_open_restricted_blocked(k8s: BuildModel) -> None:
    def state(ingress: str) -> str:
        policy = f"""---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: p, namespace: shop}}
spec: {{podSelector: {{}}, ingress: {ingress}}}
"""
        (e,) = [e for e in exposure(k8s(APP + service("NodePort") + policy))
                if e.kind == "NodePort"]
        return e.detail.rsplit("(network policy: ", 1)[1].rstrip(")")
    assert state("[{}]") == "open"
    assert state("[]") == "blocked"
    assert state("[{from: [{ipBlock: {cidr: 203.0.113.0/24}}]}]") == "restricted"
    assert state("[{from: [{podSelector: {}}]}]") == "blocked"


def test_ingress_backends(k8s: BuildModel) -> None:
    text = APP + service("ClusterIP") + """---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  rules:
  - host: shop.example
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: web-clusterip,
                                                              port: {number: 80}}}}]
  - http:
      paths: [{path: /x, pathType: Prefix, backend: {service: {name: missing,
                                                                port: {number: 80}}}}]
"""
    got = [(e.kind, e.workload.name if e.workload else None, e.ports, e.detail)
           for e in exposure(k8s(text)) if e.kind == "Ingress"]
    assert got == [("Ingress", "web", ((8080, 8080),),
                    "via Service/shop/web-clusterip -> Deployment/shop/web TCP 8080 "
                    "(network policy: open)")]
