"""Build a FileTree by streaming each layer once, applying whiteouts and
opaque directories in layer order, and keeping only the wanted contents."""

from __future__ import annotations

import hashlib
import os
import stat
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from lashing.errors import DigestMismatchError, HostileInputError, InputError, LashingError
from lashing.fs.stream import (
    CHUNK,
    DECOMPRESSION_ERRORS,
    Budget,
    HashingReader,
    Prefixed,
    decompressor,
    detect_compression,
)
from lashing.fs.tarstream import Member, TarStream
from lashing.fs.tree import (
    Content,
    FileEntry,
    FileKind,
    FileTree,
    LayerVisitor,
    Spool,
    Want,
    issue,
    normalize_member,
    parent_of,
)
from lashing.model import Issue
from lashing.options import Limits
from lashing.progress import NullProgress, Progress
from lashing.source.image import Image, Layer

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"

# What reading a damaged layer raises, whichever decompressor is at work.
LAYER_ERRORS: tuple[type[Exception], ...] = (zlib.error, *DECOMPRESSION_ERRORS)

_KINDS = {
    b"0": FileKind.FILE,
    b"\0": FileKind.FILE,
    b"7": FileKind.FILE,
    b"5": FileKind.DIR,
    b"2": FileKind.SYMLINK,
    b"1": FileKind.HARDLINK,
    b"3": FileKind.CHAR,
    b"4": FileKind.BLOCK,
    b"6": FileKind.FIFO,
}


class Sniffed:
    """Paths whose content is kept only when it starts with one of `magics`
    (executables among everything under /opt, say), checked on the first bytes."""

    def __init__(self, want: Want, magics: tuple[bytes, ...]) -> None:
        self.want = want
        self.magics = magics
        self.head = max((len(m) for m in magics), default=0)


