"""`open_store(spec)`: a file path (SQLite) or a postgresql:// URL.

    results.db                                  SQLite, created when missing
    postgresql://lashing@db.example:5432/lashing PostgreSQL (postgres:// too);
                                                libpq parameters such as
                                                ?sslmode=require and a
                                                password from ~/.pgpass or
                                                PGPASSWORD work as usual

Without a spec the store is $LASHING_STORE, else
$XDG_DATA_HOME/lashing/results.db (~/.local/share/lashing/results.db).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from lashing.store.backend import PostgresBackend, SqliteBackend
from lashing.store.errors import StoreInputError
from lashing.store.store import Store

__all__ = ["default_store_path", "display_spec", "open_store"]

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_POSTGRES = ("postgresql", "postgres")
_USERINFO_PASSWORD = re.compile(r"(://[^:/@?#]*):[^@/?#]*@")
_PARAM_PASSWORD = re.compile(r"(password=)[^&\s]*", re.IGNORECASE)


def default_store_path() -> Path:
    env = os.environ.get("LASHING_STORE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lashing" / "results.db"


def display_spec(spec: str) -> str:
    """The spec with any password replaced by ***: safe for messages and reports."""
    return _PARAM_PASSWORD.sub(r"\1***", _USERINFO_PASSWORD.sub(r"\1:***@", spec))


def open_store(spec: str | Path | None = None, *, connect_timeout: float = 10.0) -> Store:
    """Open (creating or migrating as needed) the results store `spec` names.

    StoreInputError (exit 2): an unknown URL scheme, a file that is not a
    store. StoreUnavailable (exit 3): a server that does not answer, a store
    written by a newer lashing."""
    if spec is None or str(spec) == "":
        path = default_store_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreInputError(f"results store {path}: cannot create its directory "
                                  f"({exc.strerror})") from None
        return Store(SqliteBackend(path))
    text = str(spec)
    m = _URL.match(text)
    if m is None:
        return Store(SqliteBackend(Path(text)))
    scheme = m.group(1).lower()
    if scheme not in _POSTGRES:
        raise StoreInputError(
            f"results store {display_spec(text)}: unsupported URL scheme '{scheme}://'",
            "use a file path (SQLite) or postgresql://USER@HOST:PORT/DATABASE")
    return Store(PostgresBackend(text, display_spec(text), connect_timeout))
