"""Rust crates (OSV ecosystem `crates.io`, purl type `cargo`).

`rust-lockfile` reads `Cargo.lock` (format versions 1-4): every
`[[package]]` with a `source` (crates.io, another registry, git). Packages
without a source are the workspace's own crates, not releases, and are
skipped.

`rust-binary` reads the dependency list that `cargo auditable build` embeds
in ELF binaries: the `.dep-v0` section, zlib-compressed JSON
`{"packages": [{"name", "version", "source", "kind", "dependencies"}]}`.
The section is found with a bounds-checked ELF section-header reader and
inflated up to `max_decompressed_bytes`. Crates with source `local` (the
binary's own crate and path dependencies) are skipped; build-time
dependencies (`kind: build`) are kept, as `cargo audit bin` keeps them.
Limits: ELF only (cargo-auditable's PE and Mach-O sections are not read),
and only binaries under the usual program directories
(`_binary.BINARY_GLOBS`); Rust binaries built without cargo-auditable carry
no dependency list and report nothing.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field

from lashing.catalog._binary import BINARY_GLOBS, BINARY_MAGICS, BinaryFormat, Elf, binary_format
from lashing.catalog._common import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_PACKAGES,
    Collector,
    MiB,
    as_dict,
    as_list,
    as_str,
    check_size,
    guarded,
    load_toml,
    make_package,
)
from lashing.catalog.base import CatalogContext, CatalogError
from lashing.model import Package

ECOSYSTEM = "crates.io"
SECTION = ".dep-v0"


def crate_package(cataloger: str, name: str, version: str, path: str,
                  ctx: CatalogContext) -> Package:
    return make_package(cataloger, ECOSYSTEM, "cargo", name, version, path, ctx)


@dataclass(frozen=True)
class RustLockfileCataloger:
    """Cargo.lock packages from registries and git."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_packages: int = DEFAULT_MAX_PACKAGES
    name: str = field(default="rust-lockfile", init=False)
    tags: tuple[str, ...] = field(default=("language", "lockfile"), init=False)
    globs: tuple[str, ...] = field(default=("**/Cargo.lock",), init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        return guarded("Cargo.lock", lambda: self._parse(path, data, ctx))

    def _parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        doc = load_toml(data, self.max_file_bytes, "Cargo.lock")
        found = Collector(self.max_packages)
        for entry in map(as_dict, as_list(doc.get("package"))):
            name, version = as_str(entry.get("name")), as_str(entry.get("version"))
            if name and version and as_str(entry.get("source")):
                found.add(crate_package(self.name, name, version, path, ctx))
        return found.result()


@dataclass(frozen=True)
class RustBinaryCataloger:
    """Crates recorded by cargo-auditable in ELF binaries."""

    max_file_bytes: int = 2048 * MiB
    max_decompressed_bytes: int = 8 * MiB
    max_packages: int = DEFAULT_MAX_PACKAGES
    name: str = field(default="rust-binary", init=False)
    tags: tuple[str, ...] = field(default=("binary",), init=False)
    globs: tuple[str, ...] = field(default=BINARY_GLOBS, init=False)
    magics: tuple[bytes, ...] = field(default=BINARY_MAGICS, init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        return guarded("binary", lambda: self._parse(path, data, ctx))

    def _parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        if binary_format(data) is not BinaryFormat.ELF or SECTION.encode() not in data:
            return []  # the section's name is in the name table of any ELF that has it
        check_size(data, self.max_file_bytes, "binary")
        section = Elf(data).section(SECTION)
        if section is None:
            return []
        doc = as_dict(json.loads(self._inflate(section)))
        found = Collector(self.max_packages)
        for entry in map(as_dict, as_list(doc.get("packages"))):
            name, version = as_str(entry.get("name")), as_str(entry.get("version"))
            source = as_str(entry.get("source")) or "local"
            if name and version and source != "local":
                found.add(crate_package(self.name, name, version, path, ctx))
        return found.result()

    def _inflate(self, compressed: bytes) -> bytes:
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(compressed, self.max_decompressed_bytes + 1)
        except zlib.error as exc:
            raise CatalogError(f"{SECTION}: not zlib data ({exc})") from None
        if len(out) > self.max_decompressed_bytes:
            raise CatalogError(f"{SECTION}: inflates past {self.max_decompressed_bytes} bytes")
        if not inflater.eof:
            raise CatalogError(f"{SECTION}: compressed data truncated")
        return out


__all__ = ["ECOSYSTEM", "RustBinaryCataloger", "RustLockfileCataloger"]
