"""The text renderers of a network report: table, dot, mermaid, csv."""

from __future__ import annotations

import csv
import io
import re

from lashing.model import (
    Connection,
    Endpoint,
    EndpointKind,
    Finding,
    FindingKind,
    Issue,
    Location,
    Report,
    Severity,
    Surface,
    Target,
    TargetKind,
)
from lashing.network.ports import ALL_PORTS
from lashing.network.render import csv as csv_render
from lashing.network.render import dot, endpoint_label, mermaid, ports_text, table

WEB = Endpoint(EndpointKind.WORKLOAD, "shop", "web", "Deployment")
DB = Endpoint(EndpointKind.WORKLOAD, "shop", "db", "StatefulSet")
ODD = Endpoint(EndpointKind.WORKLOAD, "x", 'we"ird<name>|[1]', "Pod")
NET = Endpoint(EndpointKind.EXTERNAL, cidr="0.0.0.0/0")
LAN = Endpoint(EndpointKind.EXTERNAL, cidr="10.0.0.0/8")
INGRESS = Endpoint(EndpointKind.INGRESS_CONTROLLER)

CONNECTIONS = (
    Connection(INGRESS, WEB, "TCP", ((8080, 8080),)),
    Connection(NET, WEB, "TCP", ((80, 80), (443, 443))),
    Connection(WEB, DB, "TCP", ((5432, 5432),)),
    Connection(WEB, DB, "UDP", ((53, 53),)),
    Connection(DB, LAN, "TCP", ALL_PORTS),
    Connection(ODD, WEB, "TCP", ALL_PORTS),
    Connection(ODD, WEB, "UDP", ALL_PORTS),
    Connection(ODD, WEB, "SCTP", ALL_PORTS),
)
FINDING = Finding("LSH-NET-101", FindingKind.MISCONFIGURATION, "Datastore can reach the internet",
                  Severity.MEDIUM, Surface.NETWORK, "compose.yaml",
                  Location(path="compose.yaml", line=7), "service db: can reach the internet")
REPORT = Report(targets=(Target("deploy/", TargetKind.NETWORK),), findings=(FINDING,),
                issues=(Issue("network", "kubernetes", Location(path="a.yaml", line=3),
                              "unreadable port"),),
                connections=CONNECTIONS, tool_version="1.0")


def test_labels_and_ports_text() -> None:
    assert endpoint_label(WEB) == "Deployment/shop/web"
    assert endpoint_label(Endpoint(EndpointKind.WORKLOAD, "proj", "web", "Service")) == "proj/web"
    assert endpoint_label(NET) == "any address 0.0.0.0/0"
    assert endpoint_label(LAN) == "external 10.0.0.0/8"
    assert endpoint_label(INGRESS) == "ingress-controller"
    assert ports_text([CONNECTIONS[3], CONNECTIONS[2]]) == "TCP:5432 UDP:53"
    assert ports_text(CONNECTIONS[5:], short=True) == "all"
    assert ports_text(CONNECTIONS[5:6], short=True) == "TCP:all"
    assert ports_text(CONNECTIONS[5:6]) == "TCP:1-65535"


def test_table_groups_by_destination() -> None:
    text = table.render(REPORT)
    assert "connections: 8 (5 source -> destination pairs)" in text
    assert "reachable from external addresses: Deployment/shop/web" in text
    block = text.split("to Deployment/shop/web\n", 1)[1].split("\n\n", 1)[0]
    assert "from any address 0.0.0.0/0" in block and "TCP:80,443" in block
    assert "from ingress-controller" in block and "TCP:8080" in block
    assert re.search(r"from Pod/x/we\"ird<name>\|\[1\]\s+all", block)
    assert "to StatefulSet/shop/db\n  from Deployment/shop/web" in text
    assert "TCP:5432 UDP:53" in text
    assert "MEDIUM   LSH-NET-101  service db: can reach the internet  compose.yaml:7" in text
    assert "a.yaml:3: unreadable port" in text


def test_table_without_connections() -> None:
    text = table.render(Report())
    assert "connections: 0" in text and "findings: 0" in text


def test_dot_is_well_formed() -> None:
    text = dot.render(REPORT)
    assert text.startswith("digraph network {") and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    nodes = set(re.findall(r"^\s*(n\d+) \[label=", text, re.M))
    edges = re.findall(r"^\s*(n\d+) -> (n\d+) \[label=\"([^\"]*)\"\];$", text, re.M)
    assert len(nodes) == 6 and len(edges) == 5
    assert all(a in nodes and b in nodes for a, b, _ in edges)
    assert {label for _, _, label in edges} >= {"TCP:80,443", "TCP:5432 UDP:53", "all"}
    assert 'label="we\\"ird<name>|[1]\\nPod"' in text  # quotes escaped
    assert 'subgraph cluster_0 {\n    label="shop";' in text


def test_mermaid_is_well_formed() -> None:
    text = mermaid.render(REPORT)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    assert lines.count("  end") == 2  # subgraphs shop and x
    edges = [ln for ln in lines if "-->" in ln]
    assert len(edges) == 5
    for edge in edges:
        assert re.fullmatch(r'  n\d+ -->\|"[^"|]*"\| n\d+', edge), edge
    # characters with a meaning in Mermaid are entity codes in labels
    odd = next(ln for ln in lines if "ird" in ln)
    assert '"' not in odd.split('["', 1)[1].rsplit('"]', 1)[0]
    assert "#60;name#62;" in odd and "#124;" in odd
    assert '(("any address 0.0.0.0/0"))' in text


def test_csv_matrix() -> None:
    rows = list(csv.reader(io.StringIO(csv_render.render(REPORT))))
    header = rows[0]
    assert header[0] == "source \\ destination"
    assert sorted(header[1:]) == ["Deployment/shop/web", "StatefulSet/shop/db",
                                  "external 10.0.0.0/8"]
    by_source = {r[0]: dict(zip(header[1:], r[1:], strict=True)) for r in rows[1:]}
    web, db = "Deployment/shop/web", "StatefulSet/shop/db"
    assert by_source[web][db] == "TCP:5432 UDP:53"
    assert by_source[web][web] == ""
    assert by_source["any address 0.0.0.0/0"][web] == "TCP:80,443"
    assert by_source[db]["external 10.0.0.0/8"] == "TCP:1-65535"
    assert by_source['Pod/x/we"ird<name>|[1]'][web] == "TCP:1-65535 UDP:1-65535 SCTP:1-65535"


def test_csv_neutralises_formulas() -> None:
    evil = Endpoint(EndpointKind.WORKLOAD, None, "=HYPERLINK(1)", "Service")
    text = csv_render.render(Report(connections=(Connection(evil, WEB, "TCP", ((80, 80),)),)))
    assert "'=HYPERLINK(1)" in text
