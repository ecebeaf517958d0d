"""The blob cache: content-addressed files under `ROOT/blobs/sha256/<hex>`.

A blob is written to a temporary file in the same directory while it is
hashed, and renamed into place only when its sha256 matches the digest that
names it, so a cached blob is always a verified one and two processes writing
the same blob at once both end with the same complete file (rename is
atomic). Opening a blob touches its mtime; pruning evicts the least recently
used blobs until the cache is under its size cap.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from lashing.errors import DigestMismatchError, EnvironmentFailure, InputError
from lashing.source.image import check_digest_syntax

TEMP_PREFIX = ".tmp-"
STALE_TEMP_SECONDS = 3600.0


@dataclass(frozen=True)
class CacheInfo:
    root: Path
    count: int
    bytes: int
    max_bytes: int


@dataclass(frozen=True)
class PruneResult:
    removed: int
    freed_bytes: int
    remaining_bytes: int


class BlobWriter:
    """Receives a blob's bytes, hashing them; `commit()` verifies and publishes.

    Used as a context manager: leaving the block without a commit (or with an
    exception) removes the temporary file.
    """

    def __init__(
        self, cache: BlobCache, digest: str, source: str, expected_size: int | None
    ) -> None:
        self._cache = cache
        self.digest = digest
        self.source = source
        self.expected_size = expected_size
        self.written = 0
        self._hash = hashlib.sha256()
        directory = cache.blob_dir
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=directory)
        except OSError as exc:
            raise EnvironmentFailure(f"cache {cache.root}: cannot write ({exc})") from None
        self._tmp = Path(name)
        self._file: IO[bytes] | None = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        if self._file is None:
            raise ValueError("blob writer is closed")
        self.written += len(chunk)
        if self.expected_size is not None and self.written > self.expected_size:
            self.abort()
            raise DigestMismatchError(
                f"{self.source}: more than the {self.expected_size} bytes "
                f"announced for {self.digest}"
            )
        self._hash.update(chunk)
        try:
            self._file.write(chunk)
        except OSError as exc:
            self.abort()
            raise EnvironmentFailure(f"cache {self._cache.root}: cannot write ({exc})") from None

    def commit(self) -> IO[bytes]:
        """Verify the digest, move the blob into place, and return it opened."""
        if self._file is None:
            raise ValueError("blob writer is closed")
        try:
            self._file.close()
        except OSError as exc:
            self.abort()
            raise EnvironmentFailure(f"cache {self._cache.root}: cannot write ({exc})") from None
        self._file = None
        actual = "sha256:" + self._hash.hexdigest()
        if actual != self.digest:
            self.abort()
            raise DigestMismatchError(
                f"{self.source}: content does not match its digest {self.digest} (got {actual})"
            )
        if self.expected_size is not None and self.written != self.expected_size:
            self.abort()
            raise DigestMismatchError(
                f"{self.source}: {self.written} bytes, but {self.expected_size} were announced "
                f"for {self.digest}"
            )
        reader = self._tmp.open("rb")  # stays valid even if pruned right away
        try:
            self._tmp.replace(self._cache.path(self.digest))
        except OSError as exc:
            reader.close()
            self.abort()
            raise EnvironmentFailure(f"cache {self._cache.root}: cannot write ({exc})") from None
        self._cache.prune(keep=self.digest)
        return reader

    def abort(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()


class BlobCache:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.blob_dir = root / "blobs" / "sha256"

    def path(self, digest: str) -> Path:
        check_digest_syntax(digest, "blob cache")
        return self.blob_dir / digest.split(":", 1)[1]

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def open(self, digest: str) -> IO[bytes] | None:
        """The cached blob opened for reading (and marked as recently used), or None."""
        path = self.path(digest)
        try:
            f = path.open("rb")
        except FileNotFoundError:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)
        return f

    def read(self, digest: str) -> bytes | None:
        f = self.open(digest)
        if f is None:
            return None
        with f:
            return f.read()

    def writer(self, digest: str, source: str, expected_size: int | None = None) -> BlobWriter:
        """A writer for `digest`; `source` (a URL, a file) names it in errors."""
        check_digest_syntax(digest, source)
        return BlobWriter(self, digest, source, expected_size)

    def put(self, digest: str, data: bytes, source: str) -> None:
        with self.writer(digest, source, len(data)) as w:
            w.write(data)
            w.commit().close()

    def _entries(self) -> list[tuple[float, int, Path]]:
        entries: list[tuple[float, int, Path]] = []
        try:
            names = list(os.scandir(self.blob_dir))
        except FileNotFoundError:
            return entries
        now = time.time()
        for entry in names:
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if entry.name.startswith(TEMP_PREFIX):
                if now - st.st_mtime > STALE_TEMP_SECONDS:  # left by a killed process
                    with contextlib.suppress(OSError):
                        Path(entry.path).unlink()
                continue
            if entry.is_file(follow_symlinks=False):
                entries.append((st.st_mtime, st.st_size, Path(entry.path)))
        return entries

    def info(self) -> CacheInfo:
        entries = self._entries()
        return CacheInfo(self.root, len(entries), sum(e[1] for e in entries), self.max_bytes)

    def prune(self, max_bytes: int | None = None, keep: str | None = None) -> PruneResult:
        """Evict least recently used blobs until the total is at most `max_bytes`
        (default: the cache's cap). `keep` names a blob to evict last."""
        cap = self.max_bytes if max_bytes is None else max_bytes
        if cap < 0:
            raise InputError(f"cache size limit {cap} is negative")
        keep_name = keep.split(":", 1)[1] if keep else None
        entries = sorted(self._entries(), key=lambda e: (e[2].name == keep_name, e[0]))
        total = sum(e[1] for e in entries)
        removed = freed = 0
        for _, size, path in entries:
            if total <= cap:
                break
            try:
                path.unlink()
            except FileNotFoundError:
                pass  # another process pruned it
            except OSError as exc:
                raise EnvironmentFailure(
                    f"cache {self.root}: cannot remove {path} ({exc})"
                ) from None
            total -= size
            removed += 1
            freed += size
        return PruneResult(removed, freed, total)

    def clear(self) -> PruneResult:
        info = self.info()
        shutil.rmtree(self.blob_dir, ignore_errors=True)
        return PruneResult(info.count, info.bytes, 0)
