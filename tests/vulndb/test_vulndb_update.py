"""`lashing db update` against an OSV-like server on 127.0.0.1: conditional
requests, a download cut in half, resuming it, and a broken download."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from vulndb_fixtures import pkg, shared, write_zip

from lashing.errors import EXIT_INPUT, EnvironmentFailure
from lashing.http import HttpClient
from lashing.vulndb import match, open_database
from lashing.vulndb.update import DOWNLOAD_CHUNK, update

from cli_helpers import run as cli

LAST_MODIFIED = "Wed, 01 May 2024 10:00:00 GMT"


@dataclass
class OSVServer:
    """Serves <family>/all.zip with ETag, If-None-Match and (optionally) Range."""

    files: dict[str, bytes] = field(default_factory=dict)
    ranges: bool = True
    cut_after: int | None = None  # close the connection after this many body bytes, once
    requests: list[dict[str, str]] = field(default_factory=list)
    base: str = ""

    def etag(self, path: str) -> str:
        return '"' + hashlib.sha256(self.files[path]).hexdigest()[:16] + '"'


def _handler(server: OSVServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            server.requests.append({"path": self.path, **{k.lower(): v for k, v
                                                           in self.headers.items()}})
            body = server.files.get(self.path)
            if body is None:
                self._send(404, b"not found", {})
                return
            etag = server.etag(self.path)
            headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED,
                       "Content-Type": "application/zip"}
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", headers)
                return
            status, start = 200, 0
            wanted = self.headers.get("Range", "")
            if server.ranges and wanted.startswith("bytes=") and \
                    self.headers.get("If-Range", etag) == etag:
                start = int(wanted[6:].split("-")[0])
                status = 206
                headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
            if server.ranges:
                headers["Accept-Ranges"] = "bytes"
            payload = body[start:]
            if server.cut_after is not None:
                cut, server.cut_after = server.cut_after, None
                self.send_response(status)
                for k, v in {**headers, "Content-Length": str(len(payload))}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload[:cut])
                self.wfile.flush()
                self.close_connection = True
                return
            self._send(status, payload, headers)

        def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def osv_server() -> Iterator[OSVServer]:
    state = OSVServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                "all_proxy"):
        monkeypatch.delenv(var, raising=False)


def go_records(count: int) -> list[dict[str, Any]]:
    directory = shared("osv-golang-vulndb", "data", "osv")
    docs = [json.loads(p.read_text()) for p in sorted(directory.glob("GO-*.json"))[:count * 2]]
    return [d for d in docs if not d.get("withdrawn")][:count]


def go_zip(tmp_path: Path, records: list[dict[str, Any]], name: str = "go.zip") -> bytes:
    return write_zip(tmp_path / name, records).read_bytes()


def client() -> HttpClient:
    return HttpClient(timeout=10, retries=0)


def test_update_then_not_modified(tmp_path: Path, osv_server: OSVServer) -> None:
    records = go_records(150)
    osv_server.files["/Go/all.zip"] = go_zip(tmp_path, records)
    db = tmp_path / "db" / "lashing.db"
    result = update(db, ["Go"], mirror=osv_server.base, client=client())
    assert [(u.family, u.state) for u in result.ecosystems] == [("Go", "updated")]
    assert result.imported.records == 150
    assert not (db.parent / "downloads" / "Go.zip").exists()  # cleaned up after import
    with open_database(db) as database:
        assert database.ecosystems() == {"Go": 150}
        (source,) = database.sources()
        assert source.etag == osv_server.etag("/Go/all.zip")
        assert source.source == f"{osv_server.base}/Go/all.zip"
    before = db.read_bytes()
    osv_server.requests.clear()
    again = update(db, ["Go"], mirror=osv_server.base, client=client())
    assert [u.state for u in again.ecosystems] == ["unchanged"]
    assert len(osv_server.requests) == 1
    assert osv_server.requests[0]["if-none-match"] == osv_server.etag("/Go/all.zip")
    with open_database(db) as database:
        assert database.ecosystems() == {"Go": 150}
    assert len(db.read_bytes()) == len(before)


def test_new_data_replaces_the_ecosystem(tmp_path: Path, osv_server: OSVServer) -> None:
    records = go_records(60)
    osv_server.files["/Go/all.zip"] = go_zip(tmp_path, records[:40])
    db = tmp_path / "lashing.db"
    update(db, ["Go"], mirror=osv_server.base, client=client())
    osv_server.files["/Go/all.zip"] = go_zip(tmp_path, records[20:], "go2.zip")
    result = update(db, ["Go:whatever"], mirror=osv_server.base, client=client())
    assert [u.state for u in result.ecosystems] == ["updated"]
    with open_database(db) as database:
        assert database.ecosystems() == {"Go": 40}
        gone, kept = records[0]["id"], records[59]["id"]
        assert set(database.advisories([gone, kept])) == {kept}


def test_download_cut_in_half_then_resumed(tmp_path: Path, osv_server: OSVServer) -> None:
    records = go_records(120)
    body = go_zip(tmp_path, records)
    osv_server.files["/Go/all.zip"] = body
    db = tmp_path / "lashing.db"
    cli("db", "import", str(write_zip(tmp_path / "seed.zip", records[:5])), "--db", str(db))
    before = db.read_bytes()
    half = len(body) // 2
    osv_server.cut_after = half
    with pytest.raises(EnvironmentFailure) as err:
        update(db, ["Go"], mirror=osv_server.base, client=client())
    got = re.search(rf"stopped after (\d+) of {len(body)} bytes", err.value.message)
    assert got is not None, err.value.message
    kept = int(got.group(1))  # what arrived, less the last partial chunk
    assert half - DOWNLOAD_CHUNK < kept <= half
    assert "resume" in (err.value.hint or "")
    assert db.read_bytes() == before  # the old database is untouched
    part = db.parent / "downloads" / "Go.zip.part"
    assert part.stat().st_size == kept
    osv_server.requests.clear()
    result = update(db, ["Go"], mirror=osv_server.base, client=client())
    assert osv_server.requests[0]["range"] == f"bytes={kept}-"
    assert osv_server.requests[0]["if-range"] == osv_server.etag("/Go/all.zip")
    assert result.ecosystems[0].resumed_from == kept
    with open_database(db) as database:
        assert database.ecosystems() == {"Go": 120}
    assert not part.exists()


def test_server_without_ranges_restarts_the_download(tmp_path: Path,
                                                     osv_server: OSVServer) -> None:
    body = go_zip(tmp_path, go_records(80))
    osv_server.files["/Go/all.zip"] = body
    osv_server.ranges = False
    osv_server.cut_after = len(body) // 2
    assert len(body) // 2 > DOWNLOAD_CHUNK
    db = tmp_path / "lashing.db"
    with pytest.raises(EnvironmentFailure, match="stopped after"):
        update(db, ["Go"], mirror=osv_server.base, client=client())
    assert not db.exists()
    osv_server.requests.clear()
    result = update(db, ["Go"], mirror=osv_server.base, client=client())
    assert "range" in osv_server.requests[0]  # asked to resume; got the whole file
    assert result.ecosystems[0].resumed_from == 0
    with open_database(db) as database:
        assert database.ecosystems() == {"Go": 80}


def test_broken_download_and_missing_ecosystem(tmp_path: Path, osv_server: OSVServer) -> None:
    db = tmp_path / "lashing.db"
    cli("db", "import", str(write_zip(tmp_path / "seed.zip", go_records(3))), "--db", str(db))
    before = db.read_bytes()
    osv_server.files["/Go/all.zip"] = b"<html>rate limited</html>"
    with pytest.raises(EnvironmentFailure, match="not a usable zip"):
        update(db, ["Go"], mirror=osv_server.base, client=client())
    with pytest.raises(EnvironmentFailure, match="not found"):
        update(db, ["Nonesuch"], mirror=osv_server.base, client=client())
    assert db.read_bytes() == before


def test_cli_update_with_mirror_from_environment(tmp_path: Path, osv_server: OSVServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    osv_server.files["/Rocky%20Linux/all.zip"] = go_zip(tmp_path, [])
    osv_server.files["/Go/all.zip"] = go_zip(tmp_path, go_records(30), "g.zip")
    monkeypatch.setenv("LASHING_DB_MIRROR", osv_server.base)
    db = tmp_path / "c.db"
    result = cli("db", "update", "--ecosystem", "Go", "--ecosystem", "Rocky Linux",
                 "--db", str(db))
    assert result.code == 0, result.err
    assert "Go: updated" in result.err and "Rocky Linux: updated" in result.err
    assert {r["path"] for r in osv_server.requests} == {"/Go/all.zip", "/Rocky%20Linux/all.zip"}
    again = cli("db", "update", "--db", str(db))  # the ecosystems already in the database
    assert "Go: unchanged" in again.err
    with open_database(db) as database:
        findings, _ = match([pkg("stdlib", "v1.0.0", "Go")], database)
    assert isinstance(findings, list)
    offline = cli("db", "update", "--offline", "--db", str(db))
    assert offline.code == EXIT_INPUT and "--offline" in offline.err
