"""One self-contained HTML page from a report document: no external asset, works offline.

`render(doc)` takes the JSON report document (with or without the `audit`
key) and returns the page: summary cards per surface with their gates, severity
charts as inline SVG, a findings table with filters and search (a little
inline JavaScript), the NIST SP 800-190 table, the network graph (the SVG of
`lashing network --format html`), each target's packages, what failed or was
not covered, and one entry per rule.

Every string from the document is escaped; links are written only for
http(s) URLs; a Content-Security-Policy allows nothing but the page's own
style sheet and script (by hash), so injected markup stays inert twice over.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

from lashing.errors import InputError
from lashing.model import Connection, Endpoint, EndpointKind, Report
from lashing.report.markdown import (
    KINDS,
    SEVERITIES,
    SURFACES,
    SurfaceRow,
    check_document,
    failed_items,
    findings,
    is_live,
    overall_gate,
    surface_rows,
    where,
    worst_first,
)

MAX_GRAPH_NODES = 60
SEVERITY_COLOURS = {"CRITICAL": "#8e1b1b", "HIGH": "#d1495b", "MEDIUM": "#e89005",
                    "LOW": "#2b7bb9", "UNKNOWN": "#7a7f87"}


def e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _asset(name: str) -> str:
    return (resources.files("lashing.report") / "html_assets" / name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _link(url: object, label: object | None = None) -> str:
    text = e(label if label is not None else url)
    if isinstance(url, str) and re.match(r"https?://", url):
        return f'<a href="{e(url)}" rel="noreferrer noopener">{text}</a>'
    return text


class _Anchors:
    """One HTML id per rule id, safe and unique whatever the document holds."""

    def __init__(self, rule_ids: Iterable[str]) -> None:
        self.ids: dict[str, str] = {}
        for rule_id in rule_ids:
            base = "rule-" + re.sub(r"[^A-Za-z0-9_.-]", "_", rule_id)[:80]
            anchor, n = base, 1
            while anchor in self.ids.values():
                n += 1
                anchor = f"{base}-{n}"
            self.ids[rule_id] = anchor

    def ref(self, rule_id: str) -> str:
        if rule_id in self.ids:
            return f'<a href="#{self.ids[rule_id]}"><code>{e(rule_id)}</code></a>'
        return f"<code>{e(rule_id)}</code>"


# --- summary ----------------------------------------------------------------------------

def _stacked_bar(row: SurfaceRow, width: int = 260) -> str:
    total = sum(row.counts.values())
    parts, x = [], 0.0
    for sev in SEVERITIES:
        n = row.counts[sev]
        if not n:
            continue
        w = width * n / total
        parts.append(f'<rect class="bar" x="{x:.1f}" y="0" width="{w:.1f}" height="12" '
                     f'fill="{SEVERITY_COLOURS[sev]}" data-filter-severity="{sev}" '
                     f'data-filter-surface="{e(row.surface)}"><title>{n} {sev}</title></rect>')
        x += w
    if not parts:
        parts.append(f'<rect x="0" y="0" width="{width}" height="12" fill="#e4e7ec"/>')
    return (f'<svg width="{width}" height="12" role="img" aria-label="findings by severity">'
            + "".join(parts) + "</svg>")


def _card(row: SurfaceRow) -> str:
    total = sum(row.counts.values())
    if not row.audited:
        gate = '<span class="gate none">not audited</span>'
    elif row.gate is None:
        gate = '<span class="gate none">no gate</span>'
    else:
        gate = (f'<span class="gate {e(row.gate)}" title="the gate fails at or above '
                f'{e(row.fail_on)}">{e(row.gate)} · ≥ {e(row.fail_on or "?")}</span>')
    counts = "".join(f'<li><span class="dot {s}"></span>{row.counts[s]} {s.lower()}</li>'
                     for s in SEVERITIES)
    note = f" · {row.suppressed} suppressed" if row.suppressed else ""
    return (f'<div class="card{"" if row.audited else " off"}" data-surface="{e(row.surface)}">'
            f"<h3>{e(row.surface)} {gate}</h3>"
            f'<p class="total">{total} <small>finding(s){note}</small></p>'
            f"{_stacked_bar(row)}<ul class=\"counts\">{counts}</ul></div>")


def _severity_chart(rows: Sequence[SurfaceRow]) -> str:
    totals = {s: sum(r.counts[s] for r in rows) for s in SEVERITIES}
    top = max(totals.values()) or 1
    bars = []
    for i, sev in enumerate(SEVERITIES):
        y, w = i * 26, 230 * totals[sev] / top
        bars.append(f'<text x="0" y="{y + 14}">{sev}</text>'
                    f'<rect class="bar" x="80" y="{y + 2}" width="{w:.1f}" height="16" '
                    f'fill="{SEVERITY_COLOURS[sev]}" data-filter-severity="{sev}">'
                    f"<title>{totals[sev]} {sev}</title></rect>"
                    f'<text x="{86 + w:.1f}" y="{y + 14}">{totals[sev]}</text>')
    return ('<figure><figcaption>All surfaces, by severity (click a bar to filter)</figcaption>'
            f'<svg width="350" height="{26 * len(SEVERITIES)}" role="img" '
            f'aria-label="findings by severity">{"".join(bars)}</svg></figure>')


def _kind_chart(items: Sequence[Mapping[str, Any]]) -> str:
    totals = {k: sum(1 for f in items if f["kind"] == k) for k in KINDS}
    top = max(totals.values()) or 1
    bars = []
    for i, kind in enumerate(KINDS):
        y, w = i * 26, 190 * totals[kind] / top
        bars.append(f'<text x="0" y="{y + 14}">{kind}</text>'
                    f'<rect x="120" y="{y + 2}" width="{w:.1f}" height="16" fill="#223052"/>'
                    f'<text x="{126 + w:.1f}" y="{y + 14}">{totals[kind]}</text>')
    return ('<figure><figcaption>Live findings by kind</figcaption>'
            f'<svg width="350" height="{26 * len(KINDS)}" role="img" '
            f'aria-label="findings by kind">{"".join(bars)}</svg></figure>')


def _nist_chart(rows: Sequence[Mapping[str, Any]]) -> str:
    colours = {"fail": "#d1495b", "pass": "#2e8540", "not-checked": "#b0b6bf",
               "not-covered": "#e4e7ec"}
    totals = {k: sum(1 for r in rows if r.get("status") == k) for k in colours}
    bars = []
    for i, (status, colour) in enumerate(colours.items()):
        y, w = i * 26, 200 * totals[status] / (len(rows) or 1)
        bars.append(f'<text x="0" y="{y + 14}">{status}</text>'
                    f'<rect x="100" y="{y + 2}" width="{w:.1f}" height="16" fill="{colour}"/>'
                    f'<text x="{106 + w:.1f}" y="{y + 14}">{totals[status]}</text>')
    return (f'<figure><figcaption>NIST SP 800-190 areas ({len(rows)}) by status</figcaption>'
            f'<svg width="350" height="{26 * len(colours)}" role="img" '
            f'aria-label="NIST SP 800-190 coverage">{"".join(bars)}</svg></figure>')


# --- findings and rules -----------------------------------------------------------------

def _options(select_id: str, label: str, values: Sequence[str]) -> str:
    opts = "".join(f'<option value="{e(v)}">{e(v)}</option>' for v in values)
    return (f'<label>{label} <select id="{select_id}"><option value="">all</option>'
            f"{opts}</select></label>")


def _finding_row(f: Mapping[str, Any], anchors: _Anchors) -> str:
    supp = f.get("suppressed")
    searchable = " ".join(str(x) for x in (
        f.get("rule_id"), f.get("title"), f.get("message"), f.get("target"), where(f),
        " ".join(str(a) for a in f.get("aliases", [])))).lower()
    note = ""
    if isinstance(supp, Mapping):
        note = (f'<br><span class="hint">suppressed ({e(supp.get("kind"))}): '
                f'{e(supp.get("reason"))}</span>')
    return (f'<tr class="{"suppressed" if supp else ""}" data-severity="{f["severity"]}" '
            f'data-surface="{f["surface"]}" data-kind="{f["kind"]}" '
            f'data-suppressed="{"yes" if supp else "no"}" data-text="{e(searchable)}">'
            f'<td><span class="sev {f["severity"]}">{f["severity"]}</span></td>'
            f'<td class="rule-id">{anchors.ref(str(f.get("rule_id", "")))}</td>'
            f'<td>{f["kind"]}</td>'
            f'<td>{f["surface"]}</td><td><code>{e(f.get("target"))}</code>'
            f'<br><code class="where">{e(where(f))}</code></td>'
            f'<td class="note">{e(f.get("message") or f.get("title"))}{note}</td></tr>')


def _findings_section(items: Sequence[Mapping[str, Any]], anchors: _Anchors) -> str:
    rows = "".join(_finding_row(f, anchors) for f in worst_first(items))
    return ('<section id="findings"><h2>Findings <span id="shown-count"></span></h2>'
            '<div class="filters">' + _options("f-severity", "severity", SEVERITIES)
            + _options("f-surface", "surface", SURFACES) + _options("f-kind", "kind", KINDS)
            + '<input id="f-search" type="search" placeholder="search rule, package, path, '
            'message…" aria-label="search findings">'
            '<label><input id="f-suppressed" type="checkbox"> show suppressed</label></div>'
            "<table id=\"findings-table\"><thead><tr><th>severity</th><th>rule</th><th>kind</th>"
            "<th>surface</th><th>target and place</th><th>finding</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            '<p id="no-match" class="empty" hidden>No finding matches the filters.</p></section>')


def _rules_section(items: Sequence[Mapping[str, Any]], anchors: _Anchors) -> str:
    first: dict[str, Mapping[str, Any]] = {}
    count: dict[str, int] = {}
    for f in worst_first(items):
        rid = str(f.get("rule_id", ""))
        first.setdefault(rid, f)
        count[rid] = count.get(rid, 0) + 1
    if not first:
        return '<section id="rules"><h2>Rules</h2><p class="empty">No rule fired.</p></section>'
    parts = []
    for rid, f in sorted(first.items()):
        refs = "".join(f"<li>{_link(r)}</li>" for r in f.get("references", []))
        aliases = ", ".join(e(a) for a in f.get("aliases", []))
        nist = ", ".join(e(n) for n in f.get("nist", []))
        hint = (f"explain it: <code>lashing rules {e(rid)}</code>" if rid.startswith("LSH-")
                else f'advisory: {_link("https://osv.dev/vulnerability/" + rid, rid)}')
        parts.append(
            f'<article class="rule" id="{anchors.ids[rid]}"><h3><code>{e(rid)}</code> '
            f'<span class="sev {f["severity"]}">{f["severity"]}</span> {e(f.get("title"))}</h3>'
            f"<p>{count[rid]} finding(s) · {e(f['kind'])} · {e(f['surface'])}"
            + (f" · NIST SP 800-190 {nist}" if nist else "") + "</p>"
            + (f"<p><strong>Remediation:</strong> {e(f.get('remediation'))}</p>"
               if f.get("remediation") else "")
            + (f"<p>Also known as: {aliases}</p>" if aliases else "")
            + (f"<ul>{refs}</ul>" if refs else "")
            + f'<p class="hint">{hint}</p></article>')
    return '<section id="rules"><h2>Rules</h2>' + "".join(parts) + "</section>"


# --- NIST, network, SBOM, failures ------------------------------------------------------

def nist_rows(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The audit's NIST SP 800-190 table, or the same table derived from the checks and
    findings: fail (a failed check or a live finding in the area), pass, not-checked
    (rules cover the area, none ran here) or not-covered (no rule covers it)."""
    audit = doc.get("audit")
    if isinstance(audit, Mapping) and audit.get("nist"):
        return list(audit["nist"])
    from lashing.rules import ALL_RULES
    from lashing.rules.framework import NIST_TITLES

    statuses = [(str(c.get("rule_id")), c.get("status")) for c in doc.get("checks", [])]
    rows: list[Mapping[str, Any]] = []
    for area, title in NIST_TITLES.items():
        ids = sorted(r.id for r in ALL_RULES if area in r.nist)
        counts = {k: sum(1 for rid, st in statuses if st == k and rid in ids)
                  for k in ("pass", "fail", "not-checked")}
        live = sum(1 for f in findings(doc) if is_live(f) and area in f.get("nist", []))
        status = ("fail" if counts["fail"] or live else "pass" if counts["pass"]
                  else "not-checked" if ids else "not-covered")
        rows.append({"id": area, "title": title, "rules": ids, "checks": counts,
                     "findings": live, "status": status})
    return rows


