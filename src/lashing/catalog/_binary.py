"""Executables: where they usually live, their format by magic number, and a
small bounds-checked ELF reader (section headers by name, and virtual
addresses through the PT_LOAD program headers). Nothing is executed."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import StrEnum

from lashing.catalog.base import CatalogError

# Compiled programs can be anywhere; these are the places images put them.
# A binary elsewhere (say /srv/app/server) is not looked at: keeping every
# file of an image for a magic-number check would cost more than it finds.
BINARY_GLOBS: tuple[str, ...] = (
    "/bin/*", "/sbin/*", "/usr/bin/*", "/usr/sbin/*", "/usr/local/bin/*", "/usr/local/sbin/*",
    "/usr/libexec/**", "/opt/**", "/app/**", "/go/bin/*", "/root/go/bin/*", "/home/*/go/bin/*",
    "/root/.cargo/bin/*", "/home/*/.cargo/bin/*", "/usr/local/cargo/bin/*",
)


class BinaryFormat(StrEnum):
    ELF = "elf"
    PE = "pe"
    MACHO = "macho"


_MACHO_MAGICS = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                 b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")


# Files under BINARY_GLOBS are kept only when they start with one of these.
BINARY_MAGICS: tuple[bytes, ...] = (b"\x7fELF", b"MZ", *_MACHO_MAGICS)


def binary_format(data: bytes) -> BinaryFormat | None:
    """The executable format by magic number, or None for anything else."""
    head = data[:4]
    if head == b"\x7fELF":
        return BinaryFormat.ELF
    if head[:2] == b"MZ":
        return BinaryFormat.PE
    if head in _MACHO_MAGICS:
        return BinaryFormat.MACHO
    return None


@dataclass(frozen=True)
class Section:
    name: str
    type: int
    addr: int
    offset: int
    size: int


@dataclass(frozen=True)
class Segment:
    vaddr: int
    offset: int
    filesz: int


SHT_NOBITS = 8
PT_LOAD = 1


class Elf:
    """An ELF file's section and loadable segment tables, every offset checked
    against the data before use."""

    def __init__(self, data: bytes, max_sections: int = 65_536) -> None:
        if data[:4] != b"\x7fELF":
            raise CatalogError("not an ELF file")
        if len(data) < 52:
            raise CatalogError(f"ELF truncated: {len(data)} bytes, shorter than a header")
        cls, order = data[4], data[5]
        if cls not in (1, 2) or order not in (1, 2):
            raise CatalogError(f"ELF: unknown class {cls} or byte order {order}")
        self.data = data
        self.is64 = cls == 2
        self.endian = "<" if order == 1 else ">"
        self.ptr_size = 8 if self.is64 else 4
        if self.is64:
            phoff, shoff = self._unpack("QQ", 0x20)
            phentsize, phnum, shentsize, shnum, shstrndx = self._unpack("HHHHH", 0x36)
        else:
            phoff, shoff = self._unpack("II", 0x1C)
            phentsize, phnum, shentsize, shnum, shstrndx = self._unpack("HHHHH", 0x2A)
        self.segments = self._segments(phoff, phentsize, phnum)
        self.sections = self._sections(shoff, shentsize, shnum, shstrndx, max_sections)

    def _unpack(self, fmt: str, offset: int) -> tuple[int, ...]:
        size = struct.calcsize(self.endian + fmt)
        if offset < 0 or offset + size > len(self.data):
            raise CatalogError(f"ELF truncated: header field at {offset} past the end")
        return struct.unpack_from(self.endian + fmt, self.data, offset)

    def _segments(self, phoff: int, entsize: int, count: int) -> tuple[Segment, ...]:
        if phoff == 0 or count == 0:
            return ()
        if entsize < (56 if self.is64 else 32):
            raise CatalogError(f"ELF: program header entry size {entsize} too small")
        self._slice(phoff, count * entsize, "program header table")
        found = []
        for i in range(count):
            at = phoff + i * entsize
            if self.is64:
                ptype, _flags, offset, vaddr, _paddr, filesz = self._unpack("IIQQQQ", at)
            else:
                ptype, offset, vaddr, _paddr, filesz = self._unpack("IIIII", at)
            if ptype == PT_LOAD:
                found.append(Segment(vaddr, offset, filesz))
        return tuple(found)

    def _sections(self, shoff: int, entsize: int, count: int, strndx: int,
                  limit: int) -> tuple[Section, ...]:
        if shoff == 0:
            return ()
        if entsize < (64 if self.is64 else 40):
            raise CatalogError(f"ELF: section header entry size {entsize} too small")
        raw = [self._section_header(shoff + i * entsize) for i in range(min(count, 1))]
        if count == 0 and raw:  # extended numbering: the count is in section 0
            count = raw[0][4]
        if strndx == 0xFFFF and raw:
            strndx = raw[0][5]
        if count > limit:
            raise CatalogError(f"ELF: {count} sections, over the limit of {limit}")
        self._slice(shoff, count * entsize, "section header table")
        raw += [self._section_header(shoff + i * entsize) for i in range(1, count)]
        if not raw:
            return ()
        names = b""
        if 0 < strndx < len(raw):
            _n, _t, _a, offset, size, _l = raw[strndx]
            names = self._slice(offset, size, "section name table")
        return tuple(Section(_cstring(names, n), t, a, o, s) for n, t, a, o, s, _l in raw)

    def _section_header(self, at: int) -> tuple[int, int, int, int, int, int]:
        if self.is64:
            name, stype, _flags, addr, offset, size, link = self._unpack("IIQQQQI", at)
        else:
            name, stype, _flags, addr, offset, size, link = self._unpack("IIIIIII", at)
        return name, stype, addr, offset, size, link

    def _slice(self, offset: int, size: int, what: str) -> bytes:
        if offset < 0 or size < 0 or offset + size > len(self.data):
            raise CatalogError(f"ELF truncated: {what} at {offset}+{size} past the end "
                               f"({len(self.data)} bytes)")
        return self.data[offset:offset + size]

    def section(self, name: str) -> bytes | None:
        """The file contents of the first section called `name`, or None."""
        for sec in self.sections:
            if sec.name == name:
                if sec.type == SHT_NOBITS:
                    return b""
                return self._slice(sec.offset, sec.size, f"section {name}")
        return None

    def section_offset(self, name: str) -> int | None:
        for sec in self.sections:
            if sec.name == name and sec.type != SHT_NOBITS:
                self._slice(sec.offset, sec.size, f"section {name}")
                return sec.offset
        return None

    def read_vaddr(self, vaddr: int, size: int) -> bytes:
        """`size` bytes at virtual address `vaddr`, from the loadable segment
        that maps it."""
        for seg in self.segments:
            if seg.vaddr <= vaddr and vaddr + size <= seg.vaddr + seg.filesz:
                return self._slice(seg.offset + (vaddr - seg.vaddr), size, "mapped data")
        raise CatalogError(f"ELF: address {vaddr:#x}+{size} is in no loadable segment")


def _cstring(table: bytes, offset: int) -> str:
    if offset >= len(table):
        return ""
    end = table.find(b"\0", offset)
    return table[offset:end if end >= 0 else len(table)].decode("latin-1")
