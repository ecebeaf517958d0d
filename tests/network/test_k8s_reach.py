"""NetworkPolicy semantics: isolation, peers, ports, external ranges, the
ingress controller, and the merged, sorted connection list."""

from __future__ import annotations

from collections.abc import Callable

from lashing.model import Connection, Endpoint, EndpointKind
from lashing.network import NetworkModel, connections
from lashing.network.ports import ALL_PORTS, format_ranges
from lashing.network.reach import endpoint_key

BuildModel = Callable[[str], NetworkModel]  # the k8s fixture (conftest.py)

PODS = """
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
---
apiVersion: v1
kind: Namespace
metadata: {name: dev, labels: {env: dev}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: prod, labels: {app: web}}
spec:
  containers:
  - {name: c, image: x, ports: [{name: http, containerPort: 8080}, {name: dns, containerPort: 53,
                                 protocol: UDP}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: prod, labels: {app: db}}
spec:
  containers:
  - {name: c, image: x, ports: [{name: http, containerPort: 9090}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: dev, labels: {app: client}}
spec: {containers: [{name: c, image: x}]}
"""


def policy(spec: str, name: str = "p", namespace: str = "prod") -> str:
    return (f"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            f"metadata: {{name: {name}, namespace: {namespace}}}\nspec: {spec}\n")


def table(conns: list[Connection]) -> set[str]:
    """Workload-to-workload connections as 'src -> dst proto ports'."""
    def name(e: Endpoint) -> str:
        if e.kind == EndpointKind.EXTERNAL:
            return str(e.cidr)
        if e.kind == EndpointKind.INGRESS_CONTROLLER:
            return "ingress-controller"
        return str(e.name)
    return {f"{name(c.source)} -> {name(c.destination)} {c.protocol} {format_ranges(c.ports)}"
            for c in conns}


def pairs(conns: list[Connection]) -> set[tuple[str, str]]:
    return {(str(c.source.name), str(c.destination.name)) for c in conns
            if c.source.kind == c.destination.kind == EndpointKind.WORKLOAD}


ALL_PAIRS = {(a, b) for a in ("web", "db", "client") for b in ("web", "db", "client") if a != b}


def test_without_policies_everything_reaches_everything(k8s: BuildModel) -> None:
    conns = connections(k8s(PODS))
    assert pairs(conns) == ALL_PAIRS
    assert {c.protocol for c in conns} == {"TCP", "UDP", "SCTP"}
    assert all(c.ports == ALL_PORTS for c in conns)
    assert "0.0.0.0/0 -> web TCP 1-65535" in table(conns)
    assert "web -> 0.0.0.0/0 SCTP 1-65535" in table(conns)


def test_ingress_isolation_applies_only_to_selected_pods(k8s: BuildModel) -> None:
    conns = connections(k8s(PODS + policy("{podSelector: {matchLabels: {app: db}}}")))
    assert pairs(conns) == ALL_PAIRS - {("web", "db"), ("client", "db")}
    assert not any(c.destination.name == "db" for c in conns)  # external too
    assert "db -> 0.0.0.0/0 TCP 1-65535" in table(conns)  # egress not isolated


def test_egress_isolation_needs_egress_in_policy_types(k8s: BuildModel) -> None:
    ingress_only = connections(k8s(PODS + policy("{podSelector: {}, egress: []}")))
    assert ("web", "client") not in pairs(ingress_only)  # egress present: both types
    typed = connections(k8s(PODS + policy("{podSelector: {}, policyTypes: [Ingress], "
                                          "egress: []}")))
    assert ("web", "client") in pairs(typed)
    assert ("client", "web") not in pairs(typed)


def test_both_sides_must_allow(k8s: BuildModel) -> None:
    model = k8s(PODS
                + policy("{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], "
                         "egress: [{to: [{podSelector: {matchLabels: {app: db}}}], "
                         "ports: [{port: 9090}, {port: 7000}]}]}", "web-out")
                + policy("{podSelector: {matchLabels: {app: db}}, ingress: [{from: "
                         "[{podSelector: {}}], ports: [{port: 9090}, {port: 9091}]}]}", "db-in"))
    got = table(connections(model))
    assert "web -> db TCP 9090" in got
    assert not any(line.startswith("web -> client") for line in got)
    assert not any(line.startswith("client -> db") for line in got)  # other namespace


def test_policies_are_additive(k8s: BuildModel) -> None:
    model = k8s(PODS + policy("{podSelector: {matchLabels: {app: db}}, ingress: [{ports: "
                              "[{port: 1}]}]}", "a")
                + policy("{podSelector: {matchLabels: {app: db}}, ingress: [{ports: "
                         "[{port: 2, endPort: 5}]}]}", "b"))
    assert "web -> db TCP 1-5" in table(connections(model))


def test_peer_kinds(k8s: BuildModel) -> None:
    def reach(peer: str) -> set[tuple[str, str]]:
        model = k8s(PODS + policy(f"{{podSelector: {{matchLabels: {{app: db}}}}, ingress: "
                                  f"[{{from: [{peer}]}}]}}"))
        return {p for p in pairs(connections(model)) if p[1] == "db"}
    # podSelector alone: the policy's namespace only
    assert reach("{podSelector: {}}") == {("web", "db")}
    assert reach("{podSelector: {matchLabels: {app: client}}}") == set()
    # namespaceSelector alone: all pods of the chosen namespaces
    assert reach("{namespaceSelector: {matchLabels: {env: dev}}}") == {("client", "db")}
    assert reach("{namespaceSelector: {}}") == {("web", "db"), ("client", "db")}
    # both in one entry: AND
    assert reach("{namespaceSelector: {matchLabels: {env: dev}}, podSelector: "
                 "{matchLabels: {app: web}}}") == set()
    # two entries: OR
    assert reach("{namespaceSelector: {matchLabels: {env: dev}}}, {podSelector: "
                 "{matchLabels: {app: web}}}") == {("client", "db"), ("web", "db")}
    # the automatic name label
    assert reach("{namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, "
                 "operator: In, values: [dev]}]}}") == {("client", "db")}


def test_empty_and_missing_rules_and_peer_lists(k8s: BuildModel) -> None:
    def into_db(ingress: str) -> set[tuple[str, str]]:
        model = k8s(PODS + policy(f"{{podSelector: {{matchLabels: {{app: db}}}}, {ingress}}}"))
        return {p for p in pairs(connections(model)) if p[1] == "db"}
    everyone = {("web", "db"), ("client", "db")}
    assert into_db("ingress: []") == set()  # isolated, no rule
    assert into_db("ingress: [{}]") == everyone  # one rule allowing all
    assert into_db("ingress: [{from: []}]") == everyone  # empty from = all sources
    assert into_db("ingress: [{from: [], ports: []}]") == everyone
    assert into_db("policyTypes: [Ingress]") == set()  # missing ingress = none


def test_named_ports_resolve_per_destination_pod(k8s: BuildModel) -> None:
    model = k8s(PODS + policy("{podSelector: {}, ingress: [{ports: [{port: http}]}]}"))
    got = table(connections(model))
    assert "db -> web TCP 8080" in got and "web -> db TCP 9090" in got
    assert "client -> web TCP 8080" in got  # no `from`: every source, any namespace
    assert not any("UDP" in line or "SCTP" in line for line in got if "-> web" in line)


def test_protocols_and_all_ports(k8s: BuildModel) -> None:
    model = k8s(PODS + policy("{podSelector: {matchLabels: {app: web}}, ingress: [{ports: "
                              "[{protocol: UDP, port: dns}, {protocol: SCTP}]}]}"))
    got = {line for line in table(connections(model)) if line.startswith("db -> web")}
    assert got == {"db -> web UDP 53", "db -> web SCTP 1-65535"}


def test_ip_blocks_split_external_space(k8s: BuildModel) -> None:
    model = k8s(PODS + policy("{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], "
                              "egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: "
                              "[10.1.0.0/16]}}], ports: [{port: 443}]}]}")
                + policy("{podSelector: {matchLabels: {app: web}}, ingress: [{from: "
                         "[{ipBlock: {cidr: 0.0.0.0/0, except: [192.168.0.0/16]}}]}]}", "in"))
    got = table(connections(model))
    out = {line for line in got if line.startswith("web -> ")}
    assert out == {f"web -> {c} TCP 443" for c in (
        "10.0.0.0/16", "10.2.0.0/15", "10.4.0.0/14", "10.8.0.0/13", "10.16.0.0/12",
        "10.32.0.0/11", "10.64.0.0/10", "10.128.0.0/9")}
    into = {line.split(" -> ")[0] for line in got
            if line.endswith("web TCP 1-65535") and line[0].isdigit()}
    assert "192.168.0.0/16" not in into and "0.0.0.0/1" in into and "192.0.0.0/9" in into
    # pods are never matched by ipBlocks
    assert not any(line.startswith(("db -> web", "client -> web")) for line in got)


def test_ingress_controller_reaches_backends_if_policies_allow(k8s: BuildModel) -> None:
    ingress = """
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: prod}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: prod}
spec: {defaultBackend: {service: {name: web, port: {number: 80}}}}
"""
    assert "ingress-controller -> web TCP 8080" in table(connections(k8s(PODS + ingress)))
    one_ns = policy("{podSelector: {}, ingress: [{from: [{namespaceSelector: "
                    "{matchLabels: {env: dev}}}]}]}")
    assert not any(line.startswith("ingress-controller")
                   for line in table(connections(k8s(PODS + ingress + one_ns))))
    any_ns = policy("{podSelector: {}, ingress: [{from: [{namespaceSelector: {}}], "
                    "ports: [{port: 8080}]}]}")
    assert "ingress-controller -> web TCP 8080" in table(connections(k8s(PODS + ingress
                                                                         + any_ns)))


def test_connections_are_sorted_merged_and_never_self(k8s: BuildModel) -> None:
    model = k8s(PODS + """
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, namespace: prod, labels: {app: web},
           ownerReferences: [{kind: ReplicaSet, name: web-rs}]}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-3, namespace: prod, labels: {app: other},
           ownerReferences: [{kind: ReplicaSet, name: web-rs}]}
spec: {containers: [{name: c, image: x}]}
""" + policy("{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: "
             "{matchLabels: {app: web}}}], ports: [{port: 1}]}, {from: [{podSelector: "
             "{matchLabels: {app: other}}}], ports: [{port: 2}]}]}"))
    conns = connections(model)
    assert all(c.source != c.destination for c in conns)
    into_db = [c for c in conns if c.destination.name == "db"]
    assert [(c.source.name, c.protocol, c.ports) for c in into_db] == [
        ("web", "TCP", ((1, 1),)), ("web-rs", "TCP", ((1, 2),))]
    keys = [(c.source, c.destination, c.protocol) for c in conns]
    assert len(keys) == len(set(keys))
    assert conns == sorted(conns, key=lambda c: (endpoint_key(c.source),
                                                 endpoint_key(c.destination), c.protocol))
    assert [c.source.name for c in conns][:3] == ["client"] * 3  # namespace dev sorts first
