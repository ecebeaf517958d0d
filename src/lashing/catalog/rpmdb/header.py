"""RPM header blobs as rpm stores them in its databases (no lead, no magic):

    il (u32 BE)  number of index entries
    dl (u32 BE)  size of the data store
    il x entry   tag (i32), type (u32), offset (i32), count (u32), all BE
    dl bytes     the data store

The first entry of a header that came from a package file is a region tag
(63, HEADERIMMUTABLE; 62 for signatures, 61 in old headers): a 16-byte BIN
whose data is a trailer entry whose negative offset gives the number of
entries the region covers. Entries after the region ("dribble", added at
install time) replace region entries with the same tag, as rpm does.

Every count and offset is checked against the blob, so a damaged or hostile
blob raises CatalogError, never IndexError or a huge allocation.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from lashing.catalog.base import CatalogError

MAX_TAGS = 0xFFFF  # rpm's own limits (hdrchkTags, hdrchkData)
MAX_DATA = 0x0FFFFFFF
ENTRY = struct.Struct(">iIiI")

NAME, VERSION, RELEASE, EPOCH = 1000, 1001, 1002, 1003
LICENSE, VENDOR, ARCH, SOURCERPM = 1014, 1011, 1022, 1044
REGION_TAGS = frozenset({61, 62, 63})

CHAR, INT8, INT16, INT32, INT64, STRING, BIN, STRING_ARRAY, I18NSTRING = range(1, 10)
_SIZES = {0: 0, CHAR: 1, INT8: 1, INT16: 2, INT32: 4, INT64: 8, BIN: 1}
_STRINGS = frozenset({STRING, STRING_ARRAY, I18NSTRING})


Entry = tuple[int, int, int]  # type, offset, count


@dataclass(frozen=True)
class RpmHeader:
    name: str
    version: str
    release: str
    epoch: int | None
    arch: str | None
    license: str | None
    vendor: str | None
    sourcerpm: str | None

    @property
    def evr(self) -> str:
        """`epoch:version-release`, without `epoch:` when the header has none."""
        vr = f"{self.version}-{self.release}"
        return vr if self.epoch is None else f"{self.epoch}:{vr}"


def index(blob: bytes) -> tuple[dict[int, Entry], bytes]:
    """The effective tag -> entry map and the data store of one header blob."""
    if len(blob) < 8:
        raise CatalogError(f"rpm header of {len(blob)} bytes is too short")
    il, dl = struct.unpack_from(">II", blob)
    if not 1 <= il <= MAX_TAGS or dl > MAX_DATA:
        raise CatalogError(f"rpm header declares {il} tags and {dl} data bytes")
    start = 8 + il * ENTRY.size
    if start + dl > len(blob):
        raise CatalogError(f"rpm header truncated: needs {start + dl} bytes, has {len(blob)}")
    store = blob[start:start + dl]
    raw = list(ENTRY.iter_unpack(blob[8:start]))
    for i, (tag, type_, offset, count) in enumerate(raw):
        if type_ > I18NSTRING or not 0 <= offset <= dl or count > dl + 1:
            raise CatalogError(f"rpm header entry {i} (tag {tag}) is out of bounds")
        size = _SIZES.get(type_)
        if size is not None and offset + size * count > dl:
            raise CatalogError(f"rpm header entry {i} (tag {tag}) overruns the data")
    region = _region_size(raw, store)
    entries: dict[int, Entry] = {}
    for tag, type_, offset, count in raw[1:region] if region else ():
        entries.setdefault(tag, (type_, offset, count))
    for tag, type_, offset, count in raw[region:]:
        entries[tag] = (type_, offset, count)  # dribble entries replace region entries
    return entries, store


def _region_size(raw: list[tuple[int, int, int, int]], store: bytes) -> int:
    """How many leading entries the region covers (0 for a header without one)."""
    tag, type_, offset, count = raw[0]
    if tag not in REGION_TAGS:
        return 0
    if type_ != BIN or count != 16 or offset + 16 > len(store):
        raise CatalogError(f"rpm header region tag {tag} is malformed")
    t_tag, t_type, t_offset, t_count = ENTRY.unpack_from(store, offset)
    size = int(-t_offset) // ENTRY.size
    if (t_tag not in REGION_TAGS or t_type != BIN or t_count != 16 or t_offset >= 0
            or t_offset % ENTRY.size or not 1 <= size <= len(raw)):
        raise CatalogError(f"rpm header region trailer of tag {tag} is malformed")
    return size


def _string(entries: dict[int, Entry], store: bytes, tag: int) -> str | None:
    entry = entries.get(tag)
    if entry is None:
        return None
    type_, offset, _count = entry
    if type_ not in _STRINGS:
        raise CatalogError(f"rpm header tag {tag} is type {type_}, expected a string")
    end = store.find(b"\0", offset)
    if end < 0:
        raise CatalogError(f"rpm header tag {tag}: string runs past the data")
    return store[offset:end].decode("utf-8", "replace")


def _int32(entries: dict[int, Entry], store: bytes, tag: int) -> int | None:
    entry = entries.get(tag)
    if entry is None:
        return None
    type_, offset, count = entry
    if type_ != INT32 or count < 1:
        raise CatalogError(f"rpm header tag {tag} is type {type_}, expected INT32")
    value: int = struct.unpack_from(">I", store, offset)[0]
    return value


def parse_header(blob: bytes) -> RpmHeader:
    entries, store = index(blob)
    name = _string(entries, store, NAME)
    version = _string(entries, store, VERSION)
    release = _string(entries, store, RELEASE)
    if not name or version is None or release is None:
        raise CatalogError("rpm header without name, version or release")
    return RpmHeader(
        name=name,
        version=version,
        release=release,
        epoch=_int32(entries, store, EPOCH),
        arch=_string(entries, store, ARCH),
        license=_string(entries, store, LICENSE),
        vendor=_string(entries, store, VENDOR),
        sourcerpm=_string(entries, store, SOURCERPM),
    )


def split_sourcerpm(filename: str) -> tuple[str, str] | None:
    """`openssl-3.0.7-25.el9.src.rpm` -> (`openssl`, `3.0.7-25.el9`)."""
    for suffix in (".src.rpm", ".nosrc.rpm"):
        if filename.endswith(suffix):
            stem = filename.removesuffix(suffix)
            break
    else:
        return None
    parts = stem.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], f"{parts[1]}-{parts[2]}"


__all__ = ["RpmHeader", "index", "parse_header", "split_sourcerpm"]