def _nist_section(doc: Mapping[str, Any], anchors: _Anchors) -> str:
    body = []
    for r in nist_rows(doc):
        checks: Mapping[str, Any] = r.get("checks") or {}
        if not isinstance(checks, Mapping):
            checks = {}
        status = str(r.get("status", ""))
        rules = " ".join(anchors.ref(str(x)) for x in r.get("rules", []))
        body.append(f'<tr><td>{e(r.get("id"))}</td><td>{e(r.get("title"))}</td>'
                    f'<td class="rule-id">{rules}</td>'
                    + "".join(f'<td class="num">{e(checks.get(k, 0))}</td>'
                              for k in ("pass", "fail", "not-checked"))
                    + f'<td class="status {e(status)}">{e(status)}</td></tr>')
    return ('<section id="nist"><h2>NIST SP 800-190</h2><table><thead><tr><th>area</th>'
            "<th>title</th><th>covering rules</th><th>pass</th><th>fail</th>"
            f"<th>not checked</th><th>status</th></tr></thead><tbody>{''.join(body)}</tbody>"
            "</table></section>")


def _endpoint(value: object, where: str) -> Endpoint:
    if not isinstance(value, Mapping):
        raise InputError(f"report document: {where}: expected an object")
    try:
        kind = EndpointKind(str(value.get("kind")))
    except ValueError:
        raise InputError(f"report document: {where}.kind: {str(value.get('kind'))[:40]!r} is "
                         "not an endpoint kind") from None
    fields = {k: value.get(k) for k in ("namespace", "name", "workload_kind", "cidr")}
    if not all(v is None or isinstance(v, str) for v in fields.values()):
        raise InputError(f"report document: {where}: names must be strings")
    return Endpoint(kind, **fields)


