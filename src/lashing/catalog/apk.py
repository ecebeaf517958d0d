"""Alpine (and Wolfi, Chainguard) packages from apk's database,
`/lib/apk/db/installed` (`/usr/lib/apk/db/installed` where /lib is a link to
/usr/lib): one paragraph per package of `K:value` lines, paragraphs
separated by blank lines.

Read: `P` name, `V` version, `A` architecture, `o` origin (the source
package; its version is the package's own), `L` license expression. Files
(`F`, `R`, `Z`, `a`, `M`) repeat; only the first of each package field counts.

A line that is not `K:value`, or a package without a name or version, is a
CatalogError naming the line.

Ecosystem: the detected release (`Alpine:v3.20`; `Wolfi`, `Chainguard`) when
the OS is one of those; otherwise the bare `Alpine`.
"""

from __future__ import annotations

import re

from lashing.catalog.base import CatalogContext, CatalogError
from lashing.catalog.purls import distro_qualifier, make_purl, os_ecosystem
from lashing.model import Location, Package

INSTALLED = "/lib/apk/db/installed"
FAMILIES = {"alpine": "Alpine", "wolfi": "Wolfi", "chainguard": "Chainguard",
            "minimos": "MinimOS"}
_LINE = re.compile(r"([A-Za-z]):(.*)")


def records(text: str) -> list[tuple[int, dict[str, str]]]:
    """(starting line, first value of each key) for each paragraph."""
    out: list[tuple[int, dict[str, str]]] = []
    fields: dict[str, str] = {}
    start = 0
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.removesuffix("\r")
        if not line.strip():
            if fields:
                out.append((start, fields))
            fields = {}
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise CatalogError(f"line {number}: expected 'K:value', got {line[:40]!r}")
        if not fields:
            start = number
        fields.setdefault(match.group(1), match.group(2))
    if fields:
        out.append((start, fields))
    return out


class ApkCataloger:
    name = "apk"
    tags = ("os", "installed")
    globs = (INSTALLED, "/usr" + INSTALLED)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        if b"\0" in data:
            raise CatalogError("binary data in an apk database")
        text = data.decode("utf-8", "replace")
        return [self._package(line, fields, path, ctx) for line, fields in records(text)]

    def _package(self, line: int, f: dict[str, str], path: str,
                 ctx: CatalogContext) -> Package:
        name, version = f.get("P", "").strip(), f.get("V", "").strip()
        if not name or len(name.split()) != 1:
            raise CatalogError(f"line {line}: package without a valid name (P:)")
        if not version or len(version.split()) != 1:
            raise CatalogError(f"line {line}: package {name!r} without a valid version (V:)")
        origin = f.get("o", "").strip() or name
        license_ = f.get("L", "").strip()
        family = ctx.os.family if ctx.os is not None and ctx.os.family in FAMILIES else "alpine"
        purl = make_purl("apk", family, name, version, {
            "arch": f.get("A", "").strip() or None,
            "distro": distro_qualifier(ctx.os),
            "upstream": origin if origin != name else None,
        })
        return Package(
            name=name,
            version=version,
            ecosystem=os_ecosystem(ctx.os, FAMILIES, "Alpine"),
            purl=purl,
            found_by=self.name,
            locations=(Location(path=path, layer=ctx.layer),),
            source_name=origin,
            source_version=version,
            licenses=(license_,) if license_ else (),
        )


__all__ = ["ApkCataloger", "records"]
