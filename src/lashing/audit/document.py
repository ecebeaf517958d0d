"""The audit's one JSON document: DESIGN's report shape plus the "audit" key.

    doc = to_document(result, config_path, fail_on, rules)
    doc["audit"]["store"] = {"spec": spec, "run": run_id}    # once recorded
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lashing.audit.runner import AuditResult
from lashing.audit.summary import nist_table, surfaces
from lashing.errors import InputError
from lashing.model import Severity, Surface
from lashing.report import json as json_report
from lashing.rules.framework import Rule

MAX_BASELINE_BYTES = 256 * 1024 * 1024


def to_document(result: AuditResult, config_path: Path,
                fail_on: Mapping[Surface, Severity], rules: Sequence[Rule[Any]]
                ) -> dict[str, Any]:
    doc = json_report.to_document(result.report)
    summary = surfaces(result.report.findings, fail_on)
    doc["audit"] = {
        "config": str(config_path),
        "started": result.started,
        "items": [{"surface": i.surface.value, "kind": i.kind, "name": i.name,
                   "status": i.status, **({"error": i.error} if i.error else {})}
                  for i in result.items],
        "surfaces": {s.value: summary[s].to_json() for s in Surface},
        "nist": nist_table(result.report, rules),
    }
    return doc


def gate_failed(doc: Mapping[str, Any]) -> bool:
    return any(s["gate"] == "fail" for s in doc["audit"]["surfaces"].values())


def render_json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def load_baseline(path: Path) -> frozenset[str]:
    """The fingerprints of a previous JSON report (any lashing report document)."""
    try:
        size = path.stat().st_size
        if size > MAX_BASELINE_BYTES:
            raise InputError(f"--baseline {path}: {size} bytes is too large for a report")
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"--baseline {path}: no such file") from None
    except OSError as exc:
        raise InputError(f"--baseline {path}: cannot read ({exc.strerror})") from None
    except (ValueError, RecursionError):
        raise InputError(f"--baseline {path}: not a JSON document") from None
    findings = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(findings, list):
        raise InputError(f"--baseline {path}: not a lashing report (no \"findings\" list)",
                         "write one with 'lashing audit --format json -o baseline.json'")
    return frozenset(f["fingerprint"] for f in findings
                     if isinstance(f, dict) and isinstance(f.get("fingerprint"), str))


__all__ = ["gate_failed", "load_baseline", "render_json", "to_document"]
