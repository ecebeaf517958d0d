"""Packages installed by rpm, read from its database without librpm:
`rpmdb.sqlite` (rpm 4.16+), `Packages` (Berkeley DB hash) and `Packages.db`
(NDB), under /var/lib/rpm or /usr/lib/sysimage/rpm. The format is told by
content, not by name.

Version: `epoch:version-release` when the header has an Epoch, else
`version-release` (as OSV's AlmaLinux and Rocky Linux records write them).
Source: name and version-release from SOURCERPM (`openssl-3.0.7-25.el9.src.rpm`),
with the binary's epoch, which rpm gives every subpackage of a source.
`gpg-pubkey` entries are the keys rpm imported, not software: they are left
out (`rpm -qa` lists them; syft and trivy leave them out too).

Ecosystem: the detected release (`AlmaLinux:9`, `Rocky Linux:9`,
`openSUSE:…`, `SUSE:…`) when the OS is one of the rpm distributions OSV
covers; the bare OSV name for one of them without a release string (`Red
Hat`); `RPM` (which matches no OSV feed) for any other or unknown OS, such
as CentOS, Fedora or Amazon Linux.

A database that cannot be read, or any header in it that is damaged, is a
CatalogError.
"""

from __future__ import annotations

from lashing.catalog.base import CatalogContext, CatalogError
from lashing.catalog.purls import distro_qualifier, make_purl, os_ecosystem
from lashing.catalog.rpmdb import RpmHeader, header_blobs, parse_header, split_sourcerpm
from lashing.model import Location, Package

FAMILIES = {
    "almalinux": "AlmaLinux",
    "rocky": "Rocky Linux",
    "rhel": "Red Hat",
    "opensuse": "openSUSE",
    "opensuse-leap": "openSUSE",
    "opensuse-tumbleweed": "openSUSE",
    "opensuse-microos": "openSUSE",
    "sles": "SUSE",
    "sle-micro": "SUSE",
    "sled": "SUSE",
    "mageia": "Mageia",
    "photon": "Photon OS",
    "azurelinux": "Azure Linux",
    "mariner": "Azure Linux",
    "openeuler": "openEuler",
}
NAMESPACES = {"rhel": "redhat"}  # purl namespaces that differ from the os-release ID
DIRS = ("/var/lib/rpm/", "/usr/lib/sysimage/rpm/")


class RpmCataloger:
    name = "rpm"
    tags = ("os", "installed")
    globs = tuple(d + f for d in DIRS for f in ("rpmdb.sqlite", "Packages", "Packages.db"))

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        if not data:
            return []
        packages = []
        for number, blob in enumerate(header_blobs(data), 1):
            try:
                header = parse_header(blob)
            except CatalogError as exc:
                raise CatalogError(f"record {number}: {exc}") from None
            if header.name != "gpg-pubkey":
                packages.append(self._package(header, path, ctx))
        return packages

    def _package(self, h: RpmHeader, path: str, ctx: CatalogContext) -> Package:
        source = split_sourcerpm(h.sourcerpm) if h.sourcerpm else None
        epoch = "" if h.epoch is None else f"{h.epoch}:"
        source_name, source_version = (source[0], epoch + source[1]) if source else (h.name, h.evr)
        family = ctx.os.family if ctx.os is not None and ctx.os.family else None
        purl = make_purl("rpm", NAMESPACES.get(family or "", family), h.name,
                         f"{h.version}-{h.release}", {
                             "arch": h.arch if h.arch and h.arch != "(none)" else None,
                             "epoch": None if h.epoch is None else str(h.epoch),
                             "distro": distro_qualifier(ctx.os),
                             "upstream": h.sourcerpm,
                         })
        return Package(
            name=h.name,
            version=h.evr,
            ecosystem=os_ecosystem(ctx.os, FAMILIES, "RPM"),
            purl=purl,
            found_by=self.name,
            locations=(Location(path=path, layer=ctx.layer),),
            source_name=source_name,
            source_version=source_version,
            licenses=(h.license,) if h.license else (),
        )


__all__ = ["RpmCataloger"]
