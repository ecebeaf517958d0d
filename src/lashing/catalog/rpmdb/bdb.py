"""Berkeley DB hash files, as rpm's `Packages` database (RHEL/CentOS 7-8,
Amazon Linux 2, old SUSE) stores its headers: key = header number, value =
header blob.

Layout (facts from Berkeley DB's db_page.h, as rpm's own read-only reader
uses them): page 0 is the hash metadata page (magic 0x061561 at byte 12, in
the byte order of the machine that wrote the file, which the magic reveals;
page size at 20, last page at 32, max_bucket at 72, spares[32] at 96). Every
page starts with a 26-byte header (pgno 8, next_pgno 16, entries 20,
hf_offset 22, type 25). A hash page (type 13, or 2 before Berkeley DB 4.6)
holds `entries` 16-bit item offsets after its header, alternately key and
value; an item is H_KEYDATA (1, the bytes follow) or H_OFFPAGE (3: pgno at
+4, total length at +8) whose bytes are chained over overflow pages (type 7,
`hf_offset` bytes each, linked by next_pgno). Bucket b starts on page
b + spares[bit length of b]; more pages of a bucket follow via next_pgno.

Every page number, offset, length and chain is checked and every page is
visited at most once, so a truncated or hostile file raises CatalogError.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from lashing.catalog.base import CatalogError

HASH_MAGIC = 0x061561
BTREE_MAGIC = 0x053162
META_SIZE = 512
PAGE_HEADER = 26
P_HASH_UNSORTED, P_OVERFLOW, P_HASHMETA, P_HASH = 2, 7, 8, 13
H_KEYDATA, H_DUPLICATE, H_OFFPAGE, H_OFFDUP = 1, 2, 3, 4
PAGE_SIZES = frozenset(1 << n for n in range(9, 17))  # 512 .. 65536


def is_bdb(data: bytes) -> bool:
    if len(data) < 16:
        return False
    magics = struct.unpack_from("<I", data, 12) + struct.unpack_from(">I", data, 12)
    return HASH_MAGIC in magics or BTREE_MAGIC in magics


class _HashFile:
    def __init__(self, data: bytes) -> None:
        if len(data) < META_SIZE:
            raise CatalogError(f"Berkeley DB file of {len(data)} bytes is too short")
        for order in ("<", ">"):
            magic = struct.unpack_from(order + "I", data, 12)[0]
            if magic == HASH_MAGIC:
                break
            if magic == BTREE_MAGIC:
                raise CatalogError("Berkeley DB btree file: rpm's Packages is a hash database")
        else:
            raise CatalogError("not a Berkeley DB hash file (bad magic)")
        self.data = data
        self.pair = struct.Struct(order + "II")
        self.u16 = struct.Struct(order + "H")
        self.u32 = struct.Struct(order + "I")
        version = self.u32.unpack_from(data, 16)[0]
        self.page_size = self.u32.unpack_from(data, 20)[0]
        if data[24]:
            raise CatalogError("encrypted Berkeley DB file")
        if data[25] != P_HASHMETA or not 8 <= version <= 10:
            raise CatalogError(f"unsupported Berkeley DB hash file (type {data[25]}, "
                               f"version {version})")
        if self.page_size not in PAGE_SIZES:
            raise CatalogError(f"Berkeley DB page size {self.page_size} is invalid")
        self.last_page = self.u32.unpack_from(data, 32)[0]
        if (self.last_page + 1) * self.page_size > len(data):
            raise CatalogError(f"Berkeley DB file truncated: {self.last_page + 1} pages of "
                               f"{self.page_size} bytes declared, {len(data)} bytes present")
        self.max_bucket = self.u32.unpack_from(data, 72)[0]
        if self.max_bucket > self.last_page:
            raise CatalogError(f"Berkeley DB max bucket {self.max_bucket} beyond the last page")
        self.spares = struct.unpack_from(order + "32I", data, 96)
        self.seen: set[int] = set()

    def page(self, number: int) -> bytes:
        if not 1 <= number <= self.last_page:
            raise CatalogError(f"Berkeley DB page number {number} out of range")
        if number in self.seen:
            raise CatalogError(f"Berkeley DB page {number} is linked twice")
        self.seen.add(number)
        start = number * self.page_size
        return self.data[start:start + self.page_size]

    def values(self) -> Iterator[tuple[bytes, bytes]]:
        for bucket in range(self.max_bucket + 1):
            number = bucket + self.spares[bucket.bit_length()]
            while number:
                page = self.page(number)
                if page[25] == 0 and not any(page[:PAGE_HEADER]):
                    break  # a bucket page never written: empty
                if self.u32.unpack_from(page, 8)[0] != number:
                    raise CatalogError(f"Berkeley DB page {number} has a wrong page number")
                if page[25] not in (P_HASH, P_HASH_UNSORTED):
                    raise CatalogError(f"Berkeley DB page {number} of type {page[25]} "
                                       "in a hash bucket")
                yield from self._items(page, number)
                number = self.u32.unpack_from(page, 16)[0]

    def _items(self, page: bytes, number: int) -> Iterator[tuple[bytes, bytes]]:
        entries = self.u16.unpack_from(page, 20)[0]
        low = PAGE_HEADER + 2 * entries
        if entries % 2 or low > self.page_size:
            raise CatalogError(f"Berkeley DB page {number} has a bad item count {entries}")
        offsets = [self.u16.unpack_from(page, PAGE_HEADER + 2 * i)[0] for i in range(entries)]
        items: list[bytes] = []
        end = self.page_size
        for i, offset in enumerate(offsets):
            if not low <= offset < end:
                raise CatalogError(f"Berkeley DB page {number} item {i} is out of bounds")
            items.append(self._item(page[offset:end], number))
            end = offset
        for i in range(0, entries, 2):
            yield items[i], items[i + 1]

    def _item(self, item: bytes, number: int) -> bytes:
        kind = item[0]
        if kind == H_KEYDATA:
            return item[1:]
        if kind == H_OFFPAGE and len(item) >= 12:
            first, total = self.pair.unpack_from(item, 4)
            return self._overflow(first, total)
        raise CatalogError(f"Berkeley DB page {number}: unsupported item type {kind}")

    def _overflow(self, number: int, total: int) -> bytes:
        if not 0 < total <= len(self.data):
            raise CatalogError(f"Berkeley DB overflow item of {total} bytes")
        parts: list[bytes] = []
        left = total
        while left:
            if number == 0:
                raise CatalogError("Berkeley DB overflow chain ends early")
            page = self.page(number)
            if page[25] != P_OVERFLOW or self.u32.unpack_from(page, 8)[0] != number:
                raise CatalogError(f"Berkeley DB page {number} is not an overflow page")
            used = self.u16.unpack_from(page, 22)[0]
            if not 0 < used <= min(left, self.page_size - PAGE_HEADER):
                raise CatalogError(f"Berkeley DB overflow page {number} holds {used} bytes")
            parts.append(page[PAGE_HEADER:PAGE_HEADER + used])
            left -= used
            number = self.u32.unpack_from(page, 16)[0]
        return b"".join(parts)


def bdb_records(data: bytes) -> Iterator[bytes]:
    """The header blobs of an rpm `Packages` Berkeley DB hash file.

    The record with key 0 (rpm's next-header-number counter) is skipped.
    """
    db = _HashFile(data)
    for key, value in db.values():
        if key == b"\0\0\0\0":
            continue
        yield value


__all__ = ["bdb_records", "is_bdb"]
