"""HostView: read-only access to a host's files under a root directory.

Paths are absolute paths *on the audited host*; symlinks resolve inside the
root, as in a chroot, with a hop limit. A file that exists but cannot be read
(permissions, a directory where a file is expected, an I/O error) raises
`Unreadable`; rules turn that into a `not-checked` Check, never a pass.
Absent files are `None`. Nothing here needs root.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import posixpath
import stat as stat_mod
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

MAX_READ = 4 * 1024 * 1024
HOPS = 40


class Unreadable(Exception):
    """A host file exists but could not be read."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class Kind(StrEnum):
    FILE = "file"
    DIR = "dir"
    LINK = "symlink"
    SOCKET = "socket"
    OTHER = "other"


@dataclass(frozen=True)
class Stat:
    path: str
    kind: Kind
    mode: int  # permission bits
    uid: int
    gid: int
    link: str | None = None


class Backend(Protocol):
    def lstat(self, path: str) -> Stat | None: ...
    def read(self, path: str) -> bytes: ...  # path already resolved, a FILE
    def listdir(self, path: str) -> list[str]: ...  # path already resolved, a DIR


def _kind(mode: int) -> Kind:
    if stat_mod.S_ISREG(mode):
        return Kind.FILE
    if stat_mod.S_ISDIR(mode):
        return Kind.DIR
    if stat_mod.S_ISLNK(mode):
        return Kind.LINK
    if stat_mod.S_ISSOCK(mode):
        return Kind.SOCKET
    return Kind.OTHER


class DirBackend:
    """The host's files under a real directory (`/` for the running host)."""

    def __init__(self, root: Path) -> None:
        self.root = str(root.resolve())

    def _real(self, path: str) -> str:
        return self.root.rstrip("/") + path if path != "/" else self.root

    def lstat(self, path: str) -> Stat | None:
        try:
            st = os.lstat(self._real(path))
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise Unreadable(path, exc.strerror or str(exc)) from None
        kind = _kind(st.st_mode)
        link = None
        if kind is Kind.LINK:
            try:
                link = str(Path(self._real(path)).readlink())
            except OSError as exc:
                raise Unreadable(path, exc.strerror or str(exc)) from None
        return Stat(path, kind, stat_mod.S_IMODE(st.st_mode), st.st_uid, st.st_gid, link)

    def read(self, path: str) -> bytes:
        try:
            with open(self._real(path), "rb") as f:
                return f.read(MAX_READ)
        except OSError as exc:
            raise Unreadable(path, exc.strerror or str(exc)) from None

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(p.name for p in Path(self._real(path)).iterdir())
        except OSError as exc:
            raise Unreadable(path, exc.strerror or str(exc)) from None


@dataclass(frozen=True)
class MemFile:
    """A file of an in-memory host (rule examples, tests)."""

    path: str
    content: str | bytes | None = ""  # None: exists but cannot be read
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    kind: Kind = Kind.FILE
    link: str | None = None


class MemoryBackend:
    def __init__(self, files: tuple[MemFile, ...]) -> None:
        self.files: dict[str, MemFile] = {"/": MemFile("/", None, 0o755, kind=Kind.DIR)}
        for f in files:
            parent = posixpath.dirname(f.path)
            while parent not in self.files:
                self.files[parent] = MemFile(parent, None, 0o755, kind=Kind.DIR)
                parent = posixpath.dirname(parent)
            self.files[f.path] = f

    def lstat(self, path: str) -> Stat | None:
        f = self.files.get(path)
        if f is None:
            return None
        return Stat(path, f.kind, f.mode, f.uid, f.gid, f.link)

    def read(self, path: str) -> bytes:
        f = self.files[path]
        if f.content is None:
            raise Unreadable(path, "permission denied")
        return f.content.encode() if isinstance(f.content, str) else f.content

    def listdir(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        return sorted(p[len(prefix):] for p in self.files
                      if p.startswith(prefix) and "/" not in p[len(prefix):] and p != path)


@dataclass
class HostView:
    """The audited host: its files, and (when `live`) the running system."""

    backend: Backend
    label: str = "/"  # --root as given
    live: bool = False  # the root is the running system's /
    read_paths: set[str] = field(default_factory=set)

    def resolve(self, path: str) -> str | None:
        """The path with every symlink resolved inside the root; None when dangling."""
        parts = [p for p in path.split("/") if p]
        done = "/"
        hops = 0
        while parts:
            name = parts.pop(0)
            if name == ".":
                continue
            if name == "..":
                done = posixpath.dirname(done)
                continue
            cur = posixpath.join(done, name)
            st = self.backend.lstat(cur)
            if st is None:
                return None
            if st.kind is Kind.LINK and st.link is not None:
                hops += 1
                if hops > HOPS:
                    raise Unreadable(path, "too many levels of symbolic links")
                target = st.link
                if target.startswith("/"):
                    done = "/"
                parts = [p for p in target.split("/") if p] + parts
                continue
            if parts and st.kind is not Kind.DIR:
                return None
            done = cur
        return done

    def lstat(self, path: str) -> Stat | None:
        parent = self.resolve(posixpath.dirname(path))
        if parent is None:
            return None
        return self.backend.lstat(posixpath.join(parent, posixpath.basename(path)))

    def stat(self, path: str) -> Stat | None:
        real = self.resolve(path)
        return None if real is None else self.backend.lstat(real)

    def exists(self, path: str) -> bool:
        try:
            return self.lstat(path) is not None
        except Unreadable:
            return True

    def read(self, path: str) -> bytes | None:
        """A file's bytes; None when absent; Unreadable when it cannot be read."""
        real = self.resolve(path)
        if real is None:
            return None
        st = self.backend.lstat(real)
        if st is None:
            return None
        if st.kind is Kind.DIR:
            raise Unreadable(path, "is a directory")
        if st.kind is not Kind.FILE:
            raise Unreadable(path, f"not a regular file ({st.kind.value})")
        self.read_paths.add(path)
        return self.backend.read(real)

    def text(self, path: str) -> str | None:
        data = self.read(path)
        return None if data is None else data.decode("utf-8", "replace")

    def listdir(self, path: str) -> list[str]:
        """Names in a directory; [] when it is absent or not a directory."""
        real = self.resolve(path)
        if real is None:
            return []
        st = self.backend.lstat(real)
        if st is None or st.kind is not Kind.DIR:
            return []
        return self.backend.listdir(real)

    def glob(self, directory: str, pattern: str) -> list[str]:
        return [posixpath.join(directory, n) for n in self.listdir(directory)
                if fnmatch.fnmatchcase(n, pattern)]


def host_view(root: Path) -> HostView:
    """A view of the host under `root`; live when `root` is the running system's /."""
    resolved = root.resolve()
    return HostView(DirBackend(resolved), str(root), live=str(resolved) == "/")


def memory_view(files: tuple[MemFile, ...], live: bool = False) -> HostView:
    return HostView(MemoryBackend(files), "example", live=live)
