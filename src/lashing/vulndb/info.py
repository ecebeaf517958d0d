"""What the database holds and how old it is: for reports, for
`lashing db status`, and the staleness warning scans print."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lashing.model import DatabaseInfo
from lashing.vulndb.store import Database

__all__ = ["STALE_AFTER", "database_info", "staleness_warning", "status_document"]

STALE_AFTER = timedelta(days=7)


def _parse(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def database_info(db: Database) -> DatabaseInfo:
    """`built` (last write) and advisory counts per ecosystem, for the report."""
    return DatabaseInfo(built=db.built(), ecosystems=tuple(sorted(db.ecosystems().items())))


def _freshness(checked_at: str, imported_at: str) -> datetime | None:
    stamps = [s for s in (_parse(checked_at), _parse(imported_at)) if s is not None]
    return max(stamps) if stamps else None


def staleness_warning(db: Database, *, now: datetime | None = None,
                      max_age: timedelta = STALE_AFTER,
                      ecosystems: set[str] | None = None) -> str | None:
    """A one-line warning when some data (of `ecosystems`' families, or all)
    was last fetched longer than `max_age` ago; None when fresh. Refuses nothing."""
    now = now or datetime.now(UTC)
    families = {e.split(":", 1)[0] for e in ecosystems} if ecosystems is not None else None
    stale: list[tuple[str, int]] = []
    for source in db.sources():
        if families is not None and source.family not in families:
            continue
        fresh = _freshness(source.checked_at, source.imported_at)
        if fresh is None or now - fresh > max_age:
            days = (now - fresh).days if fresh else -1
            stale.append((source.family, days))
    if not stale:
        return None
    oldest = max(days for _, days in stale)
    names = ", ".join(fam for fam, _ in stale)
    age = f"{oldest} days old" if oldest >= 0 else "of unknown age"
    return (f"vulnerability data for {names} is {age}; "
            "run 'lashing db update' for current results")


def status_document(db: Database, *, now: datetime | None = None) -> dict[str, Any]:
    """The JSON of `lashing db status --format json` (shape in commands/db.py)."""
    now = now or datetime.now(UTC)
    sources = {s.family: s for s in db.sources()}
    ecosystems: list[dict[str, Any]] = []
    for name, count in sorted(db.ecosystems().items()):
        fam = name.split(":", 1)[0]
        source = sources.get(fam)
        fresh = _freshness(source.checked_at, source.imported_at) if source else None
        ecosystems.append({
            "name": name,
            "family": fam,
            "advisories": count,
            "updated": source.checked_at if source else None,
            "age_days": round((now - fresh).total_seconds() / 86400, 2) if fresh else None,
            "source": source.source if source else None,
        })
    return {
        "path": str(db.path),
        "schema_version": db.schema_version,
        "built": db.built(),
        "stale_after_days": STALE_AFTER.days,
        "sources": [
            {"family": s.family, "source": s.source, "advisories": s.advisories,
             "imported_at": s.imported_at, "checked_at": s.checked_at,
             "etag": s.etag, "last_modified": s.last_modified}
            for s in sources.values()
        ],
        "ecosystems": ecosystems,
    }
