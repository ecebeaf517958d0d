"""SARIF 2.1.0 output, validated against the OASIS schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lashing.model import (
    CVSS,
    Finding,
    FindingKind,
    Location,
    Package,
    Report,
    Severity,
    Surface,
    Target,
    TargetKind,
    Vulnerability,
    VulnStatus,
)
from lashing.report import sarif
from lashing.rules import ALL_RULES
from lashing.rules.dockerfile import scan_dockerfile

SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "data" / "schemas" / \
    "sarif-schema-2.1.0.json"
DOCKERFILE = ("FROM alpine\n# lashing:ignore=LSH-DF-030 vendor installer\nRUN sudo ./x\n"
              "USER root\n")


def _vuln() -> Finding:
    pkg = Package("openssl", "3.0.1", "Debian:12", "pkg:deb/debian/openssl@3.0.1", "dpkg",
                  (Location(path="/var/lib/dpkg/status", layer="sha256:" + "c" * 64),))
    return Finding(
        rule_id="CVE-2024-0001", kind=FindingKind.VULNERABILITY, title="openssl: overflow",
        severity=Severity.CRITICAL, surface=Surface.APPLICATION, target="img",
        location=Location(), message="openssl 3.0.1 is affected", aliases=("DSA-1-1",),
        vulnerability=Vulnerability("CVE-2024-0001", pkg, "3.0.1", ("3.0.2",), VulnStatus.FIXED,
                                    (CVSS("3.1", "CVSS:3.1/AV:N", 9.8),)),
        target_identity="sha256:img", anchor=pkg.purl)


def _image_file() -> Finding:
    return Finding(rule_id="LSH-IMG-022", kind=FindingKind.MISCONFIGURATION,
                   title="Account with an empty password", severity=Severity.HIGH,
                   surface=Surface.IMAGE, target="img",
                   location=Location(path="/etc/shadow", line=2, layer="sha256:" + "d" * 64),
                   message="admin has an empty password", target_identity="sha256:img",
                   anchor="/etc/shadow:2")


def _report() -> Report:
    findings, checks = scan_dockerfile("src/Dockerfile", DOCKERFILE)
    return Report(targets=(Target("src/Dockerfile", TargetKind.CONFIG),),
                  findings=(*findings, _vuln(), _image_file()), checks=tuple(checks),
                  tool_version="0.1.0")


def _doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(sarif.render(_report(), ALL_RULES))
    return doc


def test_valid_against_schema() -> None:
    if not SCHEMA.is_file():
        pytest.skip(f"{SCHEMA} is absent (../shared/data)")
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(_doc(), schema)


def test_rules_and_results() -> None:
    doc = _doc()
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids[:len(ALL_RULES)] == [r.id for r in ALL_RULES] and "CVE-2024-0001" in ids
    df001 = rules[ids.index("LSH-DF-001")]
    assert df001["properties"]["security-severity"] == "5.5"
    assert "hadolint:DL3007" in df001["properties"]["aliases"]
    assert df001["help"]["text"].startswith("Name a release tag")
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["partialFingerprints"]["lashingFingerprint/v1"]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    loc = by_rule["LSH-DF-001"]["locations"][0]["physicalLocation"]
    assert loc == {"artifactLocation": {"uri": "src/Dockerfile"}, "region": {"startLine": 1}}
    assert by_rule["LSH-DF-001"]["level"] == "warning"
    sup = by_rule["LSH-DF-030"]["suppressions"][0]
    assert sup["kind"] == "inSource" and sup["justification"] == "vendor installer"
    assert "suppressions" not in by_rule["LSH-DF-020"]


def test_vulnerability_and_image_paths() -> None:
    run = _doc()["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["CVE-2024-0001"]["properties"]["security-severity"] == "9.8"
    assert rules["CVE-2024-0001"]["help"]["text"] == "Upgrade openssl to 3.0.2."
    by_rule = {r["ruleId"]: r for r in run["results"]}
    vuln = by_rule["CVE-2024-0001"]
    assert vuln["level"] == "error"
    assert vuln["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "/var/lib/dpkg/status"
    assert vuln["properties"]["layer"] == "sha256:" + "c" * 64
    shadow = by_rule["LSH-IMG-022"]
    assert shadow["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert shadow["properties"]["layer"] == "sha256:" + "d" * 64


def test_deterministic() -> None:
    assert sarif.render(_report(), ALL_RULES) == sarif.render(_report(), ALL_RULES)