def _ranges(text: object, where: str) -> tuple[tuple[int, int], ...]:
    ranges = []
    for part in str(text).split(","):
        m = re.fullmatch(r"(\d{1,5})(?:-(\d{1,5}))?", part.strip())
        if m is None or not 0 < int(m.group(1)) <= int(m.group(2) or m.group(1)) <= 65535:
            raise InputError(f"report document: {where}: {str(text)[:40]!r} is not a port list")
        ranges.append((int(m.group(1)), int(m.group(2) or m.group(1))))
    return tuple(ranges)


def connections(doc: Mapping[str, Any]) -> list[Connection]:
    """The document's connections as the model's, for the network renderers."""
    return [Connection(_endpoint(c.get("source"), f"connections[{i}].source"),
                       _endpoint(c.get("destination"), f"connections[{i}].destination"),
                       str(c.get("protocol", "")), _ranges(c.get("ports"), f"connections[{i}]"))
            for i, c in enumerate(doc.get("connections", []))]


def _network_section(doc: Mapping[str, Any]) -> str:
    from lashing.network.render import endpoint_label, endpoints, pairs, ports_text
    from lashing.network.render.html import svg

    conns = connections(doc)
    if not conns:
        return ('<section id="network"><h2>Network</h2><p class="empty">No connections in '
                "this report (run <code>lashing network</code> or an audit with a network "
                "surface).</p></section>")
    drawn = set(endpoints(conns)[:MAX_GRAPH_NODES])
    shown = tuple(c for c in conns if c.source in drawn and c.destination in drawn)
    more = (f'<p class="hint">The graph shows {len(drawn)} of {len(endpoints(conns))} '
            "endpoints; the table lists every connection.</p>"
            if len(drawn) < len(endpoints(conns)) else "")
    rows = "".join(f"<tr><td>{e(endpoint_label(a))}</td><td>{e(endpoint_label(b))}</td>"
                   f'<td class="mono">{e(ports_text(group))}</td></tr>'
                   for (a, b), group in pairs(conns).items())
    return ('<section id="network"><h2>Network</h2><figure id="network-graph"><figcaption>'
            "Who can reach whom: from outside (left) through the workloads to destinations "
            f"outside (right)</figcaption>{svg(Report(connections=shown))}</figure>{more}"
            "<table><thead><tr><th>from</th><th>to</th><th>protocols and ports</th></tr>"
            f"</thead><tbody>{rows}</tbody></table></section>")


