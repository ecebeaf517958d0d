"""FileTree and FileEntry: one read-only merged view of an image's layers.

Paths are absolute POSIX paths inside the tree ("/etc/os-release"). Contents
are kept only for the paths some consumer asked for, in memory when small and
otherwise in one private, size-capped spool file named by the tool.
"""

from __future__ import annotations

import fnmatch
import io
import posixpath
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, Protocol

from lashing.model import Issue, Location

Want = Callable[[str], bool]


class LayerVisitor(Protocol):
    """Sees the content of every regular file in every layer, once, as the
    layer streams by; also files that a later layer deletes or replaces."""

    def wants(self, entry: FileEntry) -> bool:
        """Whether to read this file's content (decide from path, size, mode)."""
        ...

    def visit(self, entry: FileEntry, data: bytes) -> None: ...

    def skipped(self, entry: FileEntry, reason: str) -> None:
        """A wanted file that was not read (over the in-memory limit)."""
        ...


class FileKind(StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    CHAR = "char"
    BLOCK = "block"
    FIFO = "fifo"


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str
    kind: FileKind
    mode: int  # permission bits plus setuid/setgid/sticky
    uid: int
    gid: int
    size: int
    link_target: str | None  # symlink target as written; hard link target as a tree path
    layer: str | None  # diff_id of the layer that last wrote this path; None for a directory source

    @property
    def is_setuid(self) -> bool:
        return bool(self.mode & 0o4000)

    @property
    def is_setgid(self) -> bool:
        return bool(self.mode & 0o2000)


def want_globs(*patterns: str) -> Want:
    """A path predicate from shell-style globs over absolute paths.

    `**` matches across directories, `*` within one path segment.
    """
    if not patterns:
        return lambda _path: False
    parts = []
    for pat in patterns:
        rx = ""
        i = 0
        while i < len(pat):
            if pat.startswith("**/", i):
                rx += "(?:.*/)?"
                i += 3
            elif pat.startswith("**", i):
                rx += ".*"
                i += 2
            else:
                chunk = fnmatch.translate(pat[i]).removeprefix("(?s:").removesuffix(")\\Z")
                rx += "[^/]*" if pat[i] == "*" else "[^/]" if pat[i] == "?" else chunk
                i += 1
        parts.append(rx)
    compiled = re.compile("(?:" + "|".join(parts) + r")\Z", re.S)
    return lambda path: compiled.match(path) is not None


class Spool:
    """One private temp file holding large kept contents, with a total cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.used = 0
        self._file: IO[bytes] | None = None

    def store(self, chunks: Iterable[bytes]) -> tuple[int, int]:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="lashing-spool-")  # noqa: SIM115
        f = self._file
        f.seek(0, io.SEEK_END)
        start = f.tell()
        for chunk in chunks:
            f.write(chunk)
        return start, f.tell() - start

    def read(self, offset: int, length: int) -> bytes:
        assert self._file is not None
        self._file.seek(offset)
        return self._file.read(length)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


Content = bytes | tuple[int, int]  # in memory, or (offset, length) in the spool


class FileTree:
    """The merged filesystem. Built by fs.build; read-only afterwards."""

    def __init__(self, entries: dict[str, FileEntry], contents: dict[str, Content],
                 spool: Spool | None, issues: list[Issue], hops: int = 40) -> None:
        self._entries = entries
        self._contents = contents
        self._spool = spool
        self.issues: tuple[Issue, ...] = tuple(issues)
        self._hops = hops

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and path in self._entries

    def get(self, path: str) -> FileEntry | None:
        return self._entries.get(path)

    def walk(self) -> Iterator[FileEntry]:
        """Every entry, in path order."""
        for path in sorted(self._entries):
            yield self._entries[path]

    def kept(self) -> Iterator[FileEntry]:
        """The entries whose content was kept, in path order."""
        for path in sorted(self._contents):
            entry = self._entries.get(path)
            if entry is not None:
                yield entry

    def glob(self, pattern: str) -> list[FileEntry]:
        match = want_globs(pattern)
        return [e for e in self.walk() if match(e.path)]

    def resolve(self, path: str) -> str | None:
        """Follow symlinks inside the tree (never outside it), with a hop limit.

        `..` at the root stays at the root and absolute targets are relative to
        the tree's root, as in a chroot. Returns None for a dangling link or a loop.
        """
        hops = 0
        pending = [p for p in path.split("/") if p]
        resolved: list[str] = []
        while pending:
            part = pending.pop(0)
            if part == ".":
                continue
            if part == "..":
                if resolved:
                    resolved.pop()
                continue
            candidate = "/" + "/".join([*resolved, part])
            entry = self._entries.get(candidate)
            if entry is None:
                return None
            if entry.kind is FileKind.SYMLINK and entry.link_target is not None:
                hops += 1
                if hops > self._hops:
                    return None
                target = entry.link_target
                if target.startswith("/"):
                    resolved = []
                pending = [p for p in target.split("/") if p] + pending
                continue
            resolved.append(part)
        return "/" + "/".join(resolved)

    def has_content(self, path: str) -> bool:
        real = self.resolve(path)
        return real is not None and real in self._contents

    def read(self, path: str) -> bytes:
        """The content of a kept file, following symlinks inside the tree.

        Raises KeyError when the path does not exist or its content was not
        asked for when the tree was built.
        """
        real = self.resolve(path)
        if real is None or real not in self._contents:
            raise KeyError(path)
        content = self._contents[real]
        if isinstance(content, bytes):
            return content
        assert self._spool is not None
        return self._spool.read(*content)

    def open(self, path: str) -> IO[bytes]:
        return io.BytesIO(self.read(path))

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()

    def __enter__(self) -> FileTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def issue(plugin: str, path: str | None, layer: str | None, message: str) -> Issue:
    return Issue(stage="fs", plugin=plugin, location=Location(path=path, layer=layer),
                 message=message)


def normalize_member(name: str) -> str | None:
    """The tree path of a tar member name, or None when it is unsafe.

    Absolute names and names with a `..` component are unsafe.
    """
    if name.startswith("/"):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None
    return "/" + "/".join(parts)


def parent_of(path: str) -> str:
    return posixpath.dirname(path) or "/"
