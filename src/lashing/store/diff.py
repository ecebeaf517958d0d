"""Two reports compared by finding fingerprint: what was added, what was
fixed (gone), what is unchanged. Pure functions over report documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lashing.model import Severity

__all__ = ["DIFF_SCHEMA_VERSION", "ReportDiff", "compare", "gate_hit", "render_table",
           "to_document"]

DIFF_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ReportDiff:
    old_name: str
    new_name: str
    old: dict[str, Any]
    new: dict[str, Any]
    added: tuple[dict[str, Any], ...]
    fixed: tuple[dict[str, Any], ...]
    unchanged: tuple[dict[str, Any], ...]  # as in the new report


def _by_fingerprint(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for f in doc["findings"]:
        out.setdefault(f["fingerprint"], f)
    return out


def _rank(f: dict[str, Any]) -> int:
    return Severity(f["severity"]).rank


def _key(f: dict[str, Any]) -> tuple[int, str, str, str]:
    return (-_rank(f), f["rule_id"], f["target"], f["fingerprint"])


def compare(old: dict[str, Any], new: dict[str, Any], old_name: str = "old",
            new_name: str = "new") -> ReportDiff:
    before, after = _by_fingerprint(old), _by_fingerprint(new)
    added = sorted((f for fp, f in after.items() if fp not in before), key=_key)
    fixed = sorted((f for fp, f in before.items() if fp not in after), key=_key)
    same = sorted((f for fp, f in after.items() if fp in before), key=_key)
    return ReportDiff(old_name, new_name, old, new, tuple(added), tuple(fixed), tuple(same))


def gate_hit(diff: ReportDiff, fail_on: Severity | None) -> bool:
    """True when an added, unsuppressed finding is at or above `fail_on`."""
    if fail_on is None:
        return False
    return any(_rank(f) >= fail_on.rank for f in diff.added if "suppressed" not in f)


def _side(name: str, doc: dict[str, Any]) -> dict[str, Any]:
    tool = doc["tool"]
    database = tool.get("database") if isinstance(tool.get("database"), dict) else {}
    return {"source": name, "tool_version": tool["version"],
            "database_built": database.get("built") if database else None,
            "targets": [t["name"] for t in doc["targets"]], "findings": len(doc["findings"])}


def to_document(diff: ReportDiff) -> dict[str, Any]:
    return {
        "schema_version": DIFF_SCHEMA_VERSION,
        "old": _side(diff.old_name, diff.old),
        "new": _side(diff.new_name, diff.new),
        "summary": {"added": len(diff.added), "fixed": len(diff.fixed),
                    "unchanged": len(diff.unchanged)},
        "added": list(diff.added),
        "fixed": list(diff.fixed),
        "unchanged": list(diff.unchanged),
    }


def _what(f: dict[str, Any]) -> str:
    v = f.get("vulnerability")
    if isinstance(v, dict) and isinstance(v.get("package"), dict):
        fixed = ", ".join(v.get("fixed_versions") or []) or str(v.get("status") or "")
        return f"{v['package'].get('name')} {v.get('installed_version')} -> {fixed}"
    title = " ".join(str(f["title"]).split())
    return title if len(title) <= 60 else title[:59] + "…"


def _counts(findings: tuple[dict[str, Any], ...]) -> str:
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        counts[f["severity"]] += 1
    return ", ".join(f"{s} {n}" for s, n in counts.items() if n)


def _section(title: str, findings: tuple[dict[str, Any], ...]) -> list[str]:
    if not findings:
        return []
    lines = [f"{title}: {len(findings)} ({_counts(findings)})"]
    width = max(16, *(len(f["rule_id"]) for f in findings))
    for f in findings:
        mark = "  (suppressed)" if "suppressed" in f else ""
        lines.append(f"  {f['severity']:<8} {f['rule_id']:<{width}} {_what(f)}  "
                     f"[{f['target']}]{mark}")
    return lines


def render_table(diff: ReportDiff, show_unchanged: bool = False) -> str:
    lines = [f"old: {diff.old_name} ({len(diff.old['findings'])} findings)",
             f"new: {diff.new_name} ({len(diff.new['findings'])} findings)",
             f"added {len(diff.added)}, fixed {len(diff.fixed)}, "
             f"unchanged {len(diff.unchanged)}"]
    for title, findings in (("added", diff.added), ("fixed", diff.fixed)):
        section = _section(title, findings)
        if section:
            lines.append("")
            lines.extend(section)
    if show_unchanged and diff.unchanged:
        lines.append("")
        lines.extend(_section("unchanged", diff.unchanged))
    return "\n".join(lines) + "\n"
