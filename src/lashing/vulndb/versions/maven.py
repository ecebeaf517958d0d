"""Maven versions, ordered as Maven's ComparableVersion orders them.

The version is lower-cased and split into items at `.`, at `-` and at every
change between digits and letters; `-` and a digit/letter change open a
sub-list, so `1.0-beta-2` is [1, 0, [beta, [2]]]. Number items compare as
numbers; string items (qualifiers) as

    alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp

with any other qualifier after these, in alphabetical order; `a1`, `b1` and
`m1` stand for alpha-1, beta-1 and milestone-1. A number beats a sub-list,
which beats a qualifier (1.1 > 1-1 > 1-sp). Trailing "null" items (0, the
empty qualifier and empty lists) are dropped, so 1 == 1.0 == 1.0.0 == 1-ga,
and a missing item compares as null: 1-SNAPSHOT < 1 < 1-sp < 1-1 < 1.1.

This is ComparableVersion as of maven-artifact 3.8 (which produced the
upstream fixtures of the OSV tooling) plus the `release` alias of 3.9. One
difference: 3.8 is not transitive where a 0 stands before a qualifier
(2.9 < 2.9.0-1 < 2.9.0.RC1 < 2.9, since 0 beats a sub-list but equals a
missing item); a sort key must pick one order, and this one treats such a
0 like the missing item it equals, giving 2.9.0.RC1 < 2.9 < 2.9.0-1, the
order Maven 4 gives.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeAlias

from lashing.vulndb.versions._base import CACHE_SIZE, InvalidVersion, check_length, padded_key

__all__ = ["key", "parse"]

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_RELEASE_INDEX = _QUALIFIERS.index("")
_UNKNOWN_INDEX = len(_QUALIFIERS)
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}

# a number, a qualifier, or a sub-list
Item: TypeAlias = int | str | list["Item"]


def _qualifier(text: str, followed_by_digit: bool) -> str:
    if followed_by_digit and len(text) == 1:
        text = _SHORT.get(text, text)
    return _ALIASES.get(text, text)


def _item(is_digit: bool, text: str) -> Item:
    return int(text) if is_digit else _qualifier(text, False)


def _is_null(item: Item) -> bool:
    if isinstance(item, list):
        return not item
    return item == 0 or item == ""


def _normalize(items: list[Item]) -> None:
    """Drop null items from the end, looking past non-null sub-lists (so
    1.0-1 becomes [1, [1]], the same as 1-1); sub-lists first."""
    for item in items:
        if isinstance(item, list):
            _normalize(item)
    for i in range(len(items) - 1, -1, -1):
        item = items[i]
        if _is_null(item):
            del items[i]
        elif not isinstance(item, list):
            break


def parse(version: str) -> list[Item]:
    """The normalised item list of a version."""
    check_length(version)
    text = version.strip().lower()
    if not text:
        raise InvalidVersion("empty Maven version")
    items: list[Item] = []
    current = items
    start = 0
    is_digit = False
    for i, char in enumerate(text):
        if char in ".-":
            current.append(0 if i == start else _item(is_digit, text[start:i]))
            start = i + 1
            if char == "-":
                sub: list[Item] = []
                current.append(sub)
                current = sub
        elif "0" <= char <= "9":
            if not is_digit and i > start:
                current.append(_qualifier(text[start:i], True))
                start = i
                sub = []
                current.append(sub)
                current = sub
            is_digit = True
        else:
            if is_digit and i > start:
                current.append(_item(True, text[start:i]))
                start = i
                sub = []
                current.append(sub)
                current = sub
            is_digit = False
    if len(text) > start:
        current.append(_item(is_digit, text[start:]))
    _normalize(items)
    return items


def _qualifier_index(text: str) -> int:
    try:
        return _QUALIFIERS.index(text)
    except ValueError:
        return _UNKNOWN_INDEX


def _null_sign(item: Item) -> int:
    """How the item compares with a missing item."""
    if isinstance(item, int):
        return 1 if item else 0
    if isinstance(item, str):
        index = _qualifier_index(item)
        return (index > _RELEASE_INDEX) - (index < _RELEASE_INDEX)
    # a sub-list compares with null as its first item does (an empty one is null)
    return _null_sign(item[0]) if item else 0


def _item_key(item: Item) -> tuple[Any, ...]:
    """Qualifiers < sub-lists < numbers; known qualifiers by their rank,
    unknown ones after them alphabetically."""
    if isinstance(item, int):
        return (2, item)
    if isinstance(item, str):
        index = _qualifier_index(item)
        return (0, index, item if index == _UNKNOWN_INDEX else "")
    return (1, padded_key(item, _item_key, _null_sign))


@lru_cache(maxsize=CACHE_SIZE)
def key(version: str) -> tuple[Any, ...]:
    """The sort key of a Maven version."""
    return padded_key(parse(version), _item_key, _null_sign)
