"""The results store on both backends: exact round trips, latest SBOM per
target, schema versions, bad stores and specs, atomic recording."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from store_fixtures import (
    BACKENDS,
    HIGH,
    IMAGE_ID,
    build_db,
    image_report,
    postgres,
    project,
    record,
    scan_report,
    schema_errors,
    store_spec,
)

from lashing import __version__
from lashing.errors import EXIT_ENVIRONMENT, EXIT_INPUT, InputError
from lashing.store import (
    SCHEMA_VERSION,
    StoreError,
    StoreInputError,
    StoreUnavailable,
    open_store,
)
from lashing.store.backend import PostgresBackend, SqliteBackend
from lashing.store.schema import create


@pytest.fixture(params=BACKENDS)
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_spec(str(request.param), tmp_path)


@pytest.fixture(scope="module")
def osv_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("osv")
    return build_db(base / "osv.db", [record("GHSA-aaaa-0001", "demo", "2.0", cvss=HIGH)])


@pytest.fixture(scope="module")
def dir_report(tmp_path_factory: pytest.TempPathFactory, osv_db: Path) -> dict[str, Any]:
    app = project(tmp_path_factory.mktemp("app") / "app", {"demo": "1.0", "other": "3.0"})
    return scan_report(f"dir:{app}", osv_db)


def test_a_run_comes_back_exactly_as_recorded(spec: str, dir_report: dict[str, Any]) -> None:
    assert not schema_errors(dir_report)
    assert len(dir_report["findings"]) == 1
    with open_store(spec) as store:
        assert store.runs() == [] and store.latest() is None
        run_id = store.record(dir_report)
        assert store.document(run_id) == dir_report
        assert json.dumps(store.document(run_id)) == json.dumps(dir_report)  # key order too
        assert store.latest() == dir_report and store.latest("audit") == dir_report
        assert store.latest("rescan") is None
        (info,) = store.runs()
        assert (info.id, info.kind, info.tool_version) == (run_id, "audit", __version__)
        assert (info.targets, info.packages, info.findings, info.suppressed) == (1, 2, 1, 0)
        assert info.counts["HIGH"] == 1 and info.db_built == dir_report["tool"]["database"][
            "built"]
    with open_store(spec) as again:  # and after reopening
        assert again.document(run_id) == dir_report


def test_identical_package_lists_are_stored_once(spec: str, osv_db: Path) -> None:
    first = image_report(osv_db, "app:1.0", {"demo": "1.0"})
    renamed = image_report(osv_db, "registry.example/app:1.0", {"demo": "1.0"})
    with open_store(spec) as store:
        a, b = store.record(first), store.record(renamed, kind="scan")
        assert store.document(a) == first and store.document(b) == renamed
        stats = store.stats()
        assert (stats["runs"], stats["targets"], stats["sboms"], stats["packages"]) == \
            (2, 2, 1, 1)
        assert [r.kind for r in store.runs()] == ["audit", "scan"]


def test_latest_sbom_per_target_identity(spec: str, osv_db: Path,
                                         dir_report: dict[str, Any]) -> None:
    old = image_report(osv_db, "app:1.0", {"demo": "1.0"})
    new = image_report(osv_db, "app:latest", {"demo": "1.0", "extra": "0.1"})
    other = image_report(osv_db, "db:15", {"pg": "15"}, image_id="sha256:" + "3" * 64)
    with open_store(spec) as store:
        store.record(old)
        store.record(dir_report)
        latest = store.record(new)
        store.record(other)
        stored = {t.identity: t for t in store.targets_with_packages()}
    dir_name = dir_report["targets"][0]["name"]
    assert set(stored) == {IMAGE_ID, "sha256:" + "3" * 64, dir_name}
    image = stored[IMAGE_ID]
    assert (image.run_id, image.name, image.kind) == (latest, "app:latest", "image")
    assert [p["name"] for p in image.packages] == ["demo", "extra"]
    assert image.fingerprint_identity == IMAGE_ID
    # the directory's fingerprints hashed its resolved path: recovered at record time
    app = stored[dir_name]
    assert app.fingerprint_identity == str(Path(dir_name.removeprefix("dir:")).resolve())


def test_a_target_whose_latest_run_had_no_packages_is_left_out(spec: str,
                                                               osv_db: Path) -> None:
    with open_store(spec) as store:
        store.record(image_report(osv_db, "app:1.0", {"demo": "1.0"}))
        assert len(store.targets_with_packages()) == 1
        store.record(image_report(osv_db, "app:1.0", {}))
        assert store.targets_with_packages() == []


def test_unknown_run_and_bad_documents_are_refused(spec: str) -> None:
    with open_store(spec) as store:
        with pytest.raises(StoreInputError, match="no run 42"):
            store.document(42)
        with pytest.raises(InputError, match="not a lashing JSON report"):
            store.record({"tool": {"name": "other"}})
        with pytest.raises(StoreInputError, match="run kind"):
            store.record({}, kind="DROP TABLE")
        assert store.runs() == []


def _raw_sql(spec: str, sql: str) -> None:
    if spec.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(spec, autocommit=True) as pg:
            pg.execute(sql.encode())
    else:
        lite = sqlite3.connect(spec)
        with lite:
            lite.execute(sql)
        lite.close()


def test_a_store_from_a_newer_lashing_is_refused(spec: str, osv_db: Path) -> None:
    with open_store(spec) as store:
        store.record(image_report(osv_db, "app:1.0", {"demo": "1.0"}))
    _raw_sql(spec, "UPDATE lashing_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreUnavailable, match="too new: schema 99") as caught:
        open_store(spec)
    assert caught.value.exit_code == EXIT_ENVIRONMENT


def test_an_older_store_is_migrated(spec: str) -> None:
    backend = (PostgresBackend(spec, spec) if spec.startswith("postgresql://")
               else SqliteBackend(Path(spec)))
    with backend.transaction():
        create(backend, 1)
        backend.execute("INSERT INTO lashing_run (id, kind, started, recorded, tool_version, "
                        "counts, doc) VALUES (1, 'audit', 't', 't', '0.1.0', ?, ?)",
                        (json.dumps({"targets": 1, "packages": 1, "findings": 0,
                                     "suppressed": 0, "severities": {}}),
                         json.dumps({"schema_version": 1, "tool": {"name": "lashing",
                                     "version": "0.1.0"}, "targets": None, "findings": None,
                                     "checks": None, "issues": [], "connections": []})))
        backend.execute("INSERT INTO lashing_sbom (id, digest, packages) VALUES (1, 'd', 1)")
        backend.execute("INSERT INTO lashing_package (sbom_id, position, name, version, "
                        "ecosystem, purl, doc) VALUES (1, 0, 'demo', '1.0', 'PyPI', "
                        "'pkg:pypi/demo@1.0', ?)", (json.dumps(
                            {"name": "demo", "version": "1.0", "ecosystem": "PyPI",
                             "purl": "pkg:pypi/demo@1.0", "locations": []}),))
        backend.execute("INSERT INTO lashing_target (run_id, position, identity, name, kind, "
                        "image_id, sbom_id, doc) VALUES (1, 0, ?, 'app:1.0', 'image', ?, 1, "
                        "?)", (IMAGE_ID, IMAGE_ID, json.dumps(
                            {"name": "app:1.0", "kind": "image", "image_id": IMAGE_ID,
                             "os": None, "packages": None})))
    backend.close()
    with open_store(spec) as store:
        assert store.schema_version == SCHEMA_VERSION == 2
        (target,) = store.targets_with_packages()
        assert target.fingerprint_identity == IMAGE_ID
        assert store.document(1)["targets"][0]["packages"][0]["name"] == "demo"


def test_files_that_are_not_stores(tmp_path: Path, osv_db: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    with pytest.raises(StoreInputError, match=r"notes.txt is not a lashing results store "
                                              r"\(not an SQLite file\)") as caught:
        open_store(str(text))
    assert caught.value.exit_code == EXIT_INPUT
    with pytest.raises(StoreInputError, match=r"osv.db is not a lashing results store \(it "
                                              r"holds other tables"):
        open_store(str(osv_db))
    corrupt = tmp_path / "corrupt.db"
    with open_store(str(corrupt)) as store:
        store.stats()
    data = bytearray(corrupt.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page, past the header
    corrupt.write_bytes(bytes(data))
    for name in ("corrupt.db-wal", "corrupt.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    with pytest.raises(StoreInputError, match=r"corrupt\.db is not a lashing results store"):
        open_store(str(corrupt))
    with pytest.raises(StoreInputError, match="a directory"):
        open_store(str(tmp_path))
    with pytest.raises(StoreInputError, match="does not exist"):
        open_store(str(tmp_path / "missing" / "results.db"))


def test_a_postgres_schema_with_a_foreign_meta_table_is_refused() -> None:
    url = postgres().fresh_url()
    _raw_sql(url, "CREATE TABLE lashing_meta (key TEXT, value TEXT)")
    with pytest.raises(StoreInputError, match="not a lashing results store"):
        open_store(url)


def test_bad_specs(tmp_path: Path) -> None:
    with pytest.raises(StoreInputError, match=r"unsupported URL scheme 'mysql://'") as caught:
        open_store("mysql://root:hunter2@db/lashing")
    assert "hunter2" not in caught.value.message and caught.value.exit_code == EXIT_INPUT
    # nothing listens on this port: an environment failure, password never shown
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StoreUnavailable, match="cannot connect") as down:
        open_store(f"postgresql://lashing:s3cret@127.0.0.1:{port}/lashing", connect_timeout=2)
    assert down.value.exit_code == EXIT_ENVIRONMENT
    assert "s3cret" not in down.value.message and "lashing:***@" in down.value.message
    assert isinstance(down.value, StoreError)


CHILD = """
import json, sys, time
from lashing.store import open_store
spec, path = sys.argv[1], sys.argv[2]
document = json.loads(open(path).read())
with open_store(spec) as store:
    def progress(rows):
        if rows >= 4000:  # rows written, nothing committed: stop here and wait
            print("inside", flush=True)
            time.sleep(300)
    store.record(document, kind="audit", progress=progress)
