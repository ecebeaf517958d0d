"""Graphviz DOT: one node per endpoint (workloads boxed and clustered by
namespace or compose project), one edge per source -> destination pair."""

from __future__ import annotations

from lashing.model import Endpoint, EndpointKind, Report
from lashing.network.render import endpoint_label, endpoints, kind_label, pairs, ports_text

SHAPES = {EndpointKind.WORKLOAD: "box", EndpointKind.EXTERNAL: "ellipse",
          EndpointKind.HOST: "house", EndpointKind.INGRESS_CONTROLLER: "invhouse"}


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render(report: Report) -> str:
    nodes = endpoints(report.connections)
    ids = {e: f"n{i}" for i, e in enumerate(nodes)}
    lines = ["digraph network {", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    by_ns: dict[str, list[Endpoint]] = {}
    for e in nodes:
        if e.kind is EndpointKind.WORKLOAD:
            by_ns.setdefault(e.namespace or "", []).append(e)
        else:
            style = ', style=filled, fillcolor="#fde2e2"' if e.kind is EndpointKind.EXTERNAL \
                else ""
            lines.append(f"  {ids[e]} [label={quote(endpoint_label(e))}, "
                         f"shape={SHAPES[e.kind]}{style}];")
    for k, (ns, members) in enumerate(sorted(by_ns.items())):
        lines.append(f"  subgraph cluster_{k} {{")
        lines.append(f"    label={quote(ns)};")
        for e in members:
            label = f"{e.name}\n{kind_label(e)}"
            lines.append(f"    {ids[e]} [label={quote(label)}, shape=box];")
        lines.append("  }")
    for (src, dst), conns in pairs(report.connections).items():
        lines.append(f"  {ids[src]} -> {ids[dst]} [label={quote(ports_text(conns, True))}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
