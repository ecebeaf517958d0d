"""Open a resolved image target as an Image, whatever its transport."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from lashing.errors import InputError
from lashing.options import SourceOptions
from lashing.progress import Progress
from lashing.source.docker_archive import open_docker_archive, spool_stdin
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
        spooled = spool_stdin(stdin, options, target.text)
        try:
            yield open_docker_archive(spooled, target.tag, options, target.text)
        finally:
            spooled.unlink(missing_ok=True)
        return
    if target.type is TargetType.DOCKER_ARCHIVE:
        assert target.path is not None
        yield open_docker_archive(target.path, target.tag, options, target.text)
    elif target.type is TargetType.OCI_DIR:
        assert target.path is not None
        yield open_oci_dir(target.path, target.tag, options, target.text)
    elif target.type is TargetType.OCI_ARCHIVE:
        assert target.path is not None
        yield open_oci_archive(target.path, target.tag, options, target.text)
    elif target.type is TargetType.REGISTRY:
        from lashing.source.registry import open_registry_image

        assert target.reference is not None
        yield open_registry_image(target.reference, options, progress)
    else:
        raise InputError(f"{target.text}: not an image")
