"""A Mermaid flowchart (renders in GitHub and GitLab Markdown): workloads grouped
in a subgraph per namespace or compose project."""

from __future__ import annotations

import re

from lashing.model import Endpoint, EndpointKind, Report
from lashing.network.render import endpoint_label, endpoints, kind_label, pairs, ports_text

_UNSAFE = re.compile(r'["<>#&`|\[\]{}()]')


def text(value: str) -> str:
    """Mermaid label text: characters with a meaning in its syntax become entity codes."""
    return _UNSAFE.sub(lambda m: f"#{ord(m.group())};", value)


def _node(node_id: str, e: Endpoint) -> str:
    if e.kind is EndpointKind.WORKLOAD:
        return f'{node_id}["{text(str(e.name))}<br/>{text(kind_label(e))}"]'
    label = text(endpoint_label(e))
    if e.kind is EndpointKind.EXTERNAL:
        return f'{node_id}(("{label}"))'
    return f'{node_id}[/"{label}"\\]'


def render(report: Report) -> str:
    nodes = endpoints(report.connections)
    ids = {e: f"n{i}" for i, e in enumerate(nodes)}
    lines = ["flowchart LR"]
    by_ns: dict[str, list[Endpoint]] = {}
    for e in nodes:
        if e.kind is EndpointKind.WORKLOAD:
            by_ns.setdefault(e.namespace or "", []).append(e)
        else:
            lines.append(f"  {_node(ids[e], e)}")
    for k, (ns, members) in enumerate(sorted(by_ns.items())):
        lines.append(f'  subgraph g{k}["{text(ns)}"]')
        lines.extend(f"    {_node(ids[e], e)}" for e in members)
        lines.append("  end")
    for (src, dst), conns in pairs(report.connections).items():
        lines.append(f'  {ids[src]} -->|"{text(ports_text(conns, True))}"| {ids[dst]}')
    return "\n".join(lines) + "\n"
