"""Read-only access to the files of an image on disk: a directory or a tar.

Tar archives are indexed once; each member is then opened as a bounded view
of the archive file, so layers stream straight from it without extraction.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from pathlib import Path
from typing import IO, Protocol

from lashing.errors import InputError
from lashing.source.image import check_digest_syntax


class Store(Protocol):
    name: str

    def exists(self, path: str) -> bool: ...
    def size(self, path: str) -> int: ...
    def open(self, path: str) -> IO[bytes]: ...


def read_limited(store: Store, path: str, limit: int, what: str) -> bytes:
    size = store.size(path)
    if size > limit:
        raise InputError(f"{what}: {path} is {size} bytes, over the {limit}-byte limit")
    with store.open(path) as f:
        return f.read()


def blob_path(digest: str, what: str) -> str:
    check_digest_syntax(digest, what)
    algo, hexpart = digest.split(":", 1)
    return f"blobs/{algo}/{hexpart}"


class DirStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.name = str(root)

    def _path(self, path: str) -> Path:
        clean = posixpath.normpath("/" + path).lstrip("/")
        return self.root / clean

    def exists(self, path: str) -> bool:
        return self._path(path).is_file()

    def size(self, path: str) -> int:
        try:
            return self._path(path).stat().st_size
        except OSError:
            raise InputError(f"{self.name}: {path} is missing") from None

    def open(self, path: str) -> IO[bytes]:
        try:
            return self._path(path).open("rb")
        except OSError as exc:
            raise InputError(f"{self.name}: cannot read {path} ({exc.strerror})") from None


class _Slice(io.RawIOBase):
    """A bounded read-only view of [offset, offset+size) of a file."""

    def __init__(self, path: Path, offset: int, size: int) -> None:
        self._f = path.open("rb")
        self._f.seek(offset)
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[: self._left]
        n = self._f.readinto(view)
        if not n:
            return 0
        self._left -= n
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


class TarStore:
    """An indexed tar archive (docker-archive, oci-archive)."""

    def __init__(self, path: Path, display: str | None = None) -> None:
        self.path = path
        self.name = display or str(path)
        self._members: dict[str, tarfile.TarInfo] = {}
        try:
            with tarfile.open(path, mode="r:") as tar:
                for member in tar:
                    self._members[posixpath.normpath(member.name).lstrip("/")] = member
        except FileNotFoundError:
            raise InputError(f"{self.name}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{self.name}: is a directory, expected a tar archive") from None
        except (tarfile.TarError, EOFError) as exc:
            raise InputError(f"{self.name}: not a readable tar archive ({exc})") from None
        except OSError as exc:
            raise InputError(f"{self.name}: cannot read ({exc.strerror})") from None

    def _member(self, path: str, hops: int = 0) -> tarfile.TarInfo:
        key = posixpath.normpath(path).lstrip("/")
        member = self._members.get(key)
        if member is None:
            raise InputError(f"{self.name}: {path} is missing from the archive")
        if member.issym() or member.islnk():  # legacy docker save links duplicate layers
            if hops > 8:
                raise InputError(f"{self.name}: {path}: too many links")
            target = member.linkname
            if member.issym():
                target = posixpath.join(posixpath.dirname(key), target)
            norm = posixpath.normpath(target)
            if norm.startswith("..") or norm.startswith("/"):
                raise InputError(f"{self.name}: {path} links outside the archive; refused")
            return self._member(norm, hops + 1)
        if not member.isfile():
            raise InputError(f"{self.name}: {path} is not a regular file")
        return member

    def exists(self, path: str) -> bool:
        return posixpath.normpath(path).lstrip("/") in self._members

    def size(self, path: str) -> int:
        return self._member(path).size

    def open(self, path: str) -> IO[bytes]:
        member = self._member(path)
        return io.BufferedReader(_Slice(self.path, member.offset_data, member.size))
