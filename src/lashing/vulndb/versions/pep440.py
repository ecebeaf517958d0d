"""Python package versions (PyPI), ordered by PEP 440 through `packaging`,
the reference implementation pip uses.

Legacy versions that PEP 440 does not accept ("0.1-bulbasaur") are invalid:
`packaging` has refused them since 22.0, and pip since 24.1.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.version import InvalidVersion as PackagingInvalidVersion
from packaging.version import Version

from lashing.vulndb.versions._base import CACHE_SIZE, InvalidVersion, check_length

__all__ = ["key"]


@lru_cache(maxsize=CACHE_SIZE)
def key(version: str) -> Version:
    """The parsed PEP 440 version; Version objects order, compare equal and
    hash by PEP 440 (1.0 == 1.0.0, 1.0.post1 > 1.0, 1!0.1 > 2.0)."""
    check_length(version)
    try:
        return Version(version)
    except PackagingInvalidVersion as exc:
        raise InvalidVersion(f"not a PEP 440 version: {version!r}") from exc
