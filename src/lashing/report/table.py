"""A plain-text summary for people at a terminal."""

from __future__ import annotations

from lashing.model import Finding, Report, Severity, Target


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


def render(report: Report) -> str:
    lines: list[str] = []
    for t in report.targets:
        lines.extend(_target(t))
        lines.append("")
    counts = {s: 0 for s in Severity}
    for f in report.findings:
        if f.suppression is None:
            counts[f.severity] += 1
    total = sum(counts.values())
    summary = ", ".join(f"{s.value} {n}" for s, n in counts.items() if n)
    lines.append(f"findings: {total}" + (f" ({summary})" if summary else ""))
    for f in sorted(report.findings, key=lambda f: (-f.severity.rank, f.rule_id)):
        if f.suppression is None:
            lines.append(f"  {f.severity.value:<8} {f.rule_id:<16} {_what(f)}  {_where(f)}")
    if report.issues:
        lines.append(f"issues: {len(report.issues)} (parts of the scan not covered)")
        for i in report.issues:
            where = f" {i.location.path}" if i.location.path else ""
            lines.append(f"  [{i.stage}/{i.plugin}]{where}: {i.message}")
    return "\n".join(lines) + "\n"
