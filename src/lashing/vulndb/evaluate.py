"""Is one version inside an OSV `affected` entry?

OSV's evaluation (schema "Evaluation"): a version is affected when it is in
the `versions` list, or when some ECOSYSTEM/SEMVER range, walked with its
events sorted by version, has it at or after an `introduced` not followed by
a `fixed` at or below it or a `last_affected` below it, and it is below the
range's `limit` (if any). `introduced: "0"` is before everything; events may
come in any order. GIT ranges are not stored (see records.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lashing.vulndb.versions import Comparator, InvalidVersion

__all__ = ["Evaluator", "Verdict"]

# Events are sorted by (position, key, tie): position 0 is "0" (before every
# version), 1 an ordinary version, 2 the "*" limit (after every version).
_KIND_TIE = {"introduced": 0, "fixed": 1, "last_affected": 2, "limit": 3}

Event = tuple[tuple[Any, ...], str, str]  # (sort key, kind, version)


@dataclass(frozen=True)
class Verdict:
    """The version is affected; `fixed` holds the nearest fixed version of
    each range that matched (empty when no fix is known)."""

    fixed: tuple[str, ...]


class Evaluator:
    """Evaluates versions of one ecosystem, caching parsed versions and ranges
    for the length of one match run."""

    def __init__(self, comparator: Comparator) -> None:
        self.comparator = comparator
        self._keys: dict[str, Any] = {}
        self._ranges: dict[str, list[list[Event]] | None] = {}
        self._lists: dict[str, tuple[frozenset[str], frozenset[Any]]] = {}

    def key(self, version: str) -> Any:
        """The comparator's sort key (hashable), or None when the version does not parse."""
        try:
            return self._keys[version]
        except KeyError:
            pass
        try:
            key: Any = self.comparator.key(version)
        except InvalidVersion:
            key = None
        self._keys[version] = key
        return key

    def _point(self, kind: str, version: str) -> tuple[Any, ...] | None:
        if kind == "introduced" and version == "0":
            return (0,)
        if kind == "limit" and version == "*":
            return (2,)
        key = self.key(version)
        return None if key is None else (1, key)

    def _parsed_ranges(self, ranges_json: str) -> list[list[Event]]:
        cached = self._ranges.get(ranges_json)
        if cached is not None:
            return cached
        parsed: list[list[Event]] = []
        for _kind, events in json.loads(ranges_json):
            out: list[Event] = []
            for what, version in events:
                point = self._point(what, version)
                if point is None:
                    out = []  # a version this comparator cannot read: skip the range
                    break
                out.append(((*point, _KIND_TIE[what]), what, version))
            if out:
                out.sort(key=lambda e: e[0])
                parsed.append(out)
        self._ranges[ranges_json] = parsed
        return parsed

    def _listed(self, version: str, vkey: Any, versions_json: str) -> bool:
        entry = self._lists.get(versions_json)
        if entry is None:
            listed = json.loads(versions_json)
            keys = frozenset(k for k in map(self.key, listed) if k is not None)
            entry = (frozenset(listed), keys)
            self._lists[versions_json] = entry
        names, keys = entry
        return version in names or (vkey is not None and vkey in keys)

    def evaluate(self, version: str, ranges_json: str,
                 versions_json: str | None) -> Verdict | None:
        """A Verdict when `version` is affected, else None."""
        vkey = self.key(version)
        fixes: list[str] = []
        hit = False
        if vkey is not None:
            point = (1, vkey)
            for events in self._parsed_ranges(ranges_json):
                found, fix = _in_range(point, events)
                if found:
                    hit = True
                    if fix is not None and fix not in fixes:
                        fixes.append(fix)
        if not hit and versions_json is not None and self._listed(version, vkey, versions_json):
            hit = True
            if vkey is not None:
                for events in self._parsed_ranges(ranges_json):
                    fix = _next_fix((1, vkey), events)
                    if fix is not None and fix not in fixes:
                        fixes.append(fix)
        return Verdict(tuple(fixes)) if hit else None


def _in_range(point: tuple[Any, ...], events: list[Event]) -> tuple[bool, str | None]:
    vulnerable = False
    limits: list[tuple[Any, ...]] = []
    for key, what, _version in events:
        where = key[:-1]
        if what == "introduced":
            if point >= where:
                vulnerable = True
        elif what == "fixed":
            if point >= where:
                vulnerable = False
        elif what == "last_affected":
            if point > where:
                vulnerable = False
        else:
            limits.append(where)
    if vulnerable and limits and not any(point < limit for limit in limits):
        vulnerable = False
    if not vulnerable:
        return False, None
    return True, _next_fix(point, events)


def _next_fix(point: tuple[Any, ...], events: list[Event]) -> str | None:
    """The first `fixed` after `point`, unless a `last_affected` comes first."""
    for key, what, version in events:
        if key[:-1] <= point:
            continue
        if what == "fixed":
            return version
        if what == "last_affected":
            return None
    return None
