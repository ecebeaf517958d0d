"""The build information the Go linker writes into every binary built with
module support: the toolchain version and the module list that
`go version -m` prints.

The data starts with a 32-byte header, 16-byte aligned, in the
`.go.buildinfo` section (ELF) or the data segment (PE, Mach-O):
`\\xff Go buildinf:` (14 bytes), the pointer size, and a flags byte (bit 0:
big-endian; bit 1: inline strings). Go >= 1.18 writes the two strings inline
after the header, each preceded by its uvarint length. Older releases write
two pointers to Go string headers instead; those are followed through the
ELF program headers (PE and Mach-O binaries of Go < 1.18 are refused with a
CatalogError).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from lashing.catalog._binary import BinaryFormat, Elf
from lashing.catalog.base import CatalogError

MAGIC = b"\xff Go buildinf:"
HEADER_SIZE = 32
FLAG_BIG_ENDIAN = 0x1
FLAG_INLINE = 0x2
MAX_STRING = 16 * 1024 * 1024  # a version or module list longer than this is not real
MAX_CANDIDATES = 64  # magic strings tried per binary


@dataclass(frozen=True)
class Module:
    path: str
    version: str
    replaced_by: Module | None = None


@dataclass(frozen=True)
class BuildInfo:
    go_version: str  # "go1.21.5"
    main: Module | None
    deps: tuple[Module, ...]


def read_buildinfo(data: bytes, fmt: BinaryFormat) -> BuildInfo | None:
    """The build information of a Go binary, or None when it has none.

    A damaged ELF section table is no obstacle to inline (Go >= 1.18) build
    information, which is then found by its magic; the pointer format needs
    the program headers and raises the ELF's error."""
    if MAGIC not in data:
        return None
    elf: Elf | None = None
    elf_error: CatalogError | None = None
    if fmt is BinaryFormat.ELF:
        try:
            elf = Elf(data)
        except CatalogError as exc:
            elf_error = exc
    offsets: list[int] = []
    if elf is not None:
        start = elf.section_offset(".go.buildinfo")
        if start is not None and data[start:start + len(MAGIC)] == MAGIC:
            offsets.append(start)
    if not offsets:
        at = data.find(MAGIC)
        while at >= 0 and len(offsets) < MAX_CANDIDATES:
            if at % 16 == 0:
                offsets.append(at)
            at = data.find(MAGIC, at + 1)
    for offset in offsets:
        strings = _strings(data, offset, elf, fmt, elf_error)
        if strings is not None:
            version, modinfo = strings
            return BuildInfo(version, *parse_modinfo(modinfo))
    return None


def _strings(data: bytes, at: int, elf: Elf | None, fmt: BinaryFormat,
             elf_error: CatalogError | None) -> tuple[str, str] | None:
    header = data[at:at + HEADER_SIZE]
    if len(header) < HEADER_SIZE:
        raise CatalogError("Go build info truncated")
    ptr_size, flags = header[14], header[15]
    if flags & FLAG_INLINE:
        pos = at + HEADER_SIZE
        version, pos = _varint_string(data, pos)
        modinfo, _ = _varint_string(data, pos)
    else:
        if ptr_size not in (4, 8):
            return None  # the magic string in some other context
        if elf_error is not None:
            raise elf_error
        if elf is None:
            raise CatalogError(f"Go build info of a Go < 1.18 {fmt.value.upper()} binary "
                               "(pointer format) is not supported")
        endian = ">" if flags & FLAG_BIG_ENDIAN else "<"
        word = endian + ("Q" if ptr_size == 8 else "I")
        version = _deref_string(elf, header, 16, word, ptr_size)
        modinfo = _deref_string(elf, header, 16 + ptr_size, word, ptr_size)
    if not version.startswith(("go", "devel")):
        return None
    return version, _strip_sentinels(modinfo)


def _varint_string(data: bytes, pos: int) -> tuple[str, int]:
    length, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 63:
            raise CatalogError("Go build info truncated in a string length")
        byte = data[pos]
        pos += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    if length > MAX_STRING or pos + length > len(data):
        raise CatalogError(f"Go build info truncated: a string of {length} bytes runs past "
                           "the end")
    return data[pos:pos + length].decode("utf-8", errors="replace"), pos + length


def _deref_string(elf: Elf, header: bytes, at: int, word: str, ptr_size: int) -> str:
    """Follow a pointer to a Go string header (data pointer, length)."""
    (addr,) = struct.unpack_from(word, header, at)
    if addr == 0:
        return ""
    pair = elf.read_vaddr(addr, 2 * ptr_size)
    data_ptr, length = struct.unpack(word[0] + word[1] * 2, pair)
    if length > MAX_STRING:
        raise CatalogError(f"Go build info string of {length} bytes")
    if length == 0:
        return ""
    return elf.read_vaddr(data_ptr, length).decode("utf-8", errors="replace")


def _strip_sentinels(modinfo: str) -> str:
    """The module list sits between two 16-byte sentinels."""
    if len(modinfo) >= 33 and modinfo[-17] == "\n":
        return modinfo[16:-16]
    return modinfo


def parse_modinfo(text: str) -> tuple[Module | None, tuple[Module, ...]]:
    """The main module and dependencies of a `go version -m` module list."""
    main: Module | None = None
    deps: list[Module] = []
    for line in text.splitlines():
        fields = line.split("\t")
        kind = fields[0]
        if kind in ("mod", "dep") and len(fields) >= 2:
            module = Module(fields[1], fields[2] if len(fields) > 2 else "")
            if kind == "mod":
                main = module
            else:
                deps.append(module)
        elif kind == "=>" and len(fields) >= 2:
            replacement = Module(fields[1], fields[2] if len(fields) > 2 else "")
            if deps:
                deps[-1] = Module(deps[-1].path, deps[-1].version, replacement)
            elif main is not None:
                main = Module(main.path, main.version, replacement)
    return main, tuple(deps)
