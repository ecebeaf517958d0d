"""Realistic report documents for the HTML, Markdown and GitLab renderer tests, made by
running the real CLI: an image built in code scanned against the bundled demo
advisories, a Dockerfile, a Kubernetes manifest and a build-host tree; then merged
into one audit-like document with an "audit" key and network connections.

The documents are built once per test session (they take a few seconds) and
checked here against the published report schema.
"""

from __future__ import annotations

import atexit
import copy
import json
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

import lashing
from lashing.model import Connection, Endpoint, EndpointKind
from lashing.report import json as json_report

from cli_helpers import run
from imagebuilder import F, build, write_oci_layout

DEMO_ADVISORIES = Path(lashing.__file__).parent / "vulndb" / "data" / "demo"
SCHEMA = Path(lashing.__file__).parent / "report" / "report.schema.json"
HOSTILE = ('<script>document.body.setAttribute("data-pwned", "1")</script>'
           "<img src=x onerror=alert(1)>")

OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
DPKG = ("Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\n"
        "Version: 3.0.9-1\n\nPackage: bash\nStatus: install ok installed\n"
        "Architecture: amd64\nVersion: 5.2.15-2+b2\n")
SITE = "usr/local/lib/python3.11/site-packages"
DOCKERFILE = """\
FROM python:latest
RUN apt-get update && apt-get install -y curl
ADD https://example.com/app.tar.gz /app/
EXPOSE 22
CMD ["python", "/app/main.py"]
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      containers:
        - name: web
          image: registry.example.com/shop/web:1.4
          securityContext: {privileged: true}
          ports: [{containerPort: 8080, hostPort: 8080}]
"""


def _metadata(name: str, version: str) -> str:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"


def _workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="lashing-report-docs-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _json(*argv: str) -> dict[str, Any]:
    result = run(*argv, "--format", "json", "--no-progress")
    assert result.code in (0, 1), result.err
    doc: dict[str, Any] = result.json()
    return doc


@cache
def _scans() -> tuple[dict[str, Any], ...]:
    work = _workdir()
    db = work / "demo.db"
    imported = run("db", "import", "--db", str(db), str(DEMO_ADVISORIES))
    assert imported.code == 0, imported.err
    image = build([
        {"etc/os-release": OS_RELEASE, "var/lib/dpkg/status": DPKG,
         "bin/sh": F(b"#!/bin/sh\n", mode=0o755)},
        {f"{SITE}/urllib3-1.26.4.dist-info/METADATA": _metadata("urllib3", "1.26.4"),
         f"{SITE}/requests-2.25.0.dist-info/METADATA": _metadata("requests", "2.25.0"),
         "usr/local/bin/rootsh": F(b"#!/bin/sh\n", mode=0o4755),
         "app/main.py": "print('hello')\n"},
    ], config={"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "Cmd": ["python3", "/app/main.py"],
               "ExposedPorts": {"22/tcp": {}}})
    layout = write_oci_layout(work / "shop-web", [(image, "1.4")])
    (work / "src").mkdir()
    (work / "src" / "Dockerfile").write_text(DOCKERFILE)
    (work / "src" / "deploy.yaml").write_text(DEPLOYMENT)
    host = work / "host"
    (host / "etc" / "docker").mkdir(parents=True)
    (host / "etc" / "os-release").write_text(OS_RELEASE)
    (host / "etc" / "docker" / "daemon.json").write_text(
        '{"hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2375"], "icc": true}\n')
    return (
        _json("scan", f"oci:{layout}:1.4", "--db", str(db)),
        _json("scan", str(work / "src" / "Dockerfile"), str(work / "src" / "deploy.yaml"),
              "--db", str(db)),
        _json("host", "--root", str(host), "--db", str(work / "none.db")),
    )


def _workload(name: str, kind: str = "Deployment") -> Endpoint:
    return Endpoint(EndpointKind.WORKLOAD, namespace="shop", name=name, workload_kind=kind)


