"""The cataloger contract: a name, tags, the globs it wants, and a pure parse
function from one file's bytes to Packages. The core owns the walk."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from lashing.model import OSInfo, Package


class CatalogError(Exception):
    """A file a cataloger wanted could not be parsed; becomes an Issue."""


@dataclass(frozen=True)
class CatalogContext:
    """What a parser may know beyond the file: the detected OS (for OS package
    ecosystems such as Debian:12) and the layer that last wrote the file."""

    os: OSInfo | None
    layer: str | None = None


class Cataloger(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def tags(self) -> tuple[str, ...]:
        """Selection tags: "os", "language", "binary", "lockfile", "installed"."""
        ...

    @property
    def globs(self) -> tuple[str, ...]:
        """Absolute-path globs (`**` crosses directories) of the files to parse."""
        ...

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> Iterable[Package]:
        """Packages declared by one file. Raise CatalogError for a bad file."""
        ...
