"""Writing the database: build the next version beside the current one
(a compacted copy of it, or an empty file), fill it in one transaction and
`os.replace` it over the old path. A killed import leaves the old database
untouched. One writer at a time, serialised by a lock file next to the
database."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from lashing.errors import EnvironmentFailure
from lashing.vulndb.records import ParsedRecord
from lashing.vulndb.store import SCHEMA_SQL, SCHEMA_VERSION, now_iso, schema_version

__all__ = ["DatabaseWriter", "touch_checked", "writer_lock"]

# Built after a bulk load into an empty file (faster than maintaining them).
_INDEXES = """
CREATE INDEX IF NOT EXISTS affected_package ON affected (ecosystem, name);
CREATE INDEX IF NOT EXISTS affected_advisory ON affected (advisory_id);
CREATE INDEX IF NOT EXISTS alias_advisory ON alias (advisory_id);
"""
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@contextlib.contextmanager
def _environment_errors(path: Path) -> Iterator[None]:
    """SQLite and OS failures while writing -> EnvironmentFailure naming the path."""
    try:
        yield
    except sqlite3.Error as exc:
        raise EnvironmentFailure(f"cannot write vulnerability database {path} ({exc})") from None
    except OSError as exc:
        raise EnvironmentFailure(
            f"cannot write vulnerability database {path} ({exc.strerror or exc})",
            "choose a writable place with --db PATH or LASHING_DB") from None


@contextlib.contextmanager
def writer_lock(path: Path, timeout: float = 600.0) -> Iterator[None]:
    """Hold the database's writer lock (a lock file beside it)."""
    with _environment_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle: IO[bytes] = (path.parent / f"{path.name}.lock").open("ab")
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise EnvironmentFailure(
                        f"vulnerability database {path} is being updated by another process",
                        "wait for it to finish, or use another --db PATH") from None
                time.sleep(0.2)
        yield
    finally:
        handle.close()


def touch_checked(path: Path, families: Sequence[str]) -> None:
    """Record that `families` were found current (a 304) without rebuilding:
    a one-row change, made in place inside SQLite's own transaction."""
    with writer_lock(path), _environment_errors(path):
        conn = sqlite3.connect(path, timeout=30)
        try:
            with conn:
                conn.executemany("UPDATE meta SET checked_at = ? WHERE family = ?",
                                 [(now_iso(), f) for f in families])
        finally:
            conn.close()


