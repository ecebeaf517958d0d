"""Debian package versions, ordered as `dpkg --compare-versions` orders them
(Debian, Ubuntu).

A version is `[epoch:]upstream[-revision]`; the epoch compares as a number,
then upstream and revision with dpkg's `verrevcmp`: the string is read as
alternating runs of non-digits and digits. Non-digit runs compare character
by character, where `~` sorts before everything (even the end of the run),
then the end of the run, then letters, then every other character; digit runs
compare as numbers. See deb-version(7).
"""

from __future__ import annotations

import re
from functools import lru_cache

from lashing.vulndb.versions._base import CACHE_SIZE, InvalidVersion, check_length

__all__ = ["key", "parse"]

DpkgKey = tuple[int, tuple[int, ...], tuple[int, ...]]

_EPOCH_MAX = 2**31 - 1  # dpkg stores the epoch in an int
_UPSTREAM_OK = re.compile(r"[A-Za-z0-9.+~:-]+")
_REVISION_OK = re.compile(r"[A-Za-z0-9.+~]*")
_RUN = re.compile(r"([^0-9]*)([0-9]*)")


def _order(c: str) -> int:
    if c == "~":
        return -1
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


# every character allowed outside digit runs, precomputed
_ORDER = {c: _order(c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.+~:-"}


def _verrev_key(part: str) -> tuple[int, ...]:
    """verrevcmp as a key: each (non-digit run, digit run) pair becomes the
    runs' character orders, a 0 for "end of run" and the number. Every pair
    after the first starts with a non-digit, whose order is never 0, so a
    final 0 stands for the end of the string (which dpkg pads as an empty
    run and the number 0)."""
    out: list[int] = []
    pos, size = 0, len(part)
    while True:
        match = _RUN.match(part, pos)
        assert match is not None  # the pattern matches the empty string
        letters, digits = match.group(1), match.group(2)
        out.extend(_ORDER[c] for c in letters)
        out.append(0)
        out.append(int(digits) if digits else 0)
        pos = match.end()
        if pos >= size:
            break
    out.append(0)
    return tuple(out)


def parse(version: str) -> tuple[int, str, str]:
    """(epoch, upstream, revision); raises InvalidVersion where dpkg would
    refuse the version or warn about it."""
    text = version.strip()
    if not text:
        raise InvalidVersion("empty Debian version")
    if any(c.isspace() for c in text):
        raise InvalidVersion(f"Debian version {version!r} contains whitespace")
    epoch = 0
    if ":" in text:
        head, _, text = text.partition(":")
        if not head.isascii() or not head.isdigit():
            raise InvalidVersion(f"Debian version {version!r}: the epoch is not a number")
        epoch = int(head)
        if epoch > _EPOCH_MAX:
            raise InvalidVersion(f"Debian version {version!r}: the epoch is too big")
        if not text:
            raise InvalidVersion(f"Debian version {version!r}: nothing after the colon")
    upstream, hyphen, revision = text.rpartition("-")
    if not hyphen:
        upstream, revision = text, ""
    elif not revision:
        raise InvalidVersion(f"Debian version {version!r}: the revision is empty")
    if not upstream:
        raise InvalidVersion(f"Debian version {version!r}: the upstream version is empty")
    if not _UPSTREAM_OK.fullmatch(upstream) or not _REVISION_OK.fullmatch(revision):
        raise InvalidVersion(f"Debian version {version!r} contains an invalid character")
    return epoch, upstream, revision


@lru_cache(maxsize=CACHE_SIZE)
def key(version: str) -> DpkgKey:
    """The sort key of a Debian version."""
    check_length(version)
    epoch, upstream, revision = parse(version)
    return epoch, _verrev_key(upstream), _verrev_key(revision)
