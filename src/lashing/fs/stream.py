"""Readers for untrusted layer blobs: hash while streaming, detect and undo
compression from the bytes, and stop a decompression bomb."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from typing import IO, cast

import zstandard

# ISA-L decompresses gzip about twice as fast as zlib.
from isal import igzip as _gzip
from isal.igzip_lib import IsalError

from lashing.errors import LimitExceededError

# What the decompressors raise on corrupt or truncated data.
DECOMPRESSION_ERRORS: tuple[type[Exception], ...] = (
    cast(type[Exception], IsalError), zstandard.ZstdError, EOFError, OSError, ValueError,
)

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CHUNK = 1024 * 1024


class HashingReader(io.RawIOBase):
    """Passes bytes through, hashing and counting them; with a budget, also
    spends them against it so that a decompression bomb is refused."""

    def __init__(self, raw: IO[bytes], on_bytes: Callable[[int], None] | None = None,
                 budget: Budget | None = None, what: str = "", hashing: bool = True) -> None:
        self._raw = raw
        self.hasher = hashlib.sha256()
        self.hashing = hashing
        self.count = 0
        self._on_bytes = on_bytes
        self._budget = budget
        self._what = what

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer)
        data = self._raw.read(len(view))
        n = len(data)
        view[:n] = data
        if n:
            if self.hashing:
                self.hasher.update(data)
            self.count += n
            if self._on_bytes is not None:
                self._on_bytes(n)
            if self._budget is not None:
                self._budget.spend(n, self._what)
        return n

    def drain(self) -> None:
        while self.read(CHUNK):
            pass

    def digest(self) -> str:
        return "sha256:" + self.hasher.hexdigest()


class Budget:
    """Total uncompressed bytes allowed for one image."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, n: int, what: str) -> None:
        self.used += n
        if self.used > self.limit:
            raise LimitExceededError(
                f"{what}: more than {self.limit} bytes after decompression; refused as a "
                "possible decompression bomb",
                "raise the limit with --max-uncompressed if the image is really that large",
            )


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def detect_compression(head: bytes) -> str | None:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return None


class Prefixed(io.RawIOBase):
    """`head` (bytes already read from `raw`) followed by the rest of `raw`."""

    def __init__(self, head: bytes, raw: IO[bytes]) -> None:
        self._head = head
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer)
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._raw.read(len(view))
        view[: len(data)] = data
        return len(data)


def decompressor(raw: IO[bytes], kind: str | None) -> IO[bytes]:
    """`raw` decompressed as `kind` says (gzip, zstd or None)."""
    buffered = io.BufferedReader(cast(io.RawIOBase, raw), CHUNK)
    if kind == "gzip":
        gz = _gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[no-untyped-call]
        return cast(IO[bytes], gz)
    if kind == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(buffered, read_across_frames=True)
        return io.BufferedReader(reader, CHUNK)
    return buffered


def decompressing_reader(raw: IO[bytes]) -> tuple[IO[bytes], str | None]:
    """Wrap `raw` in the decompressor its first bytes call for."""
    buffered = io.BufferedReader(cast(io.RawIOBase, raw), CHUNK)
    kind = detect_compression(buffered.peek(4)[:4])
    return decompressor(buffered, kind), kind
