"""rpm's SQLite database, `rpmdb.sqlite` (rpm 4.16+: RHEL/Alma/Rocky 9,
Fedora 33+): table `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`.

The file is loaded into an in-memory connection with `deserialize`, never
written to disk. rpm keeps the database in WAL mode; the write-ahead log
(`rpmdb.sqlite-wal`) is checkpointed when rpm closes the database, so an
image normally has an empty one, and it is not read. The WAL flag in the
header is cleared in the private copy because the in-memory VFS cannot open
WAL databases. The schema is not trusted (no functions run from it,
`Packages` must be a plain table) and queries run under a step budget.
"""

from __future__ import annotations

import sqlite3

from lashing.catalog.base import CatalogError

MAGIC = b"SQLite format 3\0"
_STEPS = 1000  # VM instructions between progress-handler calls


def is_sqlite(data: bytes) -> bool:
    return data[:16] == MAGIC


def sqlite_records(data: bytes) -> list[bytes]:
    """The header blobs of an rpmdb.sqlite, in header-number order."""
    if len(data) < 100 or data[:16] != MAGIC:
        raise CatalogError("not an SQLite database")
    page_size = int.from_bytes(data[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(data[28:32], "big")
    if data[24:28] == data[92:96] and pages * page_size > len(data):
        # the header's page count is current (rpm's SQLite always keeps it so)
        raise CatalogError(f"rpmdb.sqlite truncated: {pages} pages of {page_size} bytes "
                           f"declared, {len(data)} bytes present")
    image = bytearray(data)
    if image[18] == 2 or image[19] == 2:  # WAL mode -> rollback journal mode
        image[18] = image[19] = 1
    budget = [1_000 + len(data) // 64]

    def progress() -> int:
        budget[0] -= 1
        return 1 if budget[0] < 0 else 0

    con = sqlite3.connect(":memory:")
    con.text_factory = bytes  # a damaged schema text must not raise UnicodeDecodeError
    try:
        con.deserialize(bytes(image))
        con.execute("PRAGMA trusted_schema = OFF")
        con.execute("PRAGMA query_only = ON")
        con.set_progress_handler(progress, _STEPS)
        row = con.execute(
            "SELECT type FROM sqlite_master WHERE name = 'Packages'").fetchone()
        if row is None or row[0] != b"table":
            raise CatalogError("rpmdb.sqlite has no Packages table")
        blobs: list[bytes] = []
        query = "SELECT typeof(blob) = 'blob', blob FROM Packages ORDER BY hnum"
        for is_blob, blob in con.execute(query):
            if not is_blob:
                raise CatalogError("rpmdb.sqlite Packages row without a header blob")
            blobs.append(blob)
        return blobs
    except (sqlite3.Error, UnicodeDecodeError) as exc:  # a damaged schema's error text
        reason = "too much work" if budget[0] < 0 else str(exc)
        raise CatalogError(f"rpmdb.sqlite cannot be read: {reason}") from exc
    finally:
        con.close()


__all__ = ["is_sqlite", "sqlite_records"]
