"""The two database backends behind one small interface.

SQL is written once with `?` placeholders; the PostgreSQL backend turns them
into `%s`. Every write happens inside `transaction()`: SQLite takes the write
lock up front (BEGIN IMMEDIATE) so two writers queue instead of failing
half-way; PostgreSQL runs the block as one transaction. Either way a process
killed in the middle leaves nothing of the unfinished transaction behind.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lashing.store.errors import StoreInputError, StoreUnavailable

if TYPE_CHECKING:
    import psycopg

__all__ = ["SQLITE_MAGIC", "Backend", "PostgresBackend", "SqliteBackend"]

SQLITE_MAGIC = b"SQLite format 3\x00"
Row = tuple[Any, ...]


class Backend(Protocol):
    dialect: str  # "sqlite" or "postgresql"
    where: str  # the store, for messages (no password)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def insert_many(self, table: str, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None: ...
    def tables(self) -> set[str]: ...
    def lock_schema(self) -> None: ...
    def transaction(self) -> Any: ...  # a context manager
    def close(self) -> None: ...


def _create_private(path: Path) -> None:
    """A new store is readable by its owner only (it lists every known
    vulnerability of every image); SQLite gives its -wal and -shm files the
    same mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise StoreUnavailable(f"results store {path}: cannot create ({exc.strerror})") from None


class SqliteBackend:
    """One SQLite file in WAL mode with foreign keys on."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.where = str(path)
        if path.is_dir():
            raise StoreInputError(f"results store {path}: a directory, not a store file")
        if path.exists():
            try:
                with path.open("rb") as f:
                    head = f.read(len(SQLITE_MAGIC))
            except OSError as exc:
                raise StoreInputError(f"results store {path}: cannot read "
                                      f"({exc.strerror})") from None
            if head and head != SQLITE_MAGIC:
                raise StoreInputError(f"{path} is not a lashing results store "
                                      "(not an SQLite file)",
                                      "name a new file, or an existing results store")
        elif not path.parent.is_dir():
            raise StoreInputError(f"results store {path}: the directory {path.parent} "
                                  "does not exist")
        else:
            _create_private(path)
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, timeout=60.0)
            self._conn.execute("PRAGMA foreign_keys = ON")
            mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            self._conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise StoreInputError(f"{path} is not a lashing results store ({exc})") from None
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"results store {path}: cannot open ({exc})") from None
        if str(mode).lower() != "wal":
            self._conn.close()
            raise StoreUnavailable(f"results store {path}: the filesystem does not support "
                                   "SQLite's write-ahead log", "put the store on a local disk")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._errors():
            return list(self._conn.execute(sql, tuple(params)).fetchall())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._errors():
            self._conn.execute(sql, tuple(params))

    def insert_many(self, table: str, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows; `table` and `columns` are the store's own names."""
        sql = (f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
               f"VALUES ({', '.join('?' * len(columns))})")
        with self._errors():
            self._conn.executemany(sql, rows)

    def tables(self) -> set[str]:
        rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(r[0]) for r in rows}

    def lock_schema(self) -> None:
        """BEGIN IMMEDIATE already holds the one write lock."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "full" in text or "locked" in text or "readonly" in text or "I/O" in text:
                raise StoreUnavailable(f"results store {self.where}: {text}") from None
            raise
        except sqlite3.DatabaseError as exc:
            if not any(m in str(exc) for m in ("malformed", "not a database", "encrypted")):
                raise
            raise StoreInputError(f"{self.where} is not a lashing results store "
                                  f"({exc})") from None


class PostgresBackend:
    """A PostgreSQL database reached with psycopg 3; tables are prefixed
    `lashing_`, so the database may hold other things too."""

    dialect = "postgresql"
    _LOCK_KEY = 0x6C617368  # "lash": serialises schema creation and migration

    def __init__(self, url: str, where: str, connect_timeout: float = 10.0) -> None:
        import psycopg

        self.where = where
        try:
            self._conn: psycopg.Connection[Any] = psycopg.connect(
                url, autocommit=True, connect_timeout=max(1, int(connect_timeout)),
                application_name="lashing")
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
            raise StoreUnavailable(f"results store {where}: cannot connect ({first})",
                                   "check that the server runs and the URL is right") from None
        except psycopg.ProgrammingError as exc:
            raise StoreInputError(f"results store {where}: not a usable PostgreSQL URL "
                                  f"({exc})") from None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._errors():
            cur = self._conn.execute(sql.replace("?", "%s"), tuple(params))
            return list(cur.fetchall()) if cur.description is not None else []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._errors():
            self._conn.execute(sql.replace("?", "%s"), tuple(params))

    def insert_many(self, table: str, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """COPY the rows in: several times faster than INSERTs, and part of the
        surrounding transaction like them. `table` and `columns` are the
        store's own names."""
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self._errors(), self._conn.cursor() as cur, \
                cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    def tables(self) -> set[str]:
        rows = self.query("SELECT table_name FROM information_schema.tables "
                          "WHERE table_schema = current_schema()")
        return {str(r[0]) for r in rows}

    def lock_schema(self) -> None:
        self.execute("SELECT pg_advisory_xact_lock(?)", (self._LOCK_KEY,))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._errors(), self._conn.transaction():
            yield

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        import psycopg
        import psycopg.errors

        try:
            yield
        except (psycopg.OperationalError, psycopg.errors.InsufficientPrivilege,
                psycopg.errors.ReadOnlySqlTransaction) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection lost"
            raise StoreUnavailable(f"results store {self.where}: {first}",
                                   "the store's role needs to create tables in its schema"
                                   if isinstance(exc, psycopg.errors.InsufficientPrivilege)
                                   else None) from None
