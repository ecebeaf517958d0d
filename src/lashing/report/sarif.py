"""SARIF 2.1.0: one run, the rules as `tool.driver.rules`, one result per finding
(an audit: one such run per surface, `render_audit`).

Pure: `render(report, rules) -> str`. Findings whose rule is not among
`rules` (vulnerabilities: CVE/GHSA ids) get a rule entry made from the
finding itself. Fingerprints go to `partialFingerprints["lashingFingerprint/v1"]`;
suppressed findings carry a SARIF suppression (inline -> inSource, the
others -> external), so code-scanning services show them as dismissed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from lashing.model import (
    Finding,
    FindingKind,
    Location,
    Report,
    Severity,
    SuppressionKind,
    Surface,
)
from lashing.rules.framework import NIST_TITLES, Rule

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "lashingFingerprint/v1"

LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
         Severity.LOW: "note", Severity.UNKNOWN: "note"}
# GitHub's scale: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "7.5", Severity.MEDIUM: "5.5",
                     Severity.LOW: "2.5", Severity.UNKNOWN: "0.0"}


def _name(title: str) -> str:
    """A PascalCase identifier from a title: 'Last USER is root' -> 'LastUserIsRoot'."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    return "".join(w[:1].upper() + w[1:].lower() for w in words) or "Rule"


def _tags(kind: FindingKind, surface: str, nist: Sequence[str]) -> list[str]:
    return ["security", kind.value, surface, *(f"NIST-SP-800-190-{n}" for n in nist)]


def rule_descriptor(rule: Rule[Any]) -> dict[str, Any]:
    help_text = rule.remediation or rule.title
    markdown = help_text
    if rule.references:
        markdown += "\n\n" + "\n".join(f"- <{ref}>" for ref in rule.references)
    if rule.nist:
        markdown += "\n\nNIST SP 800-190: " + ", ".join(
            f"{n} {NIST_TITLES.get(n, '')}".rstrip() for n in rule.nist)
    d: dict[str, Any] = {
        "id": rule.id,
        "name": _name(rule.title),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description or rule.title},
        "help": {"text": help_text, "markdown": markdown},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {
            "tags": _tags(rule.kind, rule.surface.value, rule.nist),
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "precision": "medium" if rule.kind is FindingKind.SECRET else "high",
            "aliases": list(rule.aliases),
            "nist": list(rule.nist),
        },
    }
    if rule.references:
        d["helpUri"] = rule.references[0]
    return d


def _vuln_score(f: Finding) -> str:
    scores = [c.score for c in (f.vulnerability.cvss if f.vulnerability else ())
              if c.score is not None]
    return f"{max(scores):.1f}" if scores else SECURITY_SEVERITY[f.severity]


def synthesized_descriptor(f: Finding) -> dict[str, Any]:
    """A rule entry for a finding without a Rule object (vulnerabilities)."""
    help_text = f.remediation
    if not help_text and f.vulnerability is not None:
        v = f.vulnerability
        help_text = (f"Upgrade {v.package.name} to {', '.join(v.fixed_versions)}."
                     if v.fixed_versions else f"No fixed version of {v.package.name} is known.")
    d: dict[str, Any] = {
        "id": f.rule_id,
        "name": _name(f.rule_id),
        "shortDescription": {"text": f.title or f.rule_id},
        "fullDescription": {"text": f.title or f.message or f.rule_id},
        "help": {"text": help_text or f.title or f.rule_id},
        "defaultConfiguration": {"level": LEVEL[f.severity]},
        "properties": {
            "tags": _tags(f.kind, f.surface.value, f.nist),
            "security-severity": _vuln_score(f) if f.kind is FindingKind.VULNERABILITY
            else SECURITY_SEVERITY[f.severity],
            "precision": "high",
            "aliases": sorted(f.aliases),
            "nist": list(f.nist),
        },
    }
    if f.references:
        d["helpUri"] = f.references[0]
    return d


def _uri(path: str, image_path: bool) -> str:
    if not image_path and PurePosixPath(path).is_absolute():
        return PurePosixPath(path).as_uri()
    return quote(path, safe="/:@-._~!$&'()*+,;=")


