"""A Markdown summary of a report document, sized for a pull-request comment.

`render(doc)` takes the JSON report document (`report.json.to_document`, or
`json.loads` of a stored report, with or without the `audit` key) and returns
Markdown: a per-surface table with the gates, the worst findings, how many
more there are, the items that failed and what was not covered.

The document helpers below (`check_document`, `surface_rows`, `worst_first`,
`failed_items`, `where`) are what every document renderer reads; the HTML
renderer uses them too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lashing.errors import InputError
from lashing.model import FindingKind, Severity, Surface

SEVERITIES: tuple[str, ...] = tuple(s.value for s in sorted(Severity, key=lambda s: -s.rank))
SURFACES: tuple[str, ...] = tuple(s.value for s in Surface)
KINDS: tuple[str, ...] = tuple(k.value for k in FindingKind)
_RANK = {s.value: s.rank for s in Severity}
TOP_FINDINGS = 20


@dataclass(frozen=True)
class SurfaceRow:
    """One surface's line in a summary: live findings by severity and its gate."""

    surface: str
    counts: dict[str, int]
    suppressed: int
    fail_on: str | None = None  # None: the document has no gate for this surface
    gate: str | None = None  # "pass" or "fail"
    audited: bool = True  # False: an audit that did not cover this surface


def _problem(where: str, what: str) -> InputError:
    return InputError(f"report document: {where}: {what}",
                      "render a document written by 'lashing ... --format json'")


