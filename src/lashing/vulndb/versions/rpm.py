"""RPM versions, ordered as rpm's `rpmvercmp` and `rpmverCmp` order them
(Red Hat, AlmaLinux, Rocky Linux, SUSE, openSUSE, Mageia, Photon OS, Azure
Linux, openEuler).

An EVR string is `[epoch:]version[-release]`: the epoch is the leading digits
when a `:` follows them (missing means 0), the release is what follows the
last `-`. Epochs compare as numbers, then version and release with
rpmvercmp; a missing release sorts before any release, even an empty one.

rpmvercmp skips every character that is not an ASCII letter or digit, `~` or
`^`, and compares what is left segment by segment: `~` sorts before
everything, even the end of the string (1.0~rc1 < 1.0); `^` sorts after the
end but before anything else (1.0 < 1.0^git1 < 1.0.1); a digit run beats a
letter run; digit runs compare as numbers, letter runs as ASCII strings; when
one side runs out, the side with something left is newer.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lashing.vulndb.versions._base import CACHE_SIZE, InvalidVersion, check_length

__all__ = ["key", "parse", "vercmp_key"]

# segment ranks: "~" < end < "^" < letters < digits
_TILDE, _END, _CARET, _ALPHA, _DIGIT = range(5)
_SEGMENT = re.compile(r"[0-9]+|[A-Za-z]+|~|\^")

Segment = int | str
RpmKey = tuple[int, tuple[Segment, ...], tuple[int, tuple[Segment, ...]]]


def vercmp_key(text: str) -> tuple[Segment, ...]:
    """rpmvercmp as a key: a flat (rank, value) pair per segment, then the end."""
    out: list[Segment] = []
    for segment in _SEGMENT.findall(text):
        if segment == "~":
            out += (_TILDE, 0)
        elif segment == "^":
            out += (_CARET, 0)
        elif segment[0].isdigit():
            out += (_DIGIT, int(segment))
        else:
            out += (_ALPHA, segment)
    out += (_END, 0)
    return tuple(out)


def parse(evr: str) -> tuple[int, str, str | None]:
    """(epoch, version, release or None), split as rpm's parseEVR splits."""
    text = evr.strip()
    if not text:
        raise InvalidVersion("empty RPM version")
    epoch = 0
    digits = len(text) - len(text.lstrip("0123456789"))
    if text[digits:digits + 1] == ":":
        epoch = int(text[:digits] or "0")
        text = text[digits + 1:]
    version, hyphen, release = text.rpartition("-")
    if not hyphen:
        return epoch, text, None
    return epoch, version, release


@lru_cache(maxsize=CACHE_SIZE)
def key(evr: str) -> RpmKey:
    """The sort key of an RPM `[epoch:]version[-release]` string."""
    check_length(evr)
    epoch, version, release = parse(evr)
    release_key = (0, ()) if release is None else (1, vercmp_key(release))
    return epoch, vercmp_key(version), release_key