print("committed", flush=True)
"""


def _large_report(osv_db: Path, packages: int) -> dict[str, Any]:
    doc = image_report(osv_db, "big:1.0", {"demo": "1.0"}, image_id="sha256:" + "9" * 64)
    doc["targets"][0]["packages"] = [
        {"name": f"pkg{i}", "version": "1.0", "ecosystem": "PyPI",
         "purl": f"pkg:pypi/pkg{i}@1.0", "found_by": "python-installed", "locations": []}
        for i in range(packages)]
    finding = doc["findings"][0]
    doc["findings"] = [dict(finding, fingerprint=f"{i:032x}") for i in range(packages // 2)]
    return doc


def test_a_killed_recording_leaves_the_store_as_it_was(spec: str, osv_db: Path,
                                                       tmp_path: Path) -> None:
    small = image_report(osv_db, "app:1.0", {"demo": "1.0"})
    with open_store(spec) as store:
        first, second = store.record(small), store.record(small, kind="scan")
        before = store.stats()
    big = tmp_path / "big.json"
    big.write_text(json.dumps(_large_report(osv_db, 12000)))
    child = subprocess.Popen([sys.executable, "-c", CHILD, spec, str(big)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "inside"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with open_store(spec) as store:
        assert [r.id for r in store.runs()] == [first, second]
        assert store.stats() == before  # no row of the partial run is left
        assert store.document(first) == small and store.document(second) == small
        assert [t.name for t in store.targets_with_packages()] == ["app:1.0"]
        third = store.record(small)  # and the store takes new runs
        assert third > second and store.document(third) == small


def test_concurrent_writers_each_get_whole_runs(spec: str, osv_db: Path) -> None:
    """Four writers at once, sharing one package list: every run lands whole."""
    docs = [image_report(osv_db, f"app:{i}", {"demo": "1.0"}) for i in range(4)]
    errors: list[BaseException] = []
    ids: list[int] = []

    def write(doc: dict[str, Any]) -> None:
        try:
            with open_store(spec) as store:
                ids.extend(store.record(doc) for _ in range(3))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    with open_store(spec):  # create the schema first, as a deployment would
        pass
    threads = [threading.Thread(target=write, args=(d,)) for d in docs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with open_store(spec) as store:
        assert sorted(ids) == [r.id for r in store.runs()] and len(ids) == 12
        assert store.stats()["sboms"] == 1
        names = {store.document(i)["targets"][0]["name"] for i in ids}
        assert names == {f"app:{i}" for i in range(4)}


def test_a_new_sqlite_store_is_private(tmp_path: Path, osv_db: Path) -> None:
    path = tmp_path / "results.db"
    with open_store(str(path)) as store:
        store.record(image_report(osv_db, "app:1.0", {"demo": "1.0"}))
        wal = tmp_path / "results.db-wal"
        assert wal.exists()
        assert wal.stat().st_mode & 0o777 == 0o600
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_postgres_role_without_rights_is_an_environment_failure() -> None:
    server = postgres()
    _raw_sql(server.url, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                         "'reader') THEN CREATE ROLE reader LOGIN; END IF; END $$")
    url = server.url.replace("postgres@", "reader@")
    with pytest.raises(StoreUnavailable, match="permission denied") as caught:
        open_store(url)
    assert caught.value.exit_code == EXIT_ENVIRONMENT


def test_prune_keeps_the_newest_runs_and_every_latest_sbom(spec: str, osv_db: Path) -> None:
    old_only = image_report(osv_db, "old:1", {"legacy": "0.1"}, image_id="sha256:" + "4" * 64)
    with open_store(spec) as store:
        first = store.record(old_only)  # the only run of its image: always kept
        app = [store.record(image_report(osv_db, "app:1.0", {"demo": "1.0", "v": str(i)}))
               for i in range(5)]
        with pytest.raises(StoreInputError, match="keep at least 1"):
            store.prune(0)
        assert store.prune(2) == 3
        assert [r.id for r in store.runs()] == [first, app[3], app[4]]
        assert {t.identity: t.run_id for t in store.targets_with_packages()} == \
            {"sha256:" + "4" * 64: first, IMAGE_ID: app[4]}
        assert store.stats()["sboms"] == 3  # the pruned runs' package lists are gone
        assert store.document(app[3])["targets"][0]["packages"][1]["version"] == "3"
        assert store.prune(2) == 0


def test_hostile_strings_are_stored_and_come_back(spec: str, osv_db: Path) -> None:
    """NUL characters and lone surrogates (valid JSON escapes) in names."""
    doc = image_report(osv_db, "app\x00:1.0", {"demo": "1.0"})
    doc["targets"][0]["packages"][0]["name"] = "de\x00mo\ud800"
    doc["findings"][0]["title"] = "\udfff title ' ; DROP TABLE lashing_run; --"
    doc["findings"][0]["target"] = "app\x00:1.0"
    with open_store(spec) as store:
        run_id = store.record(doc)
        assert store.document(run_id) == doc
        (stored,) = store.targets_with_packages()
        assert stored.identity == IMAGE_ID and stored.name == "app\x00:1.0"
        assert stored.packages[0]["name"] == "de\x00mo\ud800"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "results.db")
    try:
        assert backend.query("PRAGMA journal_mode") == [("wal",)]
        assert backend.query("PRAGMA foreign_keys") == [(1,)]
        with backend.transaction():
            create(backend)
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"), backend.transaction():
            backend.execute("INSERT INTO lashing_check (run_id, position, rule_id, target, "
                            "status, doc) VALUES (99, 0, 'r', 't', 'pass', '{}')")
    finally:
        backend.close()