def _records(doc: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise _problem(key, "expected a list of objects")
    return value


def check_document(doc: object) -> Mapping[str, Any]:
    """The document, once its parts the renderers read have the right shape."""
    if not isinstance(doc, Mapping):
        raise _problem("top level", "expected a JSON object")
    for i, f in enumerate(_records(doc, "findings")):
        for key, allowed in (("severity", SEVERITIES), ("surface", SURFACES), ("kind", KINDS)):
            if f.get(key) not in allowed:
                raise _problem(f"findings[{i}].{key}", f"{str(f.get(key))[:40]!r} is not one "
                               f"of {', '.join(allowed)}")
        for key in ("rule_id", "target", "message"):
            if not isinstance(f.get(key, ""), str):
                raise _problem(f"findings[{i}].{key}", "expected a string")
        if not isinstance(f.get("location", {}), Mapping):
            raise _problem(f"findings[{i}].location", "expected an object")
    for key in ("targets", "checks", "issues", "connections"):
        _records(doc, key)
    if not isinstance(doc.get("tool", {}), Mapping):
        raise _problem("tool", "expected an object")
    for i, t in enumerate(_records(doc, "targets")):
        if not isinstance(t.get("packages", []), list):
            raise _problem(f"targets[{i}].packages", "expected a list")
    audit = doc.get("audit")
    if audit is not None:
        if not isinstance(audit, Mapping):
            raise _problem("audit", "expected an object")
        _records(audit, "items")
        _records(audit, "nist")
        surfaces = audit.get("surfaces", {})
        if not isinstance(surfaces, Mapping) or not all(
                isinstance(v, Mapping) and isinstance(v.get("counts", {}), Mapping)
                for v in surfaces.values()):
            raise _problem("audit.surfaces", "expected an object of surfaces with counts")
    return doc


def findings(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return _records(doc, "findings")


def is_live(f: Mapping[str, Any]) -> bool:
    return not f.get("suppressed")


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def surface_rows(doc: Mapping[str, Any]) -> list[SurfaceRow]:
    """Per surface: the audit's counts and gates, or counts derived from the findings."""
    suppressed = {s: 0 for s in SURFACES}
    derived = {s: dict.fromkeys(SEVERITIES, 0) for s in SURFACES}
    for f in findings(doc):
        if is_live(f):
            derived[f["surface"]][f["severity"]] += 1
        else:
            suppressed[f["surface"]] += 1
    audit = doc.get("audit")
    if not isinstance(audit, Mapping):
        return [SurfaceRow(s, derived[s], suppressed[s]) for s in SURFACES]
    rows = []
    surfaces: Mapping[str, Any] = audit.get("surfaces", {})
    for s in SURFACES:
        entry = surfaces.get(s)
        if entry is None:
            rows.append(SurfaceRow(s, derived[s], suppressed[s], audited=False))
            continue
        counts = {sev: _count(entry.get("counts", {}).get(sev)) for sev in SEVERITIES}
        fail_on = entry.get("fail_on") if isinstance(entry.get("fail_on"), str) else None
        gate = entry.get("gate") if entry.get("gate") in ("pass", "fail") else None
        hidden = entry.get("suppressed")
        rows.append(SurfaceRow(s, counts, hidden if isinstance(hidden, int) else suppressed[s],
                               fail_on=fail_on,
                               gate=gate if fail_on or gate == "fail" else None))
    return rows


def worst_first(items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    order = {s: i for i, s in enumerate(SURFACES)}
    return sorted(items, key=lambda f: (-_RANK[f["severity"]], order[f["surface"]],
                                        str(f.get("rule_id", "")), str(f.get("target", ""))))


def failed_items(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    audit = doc.get("audit")
    if not isinstance(audit, Mapping):
        return []
    return [i for i in _records(audit, "items") if i.get("status") == "error"]


def where(f: Mapping[str, Any]) -> str:
    """`path:line (resource)`, or what there is of it."""
    loc = f.get("location") or {}
    text = str(loc.get("path") or "")
    if text and loc.get("line"):
        text += f":{loc['line']}"
    if loc.get("resource"):
        text = f"{text} ({loc['resource']})" if text else str(loc["resource"])
    return text


def overall_gate(rows: Sequence[SurfaceRow]) -> str | None:
    gates = [r.gate for r in rows if r.gate is not None]
    if not gates:
        return None
    return "fail" if "fail" in gates else "pass"


# --- Markdown ---------------------------------------------------------------------------

_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def text(value: object, limit: int = 200) -> str:
    """Document text made inert in Markdown: one line, no markup, no HTML, no @mentions."""
    s = " ".join(str(value).split())
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", s).replace("@", "@\u200b")


def code(value: object, limit: int = 120) -> str:
    """An identifier or a path as a code span (no markup is read inside one)."""
    s = " ".join(str(value).split()).replace("`", "'").replace("|", "\\|")
    if len(s) > limit:
        s = "…" + s[-(limit - 1):]
    return f"`{s}`" if s else ""


def _gate_cell(row: SurfaceRow) -> str:
    if not row.audited:
        return "not audited"
    if row.gate is None:
        return "–"
    if row.gate == "fail":
        return f"**FAIL** (at or above {text(row.fail_on or '?')})"
    return f"pass (fail on {text(row.fail_on or '?')})"


def _surface_table(rows: Sequence[SurfaceRow]) -> list[str]:
    head = ["surface", *(s.lower() for s in SEVERITIES), "suppressed", "gate"]
    lines = ["| " + " | ".join(head) + " |",
             "| --- | " + " | ".join("---:" for _ in head[1:-1]) + " | --- |"]
    for r in rows:
        counts = [str(r.counts[s]) if r.audited else "–" for s in SEVERITIES]
        lines.append(f"| {r.surface} | " + " | ".join(counts)
                     + f" | {r.suppressed} | {_gate_cell(r)} |")
    return lines


def _headline(doc: Mapping[str, Any], rows: Sequence[SurfaceRow]) -> list[str]:
    audit = doc.get("audit")
    gate = overall_gate(rows)
    title = "lashing audit" if isinstance(audit, Mapping) else "lashing report"
    if gate is not None:
        title += ": **gate failed**" if gate == "fail" else ": gate passed"
    lines = [f"## {title}", ""]
    facts = []
    if isinstance(audit, Mapping):
        if audit.get("config"):
            facts.append(f"config {code(audit['config'])}")
        if audit.get("started"):
            facts.append(f"started {text(audit['started'])}")
        store = audit.get("store")
        if isinstance(store, Mapping) and store.get("run") is not None:
            facts.append(f"stored as run {text(store['run'])}")
        elif isinstance(store, Mapping) and store.get("error"):
            facts.append(f"**not stored**: {text(store['error'])}")
    all_findings = findings(doc)
    live = sum(1 for f in all_findings if is_live(f))
    facts.append(f"{live} finding(s)")
    if live != len(all_findings):
        facts.append(f"{len(all_findings) - live} suppressed")
    facts.append(f"{len(_records(doc, 'targets'))} target(s)")
    version = doc.get("tool", {}).get("version")
    if version:
        facts.append(f"lashing {text(version)}")
    lines.append(", ".join(facts) + ".")
    return lines


def _top(doc: Mapping[str, Any], limit: int) -> list[str]:
    live = worst_first([f for f in findings(doc) if is_live(f)])
    if not live:
        return ["No findings."]
    lines = [f"### Top findings ({min(limit, len(live))} of {len(live)})", "",
             "| severity | rule | surface | target | where | finding |",
             "| --- | --- | --- | --- | --- | --- |"]
    for f in live[:limit]:
        lines.append(f"| {f['severity']} | {code(f.get('rule_id', ''))} | {f['surface']} | "
                     f"{code(f.get('target', ''), 60)} | {code(where(f), 80)} | "
                     f"{text(f.get('message') or f.get('title', ''))} |")
    rest = live[limit:]
    if rest:
        by_sev = [f"{n} {s}" for s in SEVERITIES
                  if (n := sum(1 for f in rest if f["severity"] == s))]
        lines += ["", f"…and {len(rest)} more ({', '.join(by_sev)}); "
                      "see the full report (`--format json` or `--format html`)."]
    return lines


def _failed(doc: Mapping[str, Any]) -> list[str]:
    items = failed_items(doc)
    if not items:
        return []
    lines = ["", f"### Failed items ({len(items)})", ""]
    for i in items:
        lines.append(f"- {text(i.get('surface', '?'))} {text(i.get('kind', ''))} "
                     f"{code(i.get('name', '?'))}: "
                     f"{text(i.get('error') or 'failed')}")
    return lines


def _issues(doc: Mapping[str, Any]) -> list[str]:
    issues = _records(doc, "issues")
    if not issues:
        return []
    lines = ["", f"### Not fully covered ({len(issues)} issue(s))", ""]
    for i in issues[:10]:
        lines.append(f"- {text(i.get('stage', ''))}/{text(i.get('plugin', ''))}: "
                     f"{text(i.get('message', ''))}")
    if len(issues) > 10:
        lines.append(f"- …and {len(issues) - 10} more")
    return lines


def render(doc: Mapping[str, Any], limit: int = TOP_FINDINGS) -> str:
    check_document(doc)
    rows = surface_rows(doc)
    lines = [*_headline(doc, rows), "", *_surface_table(rows), "", *_top(doc, limit),
             *_failed(doc), *_issues(doc)]
    return "\n".join(lines) + "\n"
