"""NuGet package versions, ordered as NuGet.Versioning orders them.

`Major.Minor.Patch[.Revision][-prerelease][+metadata]`: up to four numbers
(missing ones are 0, so 1.0 == 1.0.0.0, and leading zeros do not count:
1.0.01 == 1.0.1), then SemVer 2 pre-release precedence with the labels
compared case-insensitively (1.0.0-BETA == 1.0.0-beta); metadata is ignored.
"""

from __future__ import annotations

from functools import lru_cache

from lashing.vulndb.versions._base import CACHE_SIZE
from lashing.vulndb.versions.semver import SemverKey, identifiers_key, parse

__all__ = ["key"]


@lru_cache(maxsize=CACHE_SIZE)
def key(version: str) -> SemverKey:
    """The NuGet precedence key."""
    numbers, pre, _metadata = parse(version)
    pre_key = (0, *identifiers_key(pre.lower())) if pre else (1,)
    return numbers, pre_key
