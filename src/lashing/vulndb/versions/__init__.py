"""Version comparison with each ecosystem's own rules, one module per scheme.

`comparator_for` takes an OSV ecosystem string as advisories and packages
spell it ("Debian:12", "Ubuntu:22.04:LTS", "Alpine:v3.20", "Red Hat:rhel:9",
"Maven:https://maven.google.com", "PyPI") and returns the comparator of its
family, or None when lashing has no comparator for it: the caller then
reports the package as not covered rather than guess an order.

| scheme    | families |
| --------- | -------- |
| dpkg      | Debian, Ubuntu |
| apk       | Alpine, Alpaquita, BellSoft Hardened Containers, Chainguard, MinimOS, Wolfi |
| rpm       | AlmaLinux, Azure Linux, Mageia, openEuler, openSUSE, Photon OS, Red Hat, |
|           | Rocky Linux, SUSE |
| pep440    | PyPI |
| semver    | npm, crates.io, Go, Hex, SwiftURL, Bitnami, Kubernetes |
| pub       | Pub (SemVer that also orders build metadata) |
| maven     | Maven |
| rubygems  | RubyGems |
| nuget     | NuGet |
| packagist | Packagist |

`Root:<family>:...` (Root's patched images) uses the comparator of the
family it names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from lashing.vulndb.versions import (
    apk,
    dpkg,
    maven,
    nuget,
    packagist,
    pep440,
    rpm,
    rubygems,
    semver,
)
from lashing.vulndb.versions._base import MAX_VERSION_LENGTH, InvalidVersion, KeyComparator

__all__ = [
    "MAX_VERSION_LENGTH",
    "SCHEMES",
    "Comparator",
    "InvalidVersion",
    "KeyComparator",
    "comparator_for",
    "compare",
    "families",
]


class Comparator(Protocol):
    """Orders the versions of one ecosystem family."""

    ecosystem: str  # family name, e.g. "Debian", "PyPI"

    def key(self, version: str) -> Any:
        """A sortable key; raises InvalidVersion for a bad version."""
        ...

    def compare(self, a: str, b: str) -> int:
        """-1, 0 or 1."""
        ...


# scheme name -> (sort key function, ecosystem families that use it)
SCHEMES: dict[str, tuple[Callable[[str], Any], tuple[str, ...]]] = {
    "dpkg": (dpkg.key, ("Debian", "Ubuntu")),
    "apk": (apk.key, ("Alpine", "Alpaquita", "BellSoft Hardened Containers", "Chainguard",
                      "MinimOS", "Wolfi")),
    "rpm": (rpm.key, ("AlmaLinux", "Azure Linux", "Mageia", "openEuler", "openSUSE",
                      "Photon OS", "Red Hat", "Rocky Linux", "SUSE")),
    "pep440": (pep440.key, ("PyPI",)),
    "semver": (semver.key, ("npm", "crates.io", "Go", "Hex", "SwiftURL", "Bitnami",
                            "Kubernetes")),
    "pub": (semver.pub_key, ("Pub",)),
    "maven": (maven.key, ("Maven",)),
    "rubygems": (rubygems.key, ("RubyGems",)),
    "nuget": (nuget.key, ("NuGet",)),
    "packagist": (packagist.key, ("Packagist",)),
}

_BY_FAMILY: dict[str, KeyComparator] = {
    family: KeyComparator(family, scheme, key)
    for scheme, (key, family_names) in SCHEMES.items()
    for family in family_names
}


def families() -> frozenset[str]:
    """Every ecosystem family that has a comparator."""
    return frozenset(_BY_FAMILY)


def comparator_for(ecosystem: str) -> Comparator | None:
    """The comparator for an OSV ecosystem string, or None if there is none."""
    family, _, rest = ecosystem.strip().partition(":")
    if family == "Root" and rest:
        return comparator_for(rest)
    return _BY_FAMILY.get(family)


def compare(ecosystem: str, a: str, b: str) -> int:
    """-1, 0 or 1 as version `a` is older than, equal to or newer than `b`
    in `ecosystem`; raises ValueError for an unknown ecosystem and
    InvalidVersion (a ValueError) for a bad version."""
    comparator = comparator_for(ecosystem)
    if comparator is None:
        raise ValueError(f"no version comparator for ecosystem {ecosystem!r}")
    return comparator.compare(a, b)
