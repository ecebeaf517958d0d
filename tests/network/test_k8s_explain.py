"""explain(): the verdict for one pair, naming every deciding policy with its
file and line, in lines for people and a dict for JSON."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from lashing.network import NetworkInputError, NetworkModel, explain
from network.test_k8s_reach import PODS, policy

BuildModel = Callable[[str], NetworkModel]  # the k8s fixture (conftest.py)

POLICIES = (PODS
            + policy("{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: "
                     "{matchLabels: {app: web}}}], ports: [{port: http}]}]}", "db-in")
            + policy("{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: "
                     "[{to: [{podSelector: {}}]}, {to: [{ipBlock: {cidr: 10.0.0.0/8}}], ports: "
                     "[{port: 443}]}]}", "web-out"))


def test_allowed_pair_names_both_policies(k8s: BuildModel) -> None:
    e = explain(k8s(POLICIES), "prod/web", "Pod/prod/db", 9090)
    assert e.allowed and e.ports == ((9090, 9090),)
    assert [(v.direction, v.policy, v.line, v.allows) for v in e.verdicts] == [
        ("Egress", "NetworkPolicy/prod/web-out", 35, True),
        ("Ingress", "NetworkPolicy/prod/db-in", 30, True)]
    assert e.lines[0] == "Pod/prod/web -> Pod/prod/db on TCP 9090"
    assert "NetworkPolicy/prod/db-in (cluster.yaml:30) allows" in "\n".join(e.lines)
    assert e.lines[-1] == "Result: ALLOWED"


def test_denied_port_says_which_rule_and_why(k8s: BuildModel) -> None:
    e = explain(k8s(POLICIES), "prod/web", "prod/db", 8080)
    assert not e.allowed
    (ingress,) = [v for v in e.verdicts if v.direction == "Ingress"]
    assert not ingress.allows
    assert "its ports (TCP http) do not include TCP 8080 on Pod/prod/db" in ingress.reason
    assert e.lines[-1] == "Result: DENIED (blocked by ingress)"


def test_unselected_peer_and_unisolated_side(k8s: BuildModel) -> None:
    e = explain(k8s(POLICIES), "dev/client", "prod/db", None)
    assert not e.allowed
    assert any("no NetworkPolicy of namespace dev selects Pod/dev/client for egress" in line
               for line in e.lines)
    assert "no peer matches Pod/dev/client" in e.verdicts[0].reason


def test_any_port_reports_the_allowed_ranges(k8s: BuildModel) -> None:
    e = explain(k8s(POLICIES), "prod/db", "prod/web", None, "udp")
    assert e.allowed and e.ports == ((1, 65535),) and e.protocol == "UDP"
    assert e.lines[-1] == "Result: ALLOWED on UDP 1-65535"


def test_external_destination_and_source(k8s: BuildModel) -> None:
    model = k8s(POLICIES)
    assert explain(model, "prod/web", "10.2.3.4", 443).allowed
    assert not explain(model, "prod/web", "10.2.3.4", 80).allowed
    assert not explain(model, "prod/web", "8.8.8.8", 443).allowed
    e = explain(model, "192.0.2.0/24", "prod/db", 9090)
    assert not e.allowed and e.source.cidr == "192.0.2.0/24"
    assert "outside the scope of NetworkPolicies" in e.lines[1]


def test_to_dict_is_json(k8s: BuildModel) -> None:
    data = explain(k8s(POLICIES), "prod/web", "prod/db", 9090).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["allowed"] is True and data["ports"] == "9090"
    assert data["source"] == {"kind": "workload", "namespace": "prod", "name": "web",
                              "workload_kind": "Pod"}
    assert data["policies"][1]["location"] == {"path": "cluster.yaml", "line": 30}


@pytest.mark.parametrize(("source", "destination", "port", "protocol", "message"), [
    ("prod/nope", "prod/db", 80, "TCP", "no workload 'prod/nope'"),
    ("web", "prod/db", 80, "TCP", "no workload 'web'"),  # "web" alone means default/web
    ("a/b/c/d", "prod/db", 80, "TCP", "is not a workload"),
    ("prod/web", "prod/db", 0, "TCP", "out of range"),
    ("prod/web", "prod/db", 80, "ICMP", "unknown protocol"),
    ("10.0.0.1", "8.8.8.8", 80, "TCP", "must be a workload"),
])
def test_bad_queries_are_input_errors(k8s: BuildModel, source: str, destination: str,
                                      port: int, protocol: str, message: str) -> None:
    with pytest.raises(NetworkInputError, match=message) as info:
        explain(k8s(POLICIES), source, destination, port, protocol)
    assert info.value.exit_code == 2


def test_ambiguous_name_asks_for_the_kind(k8s: BuildModel) -> None:
    model = k8s("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec: {template: {spec: {containers: [{name: c, image: x}]}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: app}
spec: {template: {spec: {containers: [{name: c, image: x}]}}}
""")
    with pytest.raises(NetworkInputError, match=r"several workloads \(Deployment, StatefulSet\)"):
        explain(model, "app", "10.0.0.1", 80)
    assert explain(model, "StatefulSet/default/app", "10.0.0.1", 80).allowed
