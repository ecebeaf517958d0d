"""The self-contained HTML report, from real report documents: structure, escaping,
the content security policy, and rendering in headless Chromium."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from test_html_documents import HOSTILE, audit_document, hostile, plain_image_document

from lashing.errors import InputError
from lashing.report import html


class Page(HTMLParser):
    """Every element with its attributes, the text, and the inline style and script."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self._in: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        if tag in self.raw:
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.raw[self._in].append(data)
        else:
            self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag
                and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.elements if "id" in a}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return audit_document()


@pytest.fixture(scope="module")
def page(doc: dict[str, Any]) -> Page:
    return Page(html.render(doc))


def test_self_contained(page: Page) -> None:
    for tag, attrs in page.elements:
        assert tag not in ("link", "iframe", "object", "embed", "img"), tag
        for name in ("src", "href"):
            value = attrs.get(name, "")
            assert not value or value.startswith(("#", "https://", "http://")), value
        assert "style" not in attrs  # the CSP allows no inline style attributes
    # links out are references only; nothing is loaded from anywhere
    assert len(page.find("script")) == 1 and not page.find("script")[0].get("src")


def test_summary_cards_and_gates(page: Page, doc: dict[str, Any]) -> None:
    cards = page.find("div", **{"class": "card"})
    assert [c["data-surface"] for c in cards] == ["build-host", "image", "application",
                                                   "network"]
    text = " ".join(page.text)
    assert "Gate failed" in text
    assert "fail · ≥ HIGH" in text and "pass · ≥ CRITICAL" in text
    assert "1 item(s) could not be audited" in text
    assert "config" in text and "ci/lashing.toml" in text and "stored as run 12" in text
    # every count a card shows is the audit's
    for surface, entry in doc["audit"]["surfaces"].items():
        total = sum(entry["counts"].values())
        assert re.search(rf'data-surface="{surface}"><h3>.*?<p class="total">{total} ',
                         html.render(doc))


def test_findings_table_rows_and_filters(page: Page, doc: dict[str, Any]) -> None:
    rows = [a for t, a in page.elements if t == "tr" and "data-severity" in a]
    assert len(rows) == len(doc["findings"])
    assert {r["data-surface"] for r in rows} == {f["surface"] for f in doc["findings"]}
    assert {r["data-kind"] for r in rows} == {f["kind"] for f in doc["findings"]}
    ranks = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
    order = [ranks.index(r["data-severity"]) for r in rows]
    assert order == sorted(order)
    assert "cve-2023-43804" in " ".join(r["data-text"] for r in rows)
    for control in ("f-severity", "f-surface", "f-kind", "f-search", "f-suppressed"):
        assert control in page.ids()
    assert "shown-count" in page.ids()


def test_every_rule_link_has_its_explanation(page: Page, doc: dict[str, Any]) -> None:
    ids = page.ids()
    internal = [a["href"][1:] for t, a in page.elements if t == "a"
                and a.get("href", "").startswith("#")]
    assert internal and all(i in ids for i in internal)
    rules = {f["rule_id"] for f in doc["findings"]}
    articles = page.find("article")
    assert len(articles) == len(rules)
    text = " ".join(page.text)
    assert "lashing rules LSH-IMG-001" in text
    assert "the image runs as root" in text
    assert "Remediation:" in text


def test_nist_table_from_the_audit(page: Page, doc: dict[str, Any]) -> None:
    text = " ".join(page.text)
    for row in doc["audit"]["nist"]:
        assert row["title"] in text
    cells = [a for t, a in page.elements if t == "td" and "status" in a.get("class", "")]
    assert [c["class"].split()[1] for c in cells] == ["fail", "not-covered"]


def test_network_graph_nodes_and_edges(page: Page, doc: dict[str, Any]) -> None:
    assert "network-graph" in page.ids()
    nodes = page.find("g", **{"class": "node"})
    # 4 workloads, and the internet twice: where traffic comes in and where it goes out
    assert len(nodes) == 6
    pairs = {(json.dumps(c["source"]), json.dumps(c["destination"])) for c in doc["connections"]}
    assert len(page.find("path", **{"marker-end": "url(#arrow)"})) == len(pairs)
    text = " ".join(page.text)
    assert "StatefulSet/shop/db" in text and "TCP:1-65535" in text
    assert "any address 0.0.0.0/0" in text


def test_sbom_per_target_collapsible(page: Page, doc: dict[str, Any]) -> None:
    details = page.find("details")
    assert len(details) == len(doc["targets"])
    assert all("open" not in d for d in details)
    text = " ".join(page.text)
    assert "urllib3" in text and "pkg:pypi/urllib3@1.26.4" in text


def test_failed_items_and_gaps(page: Page) -> None:
    text = " ".join(page.text)
    assert "Items that failed" in text
    assert "registry.example.com/shop/cart:2.0" in text and "connection refused" in text
    assert "Not fully covered" in text


def test_content_security_policy_pins_the_page_own_code(page: Page) -> None:
    meta = page.find("meta", http_equiv="Content-Security-Policy")[0]["content"]
    for kind in ("script", "style"):
        body = "".join(page.raw[kind])
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{kind}-src 'sha256-{digest}'" in meta
    assert "default-src 'none'" in meta and "unsafe-inline" not in meta


def test_everything_from_the_document_is_escaped() -> None:
    out = html.render(hostile(audit_document()))
    page = Page(out)
    assert "<script>document" not in out and "<img src=x" not in out
    assert out.count("<script>") == 1
    assert "&lt;script&gt;document.body.setAttribute" in out
    assert HOSTILE in " ".join(page.text)  # shown as text, as written
    assert not any("javascript:" in a.get("href", "") for _, a in page.elements)
    assert not any(k.startswith("on") for _, a in page.elements for k in a)


