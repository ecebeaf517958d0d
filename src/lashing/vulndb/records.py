"""OSV records -> the rows the store keeps, with schema checks.

A record that breaks the schema, uses a range type OSV does not define, or
carries a version its ecosystem cannot parse raises MalformedRecord; the
importer counts and skips it. Withdrawn records come back marked so the
importer can drop an older copy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lashing.vulndb.ecosystems import family, is_os, normalize_name
from lashing.vulndb.severity import text_severity
from lashing.vulndb.versions import Comparator, InvalidVersion, comparator_for

__all__ = ["AffectedEntry", "MalformedRecord", "ParsedRecord", "parse_record"]

RANGE_TYPES = frozenset({"ECOSYSTEM", "SEMVER", "GIT"})
EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
SEVERITY_TYPES = frozenset({"CVSS_V2", "CVSS_V3", "CVSS_V4", "Ubuntu"})
MAX_DETAILS = 2000
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]*$")
_RH_SUMMARY = re.compile(r"^\s*(Critical|Important|Moderate|Low)\s*:")
# Markers some feeds put in ecosystem_specific / database_specific.
_WONT_FIX = frozenset({"wont-fix", "wont_fix", "won't fix", "will not fix", "will_not_fix",
                       "ignored", "not-fixed-wont-fix"})
_EOL = frozenset({"end-of-life", "end_of_life", "eol"})


# one encoder for all rows: json.dumps(separators=...) builds one per call
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class MalformedRecord(ValueError):
    """The record breaks the OSV schema or holds versions that do not parse."""


@dataclass(frozen=True)
class AffectedEntry:
    ecosystem: str  # as OSV gives it: Debian:12, PyPI
    family: str  # Debian, PyPI
    name: str  # normalised for the ecosystem
    ranges: str  # JSON: [[type, [[event, version], ...]], ...], ECOSYSTEM/SEMVER only
    versions: str | None  # JSON list, or None
    extra: str | None  # JSON object of the few per-package fields matching reads


@dataclass(frozen=True)
class ParsedRecord:
    id: str
    modified: str
    withdrawn: bool = False
    published: str | None = None
    summary: str = ""
    details: str = ""
    severity: str | None = None  # a Severity value from text fields, or None
    cvss: str = "[]"  # JSON: [[type, score], ...] from the top-level severity
    aliases: tuple[str, ...] = ()
    references: str = "[]"  # JSON list of URLs
    affected: tuple[AffectedEntry, ...] = ()


def _fail(record_id: str, why: str) -> MalformedRecord:
    return MalformedRecord(f"{record_id}: {why}")


def _str(doc: Mapping[str, Any], key: str, rid: str, *, required: bool = False) -> str | None:
    value = doc.get(key)
    if value is None:
        if required:
            raise _fail(rid, f"missing '{key}'")
        return None
    if not isinstance(value, str):
        raise _fail(rid, f"'{key}' is not a string")
    return value


def _list(doc: Mapping[str, Any], key: str, rid: str) -> list[Any]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(rid, f"'{key}' is not a list")
    return value


def _str_list(doc: Mapping[str, Any], key: str, rid: str) -> list[str]:
    items = _list(doc, key, rid)
    if not all(isinstance(x, str) for x in items):
        raise _fail(rid, f"'{key}' holds a non-string")
    return items


def _severity_list(doc: Mapping[str, Any], rid: str) -> list[list[str]]:
    out: list[list[str]] = []
    for item in _list(doc, "severity", rid):
        if not isinstance(item, dict):
            raise _fail(rid, "'severity' entry is not an object")
        kind, score = item.get("type"), item.get("score")
        if not isinstance(kind, str) or not isinstance(score, str):
            raise _fail(rid, "'severity' entry needs string 'type' and 'score'")
        if kind in SEVERITY_TYPES:
            out.append([kind, score.strip()])
    return out


@lru_cache(maxsize=512)
def _comparator(ecosystem: str) -> Comparator | None:
    return comparator_for(ecosystem)


def _events(raw: Any, rid: str, comparator: Comparator | None, kind: str) -> list[list[str]]:
    if not isinstance(raw, list) or not raw:
        raise _fail(rid, "a range has no 'events'")
    check = comparator.key if comparator is not None and kind != "GIT" else None
    events: list[list[str]] = []
    introduced = False
    for event in raw:
        if not isinstance(event, dict) or len(event) != 1:
            raise _fail(rid, "an event must hold exactly one of " + ", ".join(EVENT_KINDS))
        ((what, version),) = event.items()
        if what not in EVENT_KINDS:
            raise _fail(rid, f"unknown event '{what}'")
        if not isinstance(version, str) or not version:
            raise _fail(rid, f"'{what}' needs a version string")
        if what == "introduced":
            introduced = True
            special = version == "0"
        else:
            special = what == "limit" and version == "*"
        if check is not None and not special:
            try:
                check(version)
            except InvalidVersion as exc:
                raise _fail(rid, f"bad version {version!r} ({exc})") from None
        events.append([what, version])
    if not introduced:
        raise _fail(rid, "a range has no 'introduced' event")
    return events


def _status_marker(*specifics: Any) -> str | None:
    for spec in specifics:
        if not isinstance(spec, dict):
            continue
        for key in ("status", "fix_state", "state"):
            value = spec.get(key)
            if isinstance(value, str):
                low = value.strip().lower()
                if low in _WONT_FIX:
                    return "wont-fix"
                if low in _EOL:
                    return "end-of-life"
    return None


def _extra(entry: Mapping[str, Any], rid: str) -> str | None:
    eco_spec = entry.get("ecosystem_specific")
    db_spec = entry.get("database_specific")
    extra: dict[str, Any] = {}
    for spec in (eco_spec, db_spec):
        if not isinstance(spec, dict):
            continue
        urgency = spec.get("urgency")
        if isinstance(urgency, str) and "u" not in extra:
            extra["u"] = urgency.strip().lower()
        priority = spec.get("ubuntu_priority")
        if isinstance(priority, str) and "p" not in extra:
            extra["p"] = priority.strip().lower()
        severity = spec.get("severity")
        if isinstance(severity, str) and "d" not in extra:
            extra["d"] = severity
    severity_list = _severity_list(entry, rid)
    if severity_list:
        extra["s"] = severity_list
        for kind, score in severity_list:
            if kind == "Ubuntu" and "p" not in extra:
                extra["p"] = score.lower()
    status = _status_marker(eco_spec, db_spec)
    if status is None and extra.get("u") in _EOL:
        status = "end-of-life"
    if status:
        extra["st"] = status
    return _dumps(extra) if extra else None


def _affected(entry: Any, rid: str) -> AffectedEntry | None:
    if not isinstance(entry, dict):
        raise _fail(rid, "'affected' entry is not an object")
    package = entry.get("package")
    ecosystem = name = ""
    if package is not None:
        if not isinstance(package, dict):
            raise _fail(rid, "'package' is not an object")
        ecosystem = _str(package, "ecosystem", rid, required=True) or ""
        name = _str(package, "name", rid, required=True) or ""
        if not ecosystem.strip() or not name.strip():
            raise _fail(rid, "'package' needs an ecosystem and a name")
    comparator = _comparator(ecosystem) if ecosystem else None
    ranges: list[list[Any]] = []
    for rng in _list(entry, "ranges", rid):
        if not isinstance(rng, dict):
            raise _fail(rid, "a range is not an object")
        kind = rng.get("type")
        if kind not in RANGE_TYPES:
            raise _fail(rid, f"unknown range type {kind!r}")
        events = _events(rng.get("events"), rid, comparator, str(kind))
        if kind != "GIT":
            ranges.append([kind, events])
    versions = _str_list(entry, "versions", rid)
    if not ecosystem or (not ranges and not versions):
        return None  # no package, or GIT ranges alone: nothing to compare a version with
    return AffectedEntry(
        ecosystem=ecosystem,
        family=family(ecosystem),
        name=normalize_name(ecosystem, name),
        ranges=_dumps(ranges),
        versions=_dumps(versions) if versions else None,
        extra=_extra(entry, rid),
    )


def parse_record(doc: Any) -> ParsedRecord:
    """Check one OSV record and reduce it to what the store keeps."""
    if not isinstance(doc, dict):
        raise MalformedRecord("not an OSV record (expected a JSON object)")
    raw_id = doc.get("id")
    if not isinstance(raw_id, str) or not _ID.match(raw_id):
        raise MalformedRecord(f"missing or invalid 'id' ({raw_id!r:.60})")
    rid = raw_id
    modified = _str(doc, "modified", rid, required=True) or ""
    if doc.get("withdrawn"):
        return ParsedRecord(id=rid, modified=modified, withdrawn=True)
    affected = tuple(a for a in (_affected(e, rid) for e in _list(doc, "affected", rid)) if a)
    summary = (_str(doc, "summary", rid) or "").strip()
    details = (_str(doc, "details", rid) or "").strip()
    if len(details) > MAX_DETAILS:
        details = details[: MAX_DETAILS - 1].rstrip() + "…"
    aliases = _str_list(doc, "aliases", rid) + _str_list(doc, "upstream", rid)
    references: list[str] = []
    for ref in _list(doc, "references", rid):
        if not isinstance(ref, dict) or not isinstance(ref.get("url"), str):
            raise _fail(rid, "a reference needs a 'url' string")
        if ref["url"] not in references:
            references.append(ref["url"])
    severity: str | None = None
    db_spec = doc.get("database_specific")
    if isinstance(db_spec, dict) and isinstance(db_spec.get("severity"), str):
        found = text_severity(db_spec["severity"])
        severity = found.value if found else None
    if severity is None and any(is_os(a.ecosystem) for a in affected):
        m = _RH_SUMMARY.match(summary)
        if m:
            found = text_severity(m.group(1))
            severity = found.value if found else None
    return ParsedRecord(
        id=rid,
        modified=modified,
        published=_str(doc, "published", rid),
        summary=summary,
        details=details,
        severity=severity,
        cvss=_dumps(severity_list) if (severity_list := _severity_list(doc, rid)) else "[]",
        aliases=tuple(sorted({a for a in aliases if a and a != rid})),
        references=_dumps(references) if references else "[]",
        affected=affected,
    )