class _Builder:
    """Mutable state while layers are applied; frozen into a FileTree at the end."""

    def __init__(self, want: Want, limits: Limits,
                 visitors: Sequence[LayerVisitor] = (), sniffed: Sniffed | None = None) -> None:
        self.want = want
        self.sniffed = sniffed
        self.limits = limits
        self.visitors = tuple(visitors)
        self.entries: dict[str, FileEntry] = {
            "/": FileEntry("/", FileKind.DIR, 0o755, 0, 0, 0, None, None)
        }
        self.owner: dict[str, int] = {"/": -1}  # index of the layer that wrote each path
        self.children: dict[str, set[str]] = {"/": set()}
        self.contents: dict[str, Content] = {}
        self.spool = Spool(limits.max_spooled_bytes)
        self.issues: list[Issue] = []

    # -- structure -------------------------------------------------------
    def _remove(self, path: str) -> None:
        """Remove `path` and everything below it."""
        stack = [path]
        while stack:
            p = stack.pop()
            if self.entries.pop(p, None) is None:
                continue
            self.owner.pop(p, None)
            self.contents.pop(p, None)
            stack.extend(p.rstrip("/") + "/" + c for c in self.children.pop(p, ()))
        parent = parent_of(path)
        if parent in self.children:
            self.children[parent].discard(path.rsplit("/", 1)[1])

    def _remove_lower(self, path: str, index: int) -> None:
        """Remove what lower layers (index < `index`) put at or under `path`."""
        entry_owner = self.owner.get(path)
        if entry_owner is None:
            return
        if entry_owner < index:
            self._remove(path)
            return
        for child in list(self.children.get(path, ())):
            self._remove_lower(path.rstrip("/") + "/" + child, index)

    def _ensure_parents(self, path: str, index: int, diff_id: str) -> None:
        parent = parent_of(path)
        missing = []
        while parent not in self.entries:
            missing.append(parent)
            parent = parent_of(parent)
        for p in reversed(missing):
            self._put(FileEntry(p, FileKind.DIR, 0o755, 0, 0, 0, None, diff_id), index)
        existing = self.entries[parent_of(path)]
        if existing.kind is not FileKind.DIR:
            # A lower layer had a file where this layer has a directory.
            self._remove(existing.path)
            self._ensure_parents(path, index, diff_id)

    def _put(self, entry: FileEntry, index: int) -> None:
        old = self.entries.get(entry.path)
        if old is not None and not (old.kind is FileKind.DIR and entry.kind is FileKind.DIR):
            self._remove(entry.path)
        self.entries[entry.path] = entry
        self.owner[entry.path] = index
        if entry.kind is FileKind.DIR:
            self.children.setdefault(entry.path, set())
        if entry.path != "/":
            self.children.setdefault(parent_of(entry.path), set()).add(
                entry.path.rsplit("/", 1)[1]
            )

    # -- one layer -------------------------------------------------------
    def apply(self, tar: TarStream, index: int, diff_id: str, what: str) -> None:
        for member in tar.members():
            path = normalize_member(member.name)
            if path is None:
                raise HostileInputError(
                    f"{what}: tar member {member.name!r} is absolute or contains '..'; refused"
                )
            if path == "/":
                continue
            base = path.rsplit("/", 1)[1]
            if base.startswith(WHITEOUT):
                self._ensure_parents(path, index, diff_id)
                directory = parent_of(path)
                if base == OPAQUE:
                    for child in list(self.children.get(directory, ())):
                        self._remove_lower(directory.rstrip("/") + "/" + child, index)
                else:
                    self._remove_lower(directory.rstrip("/") + "/" + base[len(WHITEOUT):], index)
                continue
            kind = _KINDS.get(member.type)
            if kind is None:
                self.issues.append(issue("layer", path, diff_id,
                                         f"unsupported tar member type {member.type!r}"))
                continue
            self._ensure_parents(path, index, diff_id)
            link: str | None = None
            size = member.size
            if kind is FileKind.SYMLINK:
                link = member.linkname
            elif kind is FileKind.HARDLINK:
                link = normalize_member(member.linkname)
                if link is None:
                    raise HostileInputError(
                        f"{what}: hard link {member.name!r} -> {member.linkname!r} leaves the "
                        "tree; refused"
                    )
                target = self.entries.get(link)
                if target is None or target.kind not in (FileKind.FILE, FileKind.HARDLINK):
                    self.issues.append(issue("layer", path, diff_id,
                                             f"hard link to missing file {link}"))
                    continue
                size = target.size
            entry = FileEntry(path, kind, stat.S_IMODE(member.mode), member.uid, member.gid,
                              size if kind in (FileKind.FILE, FileKind.HARDLINK) else 0,
                              link, diff_id)
            self._put(entry, index)
            if kind is FileKind.FILE:
                self._content(tar, member, entry)
            elif kind is FileKind.HARDLINK and link is not None and link in self.contents:
                self.contents[path] = self.contents[link]

    def _content(self, tar: TarStream, member: Member, entry: FileEntry) -> None:
        """Read a file's content once, for the tree and for every visitor that wants it."""
        keep = self.want(entry.path)
        head = b""
        if not keep and self.sniffed is not None and self.sniffed.want(entry.path):
            head = tar.read(self.sniffed.head)
            keep = head.startswith(self.sniffed.magics)
        visitors = [v for v in self.visitors if v.wants(entry)]
        if not keep and not visitors:
            return
        if member.size <= self.limits.max_file_in_memory:
            data = head + tar.read()
            for visitor in visitors:
                visitor.visit(entry, data)
            if keep:
                self.contents[entry.path] = data
            return
        for visitor in visitors:
            visitor.skipped(entry, f"{member.size} bytes is over the in-memory limit")
        if not keep:
            return
        if self.spool.used + member.size > self.spool.cap:
            self.issues.append(issue("layer", entry.path, entry.layer,
                                     f"not read: {member.size} bytes would pass the spool limit "
                                     f"of {self.spool.cap} bytes"))
            return
        self.contents[entry.path] = self.spool.store([head, *tar.chunks()])
        self.spool.used += member.size

    def tree(self) -> FileTree:
        return FileTree(self.entries, self.contents, self.spool, self.issues,
                        self.limits.symlink_hops)


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _apply_layer(builder: _Builder, layer: Layer, index: int, budget: Budget,
                 progress: Progress, what: str) -> None:
    task = progress.task(f"layer {index + 1} {layer.diff_id[7:19]}", layer.size)
    raw: IO[bytes] = layer.opener()
    try:
        head = raw.read(4)
        compression = detect_compression(head)
        # An uncompressed blob is its own tar: its one hash serves both digests.
        blob = HashingReader(Prefixed(head, raw), task.advance,  # type: ignore[arg-type]
                             hashing=layer.digest is not None or compression is None)
        plain = hashlib.sha256()

        def seen(chunk: bytes) -> None:
            plain.update(chunk)
            budget.spend(len(chunk), what)

        def seen_uncompressed(chunk: bytes) -> None:
            budget.spend(len(chunk), what)

        try:
            plain_stream = decompressor(blob, compression)  # type: ignore[arg-type]
            if compression is None:
                plain = blob.hasher
                tar = TarStream(plain_stream, seen_uncompressed, what)
            else:
                tar = TarStream(plain_stream, seen, what)
            builder.apply(tar, index, layer.diff_id, what)
            tar.drain()
            blob.drain()
        except LashingError:
            raise
        except LAYER_ERRORS as exc:
            raise InputError(f"{what}: corrupt or truncated layer ({_why(exc)})") from None
        if layer.digest is not None and blob.digest() != layer.digest:
            raise DigestMismatchError(
                f"{what}: blob digest is {blob.digest()}, expected {layer.digest}; refused"
            )
        diff_id = "sha256:" + plain.hexdigest()
        if diff_id != layer.diff_id:
            raise DigestMismatchError(
                f"{what}: uncompressed digest is {diff_id}, expected diff_id "
                f"{layer.diff_id}; refused"
            )
    finally:
        raw.close()
        task.finish()


