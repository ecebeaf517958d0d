"""Semantic Versioning 2.0.0 precedence (npm, crates.io, Go, Hex, SwiftURL,
Bitnami, Kubernetes) and Dart's variant of it (Pub).

Precedence (semver.org, item 11): major, minor and patch compare as numbers;
a version with a pre-release is older than the same version without one;
pre-release identifiers compare left to right, numeric ones as numbers and
below alphanumeric ones, alphanumeric ones in ASCII order, and a longer list
wins when all shared identifiers are equal; build metadata (`+...`) is
ignored.

    1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta < 1.0.0-beta
    < 1.0.0-beta.2 < 1.0.0-beta.11 < 1.0.0-rc.1 < 1.0.0

Go module versions are the same with a leading `v`: `+incompatible` is build
metadata, and a pseudo-version `v0.0.0-20210101000000-abcdef123456` is a
pre-release whose identifier starts with its UTC timestamp, so it sorts by
time and before the release it precedes.

Versions found in advisories are not always strict SemVer, so the parser is
lenient the way the OSV tooling is: a leading `v`, fewer or more than three
numbers (missing ones are 0, extra ones compare as numbers), and a
pre-release that follows the numbers without a hyphen (`1.0beta`). Pub
(pub_semver) also orders build metadata: a version with a build is newer
than the same version without one, and builds compare like pre-releases.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lashing.vulndb.versions._base import CACHE_SIZE, InvalidVersion, check_length

__all__ = ["Parsed", "identifiers_key", "key", "parse", "pub_key"]

_VERSION = re.compile(r"[vV]?(?P<numbers>[0-9]+(?:\.[0-9]+)*)\.?(?P<rest>.*)", re.DOTALL)

Identifier = tuple[int, int] | tuple[int, str]
SemverKey = tuple[tuple[int, ...], tuple[int | Identifier, ...]]
PubKey = tuple[tuple[int, ...], tuple[int | Identifier, ...], tuple[int | Identifier, ...]]

# (numbers, pre-release, build metadata)
Parsed = tuple[tuple[int, ...], str, str]


def parse(version: str) -> Parsed:
    """The numbers, the pre-release and the build metadata of a version;
    raises InvalidVersion when it does not start with a number (after an
    optional `v`).

    Trailing zero numbers are dropped: a missing number is 0 and every kept
    one is >= 0, so the numbers compare as plain tuples (the shorter tuple is
    the smaller one exactly when the longer goes on with a non-zero)."""
    check_length(version)
    text = version.strip()
    match = _VERSION.fullmatch(text)
    if match is None or any(c.isspace() for c in text):
        raise InvalidVersion(f"not a semantic version: {version!r}")
    numbers = [int(n) for n in match.group("numbers").split(".")]
    while numbers and numbers[-1] == 0:
        numbers.pop()
    pre, _, build = match.group("rest").partition("+")
    return tuple(numbers), pre.removeprefix("-"), build


def identifiers_key(text: str) -> tuple[Identifier, ...]:
    """Dot-separated identifiers: numeric ones (0, n) before others (1, s)."""
    out: list[Identifier] = []
    for ident in text.split("."):
        if ident.isascii() and ident.isdigit():
            out.append((0, int(ident)))
        else:
            out.append((1, ident))
    return tuple(out)


def _pre_key(pre: str) -> tuple[int | Identifier, ...]:
    # no pre-release (1,) sorts after any pre-release (0, ...)
    return (0, *identifiers_key(pre)) if pre else (1,)


@lru_cache(maxsize=CACHE_SIZE)
def key(version: str) -> SemverKey:
    """The SemVer 2 precedence key; build metadata is ignored."""
    numbers, pre, _build = parse(version)
    return numbers, _pre_key(pre)


@lru_cache(maxsize=CACHE_SIZE)
def pub_key(version: str) -> PubKey:
    """Dart's pub_semver order: SemVer precedence, then build metadata (none
    sorts first)."""
    numbers, pre, build = parse(version)
    build_key: tuple[int | Identifier, ...] = (1, *identifiers_key(build)) if build else (0,)
    return numbers, _pre_key(pre), build_key