def test_plain_scan_report() -> None:
    doc = plain_image_document()
    page = Page(html.render(doc))
    text = " ".join(page.text)
    assert "lashing report" in text and "Gate" not in text
    assert "No connections in this report" in text
    # NIST table derived from the checks and findings with the rules' own mapping
    statuses = {a["class"].split()[1] for t, a in page.elements
                if t == "td" and "status" in a.get("class", "")}
    assert "fail" in statuses and statuses <= {"fail", "pass", "not-checked", "not-covered"}
    assert "Image vulnerabilities" in text
    assert len(page.find("details")) == 1


def test_many_endpoints_are_capped_in_the_graph() -> None:
    doc = plain_image_document()
    doc["connections"] = [{"source": {"kind": "workload", "namespace": "ns", "name": f"w{i:02}"},
                           "destination": {"kind": "workload", "namespace": "ns",
                                           "name": f"w{i + 1:02}"},
                           "protocol": "TCP", "ports": "80"} for i in range(80)]
    out = html.render(doc)
    page = Page(out)
    assert len(page.find("g", **{"class": "node"})) == html.MAX_GRAPH_NODES
    assert "The graph shows 60 of 81 endpoints" in " ".join(page.text)
    assert len(re.findall(r"<tr><td>ns/w\d+</td><td>ns/w\d+</td>", out)) == 80  # all listed


@pytest.mark.parametrize("connection, problem", [
    ({"source": {"kind": "satellite"}, "destination": {"kind": "host"}, "ports": "80"},
     "connections[0].source.kind: 'satellite' is not an endpoint kind"),
    ({"source": {"kind": "host"}, "destination": "web", "ports": "80"},
     "connections[0].destination: expected an object"),
    ({"source": {"kind": "host"}, "destination": {"kind": "host"}, "ports": "80-70000"},
     "connections[0]: '80-70000' is not a port list"),
    ({"source": {"kind": "host", "name": 7}, "destination": {"kind": "host"}, "ports": "80"},
     "connections[0].source: names must be strings"),
])
def test_malformed_connections_are_refused(connection: dict[str, Any], problem: str) -> None:
    doc = plain_image_document()
    doc["connections"] = [connection]
    with pytest.raises(InputError, match=re.escape(problem)):
        html.render(doc)


def test_malformed_document_is_refused() -> None:
    doc = plain_image_document()
    doc["targets"] = {"name": "x"}
    with pytest.raises(InputError, match="targets: expected a list of objects"):
        html.render(doc)


# --- headless Chromium --------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")


def chromium(tmp: Path, *args: str) -> str:
    import subprocess

    if not CHROMIUM.exists():
        pytest.skip(f"needs {CHROMIUM} (Debian package chromium) to render the page")
    done = subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(html.render(_browser_document()), encoding="utf-8")
    return path


def _browser_document() -> dict[str, Any]:
    """The hostile audit document, its last (least severe) finding suppressed."""
    doc = hostile(audit_document())
    doc["findings"][-1]["suppressed"] = {"kind": "ignore-file", "reason": "accepted"}
    return doc


def test_browser_runs_the_script_and_not_the_document(page_file: Path, tmp_path: Path) -> None:
    dom = chromium(tmp_path, "--dump-dom", page_file.as_uri())
    total = len(audit_document()["findings"])
    shown = re.search(r'<span id="shown-count">(\d+) of (\d+) shown</span>', dom)
    assert shown is not None, "the page script did not run"
    assert int(shown.group(2)) == total
    assert int(shown.group(1)) == total - 1  # suppressed findings are hidden until asked for
    hidden = [a for t, a in Page(dom).elements if t == "tr" and "hidden" in a]
    assert [r["data-suppressed"] for r in hidden] == ["yes"]
    assert "data-pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]
    assert "Deployment/shop/web" in dom and "NIST SP 800-190" in dom


def test_browser_applies_filters_from_the_link(page_file: Path, tmp_path: Path) -> None:
    doc = _browser_document()
    assert doc["findings"][-1]["severity"] != "HIGH"
    high_image = sum(1 for f in doc["findings"]
                     if f["severity"] == "HIGH" and f["surface"] == "image")
    dom = chromium(tmp_path, "--dump-dom",
                   page_file.as_uri() + "#filter?severity=HIGH&surface=image")
    assert f"{high_image} of {len(doc['findings'])} shown" in dom
    rows = [a for t, a in Page(dom).elements if t == "tr" and "data-severity" in a]
    visible = [r for r in rows if "hidden" not in r]
    assert len(visible) == high_image > 0
    assert {(r["data-severity"], r["data-surface"]) for r in visible} == {("HIGH", "image")}


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of a PNG."""
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_browser_screenshot_is_not_blank(page_file: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1600", page_file.as_uri())
    width, height, pixels = _png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 1600)
    stride = len(pixels) // height
    rows = {pixels[i * stride + 1:(i + 1) * stride] for i in range(0, height, 8)}
    assert len(rows) > 60  # a blank or single-colour page has a handful of distinct rows
    assert len(set(pixels[::7])) > 40


def test_scan_writes_html(tmp_path: Path) -> None:
    from cli_helpers import run

    (tmp_path / "Dockerfile").write_text("FROM python:latest\nUSER root\n")
    out = tmp_path / "report.html"
    result = run("scan", str(tmp_path / "Dockerfile"), "--format", "html", "-o", str(out),
                 "--no-progress", "--fail-on", "HIGH")
    assert result.code == 1, result.err
    page = Page(out.read_text())
    assert "LSH-DF-020" in " ".join(page.text)
    assert "rule-LSH-DF-020" in page.ids()
