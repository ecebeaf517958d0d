"""A reachability matrix: sources as rows, destinations as columns, each cell the
protocols and ports (`TCP:80,443 UDP:53`) or empty when there is no connection."""

from __future__ import annotations

import csv
import io

from lashing.model import Report
from lashing.network.render import endpoint_label, pairs, ports_text


def _cell(value: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; quote those."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def render(report: Report) -> str:
    grouped = pairs(report.connections)
    sources = sorted({s for s, _ in grouped})
    destinations = sorted({d for _, d in grouped})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["source \\ destination", *(_cell(endpoint_label(d)) for d in destinations)])
    for s in sources:
        writer.writerow([_cell(endpoint_label(s)),
                         *(ports_text(grouped[(s, d)]) if (s, d) in grouped else ""
                           for d in destinations)])
    return out.getvalue()
