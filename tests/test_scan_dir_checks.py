"""A directory scan reports one check per rule over all its Dockerfiles and manifests."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import run

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  containers: [{name: c, image: "nginx:1.27", securityContext: {privileged: %s}}]
"""


def test_checks_are_summed_up_per_rule(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(POD % ("a", "true"))
    (tmp_path / "b.yaml").write_text(POD % ("b", "false"))
    (tmp_path / "c.yaml").write_text(POD % ("c", "false"))
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\nUSER 1000\n")
    doc = json.loads(run("scan", str(tmp_path), "--scanners", "misconfig",
                         "--format", "json").out)
    checks = {c["rule_id"]: c for c in doc["checks"]}
    assert len(checks) == len(doc["checks"])  # one per rule
    privileged = checks["LSH-K8S-001"]
    assert privileged["status"] == "fail" and privileged["target"] == str(tmp_path)
    assert privileged["reason"] == "1 file(s) fail, 2 file(s) pass"
    assert any(r.startswith("LSH-DF-") for r in checks)
    assert [f["location"]["path"] for f in doc["findings"]
            if f["rule_id"] == "LSH-K8S-001"] == [str(tmp_path / "a.yaml")]
