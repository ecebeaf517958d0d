"""Fixtures of the results-store tests: a real PostgreSQL server on
127.0.0.1 in a temporary directory, store specs for both backends, and
reports made by the real scanner from small OSV databases built in code."""

from __future__ import annotations

import atexit
import contextlib
import glob
import io
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from lashing import __version__
from lashing.cli import main
from lashing.model import Location, Package, Report, Target, TargetKind
from lashing.report.json import to_document
from lashing.vulndb import database_info, match, open_database
from lashing.vulndb.importer import import_paths

BACKENDS = ("sqlite", "postgresql")
IMAGE_ID = "sha256:" + "1" * 64
PROJECT = Path(__file__).resolve().parents[2]
SCHEMA = PROJECT / "src" / "lashing" / "report" / "report.schema.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """initdb + pg_ctl in a temporary directory; as the `postgres` user when
    running as root (initdb refuses root)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="lashing-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.sockets.mkdir()
        self.port = _free_port()
        self._as_root = os.geteuid() == 0
        self._schemas = 0
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
            self.root.chmod(0o755)

    def _run(self, *argv: str) -> None:
        cmd = [str(self.bindir / argv[0]), *argv[1:]]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E",
                  "UTF8", "--no-sync", "--locale=C")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} "
                   "-c fsync=off -c max_connections=30 -c shared_buffers=16MB")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.root / "server.log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def fresh_url(self) -> str:
        """A URL whose tables go to a new, empty schema."""
        import psycopg

        self._schemas += 1
        name = f"t{os.getpid()}_{self._schemas}_{int(time.time() * 1000) % 100000}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return f"{self.url}?options=-csearch_path%3D{name}"


_SERVER: list[PostgresServer] = []


def postgres() -> PostgresServer:
    """The one server of this test process (started on first use), or skip."""
    if _SERVER:
        return _SERVER[0]
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL server binaries are absent (/usr/lib/postgresql/*/bin; "
                    "Debian package postgresql)")
    server = PostgresServer(Path(found[-1]).parent)
    server.start()
    atexit.register(server.stop)
    _SERVER.append(server)
    return server


def store_spec(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return str(tmp_path / "results.db")
    return postgres().fresh_url()


# --- OSV records, databases and real reports ----------------------------------

def record(rid: str, name: str, fixed: str, *, ecosystem: str = "PyPI",
           aliases: Sequence[str] = (), cvss: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema_version": "1.6.0", "id": rid, "modified": "2026-01-01T00:00:00Z",
        "published": "2025-12-01T00:00:00Z", "summary": f"{rid} in {name}",
        "details": f"Details of {rid}.", "aliases": list(aliases),
        "affected": [{"package": {"ecosystem": ecosystem, "name": name},
                      "ranges": [{"type": "ECOSYSTEM",
                                  "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
        "references": [{"type": "WEB", "url": f"https://example.invalid/{rid}"}],
    }
    if cvss:
        doc["severity"] = [{"type": "CVSS_V3", "score": cvss}]
    return doc


HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"  # 7.5
CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8


def build_db(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    """An OSV database at `path` holding exactly `records` (replaced atomically)."""
    source = path.parent / f"{path.name}-records-{time.monotonic_ns()}"
    source.mkdir(parents=True)
    for doc in records:
        (source / f"{doc['id']}.json").write_text(json.dumps(doc))
    if path.exists():
        path.unlink()
    import_paths([source], path)
    return path


def project(directory: Path, pins: dict[str, str]) -> Path:
    """A source tree whose requirements.txt pins these PyPI packages."""
    directory.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{name}=={version}\n" for name, version in pins.items())
    (directory / "requirements.txt").write_text(text)
    return directory


def lashing(*argv: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err, io.BytesIO(stdin) if stdin is not None else None)
    return code, out.getvalue(), err.getvalue()


def scan_report(target: str, db: Path) -> dict[str, Any]:
    """The JSON report of `lashing scan TARGET` (vulnerabilities only)."""
    code, out, err = lashing("scan", target, "--db", str(db), "--scanners", "vuln",
                             "--format", "json", "--no-progress")
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def sarif_errors(doc: dict[str, Any]) -> list[str]:
    """Errors of a SARIF log against the 2.1.0 schema in ../shared/data (or skip)."""
    import jsonschema

    path = PROJECT.parent / "shared" / "data" / "schemas" / "sarif-schema-2.1.0.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent: ../shared/data is not checked out")
    schema = json.loads(path.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [e.message for e in validator.iter_errors(doc)]


def schema_errors(doc: dict[str, Any]) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    return [e.message for e in validator.iter_errors(doc)]


def image_report(db_path: Path, name: str, pins: dict[str, str],
                 image_id: str = IMAGE_ID) -> dict[str, Any]:
    """The report of an image target, built from the model and a real match."""
    packages = tuple(Package(name=n, version=v, ecosystem="PyPI", purl=f"pkg:pypi/{n}@{v}",
                             found_by="python-installed",
                             locations=(Location(path=f"/usr/lib/python3/{n}.dist-info",
                                                 layer="sha256:" + "ab" * 32),))
                     for n, v in pins.items())
    with open_database(db_path) as db:
        findings, issues = match(packages, db, target=name, target_identity=image_id)
        info = database_info(db)
    target = Target(name=name, kind=TargetKind.IMAGE, image_id=image_id,
                    manifest_digest="sha256:" + "2" * 64, platform="linux/amd64",
                    packages=packages)
    return to_document(Report(targets=(target,), findings=tuple(findings),
                              issues=tuple(issues), tool_version=__version__, database=info))
