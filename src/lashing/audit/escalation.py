"""LSH-NET-201: a workload reachable from outside that runs an image with a
fixable HIGH or CRITICAL vulnerability. One escalated finding per workload
and image, naming the workload, how it is exposed and the vulnerability ids.

The join is by normalised image reference: the images workloads name in
Kubernetes manifests and compose files against the names of the images the
audit scanned (a registry reference, a docker-archive's REPO:TAG, or the
`name` given to an image in lashing.toml).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from lashing.audit.exposure import Workload, compose_workloads, kubernetes_workloads
from lashing.errors import InputError
from lashing.manifests.compose import load_compose_text
from lashing.manifests.kubernetes import load_kubernetes
from lashing.model import (
    Check,
    CheckStatus,
    Finding,
    FindingKind,
    Location,
    Severity,
    Surface,
)
from lashing.rules.framework import (
    Example,
    Family,
    Rule,
    Violation,
    make_finding,
    rule,
)
from lashing.source.reference import parse_reference

ESCALATING = (Severity.HIGH, Severity.CRITICAL)
AUDIT_TARGET = "audit"


def reference_keys(text: str) -> frozenset[str]:
    """Normalised forms of an image reference: repository:tag (untagged means
    latest) and repository@digest. Empty when the text is not a reference."""
    try:
        ref = parse_reference(text)
    except InputError:
        return frozenset()
    keys = set()
    if ref.digest:
        keys.add(f"{ref.repository_name}@{ref.digest}")
    if ref.tag or not ref.digest:
        keys.add(f"{ref.repository_name}:{ref.tag or 'latest'}")
    return frozenset(keys)


@dataclass(frozen=True)
class ExposureSubject:
    """Workloads with their exposure, and the fixable HIGH/CRITICAL
    vulnerability ids of each scanned image, by normalised reference."""

    workloads: tuple[Workload, ...]
    vulnerable: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def vulnerabilities_of(self, image: str) -> tuple[str, ...]:
        ids: dict[str, None] = {}
        for key in sorted(reference_keys(image)):
            ids.update(dict.fromkeys(self.vulnerable.get(key, ())))
        return tuple(sorted(ids))


_K8S_EXPOSED = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.example.com/shop/web:1.0}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: %s
  selector: {app: web}
  ports: [{port: 80}]
"""
_VULNERABLE = {"registry.example.com/shop/web:1.0": ["CVE-2023-43804"]}


@rule(
    id="LSH-NET-201",
    title="Workload reachable from outside runs an image with a fixable HIGH or CRITICAL "
          "vulnerability",
    severity=Severity.CRITICAL,
    surface=Surface.NETWORK,
    kind=FindingKind.EXPOSURE,
    nist=("4.1.1", "4.4.2", "4.4.4"),
    description="A vulnerability that has a fix is an attacker's way in; when the workload "
                "answers on a LoadBalancer, NodePort, Ingress, hostPort or a port published "
                "on all interfaces, anyone who can reach it can try. These are the findings "
                "to fix first.",
    remediation="Rebuild the image with the fixed package versions and redeploy, or stop "
                "exposing the workload (ClusterIP Service, no hostPort, publish on "
                "127.0.0.1) until it is fixed.",
    references=("https://doi.org/10.6028/NIST.SP.800-190",),
    examples=(
        Example({"kubernetes": _K8S_EXPOSED % "LoadBalancer", "vulnerable": _VULNERABLE},
                True, "LoadBalancer Service in front of a vulnerable image"),
        Example({"kubernetes": _K8S_EXPOSED % "ClusterIP", "vulnerable": _VULNERABLE},
                False, "ClusterIP Service: reachable only inside the cluster"),
        Example({"compose": "services:\n  web:\n    image: registry.example.com/shop/web:1.0\n"
                            "    ports: ['8080:80']\n", "vulnerable": _VULNERABLE},
                True, "compose port published on all interfaces"),
        Example({"compose": "services:\n  web:\n    image: registry.example.com/shop/web:1.0\n"
                            "    ports: ['127.0.0.1:8080:80']\n", "vulnerable": _VULNERABLE},
                False, "compose port published on loopback only"),
    ),
)
def exposed_vulnerable(s: ExposureSubject) -> Iterator[Violation]:
    """An exposed workload whose image has a fixable HIGH/CRITICAL vulnerability."""
    for w in s.workloads:
        if not w.exposures:
            continue
        for image in w.images:
            ids = s.vulnerabilities_of(image)
            if not ids:
                continue
            shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
            yield Violation(
                f"{w.resource} runs {image} with {len(ids)} fixable HIGH/CRITICAL "
                f"vulnerabilit{'y' if len(ids) == 1 else 'ies'} ({shown}) and is reachable "
                f"from outside: {'; '.join(w.exposures)}",
                Location(path=w.path or None, line=w.line or None, resource=w.resource),
                anchor=f"{w.resource}\x00{image}")


