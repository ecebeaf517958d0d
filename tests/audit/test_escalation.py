"""LSH-NET-201: exposed workload x fixable HIGH/CRITICAL vulnerability of its image."""

from __future__ import annotations

import pytest

from lashing.audit.escalation import escalate, reference_keys, vulnerable_images
from lashing.audit.exposure import compose_workloads, kubernetes_workloads
from lashing.manifests.compose import load_compose_text
from lashing.manifests.kubernetes import load_kubernetes
from lashing.model import (
    CheckStatus,
    Finding,
    FindingKind,
    Location,
    Package,
    Severity,
    Suppression,
    SuppressionKind,
    Surface,
    Vulnerability,
    VulnStatus,
)
from lashing.rules import find_rule

from cli_helpers import run

WEB = "registry.example.com/shop/web:1.0"
TARGET = "oci:/images/web:1.0"


def deployment(service_type: str = "LoadBalancer", extra: str = "") -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: web, image: {WEB}{extra}}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: shop}}
spec:
  type: {service_type}
  selector: {{app: web}}
  ports: [{{port: 80}}]
"""


def vuln(cve: str, severity: Severity, fixed: tuple[str, ...] = ("1.26.17",),
         suppressed: bool = False) -> Finding:
    pkg = Package("urllib3", "1.26.4", "PyPI", "pkg:pypi/urllib3@1.26.4", "python")
    return Finding(
        rule_id=cve, kind=FindingKind.VULNERABILITY, title=cve, severity=severity,
        surface=Surface.APPLICATION, target=TARGET, location=Location(path="/x"),
        message="", vulnerability=Vulnerability(
            cve, pkg, "1.26.4", fixed, VulnStatus.FIXED if fixed else VulnStatus.UNFIXED),
        suppression=Suppression(SuppressionKind.VEX, "not reachable") if suppressed else None)


def escalated(manifest: str, *findings: Finding) -> list[Finding]:
    workloads = kubernetes_workloads(load_kubernetes(manifest, "deploy.yaml"))
    found, checks = escalate(workloads, vulnerable_images(findings, {TARGET: (WEB,)}))
    assert checks[0].status is (CheckStatus.FAIL if found else CheckStatus.PASS)
    return found


def test_exposed_and_fixable_high_escalates_to_one_critical_finding() -> None:
    found = escalated(deployment(), vuln("CVE-2023-43804", Severity.HIGH),
                      vuln("CVE-2024-37891", Severity.CRITICAL),
                      vuln("CVE-2023-45803", Severity.MEDIUM))
    assert len(found) == 1
    f = found[0]
    assert (f.rule_id, f.severity, f.surface, f.kind) == (
        "LSH-NET-201", Severity.CRITICAL, Surface.NETWORK, FindingKind.EXPOSURE)
    assert f.location.resource == "Deployment/shop/web"
    assert "Deployment/shop/web" in f.message and "LoadBalancer Service/shop/web" in f.message
    assert "CVE-2023-43804, CVE-2024-37891" in f.message
    assert "CVE-2023-45803" not in f.message


@pytest.mark.parametrize(("manifest", "finding"), [
    pytest.param(deployment("ClusterIP"), vuln("CVE-2023-43804", Severity.HIGH),
                 id="not-exposed"),
    pytest.param(deployment(), vuln("CVE-2023-43804", Severity.HIGH, fixed=()),
                 id="not-fixable"),
    pytest.param(deployment(), vuln("CVE-2023-43804", Severity.LOW), id="only-low"),
    pytest.param(deployment(), vuln("CVE-2023-43804", Severity.HIGH, suppressed=True),
                 id="suppressed"),
    pytest.param(deployment(extra="-other"), vuln("CVE-2023-43804", Severity.HIGH),
                 id="other-image"),
])
def test_does_not_escalate(manifest: str, finding: Finding) -> None:
    assert escalated(manifest, finding) == []


def test_host_port_and_compose_ports_are_exposure() -> None:
    manifest = deployment("ClusterIP").replace(
        "image: registry.example.com/shop/web:1.0}",
        "image: registry.example.com/shop/web:1.0, ports: [{containerPort: 80, hostPort: 80}]}")
    assert len(escalated(manifest, vuln("CVE-2023-43804", Severity.HIGH))) == 1
    project = load_compose_text(f"services:\n  web:\n    image: {WEB}\n    ports: ['80:80']\n"
                                f"  db:\n    image: {WEB}\n    ports: ['127.0.0.1:5432:5432']\n",
                                "compose.yaml")
    workloads = compose_workloads(project)
    found, _ = escalate(workloads, vulnerable_images([vuln("CVE-2023-43804", Severity.HIGH)],
                                                     {TARGET: (WEB,)}))
    assert [f.location.resource for f in found] == ["service/default/web"]


def test_references_normalise() -> None:
    assert reference_keys("nginx") == {"docker.io/library/nginx:latest"}
    assert reference_keys("docker.io/library/nginx:latest") == reference_keys("nginx")
    digest = "sha256:" + "a" * 64
    assert reference_keys(f"nginx:1.27@{digest}") == {
        "docker.io/library/nginx:1.27", f"docker.io/library/nginx@{digest}"}
    assert reference_keys("Not A Reference") == frozenset()


def test_no_workloads_is_not_applicable() -> None:
    found, checks = escalate([], {})
    assert found == [] and checks[0].status is CheckStatus.NOT_APPLICABLE


def test_rule_is_registered_and_listed() -> None:
    rule = find_rule("LSH-NET-201")
    assert rule is not None and rule.severity is Severity.CRITICAL
    r = run("rules", "LSH-NET-201", "--format", "json")
    assert r.code == 0, r.err
    assert r.json()[0]["family"] == "exposure"
    assert "LSH-NET-201" in run("rules").out