def _sbom_section(doc: Mapping[str, Any]) -> str:
    parts = []
    for t in doc.get("targets", []):
        packages = [p for p in t.get("packages", []) if isinstance(p, Mapping)]
        os_info = t.get("os") if isinstance(t.get("os"), Mapping) else {}
        os_text = f" · {e(os_info.get('name') or os_info.get('family'))}" if os_info else ""
        rows = "".join(f"<tr><td>{e(p.get('name'))}</td><td>{e(p.get('version'))}</td>"
                       f"<td>{e(p.get('ecosystem'))}</td><td class=\"mono\">{e(p.get('purl'))}"
                       f"</td><td>{e(p.get('found_by'))}</td></tr>" for p in packages)
        table = ("<table><thead><tr><th>name</th><th>version</th><th>ecosystem</th><th>purl</th>"
                 f"<th>found by</th></tr></thead><tbody>{rows}</tbody></table>" if rows
                 else '<p class="empty">No packages.</p>')
        parts.append(f"<details><summary>{e(t.get('name'))} ({e(t.get('kind'))}){os_text} · "
                     f"{len(packages)} package(s)</summary>{table}</details>")
    body = "".join(parts) or '<p class="empty">No targets.</p>'
    return f'<section id="sbom"><h2>Packages (SBOM)</h2>{body}</section>'


