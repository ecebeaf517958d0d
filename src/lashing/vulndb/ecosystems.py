"""Ecosystem strings as OSV spells them: the family prefix, package-name
normalisation, and which ecosystems are operating systems.

`Debian:12` has the family `Debian`; `PyPI` is its own family. Lookups use
the full string, so a Debian 12 image only meets `Debian:12` records.
"""

from __future__ import annotations

import re

__all__ = [
    "BINARY_NAMED",
    "DEFAULT_UPDATE",
    "OS_FAMILIES",
    "family",
    "is_os",
    "normalize_name",
]

# Operating-system families: their advisories name distribution packages and
# their releases are part of the ecosystem string.
OS_FAMILIES = frozenset({
    "AlmaLinux", "Alpaquita", "Alpine", "Azure Linux", "BellSoft Hardened Containers",
    "Chainguard", "Debian", "Docker Hardened Images", "Echo", "Mageia", "MinimOS",
    "openEuler", "openSUSE", "Photon OS", "Red Hat", "Rocky Linux", "SUSE", "Ubuntu",
    "Wolfi",
})

# OS families whose advisories name binary RPMs (openssl-libs, glibc-common)
# rather than the source package; every other OS family names the source
# package (Debian, Ubuntu and Alpine key their trackers by source package).
BINARY_NAMED = frozenset({"AlmaLinux", "Rocky Linux", "Red Hat", "openEuler", "Mageia"})

# Families whose package names are case-insensitive.
_CASE_INSENSITIVE = frozenset({"NuGet", "Packagist"})

# What `lashing db update` fetches when the database is empty and no
# --ecosystem was given: the OS feeds images are built on and the language
# ecosystems lashing catalogs.
DEFAULT_UPDATE: tuple[str, ...] = (
    "AlmaLinux", "Alpine", "Debian", "Rocky Linux", "Ubuntu",
    "Go", "Maven", "NuGet", "Packagist", "PyPI", "RubyGems", "crates.io", "npm",
)

_PEP503 = re.compile(r"[-_.]+")


def family(ecosystem: str) -> str:
    """`Debian:12` -> `Debian`; `Ubuntu:Pro:18.04:LTS` -> `Ubuntu`; `PyPI` -> `PyPI`."""
    return ecosystem.split(":", 1)[0]


def is_os(ecosystem: str) -> bool:
    return family(ecosystem) in OS_FAMILIES


def normalize_name(ecosystem: str, name: str) -> str:
    """The name advisories and packages are compared by: PEP 503 for PyPI,
    case-folded where the ecosystem ignores case, otherwise as given."""
    fam = family(ecosystem)
    if fam == "PyPI":
        return _PEP503.sub("-", name).lower()
    if fam in _CASE_INSENSITIVE:
        return name.lower()
    return name
