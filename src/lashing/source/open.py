"""Open a resolved image target as an Image, whatever its transport."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from lashing.errors import InputError
from lashing.fs.stream import DECOMPRESSION_ERRORS, GZIP_MAGIC, ZSTD_MAGIC, decompressing_reader
from lashing.options import SourceOptions
from lashing.progress import Progress
from lashing.source.docker_archive import open_docker_archive, spool_archive
from lashing.source.image import Image
from lashing.source.oci_layout import open_oci_archive, open_oci_dir
from lashing.source.resolve import ResolvedTarget, TargetType


@contextmanager
def open_image(target: ResolvedTarget, options: SourceOptions, progress: Progress,
               stdin: IO[bytes] | None = None) -> Iterator[Image]:
    """The Image a target names; temporary files live as long as the context."""
    if target.type is TargetType.DOCKER_ARCHIVE and target.stdin:
        if stdin is None:
            raise InputError(f"{target.text}: no standard input to read the archive from")
        spooled = spool_archive(stdin, options, target.text)
        if _compressed(spooled):
            spooled = _decompress(spooled, options, target.text, remove=True)
        try:
            yield open_docker_archive(spooled, target.tag, options, target.text)
        finally:
            spooled.unlink(missing_ok=True)
        return
    if target.type in (TargetType.DOCKER_ARCHIVE, TargetType.OCI_ARCHIVE):
        assert target.path is not None
        path = target.path
        if _compressed(path):  # docker save | gzip > app.tar.gz
            path = _decompress(path, options, target.text, remove=False)
        opener = (open_docker_archive if target.type is TargetType.DOCKER_ARCHIVE
                  else open_oci_archive)
        try:
            yield opener(path, target.tag, options, target.text)
        finally:
            if path != target.path:
                path.unlink(missing_ok=True)
    elif target.type is TargetType.OCI_DIR:
        assert target.path is not None
        yield open_oci_dir(target.path, target.tag, options, target.text)
    elif target.type is TargetType.REGISTRY:
        from lashing.source.registry import open_registry_image

        assert target.reference is not None
        yield open_registry_image(target.reference, options, progress)
    else:
        raise InputError(f"{target.text}: not an image")


def _compressed(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError:
        return False  # the archive reader reports the problem with its own words
    return head[:2] == GZIP_MAGIC or head == ZSTD_MAGIC


def _decompress(path: Path, options: SourceOptions, reference: str, remove: bool) -> Path:
    """A compressed archive, decompressed into a private temp file."""
    try:
        with path.open("rb") as f:
            stream, _ = decompressing_reader(f)
            try:
                return spool_archive(stream, options, reference, "the decompressed archive",
                                     options.limits.max_uncompressed_bytes)
            except DECOMPRESSION_ERRORS as exc:
                raise InputError(f"{reference}: corrupt compressed archive ({exc})") from None
    finally:
        if remove:
            path.unlink(missing_ok=True)
