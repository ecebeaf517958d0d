"""The HTML network report: self-contained, escaped, and rendered by a real browser."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from lashing.model import Connection, Endpoint, EndpointKind, Report, Target, TargetKind
from lashing.network.render import html

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")
WEB = Endpoint(EndpointKind.WORKLOAD, "shop", "web", "Deployment")
DB = Endpoint(EndpointKind.WORKLOAD, "shop", "db", "StatefulSet")
EVIL = Endpoint(EndpointKind.WORKLOAD, "shop", "<script>alert(1)</script>", "Pod")
NET = Endpoint(EndpointKind.EXTERNAL, cidr="0.0.0.0/0")
HOST = Endpoint(EndpointKind.HOST)
REPORT = Report(
    targets=(Target("deploy/", TargetKind.NETWORK),),
    connections=(Connection(NET, WEB, "TCP", ((443, 443),)),
                 Connection(HOST, WEB, "TCP", ((443, 443),)),
                 Connection(WEB, DB, "TCP", ((5432, 5432),)),
                 Connection(DB, WEB, "TCP", ((8080, 8080),)),
                 Connection(EVIL, DB, "UDP", ((53, 53),)),
                 Connection(DB, NET, "TCP", ((1, 65535),))),
    tool_version="1.0")


def test_self_contained_and_escaped() -> None:
    page = html.render(REPORT)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page  # no script at all, and the hostile name is escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no external asset
    assert "default-src 'none'" in page
    assert page.count("<rect ") == 6  # internet twice (in and out), host, web, db, evil
    assert page.count('marker-end="url(#arrow)"') == 6


def test_empty_report_renders() -> None:
    page = html.render(Report())
    assert "<svg" in page and "0 connections" in page


def _png_pixels_vary(data: bytes) -> bool:
    """Whether a PNG (8-bit RGB/RGBA, as Chromium writes) is not blank: the filtered
    scanlines of a one-colour image hold one or two distinct pixel values."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, bpp = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp + 1
    assert len(raw) == stride * height
    colours = {raw[i:i + bpp] for row in range(0, height, 7)
               for i in range(row * stride + 1, (row + 1) * stride, bpp * 5)}
    return len(colours) > 2


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        pytest.skip("needs chromium (/usr/bin/chromium) to render the HTML report")
    path = tmp_path_factory.mktemp("html") / "network.html"
    path.write_text(html.render(REPORT), encoding="utf-8")
    return path


def test_chromium_renders_the_graph_and_table(page: Path, tmp_path: Path) -> None:
    dom = subprocess.run([str(CHROMIUM), *FLAGS, "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=90, check=True).stdout
    assert "<svg" in dom and 'aria-label="reachability graph"' in dom
    assert ("<td>StatefulSet/shop/db</td><td>Deployment/shop/web</td><td>TCP:5432</td>"
            in dom)
    assert "any address 0.0.0.0/0" in dom
    assert "<script>alert(1)" not in dom  # escaped text stays text
    shot = tmp_path / "shot.png"
    subprocess.run([str(CHROMIUM), *FLAGS, f"--screenshot={shot}", "--window-size=1280,900",
                    page.as_uri()], capture_output=True, timeout=90, check=True)
    data = shot.read_bytes()
    assert len(data) > 5000
    assert _png_pixels_vary(data)
