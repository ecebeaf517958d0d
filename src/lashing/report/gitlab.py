"""GitLab's container-scanning security report (schema 15.0.6) from a report document.

GitLab reads `artifacts:reports:container_scanning` files into its
vulnerability report and merge-request widget. Only vulnerabilities of image
and application packages belong there: misconfigurations, secrets and
build-host packages are not container scanning. Suppressed findings are left
out (a scan message counts them). Each vulnerability's `id` is a UUID derived
from the finding's fingerprint, so GitLab tracks the same finding across
pipelines.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from lashing.report.markdown import check_document, failed_items, findings, is_live

SCHEMA_VERSION = "15.0.6"
SCHEMA_URL = ("https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
              f"v{SCHEMA_VERSION}/dist/container-scanning-report-format.json")
SEVERITY = {"CRITICAL": "Critical", "HIGH": "High", "MEDIUM": "Medium", "LOW": "Low",
            "UNKNOWN": "Unknown"}
_TIME = "%Y-%m-%dT%H:%M:%S"  # the schema's pattern: no fraction, no zone
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://lashing.invalid/gitlab-finding")
MAX_NAME = 255


def _clip(value: object, limit: int) -> str:
    s = str(value or "").strip()
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _identifier(vuln_id: str) -> dict[str, str]:
    upper = vuln_id.upper()
    if upper.startswith("CVE-"):
        return {"type": "cve", "name": vuln_id, "value": vuln_id,
                "url": f"https://nvd.nist.gov/vuln/detail/{upper}"}
    prefix = vuln_id.split("-", 1)[0].lower() if "-" in vuln_id else "advisory"
    return {"type": prefix or "advisory", "name": vuln_id, "value": vuln_id,
            "url": f"https://osv.dev/vulnerability/{vuln_id}"}


def _identifiers(f: Mapping[str, Any]) -> list[dict[str, str]]:
    ids = [str(f.get("rule_id", ""))]
    ids += [str(a) for a in f.get("aliases", []) if isinstance(a, str)]
    seen: set[str] = set()
    out = []
    for i in ids:
        if i and i not in seen and len(i) <= MAX_NAME:
            seen.add(i)
            out.append(_identifier(i))
    return out


def _links(f: Mapping[str, Any]) -> list[dict[str, str]]:
    urls = [r for r in f.get("references", []) if isinstance(r, str)
            and r.startswith(("https://", "http://"))]
    return [{"url": u} for u in dict.fromkeys(urls)]


def _operating_systems(doc: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for t in doc.get("targets", []):
        os_info = t.get("os")
        if isinstance(os_info, Mapping) and os_info.get("family"):
            out[str(t.get("name"))] = f"{os_info['family']} {os_info.get('version', '')}".strip()
    return out


def _uuid(f: Mapping[str, Any], package: str, version: str) -> str:
    key = str(f.get("fingerprint") or "|".join(
        (str(f.get("rule_id")), str(f.get("target")), package, version)))
    return str(uuid.uuid5(_ID_NAMESPACE, key))


def vulnerability(f: Mapping[str, Any], operating_system: str) -> dict[str, Any] | None:
    v = f.get("vulnerability")
    if not isinstance(v, Mapping) or not isinstance(v.get("package"), Mapping):
        return None
    package = str(v["package"].get("name", ""))
    version = str(v.get("installed_version") or v["package"].get("version", ""))
    out: dict[str, Any] = {
        "id": _uuid(f, package, version),
        "name": _clip(f.get("title") or f.get("rule_id"), MAX_NAME),
        "description": _clip(f.get("message"), 1_000_000),
        "severity": SEVERITY[f["severity"]],
        "solution": _clip(f.get("remediation") or "No fix is available.", 7000),
        "identifiers": _identifiers(f),
        "links": _links(f),
        "location": {
            "dependency": {"package": {"name": package}, "version": version},
            "operating_system": operating_system,
            "image": str(f.get("target", "")),
        },
    }
    return out


def _start_time(doc: Mapping[str, Any], now: datetime) -> datetime:
    audit = doc.get("audit")
    started = audit.get("started") if isinstance(audit, Mapping) else None
    if isinstance(started, str):
        try:
            parsed = datetime.fromisoformat(started.replace("Z", "+00:00"))
        except ValueError:
            return now
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return now


def container_findings(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Vulnerabilities of image and application packages: what container scanning covers."""
    return [f for f in findings(doc)
            if f["kind"] == "vulnerability" and f["surface"] in ("image", "application")]


def to_document(doc: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    check_document(doc)
    end = (now or datetime.now(UTC)).astimezone(UTC)
    systems = _operating_systems(doc)
    candidates = container_findings(doc)
    vulns = [v for f in candidates if is_live(f)
             if (v := vulnerability(f, systems.get(str(f.get("target")), "Unknown")))]
    messages = []
    suppressed = sum(1 for f in candidates if not is_live(f))
    if suppressed:
        messages.append({"level": "info",
                         "value": f"{suppressed} suppressed vulnerability finding(s) left out"})
    failed = failed_items(doc)
    for item in failed:
        messages.append({"level": "warn", "value": _clip(
            f"{item.get('surface', '?')} {item.get('name', '?')} was not scanned: "
            f"{item.get('error', 'failed')}", 1000)})
    tool_version = str(doc.get("tool", {}).get("version") or "unknown")
    component = {"id": "lashing", "name": "lashing", "version": tool_version,
                 "vendor": {"name": "lashing"}}
    scan: dict[str, Any] = {
        "analyzer": component,
        "scanner": component,
        "type": "container_scanning",
        "start_time": min(_start_time(doc, end), end).strftime(_TIME),
        "end_time": end.strftime(_TIME),
        "status": "failure" if failed else "success",
    }
    if messages:
        scan["messages"] = messages
    return {"version": SCHEMA_VERSION, "schema": SCHEMA_URL, "scan": scan,
            "vulnerabilities": vulns, "remediations": []}


def render(doc: Mapping[str, Any], now: datetime | None = None) -> str:
    return json.dumps(to_document(doc, now), indent=2, ensure_ascii=False) + "\n"
