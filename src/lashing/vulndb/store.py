"""The vulnerability database: one SQLite file, and its read side.

Readers open it read-only and query per package. Writers (writer.py) never
change the file in place: they build a new file beside it and `os.replace`
it over the old path, so a scan that already had the old file open keeps
reading it. The schema version is `PRAGMA user_version`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from lashing.errors import EnvironmentFailure
from lashing.options import default_cache_dir

__all__ = [
    "SCHEMA_SQL",
    "SCHEMA_VERSION",
    "AdvisoryRow",
    "AffectedRow",
    "Database",
    "SourceInfo",
    "default_db_path",
    "now_iso",
    "open_database",
    "schema_version",
]

SCHEMA_VERSION = 1
DB_FILENAME = "lashing.db"
UPDATE_HINT = ("run 'lashing db update' (online) or 'lashing db import PATH' "
               "(offline, with OSV all.zip files)")

SCHEMA_SQL = f"""
CREATE TABLE advisory (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    published TEXT,
    summary TEXT NOT NULL,
    details TEXT NOT NULL,
    severity TEXT,
    cvss TEXT NOT NULL,
    aliases TEXT NOT NULL,
    refs TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE affected (
    advisory_id TEXT NOT NULL,
    ecosystem TEXT NOT NULL,
    family TEXT NOT NULL,
    name TEXT NOT NULL,
    ranges TEXT NOT NULL,
    versions TEXT,
    extra TEXT
);
CREATE TABLE alias (
    alias TEXT NOT NULL,
    advisory_id TEXT NOT NULL,
    PRIMARY KEY (alias, advisory_id)
) WITHOUT ROWID;
CREATE TABLE ecosystem (
    name TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    advisories INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE meta (
    family TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    imported_at TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    advisories INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE info (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
PRAGMA user_version = {SCHEMA_VERSION};
"""
_ADVISORY_QUERY = ("SELECT id, modified, published, summary, CASE WHEN summary = '' THEN "
                   "substr(details, 1, 200) ELSE '' END, severity, cvss, aliases, refs "
                   "FROM advisory WHERE id IN ({marks})")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_db_path(cache_dir: Path | None = None) -> Path:
    """`$LASHING_DB`, else `<cache dir>/db/lashing.db`."""
    env = os.environ.get("LASHING_DB")
    if env:
        return Path(env)
    return (cache_dir or default_cache_dir()) / "db" / DB_FILENAME


class AffectedRow(NamedTuple):
    advisory_id: str
    ecosystem: str
    name: str
    ranges: str  # JSON, see records.AffectedEntry
    versions: str | None
    extra: str | None


class AdvisoryRow(NamedTuple):
    id: str
    modified: str
    published: str | None
    summary: str
    details: str  # the first 200 characters when there is no summary, else ""
    severity: str | None
    cvss: tuple[tuple[str, str], ...]
    aliases: tuple[str, ...]
    references: tuple[str, ...]


@dataclass(frozen=True)
class SourceInfo:
    family: str
    source: str
    etag: str | None
    last_modified: str | None
    imported_at: str
    checked_at: str
    advisories: int


class Database:
    """A read-only view of one database file. Use open_database()."""

    def __init__(self, path: Path, conn: sqlite3.Connection, schema_version: int) -> None:
        self.path = path
        self.schema_version = schema_version
        self._conn = conn
        self._ecosystems: dict[str, int] | None = None

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lookup(self, ecosystem: str, name: str) -> list[AffectedRow]:
        """Affected entries for one package (normalised name) in one ecosystem."""
        cur = self._conn.execute(
            "SELECT advisory_id, ecosystem, name, ranges, versions, extra FROM affected "
            "WHERE ecosystem = ? AND name = ?", (ecosystem, name))
        return list(map(AffectedRow._make, cur.fetchall()))

    def advisories(self, ids: Iterable[str]) -> dict[str, AdvisoryRow]:
        wanted = sorted(set(ids))
        out: dict[str, AdvisoryRow] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            query = _ADVISORY_QUERY.format(marks=marks)  # placeholders only
            cur = self._conn.execute(query, chunk)
            loads = json.loads
            for aid, modified, published, summary, details, severity, cvss, aliases, refs \
                    in cur.fetchall():
                out[aid] = AdvisoryRow(
                    aid, modified, published, summary, details, severity,
                    tuple(map(tuple, loads(cvss))) if cvss != "[]" else (),
                    tuple(loads(aliases)) if aliases != "[]" else (),
                    tuple(loads(refs)) if refs != "[]" else ())
        return out

    def ids_for_alias(self, alias: str) -> list[str]:
        """Advisory ids that name `alias` (a CVE, GHSA, ...) or are it."""
        cur = self._conn.execute(
            "SELECT advisory_id FROM alias WHERE alias = ? UNION "
            "SELECT id FROM advisory WHERE id = ? ORDER BY 1", (alias, alias))
        return [row[0] for row in cur]

    def ecosystems(self) -> dict[str, int]:
        """Ecosystem string -> number of advisories."""
        if self._ecosystems is None:
            cur = self._conn.execute("SELECT name, advisories FROM ecosystem ORDER BY name")
            self._ecosystems = {name: count for name, count in cur}
        return dict(self._ecosystems)

    def has_ecosystem(self, ecosystem: str) -> bool:
        if self._ecosystems is None:
            self.ecosystems()
        assert self._ecosystems is not None
        return ecosystem in self._ecosystems

    def sources(self) -> list[SourceInfo]:
        cur = self._conn.execute(
            "SELECT family, source, etag, last_modified, imported_at, checked_at, advisories "
            "FROM meta ORDER BY family")
        return [SourceInfo(*row) for row in cur]

    def built(self) -> str | None:
        row = self._conn.execute("SELECT value FROM info WHERE key = 'built'").fetchone()
        return str(row[0]) if row else None


def schema_version(conn: sqlite3.Connection) -> int:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version == 0:
        row = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'advisory'").fetchone()
        if row is None:
            raise sqlite3.DatabaseError("no lashing tables")
    return version


def _check_version(path: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise EnvironmentFailure(
            f"vulnerability database {path}: database schema {version} is newer than this "
            f"lashing supports ({SCHEMA_VERSION})",
            "upgrade lashing, or build a separate database with --db PATH")
    if version < SCHEMA_VERSION:
        raise EnvironmentFailure(
            f"vulnerability database {path}: database schema {version} is older than this "
            f"lashing reads ({SCHEMA_VERSION})", UPDATE_HINT + " to rebuild it")


def open_database(path: Path | None = None) -> Database:
    """Open a database read-only. Missing, foreign, too old or too new ->
    EnvironmentFailure (exit 3) saying how to get a usable one."""
    path = path or default_db_path()
    if not path.is_file():
        raise EnvironmentFailure(
            f"no vulnerability database at {path}", UPDATE_HINT)
    try:
        # read-only; usable from another thread, one thread at a time
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True,
                               check_same_thread=False)
    except sqlite3.Error as exc:
        raise EnvironmentFailure(f"cannot open vulnerability database {path} ({exc})") from None
    try:
        version = schema_version(conn)
        _check_version(path, version)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise EnvironmentFailure(
            f"{path} is not a lashing vulnerability database ({exc})",
            "remove it, then " + UPDATE_HINT) from None
    except EnvironmentFailure:
        conn.close()
        raise
    return Database(path, conn, version)


