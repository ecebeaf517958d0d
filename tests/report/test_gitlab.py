"""GitLab container-scanning report: the shape of security-report-schemas 15.x
(a hand-written subset of container-scanning-report-format.json: the required
keys, enums and patterns GitLab validates), from real report documents."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from test_html_documents import audit_document, plain_image_document

from lashing.errors import InputError
from lashing.report import gitlab

from cli_helpers import run

NOW = datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)
TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"}
TEXT = {"type": "string", "minLength": 1}
COMPONENT = {"type": "object", "required": ["id", "name", "version", "vendor"],
             "properties": {"id": TEXT, "name": TEXT, "version": TEXT,
                            "vendor": {"type": "object", "required": ["name"],
                                       "properties": {"name": TEXT}}}}
IDENTIFIER = {"type": "object", "required": ["type", "name", "value"],
              "properties": {"type": {**TEXT, "maxLength": 255},
                             "name": {**TEXT, "maxLength": 255},
                             "value": {**TEXT, "maxLength": 255},
                             "url": {"type": "string", "pattern": "^https?://"}}}
CONTAINER_SCANNING_15 = {
    "type": "object",
    "required": ["version", "scan", "vulnerabilities"],
    "properties": {
        "version": {"type": "string", "pattern": r"^15\.\d+\.\d+$"},
        "schema": {"type": "string", "pattern": "^https://"},
        "scan": {
            "type": "object",
            "required": ["analyzer", "scanner", "type", "start_time", "end_time", "status"],
            "properties": {
                "analyzer": COMPONENT, "scanner": COMPONENT,
                "type": {"enum": ["container_scanning"]},
                "start_time": TIME, "end_time": TIME,
                "status": {"enum": ["success", "failure"]},
                "messages": {"type": "array", "items": {
                    "type": "object", "required": ["level", "value"],
                    "properties": {"level": {"enum": ["info", "warn", "fatal"]},
                                   "value": {"type": "string"}}}},
            },
        },
        "vulnerabilities": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "identifiers", "location"],
            "properties": {
                "id": TEXT,
                "name": {"type": "string", "maxLength": 255},
                "description": {"type": "string", "maxLength": 1048576},
                "severity": {"enum": ["Info", "Unknown", "Low", "Medium", "High", "Critical"]},
                "solution": {"type": "string", "maxLength": 7000},
                "identifiers": {"type": "array", "minItems": 1, "items": IDENTIFIER},
                "links": {"type": "array", "items": {
                    "type": "object", "required": ["url"],
                    "properties": {"url": {"type": "string", "pattern": "^https?://"}}}},
                "location": {
                    "type": "object",
                    "required": ["dependency", "operating_system", "image"],
                    "properties": {
                        "dependency": {"type": "object", "required": ["package", "version"],
                                       "properties": {"package": {
                                           "type": "object", "required": ["name"],
                                           "properties": {"name": TEXT}},
                                           "version": {"type": "string"}}},
                        "operating_system": TEXT,
                        "image": TEXT,
                    },
                },
            },
        }},
        "remediations": {"type": "array"},
    },
}


def _report(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(gitlab.render(doc, now=NOW))
    jsonschema.validate(out, CONTAINER_SCANNING_15)
    return out


def test_image_vulnerabilities_in_gitlab_shape() -> None:
    doc = plain_image_document()
    out = _report(doc)
    vulns = [f for f in doc["findings"] if f["kind"] == "vulnerability"]
    assert len(out["vulnerabilities"]) == len(vulns) > 0
    assert out["version"] == gitlab.SCHEMA_VERSION and out["version"].startswith("15.")
    assert out["scan"]["type"] == "container_scanning" and out["scan"]["status"] == "success"
    assert out["scan"]["end_time"] == "2026-11-26T15:00:00"
    by_cve = {v["identifiers"][0]["value"]: v for v in out["vulnerabilities"]}
    urllib3 = by_cve["CVE-2023-43804"]
    assert urllib3["severity"] == "High"
    assert urllib3["location"] == {
        "dependency": {"package": {"name": "urllib3"}, "version": "1.26.4"},
        "operating_system": "debian 12", "image": doc["targets"][0]["name"]}
    assert urllib3["identifiers"][0]["url"] == "https://nvd.nist.gov/vuln/detail/CVE-2023-43804"
    assert {"type": "ghsa", "name": "GHSA-v845-jxx5-vc9f", "value": "GHSA-v845-jxx5-vc9f",
            "url": "https://osv.dev/vulnerability/GHSA-v845-jxx5-vc9f"} in urllib3["identifiers"]
    assert "1.26.17" in urllib3["solution"]
    assert urllib3["links"] and all(link["url"].startswith("https://") for link in urllib3["links"])


def test_ids_are_stable_uuids_per_finding() -> None:
    doc = plain_image_document()
    first, second = _report(doc), _report(plain_image_document())
    ids = [v["id"] for v in first["vulnerabilities"]]
    assert ids == [v["id"] for v in second["vulnerabilities"]]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 5 for i in ids)


def test_only_container_vulnerabilities_and_failed_items_reported() -> None:
    doc = audit_document()
    out = _report(doc)
    expected = [f for f in doc["findings"] if f["kind"] == "vulnerability"
                and f["surface"] in ("image", "application")]
    assert len(out["vulnerabilities"]) == len(expected)
    assert len(doc["findings"]) > len(expected)  # misconfigurations, host findings left out
    assert out["scan"]["status"] == "failure"
    assert out["scan"]["start_time"] == "2026-11-26T14:00:00"  # the audit's start
    assert any("registry.example.com/shop/cart:2.0" in m["value"] and m["level"] == "warn"
               for m in out["scan"]["messages"])


def test_build_host_vulnerabilities_are_not_container_scanning() -> None:
    doc = plain_image_document()
    for f in doc["findings"]:
        if f["kind"] == "vulnerability":
            f["surface"] = "build-host"
    assert _report(doc)["vulnerabilities"] == []


def test_suppressed_vulnerabilities_are_left_out_and_counted() -> None:
    doc = plain_image_document()
    vuln = next(f for f in doc["findings"] if f["kind"] == "vulnerability")
    vuln["suppressed"] = {"kind": "vex", "reason": "not reachable"}
    out = _report(doc)
    total = sum(1 for f in doc["findings"] if f["kind"] == "vulnerability")
    assert len(out["vulnerabilities"]) == total - 1
    assert gitlab._uuid(vuln, "", "") not in {v["id"] for v in out["vulnerabilities"]}
    assert {"level": "info", "value": "1 suppressed vulnerability finding(s) left out"} \
        in out["scan"]["messages"]


def test_unknown_os_and_non_http_references() -> None:
    doc = plain_image_document()
    doc["targets"][0]["os"] = None
    vuln = next(f for f in doc["findings"] if f["kind"] == "vulnerability")
    vuln["references"] = ["javascript:alert(1)", "ftp://x", "https://example.com/a"]
    out = _report(doc)
    assert {v["location"]["operating_system"] for v in out["vulnerabilities"]} == {"Unknown"}
    links = next(v["links"] for v in out["vulnerabilities"]
                 if v["identifiers"][0]["value"] == vuln["rule_id"])
    assert links == [{"url": "https://example.com/a"}]


def test_no_vulnerabilities_is_a_valid_empty_report() -> None:
    doc = plain_image_document()
    doc["findings"] = [f for f in doc["findings"] if f["kind"] != "vulnerability"]
    out = _report(doc)
    assert out["vulnerabilities"] == [] and "messages" not in out["scan"]


def test_malformed_document_is_refused() -> None:
    doc = plain_image_document()
    doc["findings"][0]["kind"] = "rumour"
    with pytest.raises(InputError, match=r"findings\[0\]\.kind"):
        gitlab.render(doc)


def test_scan_writes_gitlab(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:latest\nUSER root\n")
    result = run("scan", str(tmp_path / "Dockerfile"), "--format", "gitlab", "--no-progress")
    assert result.code == 0, result.err
    out = json.loads(result.out)
    jsonschema.validate(out, CONTAINER_SCANNING_15)
    assert out["vulnerabilities"] == []  # a Dockerfile has misconfigurations only
