"""The results store: recorded runs (targets, SBOMs, findings, checks) on
SQLite or PostgreSQL, for re-scans, diffs and history.

    from lashing.store import open_store, load_report
    with open_store("results.db") as store:        # or postgresql://user@host/db
        run_id = store.record(document, kind="audit")
        store.runs(); store.latest(); store.document(run_id)
        store.targets_with_packages()              # the latest SBOM per target

`load_report(path)` reads a lashing JSON report (InputError when it is not one).
"""

from lashing.store.errors import StoreError, StoreInputError, StoreUnavailable
from lashing.store.report import check_report, load_report, parse_report
from lashing.store.schema import SCHEMA_VERSION
from lashing.store.spec import default_store_path, display_spec, open_store
from lashing.store.store import RunInfo, Store, StoredTarget

__all__ = [
    "SCHEMA_VERSION",
    "RunInfo",
    "Store",
    "StoreError",
    "StoreInputError",
    "StoreUnavailable",
    "StoredTarget",
    "check_report",
    "default_store_path",
    "display_spec",
    "load_report",
    "open_store",
    "parse_report",
]