class DatabaseWriter:
    """Build the next version of the database beside the current one.

        with DatabaseWriter(path) as w:
            w.write(records)
            w.commit()          # atomically replaces `path`

    Leaving the block without commit() discards the new file.
    """

    BATCH = 2000

    def __init__(self, path: Path, *, fresh: bool = False) -> None:
        self.path = path
        self.fresh = fresh
        self._tmp: Path | None = None
        self._conn: sqlite3.Connection | None = None
        self._lock: contextlib.ExitStack | None = None
        self.rebuilt_from_scratch = False
        self._empty = False  # the new file started empty (nothing to replace)
        self._unindexed = False  # indexes are built at commit (bulk load)
        self._written: set[str] = set()

    # -- lifecycle ------------------------------------------------------------

    def __enter__(self) -> DatabaseWriter:
        stack = contextlib.ExitStack()
        stack.enter_context(writer_lock(self.path))
        self._lock = stack
        try:
            with _environment_errors(self.path):
                self._remove_stale_temps()
                fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                            dir=self.path.parent)
                os.close(fd)
                self._tmp = Path(name)
                self._conn = self._start()
        except BaseException:
            self._discard()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._discard()

    def _remove_stale_temps(self) -> None:
        # We hold the writer lock, so any other temp file is from a killed writer.
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()

    def _start(self) -> sqlite3.Connection:
        assert self._tmp is not None
        copied = False
        if not self.fresh and self.path.is_file():
            copied = self._copy_current()
        conn = sqlite3.connect(self._tmp, isolation_level=None)
        conn.execute("PRAGMA journal_mode = OFF")  # a failed build is deleted, not rolled back
        conn.execute("PRAGMA synchronous = OFF")  # fsync once, before the rename
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = MEMORY")
        if not copied:
            conn.executescript(SCHEMA_SQL)
        self._empty = self._unindexed = not copied
        conn.execute("BEGIN")
        return conn

    def _index(self) -> None:
        if self._unindexed:
            for statement in filter(str.strip, _INDEXES.split(";")):
                self.conn.execute(statement)
            self._unindexed = False

    def _copy_current(self) -> bool:
        """Compact copy of the current database into the temp file; False
        when the current file is unusable (then the build starts empty)."""
        assert self._tmp is not None
        try:
            src = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True)
        except sqlite3.Error:
            self.rebuilt_from_scratch = True
            return False
        try:
            if schema_version(src) != SCHEMA_VERSION:
                self.rebuilt_from_scratch = True
                return False
            src.execute("VACUUM INTO ?", (str(self._tmp),))
            return True
        except sqlite3.DatabaseError:
            self.rebuilt_from_scratch = True
            self._tmp.write_bytes(b"")
            return False
        finally:
            src.close()

    def _discard(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                self._tmp.unlink()
            self._tmp = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("DatabaseWriter used outside its with-block")
        return self._conn

    # -- changes --------------------------------------------------------------

    def write(self, records: Iterable[ParsedRecord]) -> None:
        """Insert or replace records (by id); withdrawn records remove their id."""
        batch: dict[str, ParsedRecord] = {}
        for record in records:
            batch[record.id] = record
            if len(batch) >= self.BATCH:
                self._flush(batch)
                batch = {}
        if batch:
            self._flush(batch)

    def _flush(self, batch: dict[str, ParsedRecord]) -> None:
        conn = self.conn
        with _environment_errors(self.path):
            # A new, empty database holds only what this writer wrote.
            ids = [(rid,) for rid in batch if not self._empty or rid in self._written]
            if ids:
                self._index()
                conn.executemany("DELETE FROM affected WHERE advisory_id = ?", ids)
                conn.executemany("DELETE FROM alias WHERE advisory_id = ?", ids)
                conn.executemany("DELETE FROM advisory WHERE id = ?", ids)
            self._written.update(batch)
            live = [r for r in batch.values() if not r.withdrawn]
            conn.executemany(
                "INSERT INTO advisory VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.id, r.modified, r.published, r.summary, r.details, r.severity, r.cvss,
                  _dumps(list(r.aliases)), r.references) for r in live])
            conn.executemany(
                "INSERT INTO affected VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r.id, a.ecosystem, a.family, a.name, a.ranges, a.versions, a.extra)
                 for r in live for a in r.affected])
            conn.executemany(
                "INSERT OR IGNORE INTO alias VALUES (?, ?)",
                [(alias, r.id) for r in live for alias in r.aliases])

    def clear_family(self, family: str) -> None:
        """Forget every affected entry of one family (before a full refresh)."""
        if self._empty and not self._written:
            return
        with _environment_errors(self.path):
            self.conn.execute("DELETE FROM affected WHERE family = ?", (family,))

    def set_source(self, family: str, source: str, *, etag: str | None = None,
                   last_modified: str | None = None) -> None:
        now = now_iso()
        with _environment_errors(self.path):
            self.conn.execute(
                "INSERT OR REPLACE INTO meta (family, source, etag, last_modified, imported_at, "
                "checked_at) VALUES (?, ?, ?, ?, ?, ?)",
                (family, source, etag, last_modified, now, now))

    def commit(self) -> None:
        """Finish the new file and move it over the old one, atomically."""
        conn, tmp = self.conn, self._tmp
        assert tmp is not None
        with _environment_errors(self.path):
            self._index()
            conn.execute("DELETE FROM advisory WHERE id NOT IN "
                         "(SELECT advisory_id FROM affected)")
            conn.execute("DELETE FROM alias WHERE advisory_id NOT IN (SELECT id FROM advisory)")
            conn.execute("DELETE FROM ecosystem")
            conn.execute("INSERT INTO ecosystem SELECT ecosystem, family, "
                         "COUNT(DISTINCT advisory_id) FROM affected GROUP BY ecosystem")
            counts = conn.execute("SELECT family, COUNT(DISTINCT advisory_id) FROM affected "
                                  "GROUP BY family").fetchall()
            conn.execute("UPDATE meta SET advisories = 0")
            conn.executemany("UPDATE meta SET advisories = ? WHERE family = ?",
                             [(count, fam) for fam, count in counts])
            conn.execute("INSERT OR REPLACE INTO info VALUES ('built', ?)", (now_iso(),))
            conn.execute("COMMIT")
            conn.close()
            self._conn = None
            with tmp.open("rb") as f:
                os.fsync(f.fileno())
            tmp.chmod(0o644)
            tmp.replace(self.path)
            self._tmp = None
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