RULES: tuple[Rule[ExposureSubject], ...] = (exposed_vulnerable,)


def load_example(example: Example) -> ExposureSubject:
    data = example.data
    if not isinstance(data, dict):
        raise TypeError("an LSH-NET-201 example is a dict with kubernetes or compose YAML")
    vulnerable = {key: tuple(ids) for ref, ids in data.get("vulnerable", {}).items()
                  for key in reference_keys(ref)}
    workloads: list[Workload] = []
    if "kubernetes" in data:
        workloads += kubernetes_workloads(load_kubernetes(data["kubernetes"], "deploy.yaml"))
    if "compose" in data:
        workloads += compose_workloads(load_compose_text(data["compose"], "compose.yaml"))
    return ExposureSubject(tuple(workloads), vulnerable)


FAMILY = Family(name="exposure", prefix="LSH-NET", rules=RULES, load_example=load_example)


def vulnerable_images(findings: Iterable[Finding],
                      names: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Normalised image reference -> ids of its live, fixable HIGH/CRITICAL
    vulnerabilities. `names` maps a scanned target to the references it is known by."""
    by_target: dict[str, set[str]] = {}
    for f in findings:
        v = f.vulnerability
        if (f.kind is not FindingKind.VULNERABILITY or v is None or f.suppression is not None
                or f.severity not in ESCALATING or not v.fixed_versions):
            continue
        by_target.setdefault(f.target, set()).add(f.rule_id)
    out: dict[str, set[str]] = {}
    for target, ids in by_target.items():
        for name in names.get(target, ()):
            for key in reference_keys(name):
                out.setdefault(key, set()).update(ids)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def escalate(workloads: Sequence[Workload], vulnerable: Mapping[str, tuple[str, ...]],
             skip: Iterable[str] = ()) -> tuple[list[Finding], list[Check]]:
    """The LSH-NET-201 findings (one per exposed workload and vulnerable image,
    each targeting the file that declares the workload) and the rule's Check."""
    r = exposed_vulnerable
    if any(r.matches(s) for s in skip):
        return [], [Check(r.id, AUDIT_TARGET, CheckStatus.NOT_CHECKED, "skipped")]
    if not workloads:
        return [], [Check(r.id, AUDIT_TARGET, CheckStatus.NOT_APPLICABLE,
                          "no Kubernetes workloads or compose services")]
    subject = ExposureSubject(tuple(workloads), vulnerable)
    findings = [make_finding(r, v, v.location.path or AUDIT_TARGET,
                             v.location.path or AUDIT_TARGET) for v in r.check(subject)]
    exposed = sum(1 for w in workloads if w.exposures)
    reason = (f"{len(workloads)} workload(s), {exposed} exposed, "
              f"{len(vulnerable)} image reference(s) with fixable HIGH/CRITICAL "
              "vulnerabilities")
    status = CheckStatus.FAIL if findings else CheckStatus.PASS
    return findings, [Check(r.id, AUDIT_TARGET, status, reason)]


__all__ = ["FAMILY", "RULES", "ExposureSubject", "escalate", "reference_keys",
           "vulnerable_images"]
