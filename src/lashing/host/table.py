"""`lashing host --format table`: results grouped by area with pass/fail/
not-checked counts, in the spirit of docker-bench-security's report."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lashing.model import CheckStatus, Finding, Report

MARK = {CheckStatus.PASS: "PASS", CheckStatus.FAIL: "FAIL",
        CheckStatus.NOT_CHECKED: "NOTE", CheckStatus.NOT_APPLICABLE: "N/A "}


def render(report: Report, areas: Sequence[tuple[str, str]], area_of: Callable[[str], str],
           titles: dict[str, str], sources: Sequence[str]) -> str:
    """`areas`: (tag, heading) in order; `area_of(rule_id)` -> tag."""
    lines: list[str] = []
    for t in report.targets:
        lines.append(f"{t.name} ({t.kind.value})")
        if t.os is not None:
            lines.append(f"  os: {t.os.name or t.os.family + ' ' + t.os.version}")
    for s in sources:
        lines.append(f"  {s}")
    lines.append("")
    by_rule: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    totals = dict.fromkeys(CheckStatus, 0)
    for tag, heading in areas:
        checks = [c for c in report.checks if area_of(c.rule_id) == tag]
        vulns = [f for f in report.findings if f.vulnerability is not None] \
            if tag == "packages" else []
        if not checks and not vulns:
            continue
        counts = {s: sum(c.status is s for c in checks) for s in CheckStatus}
        for s, n in counts.items():
            totals[s] += n
        summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
        lines.append(f"[{heading}]" + (f"  {summary}" if summary else ""))
        for c in sorted(checks, key=lambda c: c.rule_id):
            title = titles.get(c.rule_id, c.rule_id)
            lines.append(f"  [{MARK[c.status]}] {c.rule_id}  {title}")
            if c.status is CheckStatus.FAIL:
                for f in by_rule.get(c.rule_id, []):
                    mark = " (suppressed)" if f.suppression else ""
                    path = f.location.path
                    where = f"  [{path}]" if path and path not in f.message else ""
                    lines.append(f"         {f.severity.value:<8} {f.message}{where}{mark}")
            elif c.status is CheckStatus.NOT_CHECKED and c.reason:
                lines.append(f"         {c.reason}")
        if vulns:
            lines.append(f"  {len(vulns)} vulnerabilit{'y' if len(vulns) == 1 else 'ies'} in "
                         "host packages:")
            for f in sorted(vulns, key=lambda f: (-f.severity.rank, f.rule_id))[:50]:
                v = f.vulnerability
                assert v is not None
                fixed = ", ".join(v.fixed_versions) or v.status.value
                lines.append(f"    {f.severity.value:<8} {f.rule_id:<20} {v.package.name} "
                             f"{v.installed_version} -> {fixed}")
            if len(vulns) > 50:
                lines.append(f"    ... and {len(vulns) - 50} more (see --format json)")
        lines.append("")
    lines.append("total: " + ", ".join(f"{n} {s.value}" for s, n in totals.items()))
    if report.issues:
        lines.append("")
        lines.append(f"issues ({len(report.issues)}):")
        for i in report.issues:
            where = i.location.path or i.location.resource or ""
            lines.append(f"  {i.stage}/{i.plugin} {where}: {i.message}")
    return "\n".join(lines) + "\n"