def _problems_section(doc: Mapping[str, Any]) -> str:
    failed = "".join(f"<tr><td>{e(i.get('surface'))}</td><td>{e(i.get('kind'))}</td>"
                     f"<td><code>{e(i.get('name'))}</code></td><td>{e(i.get('error'))}</td></tr>"
                     for i in failed_items(doc))
    issues = "".join(f"<tr><td>{e(i.get('stage'))}</td><td>{e(i.get('plugin'))}</td>"
                     f"<td>{e(i.get('message'))}</td></tr>" for i in doc.get("issues", []))
    body = ""
    if failed:
        body += ("<h3>Items that failed</h3><table><thead><tr><th>surface</th><th>kind</th>"
                 "<th>item</th>"
                 f"<th>error</th></tr></thead><tbody>{failed}</tbody></table>")
    if issues:
        body += ("<h3>Not fully covered</h3><table><thead><tr><th>stage</th><th>plugin</th>"
                 f"<th>issue</th></tr></thead><tbody>{issues}</tbody></table>")
    body = body or '<p class="empty">Every item was examined completely.</p>'
    return f'<section id="problems"><h2>Failures and gaps</h2>{body}</section>'


# --- page -------------------------------------------------------------------------------

def _header(doc: Mapping[str, Any], rows: Sequence[SurfaceRow]) -> str:
    audit = doc.get("audit") if isinstance(doc.get("audit"), Mapping) else None
    tool: Mapping[str, Any] = doc.get("tool", {})
    facts = [f"lashing {e(tool.get('version') or '?')}"]
    database = tool.get("database")
    if isinstance(database, Mapping) and database.get("built"):
        facts.append(f"database built {e(database['built'])}")
    if audit:
        if audit.get("config"):
            facts.append(f"config <code>{e(audit['config'])}</code>")
        if audit.get("started"):
            facts.append(f"started {e(audit['started'])}")
        store = audit.get("store")
        if isinstance(store, Mapping) and store.get("run") is not None:
            facts.append(f"stored as run {e(store['run'])}")
        elif isinstance(store, Mapping) and store.get("error"):
            facts.append(f"NOT stored: {e(store['error'])}")
    facts.append(f"{len(doc.get('targets', []))} target(s)")
    failed = len(failed_items(doc))
    if failed:
        facts.append(f'<a href="#problems">{failed} item(s) could not be audited</a>')
    gate = overall_gate(rows)
    verdict = ("" if gate is None else
               f'<p class="verdict {gate}">{"Gate failed" if gate == "fail" else "Gate passed"}'
               "</p>")
    return (f"<header><h1>lashing {'audit ' if audit else ''}report</h1>"
            f'<p class="meta">{" · ".join(facts)}</p>{verdict}</header>')


def render(doc: Mapping[str, Any]) -> str:
    check_document(doc)
    rows = surface_rows(doc)
    items = findings(doc)
    anchors = _Anchors(sorted({str(f.get("rule_id", "")) for f in items}))
    css, js = _asset("report.css"), _asset("report.js")
    csp = (f"default-src 'none'; style-src {_sha256(css)}; script-src {_sha256(js)}; "
           "img-src data:; base-uri 'none'; form-action 'none'")
    title = "lashing audit report" if isinstance(doc.get("audit"), Mapping) else "lashing report"
    nav = "".join(f'<a href="#{i}">{t}</a>' for i, t in (
        ("summary", "Summary"), ("findings", "Findings"), ("nist", "NIST SP 800-190"),
        ("network", "Network"), ("sbom", "Packages"), ("problems", "Failures and gaps"),
        ("rules", "Rules")))
    summary = ('<section id="summary"><h2>Summary</h2><div class="cards">'
               + "".join(_card(r) for r in rows) + '</div><div class="charts">'
               + _severity_chart(rows) + _kind_chart([f for f in items if is_live(f)])
               + _nist_chart(nist_rows(doc))
               + "</div></section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title><style>{css}</style></head><body>"
            f"{_header(doc, rows)}<nav>{nav}</nav><main>{summary}"
            f"{_findings_section(items, anchors)}{_nist_section(doc, anchors)}"
            f"{_network_section(doc)}{_sbom_section(doc)}{_problems_section(doc)}"
            f"{_rules_section(items, anchors)}</main>"
            "<footer>Written by lashing. Secrets are redacted; every value from the report is "
            f"shown as text.</footer><script>{js}</script></body></html>\n")
