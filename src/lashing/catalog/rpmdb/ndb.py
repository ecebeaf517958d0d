"""rpm's own NDB package store, `Packages.db` (SUSE since 15 SP3 / Leap 15.3).

Layout (facts from rpm's lib/backend/ndb/rpmpkg.c; all integers little-endian):
a 32-byte header (magic "RpmP", version 0, generation, number of slot pages,
next package index) shares page 0 with the first slots. `slotnpages` pages
of 4096 bytes hold 16-byte slots: magic "Slot", package index, block offset
and block count, in 16-byte blocks; a block offset of 0 marks a free slot.
A blob starts with "BlbS", package index, timestamp, length; the header
blob follows, padded so that the blob ends on a block boundary with a
12-byte tail: Adler-32 of everything before it, length, "BlbE".

Slots, blobs and checksums are all verified, so a truncated or hostile file
raises CatalogError.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

from lashing.catalog.base import CatalogError

MAGIC = b"RpmP"
SLOT_MAGIC = b"Slot"
BLOB_MAGIC = b"BlbS"
TAIL_MAGIC = b"BlbE"
PAGE = 4096
SLOT = 16
BLOCK = 16
HEADER = 32  # the header takes the first two slots of page 0
BLOB_HEAD = 16
BLOB_TAIL = 12


def is_ndb(data: bytes) -> bool:
    return data[:4] == MAGIC


def ndb_records(data: bytes) -> Iterator[bytes]:
    """The header blobs of an NDB `Packages.db`, in package index order."""
    if len(data) < HEADER or data[:4] != MAGIC:
        raise CatalogError("not an rpm NDB Packages.db (bad magic)")
    version, _generation, slot_pages = struct.unpack_from("<III", data, 4)
    if version != 0:
        raise CatalogError(f"rpm NDB version {version} is not supported")
    if slot_pages < 1 or slot_pages * PAGE > len(data):
        raise CatalogError(f"rpm NDB truncated: {slot_pages} slot pages declared, "
                           f"{len(data)} bytes present")
    first_block = slot_pages * PAGE // BLOCK
    total_blocks = len(data) // BLOCK
    slots: dict[int, tuple[int, int]] = {}
    for offset in range(HEADER, slot_pages * PAGE, SLOT):
        magic = data[offset:offset + 4]
        if magic != SLOT_MAGIC:
            raise CatalogError(f"rpm NDB slot at byte {offset} has a bad magic")
        index, block, count = struct.unpack_from("<III", data, offset + 4)
        if block == 0:
            continue  # free slot
        if index == 0 or count == 0 or block < first_block or block + count > total_blocks:
            raise CatalogError(f"rpm NDB slot at byte {offset} points outside the file "
                               f"(package {index}, blocks {block}+{count})")
        if index in slots:
            raise CatalogError(f"rpm NDB has two slots for package {index}")
        slots[index] = (block, count)
    for index in sorted(slots):
        yield _blob(data, index, *slots[index])


def _blob(data: bytes, index: int, block: int, count: int) -> bytes:
    start, end = block * BLOCK, (block + count) * BLOCK
    magic = data[start:start + 4]
    head_index, _stamp, length = struct.unpack_from("<III", data, start + 4)
    if magic != BLOB_MAGIC or head_index != index:
        raise CatalogError(f"rpm NDB blob of package {index} has a bad header")
    if count != (BLOB_HEAD + length + BLOB_TAIL + BLOCK - 1) // BLOCK:
        raise CatalogError(f"rpm NDB blob of package {index}: length {length} does not fit "
                           f"{count} blocks")
    checksum, tail_length = struct.unpack_from("<II", data, end - BLOB_TAIL)
    if data[end - 4:end] != TAIL_MAGIC or tail_length != length:
        raise CatalogError(f"rpm NDB blob of package {index} has a bad tail")
    if zlib.adler32(data[start:end - BLOB_TAIL]) != checksum:
        raise CatalogError(f"rpm NDB blob of package {index} fails its checksum")
    return data[start + BLOB_HEAD:start + BLOB_HEAD + length]


__all__ = ["is_ndb", "ndb_records"]