def tree_from_image(image: Image, want: Want, limits: Limits | None = None,
                    progress: Progress | None = None,
                    visitors: Sequence[LayerVisitor] = (),
                    sniffed: Sniffed | None = None) -> FileTree:
    """Stream every layer once, in order, into one merged tree.

    Visitors see every regular file of every layer as it streams by, including
    files a later layer deletes (secrets hide there), each read only once.
    """
    limits = limits or Limits()
    progress = progress or NullProgress()
    builder = _Builder(want, limits, visitors, sniffed)
    budget = Budget(limits.max_uncompressed_bytes)
    try:
        for index, layer in enumerate(image.layers):
            what = f"{image.reference}: layer {index + 1} ({layer.digest or layer.diff_id})"
            _apply_layer(builder, layer, index, budget, progress, what)
    except BaseException:
        builder.spool.close()
        raise
    return builder.tree()


def tree_from_directory(root: Path, want: Want, limits: Limits | None = None,
                        visitors: Sequence[LayerVisitor] = ()) -> FileTree:
    """A tree of a host directory. Symlinks are recorded, never followed.
    Visitors see every regular file they want, read once."""
    limits = limits or Limits()
    builder = _Builder(want, limits, visitors)
    if not root.is_dir():
        raise InputError(f"{root}: not a directory")
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root)
        base = "/" if rel_dir == "." else "/" + rel_dir.replace(os.sep, "/")
        for name in [*dirnames, *sorted(filenames)]:
            full = f"{dirpath}/{name}"
            path = base.rstrip("/") + "/" + name
            try:
                st = os.lstat(full)
            except OSError as exc:
                builder.issues.append(issue("dir", path, None, f"cannot stat: {exc.strerror}"))
                continue
            kind, link, size = _dir_kind(st, full)
            entry = FileEntry(path, kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
                              size, link, None)
            builder._put(entry, 0)
            if kind is not FileKind.FILE:
                continue
            wanted_by = [v for v in builder.visitors if v.wants(entry)]
            if wanted_by:
                _visit_host_file(builder, wanted_by, full, entry, want(path))
            elif want(path):
                _keep_host_file(builder, full, path, size)
    return builder.tree()


def _dir_kind(st: os.stat_result, full: str) -> tuple[FileKind, str | None, int]:
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        return FileKind.DIR, None, 0
    if stat.S_ISLNK(mode):
        return FileKind.SYMLINK, str(Path(full).readlink()), 0
    if stat.S_ISREG(mode):
        return FileKind.FILE, None, st.st_size
    if stat.S_ISCHR(mode):
        return FileKind.CHAR, None, 0
    if stat.S_ISBLK(mode):
        return FileKind.BLOCK, None, 0
    return FileKind.FIFO, None, 0


def _visit_host_file(builder: _Builder, visitors: list[LayerVisitor], full: str,
                     entry: FileEntry, keep: bool) -> None:
    if entry.size > builder.limits.max_file_in_memory:
        for visitor in visitors:
            visitor.skipped(entry, f"{entry.size} bytes is over the in-memory limit")
        if keep:
            _keep_host_file(builder, full, entry.path, entry.size)
        return
    try:
        with open(full, "rb") as f:
            data = f.read(builder.limits.max_file_in_memory + 1)
    except OSError as exc:
        builder.issues.append(issue("dir", entry.path, None, f"cannot read: {exc.strerror}"))
        return
    for visitor in visitors:
        visitor.visit(entry, data)
    if keep:
        builder.contents[entry.path] = data


def _keep_host_file(builder: _Builder, full: str, path: str, size: int) -> None:
    try:
        with open(full, "rb") as f:
            if size <= builder.limits.max_file_in_memory:
                builder.contents[path] = f.read(builder.limits.max_file_in_memory + 1)
            elif builder.spool.used + size <= builder.spool.cap:
                builder.contents[path] = builder.spool.store(iter(lambda: f.read(CHUNK), b""))
                builder.spool.used += size
            else:
                builder.issues.append(issue("dir", path, None, "not read: over the spool limit"))
    except OSError as exc:
        builder.issues.append(issue("dir", path, None, f"cannot read: {exc.strerror}"))
