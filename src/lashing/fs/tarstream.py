"""A streaming reader for layer tars, made for one pass over untrusted data.

Python's tarfile in stream mode spends most of a scan's time in its
buffering and emulated seeks. This reader takes the decompressed stream in
large chunks, hands every chunk to a callback (hashing, the decompression
budget) exactly once, and parses ustar, GNU and PAX headers itself. File
contents are read only when the caller asks; everything else is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from lashing.errors import InputError

BLOCK = 512
CHUNK = 1024 * 1024
MAX_PAX_BYTES = 1024 * 1024  # one PAX or GNU long-name record

REGTYPES = (b"0", b"\0", b"7")


class TarFormatError(InputError):
    """A layer that is not a readable tar archive."""


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    type: bytes  # one byte: b"0" file, b"5" dir, b"2" symlink, b"1" hard link, ...
    mode: int
    uid: int
    gid: int
    size: int
    linkname: str


def _number(field: bytes, what: str) -> int:
    """Octal (NUL/space padded) or GNU base-256 numeric fields."""
    if field and field[0] & 0x80:
        value = int.from_bytes(field[1:], "big")
        if field[0] & 0x40:  # negative base-256: never valid for sizes or ids here
            raise TarFormatError(f"{what}: negative number in a tar header")
        return value
    text = field.split(b"\0", 1)[0].strip(b" \0")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise TarFormatError(f"{what}: invalid number {text!r} in a tar header") from None


def _string(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _checksum_ok(header: bytes) -> bool:
    stored = header[148:156]
    try:
        expected = int(stored.split(b"\0", 1)[0].strip(b" \0") or b"0", 8)
    except ValueError:
        return False
    unsigned = sum(header[:148]) + 8 * 32 + sum(header[156:])
    return expected == unsigned


def _pax(data: bytes, what: str) -> dict[str, str]:
    """`LEN key=value\\n` records."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise TarFormatError(f"{what}: malformed PAX header") from None
        if length <= 0 or pos + length > len(data):
            raise TarFormatError(f"{what}: malformed PAX header")
        record = data[space + 1:pos + length - 1]
        key, sep, value = record.partition(b"=")
        if sep:
            out[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


class TarStream:
    """Members of a tar read from `source`; `on_chunk` sees every byte once."""

    def __init__(self, source: IO[bytes], on_chunk: Callable[[bytes], None], what: str) -> None:
        self._source = source
        self._on_chunk = on_chunk
        self._what = what
        self._buf = b""
        self._pos = 0
        self._eof = False
        self._data_left = 0  # data of the current member not yet consumed
        self._padding_left = 0

    # -- buffer ----------------------------------------------------------------
    def _chunk(self) -> bytes:
        if self._eof:
            return b""
        chunk = self._source.read(CHUNK)
        if not chunk:
            self._eof = True
            return b""
        self._on_chunk(chunk)
        return chunk

    def _more(self) -> bool:
        """Append one chunk to the buffer (only called when the buffer is used up)."""
        chunk = self._chunk()
        if not chunk:
            return False
        rest = self._buf[self._pos:]
        self._buf = rest + chunk if rest else chunk
        self._pos = 0
        return True

    def _take(self, n: int) -> bytes:
        """Exactly n bytes, or fewer only at the end of the stream."""
        available = len(self._buf) - self._pos
        if available >= n:
            data = self._buf[self._pos:self._pos + n]
            self._pos += n
            return data
        parts = [self._buf[self._pos:]]
        got = available
        self._buf, self._pos = b"", 0
        while got < n:
            chunk = self._chunk()
            if not chunk:
                break
            need = n - got
            if len(chunk) <= need:
                parts.append(chunk)
                got += len(chunk)
            else:
                parts.append(chunk[:need])
                self._buf, self._pos = chunk, need
                got = n
        return b"".join(parts)

    def _skip(self, n: int) -> int:
        """Skip up to n bytes; returns how many were skipped."""
        skipped = 0
        while skipped < n:
            available = len(self._buf) - self._pos
            if available == 0 and not self._more():
                break
            step = min(n - skipped, len(self._buf) - self._pos)
            self._pos += step
            skipped += step
        return skipped

    def drain(self) -> None:
        """Consume the rest of the stream (after the end-of-archive blocks)."""
        self._buf, self._pos = b"", 0
        while self._more():
            self._buf, self._pos = b"", 0

    # -- members ---------------------------------------------------------------
    def read(self, n: int = -1) -> bytes:
        """Up to n bytes (all when n < 0) of the current member's data."""
        n = self._data_left if n < 0 else min(n, self._data_left)
        data = self._take(n)
        self._data_left -= len(data)
        if len(data) < n:
            raise TarFormatError(f"{self._what}: corrupt or truncated layer "
                                 "(a file's data ends early)")
        return data

    def chunks(self) -> Iterator[bytes]:
        """The rest of the current member's data, in chunks."""
        while self._data_left > 0:
            yield self.read(CHUNK)

    def _finish_member(self) -> None:
        if self._data_left > 0:
            left, self._data_left = self._data_left, 0
            if self._skip(left) < left:
                raise TarFormatError(f"{self._what}: corrupt or truncated layer "
                                     "(a file's data ends early)")
        # Missing padding at the very end is tolerated: some writers never close the tar.
        self._skip(self._padding_left)
        self._padding_left = 0

    def members(self) -> Iterator[Member]:
        pax_global: dict[str, str] = {}
        pax: dict[str, str] = {}
        long_name: str | None = None
        long_link: str | None = None
        while True:
            self._finish_member()
            header = self._take(BLOCK)
            if len(header) < BLOCK:
                if header.strip(b"\0"):
                    raise TarFormatError(f"{self._what}: corrupt or truncated layer "
                                         "(a header ends early)")
                return  # end of stream without end-of-archive blocks
            if header == bytes(BLOCK):
                return  # end-of-archive marker
            if not _checksum_ok(header):
                raise TarFormatError(f"{self._what}: corrupt or truncated layer "
                                     "(bad tar header checksum)")
            typeflag = header[156:157]
            size = _number(header[124:136], self._what)
            if typeflag in (b"x", b"g", b"L", b"K"):
                if size > MAX_PAX_BYTES:
                    raise TarFormatError(f"{self._what}: tar extended header of {size} bytes "
                                         "is over the limit")
                body = self._take(size)
                if len(body) < size:
                    raise TarFormatError(f"{self._what}: corrupt or truncated layer")
                self._skip(-size % BLOCK)
                if typeflag == b"x":
                    pax = _pax(body, self._what)
                elif typeflag == b"g":
                    pax_global.update(_pax(body, self._what))
                elif typeflag == b"L":
                    long_name = _string(body)
                else:
                    long_link = _string(body)
                continue
            fields = {**pax_global, **pax}
            if long_name is not None:
                name = long_name
            elif "path" in fields:
                name = fields["path"]
            else:
                name = _string(header[0:100])
                if header[257:262] == b"ustar":
                    prefix = _string(header[345:500])
                    if prefix:
                        name = f"{prefix}/{name}"
            linkname = long_link if long_link is not None else fields.get(
                "linkpath", _string(header[157:257]))
            if "size" in fields:
                try:
                    size = int(fields["size"])
                except ValueError:
                    raise TarFormatError(f"{self._what}: invalid PAX size") from None
            uid = int(fields["uid"]) if fields.get("uid", "").isdigit() else _number(
                header[108:116], self._what)
            gid = int(fields["gid"]) if fields.get("gid", "").isdigit() else _number(
                header[116:124], self._what)
            pax, long_name, long_link = {}, None, None
            has_data = typeflag not in (b"1", b"2", b"3", b"4", b"5", b"6")
            data_size = size if has_data else 0
            self._data_left = data_size
            self._padding_left = -data_size % BLOCK
            yield Member(name=name, type=typeflag, mode=_number(header[100:108], self._what),
                         uid=uid, gid=gid, size=data_size, linkname=linkname)
