"""Debian packages installed by dpkg: `/var/lib/dpkg/status`, and the
one-file-per-package `/var/lib/dpkg/status.d/*` of distroless images.

Which paragraphs count: those whose Status says the package's files are on
disk and configured, i.e. the third Status word is `installed`,
`triggers-pending` or `triggers-awaited`, whatever the wanted action
(`install`, `hold`, even `deinstall` before it has run). `config-files`,
`half-installed`, `unpacked`, `half-configured` and `not-installed` are left
out. A paragraph without a Status field is skipped in the status file, as
dpkg-query skips it, and installed in status.d, where distroless writes none;
status.d's `*.md5sums` files are not databases and are skipped.

A status file dpkg itself would refuse (a line that is neither a field nor a
continuation, a duplicated field, a malformed Status, a package without a
name or version) is a CatalogError naming the line, never a partial list.

Ecosystem: the detected release (`Debian:12`, `Ubuntu:22.04:LTS`) when the
OS is Debian or Ubuntu; otherwise (no os-release, a derivative such as Kali)
the bare `Debian`, or `Ubuntu` for an Ubuntu release OSV has no string for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from lashing.catalog.base import CatalogContext, CatalogError
from lashing.catalog.purls import distro_qualifier, make_purl, os_ecosystem
from lashing.model import Location, Package

STATUS = "/var/lib/dpkg/status"
STATUS_D = "/var/lib/dpkg/status.d/"
FAMILIES = {"debian": "Debian", "ubuntu": "Ubuntu"}
INSTALLED_STATES = frozenset({"installed", "triggers-pending", "triggers-awaited"})
WANTS = frozenset({"unknown", "install", "hold", "deinstall", "purge"})
ERRORS = frozenset({"ok", "reinstreq", "hold", "hold-reinstreq"})
STATES = frozenset({"not-installed", "config-files", "half-installed", "unpacked",
                    "half-configured", *INSTALLED_STATES})

_FIELD = re.compile(r"([^\s:#-][^\s:]*)[ \t]*:(.*)")
_SOURCE = re.compile(r"([^\s()]+)(?:\s+\(([^\s()]+)\))?")


@dataclass(frozen=True)
class Paragraph:
    line: int  # where it starts, 1-based
    fields: dict[str, str]  # lower-cased field name -> value, continuation lines joined by "\n"


def paragraphs(text: str) -> Iterator[Paragraph]:
    """deb822 paragraphs: `Field: value` lines, continuation lines that start
    with a space or tab, paragraphs separated by blank lines. CRLF tolerated."""
    fields: dict[str, str] = {}
    start = 0
    last: str | None = None
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.removesuffix("\r")
        if not line or (not line.strip() and last is None):
            if fields:
                yield Paragraph(start, fields)
            fields, last = {}, None
            continue
        if line[0] in " \t":  # a continuation; blank ones too, as dpkg reads them
            if last is None:
                raise CatalogError(f"line {number}: continuation line outside a field")
            fields[last] += "\n" + line.strip()
            continue
        match = _FIELD.fullmatch(line)
        if match is None:
            raise CatalogError(f"line {number}: expected 'Field: value', got {line[:40]!r}")
        name = match.group(1).lower()
        if name in fields:
            raise CatalogError(f"line {number}: duplicate field {match.group(1)!r}")
        if not fields:
            start = number
        fields[name] = match.group(2).strip()
        last = name
    if fields:
        yield Paragraph(start, fields)


def installed(status: str | None, in_status_d: bool, line: int) -> bool:
    """Whether a paragraph with this Status field is an installed package."""
    if status is None:
        return in_status_d
    words = status.split()
    if (len(words) != 3 or words[0] not in WANTS or words[1] not in ERRORS
            or words[2] not in STATES):
        raise CatalogError(f"line {line}: malformed Status {status!r}")
    return words[2] in INSTALLED_STATES


class DpkgCataloger:
    name = "dpkg"
    tags = ("os", "installed")
    globs = (STATUS, STATUS_D + "*")

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        if path.endswith(".md5sums"):
            return []  # status.d keeps each package's checksums beside it
        if b"\0" in data:
            raise CatalogError("binary data in a dpkg status file")
        text = data.decode("utf-8", "replace")
        in_status_d = path.startswith(STATUS_D)
        return [pkg for para in paragraphs(text)
                if (pkg := self._package(para, path, ctx, in_status_d)) is not None]

    def _package(self, para: Paragraph, path: str, ctx: CatalogContext,
                 in_status_d: bool) -> Package | None:
        f = para.fields
        name = f.get("package", "")
        if not name or len(name.split()) != 1:
            raise CatalogError(f"line {para.line}: paragraph without a valid Package field")
        if not installed(f.get("status"), in_status_d, para.line):
            return None
        version = f.get("version", "")
        if not version or len(version.split()) != 1:
            raise CatalogError(f"line {para.line}: package {name!r} has no valid Version")
        source_name, source_version = name, version
        if f.get("source"):
            match = _SOURCE.fullmatch(f["source"])
            if match is None:
                raise CatalogError(f"line {para.line}: malformed Source {f['source']!r}")
            source_name = match.group(1)
            source_version = match.group(2) or version
        arch = f.get("architecture") or None
        if source_name == name and source_version == version:
            upstream = None
        elif source_version == version:
            upstream = source_name
        else:
            upstream = f"{source_name}@{source_version}"
        namespace = ctx.os.family if ctx.os is not None and ctx.os.family else "debian"
        purl = make_purl("deb", namespace, name, version, {
            "arch": arch, "distro": distro_qualifier(ctx.os), "upstream": upstream})
        return Package(
            name=name,
            version=version,
            ecosystem=os_ecosystem(ctx.os, FAMILIES, "Debian"),
            purl=purl,
            found_by=self.name,
            locations=(Location(path=path, layer=ctx.layer),),
            source_name=source_name,
            source_version=source_version,
        )


__all__ = ["DpkgCataloger", "Paragraph", "installed", "paragraphs"]
