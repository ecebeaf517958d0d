"""Composer package versions (Packagist), ordered as Composer compares them:
PHP's `version_compare` after Composer's `v` prefix is dropped.

version_compare inserts a `.` wherever digits and letters meet and turns
`-`, `_` and `+` into `.` (1.0.0-beta2 is 1.0.0.beta.2), then compares the
parts: numbers as numbers; words by their stability, matched on the start of
the word,

    dev < alpha = a < beta = b < RC = rc < (a number) < patch = pl = p

any other word sorting before `dev`; and a number beats a word. When one
version runs out of parts, the other is newer if its next part is a number or
a patch word and older otherwise, so 1.0 < 1.0.0 < 1.0.0-p1 and
1.0-dev < 1.0-alpha1 < 1.0. Stability words are matched case-insensitively,
as Composer's own version parser reads them (1.0-Beta1 == 1.0-beta1).

`#` is refused: version_compare gives it the rank of a number, which makes
its ordering non-transitive (1.2.3.# equals both 1.2.3 and 1.2.3.1).
"""

from __future__ import annotations

from functools import lru_cache

from lashing.vulndb.versions._base import CACHE_SIZE, InvalidVersion, check_length

__all__ = ["canonicalize", "key"]

# (prefix, rank), tried in order as version_compare tries them
_SPECIAL = (("dev", 0), ("alpha", 1), ("a", 1), ("beta", 2), ("b", 2), ("rc", 3),
            ("pl", 5), ("p", 5))
_UNKNOWN = -1
_NUMBER = 4

# part keys: a word (2 * rank, 0), a number (8, n), the end of the version 7,
# so that the end sorts after dev/alpha/beta/rc and before numbers and patches
_END = (2 * _NUMBER - 1, 0)

PackagistKey = tuple[tuple[int, int], ...]


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def _is_non_digit(char: str) -> bool:
    return char != "." and not _is_digit(char)


def canonicalize(version: str) -> str:
    """php_canonicalize_version: `-`, `_`, `+` and every other character
    that is not a letter or digit become one `.`, and a `.` goes wherever
    digits and non-digits meet (the first character is kept as it is)."""
    if not version:
        return ""
    out = [version[0]]
    last = version[0]
    for char in version[1:]:
        if char in "-_+":
            if out[-1] != ".":
                out.append(".")
        elif (_is_non_digit(last) and _is_digit(char)) or (_is_digit(last) and _is_non_digit(char)):
            if out[-1] != ".":
                out.append(".")
            out.append(char)
        elif not (char.isascii() and char.isalnum()):
            if out[-1] != ".":
                out.append(".")
        else:
            out.append(char)
        last = char
    return "".join(out)


def _rank(word: str) -> int:
    lowered = word.lower()
    for prefix, rank in _SPECIAL:
        if lowered.startswith(prefix):
            return rank
    return _UNKNOWN


@lru_cache(maxsize=CACHE_SIZE)
def key(version: str) -> PackagistKey:
    """The sort key of a Composer version."""
    check_length(version)
    text = version.strip()
    if text[:1] in ("v", "V"):
        text = text[1:]
    if not text or "#" in text:
        raise InvalidVersion(f"bad Composer version {version!r}")
    out: list[tuple[int, int]] = []
    for part in canonicalize(text).split("."):
        if part and _is_digit(part[0]):
            out.append((2 * _NUMBER, int(part)))
        else:
            out.append((2 * _rank(part), 0))
    out.append(_END)
    return tuple(out)
