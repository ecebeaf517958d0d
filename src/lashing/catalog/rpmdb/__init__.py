"""rpm database formats, read from bytes without librpm: SQLite
(`rpmdb.sqlite`), Berkeley DB hash (`Packages`) and NDB (`Packages.db`), and
the header blobs they all store."""

from __future__ import annotations

from lashing.catalog.base import CatalogError
from lashing.catalog.rpmdb.bdb import bdb_records, is_bdb
from lashing.catalog.rpmdb.header import RpmHeader, parse_header, split_sourcerpm
from lashing.catalog.rpmdb.ndb import is_ndb, ndb_records
from lashing.catalog.rpmdb.sqlite import is_sqlite, sqlite_records


def header_blobs(data: bytes) -> list[bytes]:
    """Every header blob of an rpm database, whichever of the three formats
    its content shows (not its name)."""
    if is_sqlite(data):
        return sqlite_records(data)
    if is_ndb(data):
        return list(ndb_records(data))
    if is_bdb(data):
        return list(bdb_records(data))
    raise CatalogError("not an rpm database (neither SQLite, Berkeley DB hash nor NDB)")


__all__ = ["RpmHeader", "header_blobs", "parse_header", "split_sourcerpm"]
