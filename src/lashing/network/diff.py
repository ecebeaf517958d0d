"""Connections added and removed between two analyses, and reading the
connections back from a saved `lashing network --format json` report."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lashing.errors import InputError
from lashing.model import Connection, Endpoint, EndpointKind
from lashing.network.ports import MAX_PORT, MIN_PORT, PROTOCOLS, Range, format_ranges, merge
from lashing.network.render import endpoint_label
from lashing.report.json import connection as connection_json

__all__ = ["ConnectionDiff", "diff_connections", "looks_like_report", "read_report_connections",
           "render_json", "render_table", "subtract"]

MAX_REPORT_BYTES = 64 * 1024 * 1024
Key = tuple[Endpoint, Endpoint, str]


@dataclass(frozen=True)
class ConnectionDiff:
    old: str
    new: str
    added: tuple[Connection, ...]  # ports reachable in `new` but not in `old`
    removed: tuple[Connection, ...]  # ports reachable in `old` but not in `new`


def subtract(a: tuple[Range, ...], b: tuple[Range, ...]) -> tuple[Range, ...]:
    """The ports of `a` that are not in `b` (both merged)."""
    out: list[Range] = []
    for lo, hi in a:
        start = lo
        for blo, bhi in b:
            if bhi < start or blo > hi:
                continue
            if blo > start:
                out.append((start, blo - 1))
            start = max(start, bhi + 1)
            if start > hi:
                break
        if start <= hi:
            out.append((start, hi))
    return tuple(out)


def _index(connections: Iterable[Connection]) -> dict[Key, tuple[Range, ...]]:
    found: dict[Key, list[Range]] = {}
    for c in connections:
        found.setdefault((c.source, c.destination, c.protocol), []).extend(c.ports)
    return {k: merge(v) for k, v in found.items()}


def diff_connections(old: Iterable[Connection], new: Iterable[Connection], old_name: str = "",
                     new_name: str = "") -> ConnectionDiff:
    before, after = _index(old), _index(new)
    added, removed = [], []
    for key in sorted(before.keys() | after.keys()):
        plus = subtract(after.get(key, ()), before.get(key, ()))
        minus = subtract(before.get(key, ()), after.get(key, ()))
        if plus:
            added.append(Connection(*key, plus))
        if minus:
            removed.append(Connection(*key, minus))
    return ConnectionDiff(old_name, new_name, tuple(added), tuple(removed))


# ---- saved reports -----------------------------------------------------------------------


def looks_like_report(head: bytes) -> bool:
    """The start of a lashing JSON report (`{"schema_version": ...`)."""
    text = head.lstrip()
    return text.startswith(b"{") and b'"schema_version"' in text[:200]


def _endpoint(value: Any, name: str) -> Endpoint:
    if not isinstance(value, dict) or not isinstance(value.get("kind"), str):
        raise InputError(f"{name}: a connection endpoint is not an object with a kind")
    try:
        kind = EndpointKind(value["kind"])
    except ValueError:
        raise InputError(f"{name}: unknown endpoint kind {value['kind']!r}") from None
    fields = {}
    for key in ("namespace", "name", "workload_kind", "cidr"):
        v = value.get(key)
        if v is not None and not isinstance(v, str):
            raise InputError(f"{name}: endpoint {key} is not a string")
        fields[key] = v
    return Endpoint(kind, **fields)


def _ports(text: Any, name: str) -> tuple[Range, ...]:
    if not isinstance(text, str) or not text:
        raise InputError(f"{name}: connection ports {text!r} are not a list such as 80,443")
    ranges = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()) or len(lo) > 5 or len(hi) > 5:
            raise InputError(f"{name}: connection ports {text!r} are not a list such as 80,443")
        a, b = int(lo), int(hi or lo)
        if not MIN_PORT <= a <= b <= MAX_PORT:
            raise InputError(f"{name}: port range {part.strip()} is outside 1-65535")
        ranges.append((a, b))
    return merge(ranges)


def read_report_connections(data: bytes, name: str) -> list[Connection]:
    """The connections of a saved JSON report; InputError naming `name` when it is not one."""
    if len(data) > MAX_REPORT_BYTES:
        raise InputError(f"{name}: more than {MAX_REPORT_BYTES} bytes; not a report to diff")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{name}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or "schema_version" not in doc:
        raise InputError(f"{name}: not a lashing JSON report (no schema_version)")
    if doc["schema_version"] != 1:
        raise InputError(f"{name}: report schema_version {doc['schema_version']!r} is not 1")
    items = doc.get("connections")
    if not isinstance(items, list):
        raise InputError(f"{name}: the report has no connections list",
                         "save it with 'lashing network --format json'")
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise InputError(f"{name}: a connection is not an object")
        protocol = item.get("protocol")
        if protocol not in PROTOCOLS:
            raise InputError(f"{name}: unknown connection protocol {protocol!r}")
        out.append(Connection(_endpoint(item.get("source"), name),
                              _endpoint(item.get("destination"), name), str(protocol),
                              _ports(item.get("ports"), name)))
    return out


# ---- output --------------------------------------------------------------------------------


def render_json(d: ConnectionDiff) -> str:
    doc = {"schema_version": 1, "old": d.old, "new": d.new,
           "added": [connection_json(c) for c in d.added],
           "removed": [connection_json(c) for c in d.removed]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_table(d: ConnectionDiff) -> str:
    lines = [f"old: {d.old}", f"new: {d.new}",
             f"connections added: {len(d.added)}, removed: {len(d.removed)}"]
    for sign, conns in (("+", d.added), ("-", d.removed)):
        for c in conns:
            lines.append(f"  {sign} {endpoint_label(c.source)} -> {endpoint_label(c.destination)}  "
                         f"{c.protocol}:{format_ranges(c.ports)}")
    return "\n".join(lines) + "\n"
