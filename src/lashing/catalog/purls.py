"""Naming helpers for OS packages: the OSV ecosystem string and the package URL
(purl-spec `deb`, `apk` and `rpm` types, with the qualifiers syft and trivy use).

Optional for other catalogers; packageurl-python can be used directly.
"""

from __future__ import annotations

from collections.abc import Mapping

from packageurl import PackageURL

from lashing.model import OSInfo


def os_ecosystem(os: OSInfo | None, families: Mapping[str, str], default: str) -> str:
    """The OSV ecosystem of a package from an OS package database.

    `families` maps the os-release IDs this database belongs to onto their bare
    OSV names ({"debian": "Debian", "ubuntu": "Ubuntu"}). The detected release's
    exact ecosystem (`Debian:12`) is used when the detected family is one of
    them and OSV has one; a known family without a release-specific ecosystem
    gets its bare name (`Ubuntu`); an unknown or unrelated OS gets `default`.
    """
    if os is None or os.family not in families:
        return default
    return os.ecosystem or families[os.family]


def distro_qualifier(os: OSInfo | None) -> str | None:
    """`debian-12`, `alpine-3.20`, `almalinux-9`: the purl `distro` qualifier."""
    if os is None or not os.family:
        return None
    return f"{os.family}-{os.version}" if os.version else os.family


def make_purl(type_: str, namespace: str | None, name: str, version: str,
              qualifiers: Mapping[str, str | None]) -> str:
    """A canonical purl string; qualifiers that are None or empty are left out."""
    kept = {k: v for k, v in sorted(qualifiers.items()) if v}
    return str(PackageURL(type=type_, namespace=namespace or None, name=name,
                          version=version or None, qualifiers=kept or None).to_string())


__all__ = ["distro_qualifier", "make_purl", "os_ecosystem"]
