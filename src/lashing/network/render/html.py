"""One self-contained HTML page: the reachability graph as inline SVG laid out
here (no script, no external asset; it works offline and from a file), the
connections table, findings and issues.

Layout: four columns, left to right: where traffic comes from outside
(internet, host, ingress controller), workloads reachable from outside, the
other workloads, and where traffic may go (the internet as a destination).
An endpoint that is both a source from outside and a destination (the
internet) is drawn in the first and the last column.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from lashing.model import Connection, Endpoint, EndpointKind, Report
from lashing.network.render import endpoint_label, endpoints, kind_label, pairs, ports_text

NODE_W, NODE_H, GAP_Y, COL_W, MARGIN = 190, 38, 16, 290, 24
COLORS = {EndpointKind.WORKLOAD: "#e8f0fe", EndpointKind.EXTERNAL: "#fde2e2",
          EndpointKind.HOST: "#fff4ce", EndpointKind.INGRESS_CONTROLLER: "#e6f4ea"}
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;
color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#59636e;font-size:13px}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #d1d9e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.sev-CRITICAL,.sev-HIGH{color:#b42318;font-weight:600}.sev-MEDIUM{color:#9a6700}
svg text{font-size:12px;font-family:inherit}
.graph{overflow-x:auto;border:1px solid #d1d9e0;border-radius:6px;padding:8px}
"""


@dataclass(frozen=True)
class _Box:
    endpoint: Endpoint
    col: int
    x: int
    y: int


def _columns(connections: tuple[Connection, ...]) -> list[list[tuple[Endpoint, str]]]:
    """Endpoints per column, with the role ("in", "node", "out") that places them."""
    inbound = {c.source for c in connections if c.source.kind is not EndpointKind.WORKLOAD}
    outbound = {c.destination for c in connections
                if c.destination.kind is not EndpointKind.WORKLOAD}
    workloads = [e for e in endpoints(connections) if e.kind is EndpointKind.WORKLOAD]
    exposed = {c.destination for c in connections if c.source in inbound}
    return [[(e, "in") for e in sorted(inbound)],
            [(e, "node") for e in workloads if e in exposed],
            [(e, "node") for e in workloads if e not in exposed],
            [(e, "out") for e in sorted(outbound)]]


def _layout(connections: tuple[Connection, ...]) -> tuple[dict[tuple[Endpoint, str], _Box],
                                                          int, int]:
    boxes: dict[tuple[Endpoint, str], _Box] = {}
    cols = [c for c in _columns(connections) if c]
    rows = max((len(c) for c in cols), default=0)
    height = 2 * MARGIN + rows * (NODE_H + GAP_Y)
    for k, col in enumerate(cols):
        top = MARGIN + (rows - len(col)) * (NODE_H + GAP_Y) // 2
        for i, (e, role) in enumerate(col):
            boxes[(e, role)] = _Box(e, k, MARGIN + k * COL_W, top + i * (NODE_H + GAP_Y))
    width = 2 * MARGIN + max(len(cols) - 1, 0) * COL_W + NODE_W + 80
    return boxes, width, height


def _place(boxes: dict[tuple[Endpoint, str], _Box], e: Endpoint, role: str) -> _Box:
    if e.kind is EndpointKind.WORKLOAD:
        return boxes[(e, "node")]
    return boxes[(e, role)]


def _edge(a: _Box, b: _Box, conns: list[Connection]) -> str:
    y1, y2 = a.y + NODE_H // 2, b.y + NODE_H // 2
    if b.col > a.col:
        x1, x2 = a.x + NODE_W, b.x
        dx = (x2 - x1) // 2
        path = f"M{x1},{y1} C{x1 + dx},{y1} {x2 - dx},{y2} {x2},{y2}"
    else:  # same column or backwards: an arc out to the right
        x1, x2 = a.x + NODE_W, b.x + NODE_W
        bulge = 30 + abs(y2 - y1) // 4
        path = f"M{x1},{y1} C{x1 + bulge},{y1} {x2 + bulge},{y2} {x2},{y2}"
    color = ("#d1242f" if a.endpoint.kind is EndpointKind.EXTERNAL else
             "#bf8700" if b.endpoint.kind is EndpointKind.EXTERNAL else "#6e7781")
    title = f"{endpoint_label(a.endpoint)} -> {endpoint_label(b.endpoint)}: " \
            f"{ports_text(conns)}"
    return (f'<path d="{path}" fill="none" stroke="{color}" stroke-width="1.4" '
            f'marker-end="url(#arrow)"><title>{escape(title)}</title></path>')


