"""The database file: opening, schema checks, atomic replacement, a killed
import, read-only places, and what status reports."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from vulndb_fixtures import build_db, pkg, record, write_zip

from lashing.errors import EXIT_ENVIRONMENT, EnvironmentFailure
from lashing.vulndb import (
    SCHEMA_VERSION,
    database_info,
    default_db_path,
    match,
    open_database,
    staleness_warning,
    status_document,
)
from lashing.vulndb.importer import import_paths
from lashing.vulndb.writer import DatabaseWriter

from cli_helpers import run as cli


def test_missing_database_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentFailure) as err:
        open_database(tmp_path / "none.db")
    assert err.value.exit_code == EXIT_ENVIRONMENT
    assert "lashing db update" in (err.value.hint or "")
    assert "lashing db import" in (err.value.hint or "")


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-1")])
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(EnvironmentFailure,
                       match=f"database schema {SCHEMA_VERSION + 1} is newer than this "
                             "lashing supports"):
        open_database(db)
    result = cli("db", "status", "--db", str(db))
    assert result.code == EXIT_ENVIRONMENT and "is newer" in result.err


def test_foreign_file_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(EnvironmentFailure, match="not a lashing vulnerability database"):
        open_database(junk)
    empty_sqlite = tmp_path / "empty.db"
    with sqlite3.connect(empty_sqlite) as conn:
        conn.execute("CREATE TABLE other (x)")
    with pytest.raises(EnvironmentFailure, match="not a lashing vulnerability database"):
        open_database(empty_sqlite)


def test_default_path_follows_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LASHING_DB", raising=False)
    monkeypatch.delenv("LASHING_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "lashing" / "db" / "lashing.db"
    monkeypatch.setenv("LASHING_DB", str(tmp_path / "chosen.db"))
    assert default_db_path() == tmp_path / "chosen.db"


def test_import_replaces_the_file_and_readers_keep_the_old_one(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-1", name="one")])
    reader = open_database(db)  # a scan that started before the update
    inode = db.stat().st_ino
    import_paths([write_zip(tmp_path / "more.zip", [record("PYSEC-2", name="two")])], db)
    assert db.stat().st_ino != inode  # a new file took the name
    assert not list(tmp_path.glob(".t.db.*.tmp"))
    findings, _ = match([pkg("one", "1.0"), pkg("two", "1.0")], reader)
    assert [f.rule_id for f in findings] == ["PYSEC-1"]  # the old file, unchanged
    reader.close()
    with open_database(db) as fresh:
        findings, _ = match([pkg("one", "1.0"), pkg("two", "1.0")], fresh)
        assert sorted(f.rule_id for f in findings) == ["PYSEC-1", "PYSEC-2"]


def test_withdrawn_record_removes_an_older_copy(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-1")])
    withdrawn = record("PYSEC-1", withdrawn="2024-02-02T00:00:00Z")
    result = import_paths([write_zip(tmp_path / "w.zip", [withdrawn])], db)
    assert result.withdrawn == 1
    with open_database(db) as database:
        assert database.advisories(["PYSEC-1"]) == {}
        assert database.ecosystems() == {}


def test_writer_without_commit_leaves_nothing(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-1")])
    before = db.read_bytes()
    with pytest.raises(RuntimeError), DatabaseWriter(db) as writer:
        writer.clear_family("PyPI")
        raise RuntimeError("interrupted")
    assert db.read_bytes() == before
    assert not list(tmp_path.glob(".t.db.*.tmp"))


KILLED_IMPORT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from lashing.vulndb import importer

    real = importer.parse_documents

    def slow(*args, **kwargs):
        for n, record in enumerate(real(*args, **kwargs)):
            if n == 50:
                print("halfway", flush=True)
                time.sleep(60)
            yield record

    importer.parse_documents = slow
    importer.import_paths([Path(sys.argv[1])], Path(sys.argv[2]))
""")


