"""Port ranges: sorted, merged, inclusive (lo, hi) tuples, per protocol.

A `PortMap` maps a protocol (TCP, UDP, SCTP) to its merged ranges; a
protocol that is absent has no ports. `ALL` allows every port of every
protocol."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["ALL", "ALL_PORTS", "NONE", "PROTOCOLS", "PortMap", "Range", "format_ranges",
           "intersect", "intersect_maps", "merge", "union_maps"]

Range = tuple[int, int]
PortMap = Mapping[str, tuple[Range, ...]]

PROTOCOLS = ("TCP", "UDP", "SCTP")
MIN_PORT = 1
MAX_PORT = 65535
ALL_PORTS: tuple[Range, ...] = ((MIN_PORT, MAX_PORT),)
ALL: PortMap = {p: ALL_PORTS for p in PROTOCOLS}
NONE: PortMap = {}


def merge(ranges: Iterable[Range]) -> tuple[Range, ...]:
    """Sorted ranges with overlapping and adjacent ones joined."""
    out: list[Range] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def intersect(a: tuple[Range, ...], b: tuple[Range, ...]) -> tuple[Range, ...]:
    """The ports in both merged range lists."""
    if a == ALL_PORTS:
        return b
    if b == ALL_PORTS:
        return a
    out: list[Range] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def union_maps(maps: Iterable[PortMap]) -> PortMap:
    collected: dict[str, list[Range]] = {}
    for m in maps:
        if m is ALL:
            return ALL
        for proto, ranges in m.items():
            collected.setdefault(proto, []).extend(ranges)
    merged = {p: merge(r) for p, r in collected.items() if r}
    if len(merged) == len(PROTOCOLS) and all(r == ALL_PORTS for r in merged.values()):
        return ALL
    return merged


def intersect_maps(a: PortMap, b: PortMap) -> PortMap:
    if a is ALL:
        return b
    if b is ALL:
        return a
    out: dict[str, tuple[Range, ...]] = {}
    for proto, ranges in a.items():
        other = b.get(proto)
        if other:
            both = intersect(ranges, other)
            if both:
                out[proto] = both
    return out


def contains(ranges: tuple[Range, ...], port: int) -> bool:
    return any(lo <= port <= hi for lo, hi in ranges)


def format_ranges(ranges: Iterable[Range]) -> str:
    """"80,443,1000-2000" (DESIGN's `ports` field)."""
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)
