"""Agreement with ahmetb/kubernetes-network-policy-recipes
(../shared/data/netpol-recipes-ahmetb, see PROVENANCE.md).

Each recipe states, in prose and shell transcripts, which `wget`/`nc` probes
succeed once its policy is applied. Those statements are encoded here as
explicit expectations: the pods the recipe creates with `kubectl run`, the
policy YAML extracted from the recipe, and the probe with its stated
outcome. Every expectation is one test."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lashing.manifests.kubernetes import load_kubernetes
from lashing.network import NetworkModel, build_model, explain, exposure

DATA = (Path(__file__).resolve().parents[2].parent / "shared" / "data"
        / "netpol-recipes-ahmetb" / "extracted-yaml")


@dataclass(frozen=True)
class Pod:
    name: str
    labels: dict[str, str]
    namespace: str = "default"
    ports: tuple[int, ...] = ()


@dataclass(frozen=True)
class Probe:
    recipe: str  # the extracted-yaml file
    says: str  # the recipe's words
    pods: tuple[Pod, ...]
    source: str
    destination: str
    port: int
    allowed: bool
    protocol: str = "TCP"
    namespaces: tuple[tuple[str, dict[str, str]], ...] = ()
    extra_policy: str = ""  # a policy the recipe applies by reference, as YAML
    skip: str = ""


TEST = Pod("test", {"run": "test"})
WEB = Pod("web", {"app": "web"}, ports=(80,))
KUBE_DNS = Pod("kube-dns", {"k8s-app": "kube-dns"}, "kube-system", (53,))
WEB_DENY_ALL = """
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata: {name: web-deny-all, namespace: default}
spec: {podSelector: {matchLabels: {app: web}}, ingress: []}
"""
API = Pod("apiserver", {"app": "bookstore", "role": "api"}, ports=(80,))
APP2 = Pod("apiserver", {"app": "apiserver"}, ports=(8000, 5000))
DB = Pod("db", {"app": "bookstore", "role": "db"}, ports=(6379,))
OTHER_NS = (("other", {"team": "operations"}),)

PROBES = [
    Probe("02-limit-traffic-to-an-application-1.yaml", "pod without app=bookstore: timed out",
          (API, TEST), "test", "apiserver", 80, False),
    Probe("02-limit-traffic-to-an-application-1.yaml", "pod with app=bookstore: allowed",
          (API, Pod("frontend", {"app": "bookstore", "role": "frontend"})),
          "frontend", "apiserver", 80, True),
    Probe("02a-allow-all-traffic-to-an-application-1.yaml", "traffic is allowed",
          (WEB, TEST), "test", "web", 80, True),
    Probe("02a-allow-all-traffic-to-an-application-1.yaml",
          "applying web-allow-all makes web-deny-all void", (WEB, TEST), "test", "web", 80, True,
          extra_policy=WEB_DENY_ALL),
    Probe("03-deny-all-non-whitelisted-traffic-in-the-namespace-1.yaml",
          "incoming traffic is dropped to all pods of default", (WEB, TEST), "test", "web", 80,
          False),
    Probe("03-deny-all-non-whitelisted-traffic-in-the-namespace-1.yaml",
          "incoming traffic from other namespaces is dropped too",
          (WEB, Pod("test", {"run": "test"}, "foo")), "foo/test", "web", 80, False),
    Probe("04-deny-traffic-from-other-namespaces-1.yaml", "from namespace foo: timed out",
          (WEB, Pod("test", {"run": "test"}, "foo")), "foo/test", "default/web", 80, False),
    Probe("04-deny-traffic-from-other-namespaces-1.yaml", "any pod in default works",
          (WEB, TEST), "default/test", "default/web", 80, True),
    Probe("05-allow-traffic-from-all-namespaces-1.yaml", "from namespace secondary: allowed",
          (WEB, Pod("test", {"run": "test"}, "secondary")), "secondary/test", "web", 80, True),
    Probe("05-allow-traffic-from-all-namespaces-1.yaml", "from any pod of bar: allowed",
          (WEB, Pod("test", {"run": "test"}, "bar")), "bar/test", "web", 80, True),
    Probe("07-allow-traffic-from-some-pods-in-another-namespace-1.yaml",
          "default, without type=monitoring: blocked", (WEB, TEST), "test", "web", 80, False,
          namespaces=OTHER_NS),
    Probe("07-allow-traffic-from-some-pods-in-another-namespace-1.yaml",
          "default, with type=monitoring: blocked",
          (WEB, Pod("test", {"type": "monitoring"})), "test", "web", 80, False,
          namespaces=OTHER_NS),
    Probe("07-allow-traffic-from-some-pods-in-another-namespace-1.yaml",
          "other, without type=monitoring: blocked",
          (WEB, Pod("test", {"run": "test"}, "other")), "other/test", "web", 80, False,
          namespaces=OTHER_NS),
    Probe("07-allow-traffic-from-some-pods-in-another-namespace-1.yaml",
          "other (team=operations), with type=monitoring: allowed",
          (WEB, Pod("test", {"type": "monitoring"}, "other")), "other/test", "web", 80, True,
          namespaces=OTHER_NS),
    Probe("08-allow-external-traffic-1.yaml", "external clients reach the pod",
          (WEB,), "203.0.113.7", "web", 80, True),
    Probe("08-allow-external-traffic-1.yaml", "internal clients reach the pod too",
          (WEB, TEST), "test", "web", 80, True),
    Probe("09-allow-traffic-only-to-a-port-1.yaml", "no labels: port 8000 timed out",
          (APP2, TEST), "test", "apiserver", 8000, False),
    Probe("09-allow-traffic-only-to-a-port-1.yaml", "no labels: port 5000 timed out",
          (APP2, TEST), "test", "apiserver", 5000, False),
    Probe("09-allow-traffic-only-to-a-port-1.yaml", "role=monitoring: port 8000 timed out",
          (APP2, Pod("mon", {"role": "monitoring"})), "mon", "apiserver", 8000, False),
    Probe("09-allow-traffic-only-to-a-port-1.yaml", "role=monitoring: port 5000 answers",
          (APP2, Pod("mon", {"role": "monitoring"})), "mon", "apiserver", 5000, True),
    Probe("10-allowing-traffic-with-multiple-selectors-1.yaml", "catalog-like pod: open",
          (DB, Pod("test", {"app": "inventory", "role": "web"})), "test", "db", 6379, True),
    Probe("10-allowing-traffic-with-multiple-selectors-1.yaml", "search is on the list",
          (DB, Pod("search", {"app": "bookstore", "role": "search"})), "search", "db", 6379,
          True),
    Probe("10-allowing-traffic-with-multiple-selectors-1.yaml", "api is on the list",
          (DB, Pod("api", {"app": "bookstore", "role": "api"})), "api", "db", 6379, True),
    Probe("10-allowing-traffic-with-multiple-selectors-1.yaml", "app=other: timed out",
          (DB, Pod("test", {"app": "other"})), "test", "db", 6379, False),
    Probe("12-deny-all-non-whitelisted-traffic-from-the-namespace-1.yaml",
          "all egress from default is dropped", (WEB, TEST), "test", "web", 80, False),
    Probe("12-deny-all-non-whitelisted-traffic-from-the-namespace-1.yaml",
          "including DNS resolution", (TEST, KUBE_DNS), "test", "kube-system/kube-dns", 53,
          False, "UDP"),
    Probe("14-deny-external-egress-traffic-1.yaml", "DNS to kube-dns, UDP 53, is allowed",
          (Pod("test", {"app": "foo"}), KUBE_DNS), "test", "kube-system/kube-dns", 53, True,
          "UDP"),
    Probe("14-deny-external-egress-traffic-1.yaml", "DNS to kube-dns, TCP 53, is allowed",
          (Pod("test", {"app": "foo"}), KUBE_DNS), "test", "kube-system/kube-dns", 53, True),
    Probe("14-deny-external-egress-traffic-1.yaml", "www.example.com: timed out",
          (Pod("test", {"app": "foo"}),), "test", "93.184.216.34", 80, False),
    Probe("14-deny-external-egress-traffic-1.yaml", "app=foo connects to the web service",
          (Pod("test", {"app": "foo"}), WEB), "test", "web", 80, True,
          skip="the recipe's transcript contradicts its own policy: the only egress rule "
               "admits kube-dns on port 53, so app=foo -> web:80 is denied by NetworkPolicy "
               "semantics; the transcript does not match the policy as published"),
]


def model_of(probe: Probe) -> NetworkModel:
    docs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": labels}}
        for n, labels in probe.namespaces]
    for pod in probe.pods:
        ports = [{"containerPort": p} for p in pod.ports] + [
            {"containerPort": p, "protocol": "UDP"} for p in pod.ports if p == 53]
        docs.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": pod.name, "namespace": pod.namespace,
                                  "labels": pod.labels},
                     "spec": {"containers": [{"name": "c", "image": "i", "ports": ports}]}})
    objects = load_kubernetes("\n---\n".join(json.dumps(d) for d in docs), "pods.yaml").objects
    objects.extend(load_kubernetes(DATA / probe.recipe).objects)
    if probe.extra_policy:
        objects.extend(load_kubernetes(probe.extra_policy, "extra.yaml").objects)
    return build_model(objects)


@pytest.mark.parametrize("probe", PROBES, ids=[f"{p.recipe[:3]}{p.says}" for p in PROBES])
def test_recipe_expectation(probe: Probe) -> None:
    if not DATA.is_dir():
        pytest.skip(f"{DATA} is absent (real network policy recipes)")
    if probe.skip:
        pytest.skip(probe.skip)
    model = model_of(probe)
    assert not [i for i in model.issues if "not known" not in i.message]
    e = explain(model, probe.source, probe.destination, probe.port, probe.protocol)
    assert e.allowed is probe.allowed, "\n".join(e.lines)


def test_recipe_08_load_balancer_is_exposed() -> None:
    """08: `kubectl expose pod/web --type=LoadBalancer` plus web-allow-external: the
    pod is reachable from the internet through the load balancer."""
    if not DATA.is_dir():
        pytest.skip(f"{DATA} is absent (real network policy recipes)")
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
                        "ports": [{"port": 80}]}}
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "web", "labels": {"app": "web"}},
           "spec": {"containers": [{"name": "c", "image": "nginx",
                                    "ports": [{"containerPort": 80}]}]}}
    objects = load_kubernetes(json.dumps(service) + "\n---\n" + json.dumps(pod), "x.yaml")
    objects.extend(load_kubernetes(DATA / "08-allow-external-traffic-1.yaml").objects)
    found = exposure(build_model(objects))
    assert [(e.kind, e.ports, e.detail.endswith("(network policy: open)")) for e in found] == [
        ("LoadBalancer", ((80, 80),), True)]
