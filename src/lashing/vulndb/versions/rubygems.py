"""RubyGems versions, ordered as Gem::Version orders them.

A version is numbers and letters separated by dots (`-` stands for
`.pre.`); its segments are the runs of digits and of letters
(`1.0.0.rc1` is [1, 0, 0, "rc", 1]). Trailing zeros are dropped from the
numeric part (up to the first letter segment) and from the rest; segments
then compare one by one, a missing one being 0: numbers as numbers, strings
as strings, and a string is older than a number, so 1.0.a < 1.0 < 1.0.1.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from lashing.vulndb.versions._base import CACHE_SIZE, InvalidVersion, check_length, padded_key

__all__ = ["canonical_segments", "key"]

# Gem::Version::ANCHORED_VERSION_PATTERN, without the empty version
_VERSION = re.compile(r"[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?")
_SEGMENT = re.compile(r"[0-9]+|[a-zA-Z]+")

Segment = int | str


def _drop_trailing_zeros(segments: list[Segment]) -> list[Segment]:
    while segments and segments[-1] == 0:
        segments.pop()
    return segments


def canonical_segments(version: str) -> list[Segment]:
    """Gem::Version#canonical_segments; raises InvalidVersion for a string
    Gem::Version would reject as malformed."""
    check_length(version)
    text = version.strip()
    if not _VERSION.fullmatch(text):
        raise InvalidVersion(f"malformed RubyGems version {version!r}")
    segments: list[Segment] = [
        int(s) if s.isdigit() else s for s in _SEGMENT.findall(text.replace("-", ".pre."))
    ]
    first_string = next((i for i, s in enumerate(segments) if isinstance(s, str)), len(segments))
    return (_drop_trailing_zeros(segments[:first_string])
            + _drop_trailing_zeros(segments[first_string:]))


def _segment_key(segment: Segment) -> tuple[int, Segment]:
    return (1, segment) if isinstance(segment, int) else (0, segment)


def _null_sign(segment: Segment) -> int:
    # against the padding 0: a string is older, a number compares with 0
    if isinstance(segment, str):
        return -1
    return 1 if segment else 0


@lru_cache(maxsize=CACHE_SIZE)
def key(version: str) -> tuple[Any, ...]:
    """The sort key of a RubyGems version."""
    return padded_key(canonical_segments(version), _segment_key, _null_sign)