def _location(f: Finding) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """SARIF locations and extra result properties for a finding."""
    loc: Location = f.location
    if not loc.path and f.vulnerability is not None and f.vulnerability.package.locations:
        loc = f.vulnerability.package.locations[0]
    props: dict[str, Any] = {}
    if loc.layer:
        props["layer"] = loc.layer
    out: dict[str, Any] = {}
    if loc.path:
        image_path = loc.layer is not None or loc.path != f.target
        physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(loc.path, image_path)}}
        if loc.line:
            physical["region"] = {"startLine": loc.line}
        out["physicalLocation"] = physical
    if loc.resource:
        out["logicalLocations"] = [{"fullyQualifiedName": loc.resource, "kind": "resource"}]
    return ([out] if out else []), props


def _result(f: Finding, index: int) -> dict[str, Any]:
    locations, props = _location(f)
    r: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": index,
        "level": LEVEL[f.severity],
        "message": {"text": f.message or f.title},
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {"target": f.target, "severity": f.severity.value,
                       "surface": f.surface.value, "kind": f.kind.value, **props},
    }
    if locations:
        r["locations"] = locations
    if f.vulnerability is not None:
        v = f.vulnerability
        r["properties"]["package"] = {"name": v.package.name, "version": v.installed_version,
                                      "purl": v.package.purl}
        r["properties"]["fixedVersions"] = list(v.fixed_versions)
    if f.suppression is not None:
        s = f.suppression
        sup: dict[str, Any] = {
            "kind": "inSource" if s.kind is SuppressionKind.INLINE else "external",
            "status": "accepted",
            "justification": s.reason,
            "properties": {"lashingKind": s.kind.value},
        }
        if s.expires:
            sup["properties"]["expires"] = s.expires
        r["suppressions"] = [sup]
    return r


def _run(report: Report, rules: Sequence[Rule[Any]]) -> dict[str, Any]:
    descriptors: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for rule in rules:
        if rule.id not in index:
            index[rule.id] = len(descriptors)
            descriptors.append(rule_descriptor(rule))
    findings = sorted(report.findings, key=lambda f: (f.rule_id, f.target, f.fingerprint))
    for f in findings:
        if f.rule_id not in index:
            index[f.rule_id] = len(descriptors)
            descriptors.append(synthesized_descriptor(f))
    driver: dict[str, Any] = {"name": "lashing", "rules": descriptors}
    if report.tool_version:
        driver["version"] = report.tool_version
        if re.fullmatch(r"\d+\.\d+\.\d+.*", report.tool_version):
            driver["semanticVersion"] = report.tool_version
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "results": [_result(f, index[f.rule_id]) for f in findings],
        "columnKind": "unicodeCodePoints",
    }
    if report.targets:
        run["properties"] = {"targets": [t.name for t in report.targets]}
    return run


def to_document(report: Report, rules: Sequence[Rule[Any]]) -> dict[str, Any]:
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [_run(report, rules)]}


def to_audit_document(report: Report, rules: Sequence[Rule[Any]]) -> dict[str, Any]:
    """An audit: one run per surface (build-host, image, application, network), each
    with that surface's findings and rules and its own `automationDetails.id`, so
    code-scanning services keep the surfaces apart."""
    runs = []
    for surface in Surface:
        part = replace(report, findings=tuple(f for f in report.findings
                                              if f.surface is surface))
        run = _run(part, [r for r in rules if r.surface is surface])
        run["automationDetails"] = {"id": f"lashing-audit/{surface.value}/"}
        run.setdefault("properties", {})["surface"] = surface.value
        runs.append(run)
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}


def render(report: Report, rules: Sequence[Rule[Any]]) -> str:
    return json.dumps(to_document(report, rules), indent=2, ensure_ascii=False) + "\n"


def render_audit(report: Report, rules: Sequence[Rule[Any]]) -> str:
    return json.dumps(to_audit_document(report, rules), indent=2, ensure_ascii=False) + "\n"
