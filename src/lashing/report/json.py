"""The JSON report of DESIGN.md: stable key order, sorted lists."""

from __future__ import annotations

import json
from typing import Any

from lashing.model import (
    Check,
    Connection,
    Endpoint,
    Finding,
    Issue,
    LayerInfo,
    Location,
    OSInfo,
    Package,
    Report,
    Target,
)

SCHEMA_VERSION = 1


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def location(loc: Location) -> dict[str, Any]:
    return _drop_none({"path": loc.path, "line": loc.line, "layer": loc.layer,
                       "resource": loc.resource})


def package(p: Package) -> dict[str, Any]:
    d: dict[str, Any] = {"name": p.name, "version": p.version, "ecosystem": p.ecosystem,
                         "purl": p.purl, "found_by": p.found_by}
    if p.source_name:
        d["source"] = _drop_none({"name": p.source_name, "version": p.source_version})
    if p.licenses:
        d["licenses"] = sorted(p.licenses)
    d["locations"] = [location(loc) for loc in sorted(p.locations, key=_loc_key)]
    return d


def _loc_key(loc: Location) -> tuple[str, int, str, str]:
    return (loc.path or "", loc.line or 0, loc.layer or "", loc.resource or "")


def os_info(o: OSInfo) -> dict[str, Any]:
    return {"family": o.family, "version": o.version, "name": o.name,
            "ecosystem": o.ecosystem, "supported": o.supported}


def layer(li: LayerInfo) -> dict[str, Any]:
    return {"diff_id": li.diff_id, "digest": li.digest, "media_type": li.media_type,
            "size": li.size, "created_by": li.created_by}


def target(t: Target) -> dict[str, Any]:
    d: dict[str, Any] = {"name": t.name, "kind": t.kind.value}
    if t.image_id is not None:
        d["image_id"] = t.image_id
        d["manifest_digest"] = t.manifest_digest
        d["repo_digests"] = sorted(t.repo_digests)
        d["platform"] = t.platform
        d["layers"] = [layer(li) for li in t.layers]  # layer order is meaningful
    d["os"] = os_info(t.os) if t.os else None
    d["packages"] = [package(p) for p in sorted(t.packages, key=lambda p: (p.ecosystem, p.name,
                                                                            p.version, p.purl))]
    return d


def finding(f: Finding) -> dict[str, Any]:
    d: dict[str, Any] = {
        "rule_id": f.rule_id, "kind": f.kind.value, "title": f.title,
        "severity": f.severity.value, "surface": f.surface.value, "target": f.target,
        "location": location(f.location), "message": f.message,
        "remediation": f.remediation, "references": list(f.references),
        "aliases": sorted(f.aliases), "nist": sorted(f.nist), "fingerprint": f.fingerprint,
    }
    if f.suppression is not None:
        d["suppressed"] = _drop_none({"kind": f.suppression.kind.value,
                                      "reason": f.suppression.reason,
                                      "expires": f.suppression.expires})
    if f.vulnerability is not None:
        v = f.vulnerability
        d["vulnerability"] = {
            "id": v.id, "package": package(v.package), "installed_version": v.installed_version,
            "fixed_versions": list(v.fixed_versions), "status": v.status.value,
            "cvss": [_drop_none({"version": c.version, "vector": c.vector, "score": c.score})
                     for c in v.cvss],
        }
    return d


def _finding_key(f: Finding) -> tuple[int, str, str, str]:
    return (-f.severity.rank, f.rule_id, f.target, f.fingerprint)


def check(c: Check) -> dict[str, Any]:
    return {"rule_id": c.rule_id, "target": c.target, "status": c.status.value,
            "reason": c.reason}


def issue(i: Issue) -> dict[str, Any]:
    return {"stage": i.stage, "plugin": i.plugin, "location": location(i.location),
            "message": i.message}


def endpoint(e: Endpoint) -> dict[str, Any]:
    return _drop_none({"kind": e.kind.value, "namespace": e.namespace, "name": e.name,
                       "workload_kind": e.workload_kind, "cidr": e.cidr})


def format_ports(ranges: tuple[tuple[int, int], ...]) -> str:
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def connection(c: Connection) -> dict[str, Any]:
    return {"source": endpoint(c.source), "destination": endpoint(c.destination),
            "protocol": c.protocol, "ports": format_ports(c.ports)}


def to_document(report: Report) -> dict[str, Any]:
    tool: dict[str, Any] = {"name": "lashing", "version": report.tool_version}
    if report.database is not None:
        tool["database"] = {"built": report.database.built,
                            "ecosystems": dict(sorted(report.database.ecosystems))}
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": tool,
        "targets": [target(t) for t in report.targets],
        "findings": [finding(f) for f in sorted(report.findings, key=_finding_key)],
        "checks": [check(c) for c in sorted(report.checks,
                                            key=lambda c: (c.rule_id, c.target, c.status))],
        "issues": [issue(i) for i in sorted(report.issues, key=lambda i: (
            i.stage, i.plugin, _loc_key(i.location), i.message))],
        "connections": [connection(c) for c in sorted(report.connections, key=lambda c: (
            c.source, c.destination, c.protocol))],
    }


def render(report: Report) -> str:
    return json.dumps(to_document(report), indent=2, ensure_ascii=False) + "\n"
