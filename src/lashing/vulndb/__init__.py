"""The offline vulnerability database: OSV records imported into one SQLite
file, and matching of packages against it.

    db = open_database(path)                 # EnvironmentFailure when missing/too new
    findings, issues = match(packages, db)   # per-package indexed lookups
    database_info(db)                        # DatabaseInfo for the report
    staleness_warning(db)                    # a message when data is over 7 days old

Writing: importer.import_paths (`lashing db import`) and update.update
(`lashing db update`), both atomic. Version comparison lives in versions/.
"""

from __future__ import annotations

from lashing.vulndb.info import database_info, staleness_warning, status_document
from lashing.vulndb.matching import match
from lashing.vulndb.store import SCHEMA_VERSION, Database, default_db_path, open_database

__all__ = [
    "SCHEMA_VERSION",
    "Database",
    "database_info",
    "default_db_path",
    "match",
    "open_database",
    "staleness_warning",
    "status_document",
]
