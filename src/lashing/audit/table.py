"""The audit as text for a terminal: items, per-surface summary and gates, the
NIST SP 800-190 table, then findings, worst first. Pure: document -> text."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from lashing.model import Severity

MAX_FINDINGS = 50
MESSAGE_WIDTH = 90
MESSAGE_LINES = 3


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def _items(audit: Mapping[str, Any]) -> list[str]:
    lines = ["inputs:"]
    for i in audit["items"]:
        status = "ok" if i["status"] == "ok" else "ERROR"
        line = f"  {status:<6} {i['kind']:<11} {i['name']}"
        if i.get("error"):
            line += f"\n         {_short(i['error'], MESSAGE_WIDTH)}"
        lines.append(line)
    if not audit["items"]:
        lines.append("  (nothing)")
    return lines


def _surfaces(audit: Mapping[str, Any]) -> list[str]:
    sevs = [s.value for s in Severity]
    lines = ["", f"{'surface':<12} " + " ".join(f"{s:>8}" for s in sevs)
             + f" {'suppressed':>10}  gate"]
    for name, s in audit["surfaces"].items():
        gate = f"{s['gate'].upper()} (fail on {s['fail_on']})" if s["fail_on"] else "no gate"
        lines.append(f"{name:<12} " + " ".join(f"{s['counts'][v]:>8}" for v in sevs)
                     + f" {s['suppressed']:>10}  {gate}")
    return lines


def _nist(audit: Mapping[str, Any]) -> list[str]:
    lines = ["", "NIST SP 800-190 countermeasure areas:"]
    for row in audit["nist"]:
        c = row["checks"]
        lines.append(f"  {row['id']:<6} {_short(row['title'], 58):<58} {row['status']:<12} "
                     f"{len(row['rules']):>3} rules  {c['pass']} pass, {c['fail']} fail, "
                     f"{c['not-checked']} not checked")
    return lines


def _findings(doc: Mapping[str, Any]) -> list[str]:
    live = [f for f in doc["findings"] if "suppressed" not in f]
    hidden = len(doc["findings"]) - len(live)
    lines = ["", f"findings, worst first: {len(live)} live, {hidden} suppressed"]
    for f in live[:MAX_FINDINGS]:  # the document lists findings worst first
        where = f["location"].get("resource") or f["location"].get("path") or ""
        if where == f["target"]:
            where = ""
        lines.append(f"  {f['severity']:<8} {f['rule_id']:<16} {f['surface']:<11} "
                     f"{_short(f['target'], 48)} {_short(where, 40)}".rstrip())
        text = textwrap.wrap(" ".join((f["message"] or f["title"]).split()), MESSAGE_WIDTH)
        if len(text) > MESSAGE_LINES:
            text = [*text[:MESSAGE_LINES - 1], _short(" ".join(text[MESSAGE_LINES - 1:]),
                                                      MESSAGE_WIDTH)]
        lines.extend(f"           {t}" for t in text)
    if len(live) > MAX_FINDINGS:
        lines.append(f"  ... and {len(live) - MAX_FINDINGS} more (see --format json)")
    return lines


def render(doc: Mapping[str, Any]) -> str:
    audit = doc["audit"]
    lines = [f"lashing audit: {audit['config']} (started {audit['started']})", ""]
    lines += _items(audit) + _surfaces(audit) + _nist(audit) + _findings(doc)
    if doc["issues"]:
        lines += ["", f"issues: {len(doc['issues'])} (what could not be covered)"]
        lines += [f"  {i['stage']}/{i['plugin']}: {_short(i['message'], MESSAGE_WIDTH)}"
                  for i in doc["issues"][:20]]
    store = audit.get("store")
    if store and store.get("error"):
        lines += ["", f"NOT stored in {store['spec']}: {store['error']}"]
    elif store:
        lines += ["", f"stored as run {store['run']} in {store['spec']}"]
    return "\n".join(lines) + "\n"


__all__ = ["render"]