def test_killed_import_leaves_the_old_database_working(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-1", name="old")])
    before = db.read_bytes()
    source = write_zip(tmp_path / "big.zip",
                       [record(f"PYSEC-{n}", name=f"new{n}") for n in range(2, 400)])
    proc = subprocess.Popen([sys.executable, "-c", KILLED_IMPORT, str(source), str(db)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "halfway"
        assert list(tmp_path.glob(".t.db.*.tmp"))  # the new file is being built
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    assert db.read_bytes() == before
    with open_database(db) as database:
        findings, _ = match([pkg("old", "1.0"), pkg("new2", "1.0")], database)
        assert [f.rule_id for f in findings] == ["PYSEC-1"]
    # the next import cleans up the dead one's temp file and works
    import_paths([source], db)
    assert not list(tmp_path.glob(".t.db.*.tmp"))
    with open_database(db) as database:
        assert database.ecosystems() == {"PyPI": 399}


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory_is_an_environment_error(tmp_path: Path) -> None:
    _read_only_case(tmp_path)


def test_read_only_directory_as_root(tmp_path: Path) -> None:
    """Root writes anywhere, so a read-only place is simulated with a path
    under a regular file (ENOTDIR), which fails the same code path."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("db", "import", str(write_zip(tmp_path / "r.zip", [record("PYSEC-1")])),
                 "--db", str(blocker / "db" / "lashing.db"))
    assert result.code == EXIT_ENVIRONMENT
    assert "cannot write vulnerability database" in result.err
    assert "--db PATH" in result.err


def _read_only_case(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-1")])
    before = db.read_bytes()
    tmp_path.chmod(0o555)
    try:
        result = cli("db", "import", str(tmp_path / "t.db-records"), "--db", str(db))
    finally:
        tmp_path.chmod(0o755)
    assert result.code == EXIT_ENVIRONMENT
    assert "cannot write vulnerability database" in result.err
    assert db.read_bytes() == before


def test_status_info_and_staleness(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-1"), record("PYSEC-2", name="other"),
                             record("GO-1", "Go", "example.com/m", range_type="SEMVER",
                                    events=[{"introduced": "0"}, {"fixed": "1.2.3"}])])
    with open_database(db) as database:
        info = database_info(database)
        assert info.ecosystems == (("Go", 1), ("PyPI", 2))
        assert info.built is not None
        assert staleness_warning(database) is None
        later = datetime.now(UTC) + timedelta(days=9)
        warning = staleness_warning(database, now=later)
        assert warning is not None and "Go, PyPI" in warning and "9 days old" in warning
        assert staleness_warning(database, now=later, ecosystems={"Debian:12"}) is None
        doc = status_document(database)
    assert doc["schema_version"] == SCHEMA_VERSION and doc["path"] == str(db)
    assert [(e["name"], e["advisories"]) for e in doc["ecosystems"]] == [("Go", 1), ("PyPI", 2)]
    result = cli("db", "status", "--db", str(db), "--format", "json")
    assert result.code == 0
    shown = json.loads(result.out)
    assert set(shown) == {"path", "schema_version", "built", "stale_after_days", "sources",
                          "ecosystems"}
    assert shown["ecosystems"][0]["age_days"] < 1
    table = cli("db", "status", "--db", str(db))
    assert "PyPI" in table.out and "schema    1" in table.out


def test_alias_lookup(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-1", aliases=["CVE-2024-1", "GHSA-aaaa"]),
                             record("GHSA-aaaa", aliases=["CVE-2024-1"])])
    with open_database(db) as database:
        assert database.ids_for_alias("CVE-2024-1") == ["GHSA-aaaa", "PYSEC-1"]
        assert database.ids_for_alias("GHSA-aaaa") == ["GHSA-aaaa", "PYSEC-1"]


def test_a_second_writer_waits_for_the_first(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-1")])
    order: list[str] = []

    def first() -> None:
        with DatabaseWriter(db) as writer:
            order.append("first in")
            time.sleep(0.5)
            writer.write([])
            writer.commit()
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    while not order:
        time.sleep(0.01)
    with DatabaseWriter(db) as second:
        order.append("second in")
        second.commit()
    thread.join()
    assert order == ["first in", "first done", "second in"]