CONNECTIONS = (
    Connection(Endpoint(EndpointKind.EXTERNAL, cidr="0.0.0.0/0"), _workload("web"), "TCP",
               ((443, 443),)),
    Connection(_workload("web"), _workload("api"), "TCP", ((8080, 8080),)),
    Connection(_workload("api"), _workload("db", "StatefulSet"), "TCP", ((5432, 5432),)),
    Connection(_workload("api"), Endpoint(EndpointKind.EXTERNAL, cidr="0.0.0.0/0"), "TCP",
               ((1, 65535),)),
    Connection(_workload("worker"), _workload("db", "StatefulSet"), "TCP", ((5432, 5432),)),
)


def _counts(findings: list[dict[str, Any]], surface: str) -> dict[str, int]:
    live = [f for f in findings if f["surface"] == surface and "suppressed" not in f]
    return {s: sum(1 for f in live if f["severity"] == s)
            for s in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")}


def plain_image_document() -> dict[str, Any]:
    """`lashing scan` of the image: no "audit" key, no connections."""
    return copy.deepcopy(_scans()[0])


def audit_document() -> dict[str, Any]:
    """Every scan merged, as the audit writes it, with its "audit" key (by hand)."""
    scans = copy.deepcopy(_scans())
    doc = scans[0]
    for other in scans[1:]:
        for key in ("targets", "findings", "checks", "issues"):
            doc[key] += other[key]
    doc["connections"] = [json_report.connection(c) for c in CONNECTIONS]
    gates = {"build-host": "HIGH", "image": "CRITICAL", "application": "HIGH",
             "network": "HIGH"}
    surfaces = {}
    for surface, fail_on in gates.items():
        counts = _counts(doc["findings"], surface)
        order = list(counts)
        failed = any(counts[s] for s in order[: order.index(fail_on) + 1])
        surfaces[surface] = {"counts": counts, "suppressed": 0, "fail_on": fail_on,
                             "gate": "fail" if failed else "pass"}
    doc["audit"] = {
        "config": "ci/lashing.toml",
        "started": "2026-11-26T14:00:00+00:00",
        "items": [
            {"surface": "image", "kind": "image", "name": "registry.example.com/shop/web:1.4",
             "status": "ok"},
            {"surface": "image", "kind": "image", "name": "registry.example.com/shop/cart:2.0",
             "status": "error", "error": "registry.example.com: connection refused"},
            {"surface": "build-host", "kind": "host", "name": "/", "status": "ok"},
        ],
        "surfaces": surfaces,
        "nist": [
            {"id": "4.1.1", "title": "Image vulnerabilities", "rules": ["LSH-IMG-012"],
             "checks": {"pass": 0, "fail": 1, "not-checked": 0}, "findings": 4,
             "status": "fail"},
            {"id": "4.3.3", "title": "Poorly separated inter-container network traffic",
             "rules": [], "checks": {"pass": 0, "fail": 0, "not-checked": 0}, "findings": 0,
             "status": "not-covered"},
        ],
        "store": {"spec": "results.db", "run": 12},
    }
    return doc


def hostile(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with markup in every kind of text a renderer shows."""
    f = doc["findings"][0]
    f["message"] += " " + HOSTILE
    f["title"] = HOSTILE
    f["references"] = ["javascript:alert(1)", *f["references"]]
    doc["targets"][0]["packages"][0]["name"] = HOSTILE
    doc["issues"].append({"stage": "catalog", "plugin": "x", "location": {},
                          "message": HOSTILE})
    return doc


def test_documents_are_realistic() -> None:
    doc = audit_document()
    kinds = {f["kind"] for f in doc["findings"]}
    surfaces = {f["surface"] for f in doc["findings"]}
    assert {"vulnerability", "misconfiguration"} <= kinds
    assert {"build-host", "image", "application", "network"} <= surfaces
    assert any(t["packages"] for t in doc["targets"])
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    jsonschema.validate(plain_image_document(), json.loads(SCHEMA.read_text()))
