"""The Kubernetes network rules (LSH-NET-0NN) on real manifests and policies.

The rules' own fire/no-fire examples run in tests/rules/test_rule_examples.py;
these tests run the family's entry point over third-party files: the guestbook
example of kubernetes/examples and the NetworkPolicy recipes of
ahmetb/kubernetes-network-policy-recipes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lashing.manifests.kubernetes import load_kubernetes
from lashing.model import CheckStatus
from lashing.network import build_model
from lashing.rules.network import scan_kubernetes_network

DATA = Path("../shared/data")
GUESTBOOK = DATA / "k8s-examples/web/guestbook"
RECIPES = DATA / "netpol-recipes-ahmetb/extracted-yaml"

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
"""


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared third-party data is not beside the project)")


def _scan(*texts: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    objects = []
    for i, text in enumerate(texts):
        loaded = load_kubernetes(text, f"doc{i}.yaml")
        assert loaded.error is None
        objects.extend(loaded.objects)
    findings, checks = scan_kubernetes_network(build_model(objects), "manifests")
    by_rule: dict[str, list[str]] = {}
    for f in findings:
        by_rule.setdefault(f.rule_id, []).append(f.message)
    return by_rule, {c.rule_id: c.status for c in checks}


def test_guestbook_redis_is_reachable_from_every_namespace() -> None:
    _need(GUESTBOOK)
    texts = [p.read_text() for p in sorted(GUESTBOOK.glob("*.yaml"))]
    found, checks = _scan(*texts)
    assert any("redis-master" in m and "Redis on TCP 6379" in m for m in found["LSH-NET-006"])
    assert "LSH-NET-001" in found and "LSH-NET-002" in found
    # no policies at all: the policy rules have nothing to judge
    assert checks["LSH-NET-007"] == CheckStatus.NOT_APPLICABLE


@pytest.mark.parametrize(("recipe", "fires", "quiet"), [
    ("05-allow-traffic-from-all-namespaces-1.yaml", "LSH-NET-003", "LSH-NET-004"),
    ("08-allow-external-traffic-1.yaml", "LSH-NET-004", "LSH-NET-003"),
    ("02-limit-traffic-to-an-application-1.yaml", "LSH-NET-001", "LSH-NET-003"),
])
def test_recipes(recipe: str, fires: str, quiet: str) -> None:
    _need(RECIPES)
    found, checks = _scan(WEB, (RECIPES / recipe).read_text())
    assert fires in found, found
    assert quiet not in found and checks[quiet] == CheckStatus.PASS


def test_default_deny_recipe_closes_the_namespace() -> None:
    _need(RECIPES)
    found, _ = _scan(WEB, (RECIPES / "03-deny-all-non-whitelisted-traffic-in-the-namespace-1.yaml")
                     .read_text())
    assert "LSH-NET-001" not in found
    assert "LSH-NET-002" in found  # the recipe denies ingress only


def test_egress_recipe_restricts_egress() -> None:
    _need(RECIPES)
    text = (RECIPES / "14-deny-external-egress-traffic-1.yaml").read_text()
    found, _ = _scan(WEB.replace("app: web", "app: foo"), text)
    assert "LSH-NET-005" not in found


def test_sensitive_port_behind_a_load_balancer_is_reported_even_when_isolated() -> None:
    db = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: data}
spec:
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: postgres, ports: [{containerPort: 5432}]}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec: {type: LoadBalancer, selector: {app: db}, ports: [{port: 5432}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: data}
spec:
  podSelector: {}
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 5432}]}]
"""
    found, _ = _scan(db)
    assert any("exposed by Service/data/db (LoadBalancer)" in m for m in found["LSH-NET-006"])
    assert "reachable from every namespace" not in " ".join(found["LSH-NET-006"])
    assert "LSH-NET-008" in found  # no workload has app=api
