"""A plain-text summary for people at a terminal."""

from __future__ import annotations

from collections.abc import Sequence

from lashing.model import Finding, Report, Severity, Target, VulnStatus

TITLE_WIDTH = 60


def _human(n: int | None) -> str:
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _target(t: Target) -> list[str]:
    lines = [f"{t.name} ({t.kind.value})"]
    if t.image_id:
        lines.append(f"  image id:        {t.image_id}")
        lines.append(f"  manifest digest: {t.manifest_digest or '-'}")
        for rd in t.repo_digests:
            lines.append(f"  repo digest:     {rd}")
        lines.append(f"  platform:        {t.platform or '-'}")
    if t.os is not None:
        cover = "covered" if t.os.supported else "NOT covered"
        lines.append(f"  os:              {t.os.name} [{t.os.ecosystem or 'no OSV feed'}, {cover}]")
    else:
        lines.append("  os:              unknown")
    if t.layers:
        lines.append(f"  layers:          {len(t.layers)}")
        for i, layer in enumerate(t.layers, 1):
            created = layer.created_by.replace("\n", " ")
            if len(created) > 60:
                created = created[:57] + "..."
            lines.append(f"    {i:>2}. {layer.diff_id[:19]}  {_human(layer.size):>10}  {created}")
    if t.packages:
        lines.append(f"  packages:        {len(t.packages)}")
    return lines


def _what(f: Finding) -> str:
    v = f.vulnerability
    if v is None:
        return f.title
    fixed = ", ".join(v.fixed_versions) or v.status.value
    return f"{v.package.name} {v.installed_version} -> {fixed}"


def _where(f: Finding) -> str:
    loc = f.location
    where = loc.path or loc.resource or ""
    if loc.path and loc.line:
        where += f":{loc.line}"
    if loc.layer:
        where += f" (layer {loc.layer[7:19]})"
    return where


def _counts(findings: Sequence[Finding]) -> str:
    """'HIGH 2, LOW 1': the non-zero counts per severity, worst first."""
    counts = {s: 0 for s in Severity}
    for f in findings:
        counts[f.severity] += 1
    return ", ".join(f"{s.value} {n}" for s, n in counts.items() if n)


# --- vulnerabilities, grouped by package --------------------------------------

def _package_key(f: Finding) -> tuple[str, str, str]:
    assert f.vulnerability is not None
    p = f.vulnerability.package
    return (f.target, p.purl or f"{p.ecosystem}/{p.name}@{p.version}", f.location.path or "")


def _fix(f: Finding) -> str:
    assert f.vulnerability is not None
    v = f.vulnerability
    if v.fixed_versions:
        return "fixed in " + ", ".join(v.fixed_versions)
    return "no fix yet" if v.status is VulnStatus.UNFIXED else v.status.value


def _short(text: str, width: int = TITLE_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def _vulnerabilities(vulns: list[Finding], several_targets: bool) -> list[str]:
    """One line per package with its counts, then its vulnerabilities indented;
    the packages with the worst vulnerabilities first."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in vulns:
        groups.setdefault(_package_key(f), []).append(f)

    def rank(item: tuple[tuple[str, str, str], list[Finding]]) -> tuple[int, int, str]:
        key, fs = item
        return (-max(f.severity.rank for f in fs), -len(fs), key[1])

    id_width = max(16, *(len(f.rule_id) for f in vulns))
    fix_width = min(28, max(len(_fix(f)) for f in vulns))
    lines = [f"vulnerabilities: {len(vulns)} in {len(groups)} package(s) ({_counts(vulns)})"]
    for (target, _, _), fs in sorted(groups.items(), key=rank):
        first = fs[0]
        assert first.vulnerability is not None
        p = first.vulnerability.package
        head = f"  {p.name} {first.vulnerability.installed_version} ({p.ecosystem})"
        head += f"  {_counts(fs)}"
        where = _where(first)
        if where:
            head += f"  {where}"
        if several_targets:
            head += f"  [{target}]"
        lines.append(head)
        for f in sorted(fs, key=lambda f: (-f.severity.rank, f.rule_id)):
            lines.append(f"    {f.severity.value:<8} {f.rule_id:<{id_width}} "
                         f"{_fix(f):<{fix_width}}  {_short(f.title)}".rstrip())
    return lines


def render(report: Report) -> str:
    lines: list[str] = []
    for t in report.targets:
        lines.extend(_target(t))
        lines.append("")
    live = [f for f in report.findings if f.suppression is None]
    summary = _counts(live)
    lines.append(f"findings: {len(live)}" + (f" ({summary})" if summary else ""))
    vulns = [f for f in live if f.vulnerability is not None]
    others = [f for f in live if f.vulnerability is None]
    if vulns:
        lines.extend(_vulnerabilities(vulns, len(report.targets) > 1))
        if others:
            lines.append(f"other findings: {len(others)} ({_counts(others)})")
    for f in sorted(others, key=lambda f: (-f.severity.rank, f.rule_id)):
        lines.append(f"  {f.severity.value:<8} {f.rule_id:<16} {_what(f)}  {_where(f)}")
    if report.issues:
        lines.append(f"issues: {len(report.issues)} (parts of the scan not covered)")
        for i in report.issues:
            where = f" {i.location.path}" if i.location.path else ""
            lines.append(f"  [{i.stage}/{i.plugin}]{where}: {i.message}")
    return "\n".join(lines) + "\n"