def _node(box: _Box) -> str:
    e = box.endpoint
    if e.kind is EndpointKind.WORKLOAD:
        first, second = str(e.name), f"{kind_label(e)} · {e.namespace or ''}"
    else:
        first, second = endpoint_label(e), ""
    if len(first) > 26:
        first = first[:25] + "…"
    if len(second) > 30:
        second = second[:29] + "…"
    cx = box.x + NODE_W // 2
    top = box.y + (16 if second else 23)
    text = (f'<text x="{cx}" y="{top}" text-anchor="middle" font-weight="600">'
            f"{escape(first)}</text>")
    if second:
        text += (f'<text x="{cx}" y="{box.y + 30}" text-anchor="middle" fill="#59636e">'
                 f"{escape(second)}</text>")
    return (f'<g class="node"><rect x="{box.x}" y="{box.y}" width="{NODE_W}" height="{NODE_H}" '
            f'rx="6" fill="{COLORS[e.kind]}" stroke="#57606a"/>{text}'
            f"<title>{escape(endpoint_label(e))}</title></g>")


def svg(report: Report) -> str:
    boxes, width, height = _layout(report.connections)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" '
             'aria-label="reachability graph">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
             'fill="#57606a"/></marker></defs>']
    for (src, dst), conns in pairs(report.connections).items():
        parts.append(_edge(_place(boxes, src, "in"), _place(boxes, dst, "out"), conns))
    parts.extend(_node(b) for b in boxes.values())
    parts.append("</svg>")
    return "\n".join(parts)


def _rows(cells: list[list[str]]) -> str:
    return "\n".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in cells)


def render(report: Report) -> str:
    title = "lashing network report"
    names = ", ".join(t.name for t in report.targets)
    grouped = sorted(pairs(report.connections).items(), key=lambda item: (
        item[0][1].kind is not EndpointKind.WORKLOAD, item[0][1], item[0][0]))
    live = [f for f in report.findings if f.suppression is None]
    body = [f"<h1>{escape(title)}</h1>",
            f'<p class="meta">{escape(names)} · lashing {escape(report.tool_version)} · '
            f"{len(report.connections)} connections · {len(live)} findings</p>",
            "<h2>Graph</h2>", f'<div class="graph">{svg(report)}</div>',
            '<p class="meta"><span style="color:#d1242f">red</span>: from outside · '
            '<span style="color:#bf8700">amber</span>: out to external addresses · grey: '
            "between workloads · hover an edge for its ports · all = every port of TCP, UDP "
            "and SCTP</p>",
            '<h2>Connections</h2><table id="connections"><thead><tr><th>destination</th>'
            "<th>source</th><th>protocols and ports</th></tr></thead><tbody>",
            _rows([[escape(endpoint_label(dst)), escape(endpoint_label(src)),
                    escape(ports_text(conns, short=True))] for (src, dst), conns in grouped]),
            "</tbody></table>"]
    if live:
        body += ['<h2>Findings</h2><table id="findings"><thead><tr><th>severity</th>'
                 "<th>rule</th><th>message</th><th>where</th></tr></thead><tbody>",
                 _rows([[f'<span class="sev-{f.severity.value}">{f.severity.value}</span>',
                         escape(f.rule_id), escape(f.message),
                         escape(f"{f.location.path or f.location.resource or ''}"
                                + (f":{f.location.line}" if f.location.line else ""))]
                        for f in sorted(live, key=lambda f: (-f.severity.rank, f.rule_id))]),
                 "</tbody></table>"]
    if report.issues:
        body += ['<h2>Issues</h2><ul id="issues">',
                 *(f"<li>{escape(i.location.path or '')}: {escape(i.message)}</li>"
                   for i in report.issues), "</ul>"]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\">"
            f"<title>{escape(title)}</title><style>{CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")
