"""What every scheme shares: the error, the comparator built on a sort key,
and the sort key of a sequence that is compared with implicit padding.

Each scheme module exposes one `key(version)` function. Its result is a plain
tuple (or, for PyPI, a `packaging` Version) such that comparing two keys with
`<`, `==` and `>` gives exactly the ecosystem's own ordering; the comparator
only compares keys. Keys are hashable, so callers may use them in sets and
dictionaries, and they are cached, since matching compares the same few
thousand versions against many ranges.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = [
    "CACHE_SIZE",
    "MAX_VERSION_LENGTH",
    "InvalidVersion",
    "KeyComparator",
    "check_length",
    "padded_key",
]

T = TypeVar("T")

# Versions parsed per scheme that stay cached (a few MB at most).
CACHE_SIZE = 1 << 16

# Longer strings are not versions, and would make parsing costly.
MAX_VERSION_LENGTH = 512


class InvalidVersion(ValueError):
    """A version string that the ecosystem's own tools would not accept."""


def check_length(version: str) -> None:
    """Refuse strings too long to be a version (every scheme calls this)."""
    if len(version) > MAX_VERSION_LENGTH:
        raise InvalidVersion(f"version longer than {MAX_VERSION_LENGTH} characters")


class KeyComparator:
    """A comparator that orders versions by the scheme's sort key."""

    __slots__ = ("_key", "ecosystem", "scheme")

    def __init__(self, ecosystem: str, scheme: str, key: Callable[[str], Any]) -> None:
        self.ecosystem = ecosystem
        self.scheme = scheme
        self._key = key

    def key(self, version: str) -> Any:
        """A sortable, hashable key; raises InvalidVersion for a bad version."""
        return self._key(version)

    def compare(self, a: str, b: str) -> int:
        """-1, 0 or 1 as `a` is older than, the same as, or newer than `b`."""
        ka = self._key(a)
        kb = self._key(b)
        if ka < kb:
            return -1
        return 1 if ka > kb else 0

    def __repr__(self) -> str:
        return f"KeyComparator(ecosystem={self.ecosystem!r}, scheme={self.scheme!r})"


def padded_key(
    items: Sequence[T],
    item_key: Callable[[T], Any],
    null_sign: Callable[[T], int],
) -> tuple[Any, ...]:
    """The sort key of a sequence compared item by item, where the shorter
    sequence is padded with a "null" item (Maven pads with null, RubyGems with
    0, dpkg with the empty string).

    Tuples compare a shorter prefix as smaller, which is wrong when the longer
    one continues with an item below the padding ("1" > "1-alpha" in Maven).
    So each position i is written as (s_i, item_key(item_i)), where s_i is
    how the rest of the sequence from i compares with all-padding (-1, 0, 1),
    and the key ends with 0 (the end compares as equal to all-padding). Once
    the rest of a sequence equals all-padding the key stops: the items left
    cannot change any comparison.

    `null_sign(item)` is how the item compares with the padding item; two
    items are compared through `item_key`, which must order them as the
    ecosystem does.
    """
    signs = [0] * (len(items) + 1)
    for i in range(len(items) - 1, -1, -1):
        signs[i] = null_sign(items[i]) or signs[i + 1]
    out: list[Any] = []
    for i, item in enumerate(items):
        if signs[i] == 0:
            break
        out.append(signs[i])
        out.append(item_key(item))
    out.append(0)
    return tuple(out)
