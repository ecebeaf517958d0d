"""A plain-text view of a network report: connections grouped by destination,
then findings and issues."""

from __future__ import annotations

from lashing.model import Endpoint, EndpointKind, Finding, Report, Severity
from lashing.network.render import COMPOSE_KIND, endpoint_label, pairs, ports_text


def _heading(e: Endpoint) -> str:
    if e.kind is EndpointKind.WORKLOAD and e.workload_kind == COMPOSE_KIND:
        return f"to {endpoint_label(e)} (compose service)"
    return f"to {endpoint_label(e)}"


def _counts(findings: list[Finding]) -> str:
    return ", ".join(f"{s.value} {n}" for s in Severity
                     if (n := sum(f.severity is s for f in findings)))


def _where(f: Finding) -> str:
    loc = f.location
    where = loc.path or loc.resource or ""
    return f"{where}:{loc.line}" if loc.path and loc.line else where


def connections_lines(report: Report) -> list[str]:
    grouped = pairs(report.connections)
    by_dst: dict[Endpoint, list[tuple[Endpoint, str]]] = {}
    for (src, dst), conns in grouped.items():
        by_dst.setdefault(dst, []).append((src, ports_text(conns, short=True)))
    outside = sorted({endpoint_label(d) for (s, d) in grouped
                      if s.kind is EndpointKind.EXTERNAL})
    lines = [f"connections: {len(report.connections)} "
             f"({len(grouped)} source -> destination pairs)"]
    if outside:
        lines.append("reachable from external addresses: " + ", ".join(outside))
    if any(ports == "all" for v in by_dst.values() for _, ports in v):
        lines.append("all = every port of TCP, UDP and SCTP")
    width = max((len(endpoint_label(s)) for v in by_dst.values() for s, _ in v), default=4)
    for dst in sorted(by_dst, key=lambda d: (d.kind is not EndpointKind.WORKLOAD, d)):
        lines.append("")
        lines.append(_heading(dst))
        for src, ports in sorted(by_dst[dst]):
            lines.append(f"  from {endpoint_label(src):<{width}}  {ports}")
    return lines


def render(report: Report) -> str:
    lines = [f"{t.name} ({t.kind.value})" for t in report.targets]
    if lines:
        lines.append("")
    lines.extend(connections_lines(report))
    live = [f for f in report.findings if f.suppression is None]
    lines.append("")
    lines.append(f"findings: {len(live)}" + (f" ({_counts(live)})" if live else ""))
    id_width = max((len(f.rule_id) for f in live), default=0)
    for f in sorted(live, key=lambda f: (-f.severity.rank, f.rule_id, _where(f))):
        lines.append(f"  {f.severity.value:<8} {f.rule_id:<{id_width}}  {f.message}  "
                     f"{_where(f)}".rstrip())
    if report.issues:
        lines.append(f"issues: {len(report.issues)} (parts of the input not covered)")
        for i in report.issues:
            where = i.location.path or i.location.resource
            where = f"{where}:{i.location.line}" if where and i.location.line else where
            lines.append(f"  {where + ': ' if where else ''}{i.message}")
    return "\n".join(lines) + "\n"
