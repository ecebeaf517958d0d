"""Python packages (OSV ecosystem `PyPI`, purl type `pypi`).

`python-installed` reads installed distributions: `*.dist-info/METADATA`,
`*.egg-info/PKG-INFO` and single-file `*.egg-info`, wherever they are:
site-packages, `pip install --target` directories, and copies vendored
inside other packages (`setuptools/_vendor/*.dist-info`), which
`pip list` does not show but which are installed code all the same. Only the
header block is read; the description body after the first blank line is
ignored. Licenses come from `License-Expression`, else a short one-line
`License`, else the `License ::` classifiers.

`python-lockfile` reads what a source tree pins: `requirements*.txt` (exact
`==`/`===` pins only; `-r`/`-c`/`-e` and other options, URLs, `name @ url`
and ranges are skipped; environment markers are ignored, so a pin guarded by
a marker is reported whatever the platform), `poetry.lock`, `Pipfile.lock`,
`uv.lock` and `pdm.lock`. Development dependencies are included when the
lockfile marks them (Pipfile `develop`, poetry `category = "dev"`, pdm groups
without `default`) unless `include_dev` is False. Local projects (uv
`editable`/`virtual`/`directory`, poetry `directory`, pdm `path`) are not
registry releases and are skipped.

Names are normalised per PEP 503 (`Flask_Login` -> `flask-login`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from lashing.catalog import _pylock
from lashing.catalog._common import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_PACKAGES,
    Collector,
    MiB,
    check_size,
    guarded,
    make_package,
)
from lashing.catalog.base import CatalogContext, CatalogError
from lashing.model import Package

ECOSYSTEM = "PyPI"
MAX_HEADER_LINES = 100_000


def python_package(cataloger: str, name: str, version: str, path: str, ctx: CatalogContext,
                   licenses: tuple[str, ...] = ()) -> Package:
    canonical = canonicalize_name(name)
    return make_package(cataloger, ECOSYSTEM, "pypi", canonical, version, path, ctx,
                        licenses=licenses)


@dataclass(frozen=True)
class PythonInstalledCataloger:
    """Installed distributions: dist-info and egg-info metadata."""

    max_file_bytes: int = 16 * MiB
    name: str = field(default="python-installed", init=False)
    tags: tuple[str, ...] = field(default=("language", "installed"), init=False)
    globs: tuple[str, ...] = field(default=(
        "**/*.dist-info/METADATA", "**/*.egg-info/PKG-INFO", "**/*.egg-info"), init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        return guarded("METADATA", lambda: self._parse(path, data, ctx))

    def _parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        check_size(data, self.max_file_bytes, "metadata file")
        headers = parse_headers(data.decode("utf-8", errors="replace"))
        name = _first(headers, "name")
        version = _first(headers, "version")
        if not name or not version:
            where = posixpath.basename(posixpath.dirname(path)) or path
            raise CatalogError(f"{where}: metadata without Name or Version")
        return [python_package(self.name, name, version, path, ctx, _licenses(headers))]


@dataclass(frozen=True)
class PythonLockfileCataloger:
    """requirements*.txt pins and the poetry, Pipfile, uv and pdm lockfiles."""

    include_dev: bool = True
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_packages: int = DEFAULT_MAX_PACKAGES
    name: str = field(default="python-lockfile", init=False)
    tags: tuple[str, ...] = field(default=("language", "lockfile"), init=False)
    globs: tuple[str, ...] = field(default=(
        "**/requirements*.txt", "**/poetry.lock", "**/Pipfile.lock", "**/uv.lock",
        "**/pdm.lock"), init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        base = posixpath.basename(path)
        return guarded(base, lambda: self._parse(base, path, data, ctx))

    def _parse(self, base: str, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        check_size(data, self.max_file_bytes, base)
        pins: Iterator[_pylock.Pin]
        if base == "poetry.lock":
            pins = _pylock.poetry(data, self.max_file_bytes)
        elif base == "Pipfile.lock":
            pins = _pylock.pipfile(data, self.max_file_bytes)
        elif base == "uv.lock":
            pins = _pylock.uv(data, self.max_file_bytes)
        elif base == "pdm.lock":
            pins = _pylock.pdm(data, self.max_file_bytes)
        else:
            pins = _pylock.requirements(data)
        found = Collector(self.max_packages)
        for pin in pins:
            if pin.dev and not self.include_dev:
                continue
            found.add(python_package(self.name, pin.name, pin.version, path, ctx))
        return found.result()


def parse_headers(text: str) -> list[tuple[str, str]]:
    """The RFC 822-style header block of a METADATA/PKG-INFO file, keys
    lower-cased, continuation lines joined."""
    headers: list[tuple[str, str]] = []
    for count, line in enumerate(text.splitlines()):
        if count >= MAX_HEADER_LINES:
            raise CatalogError(f"more than {MAX_HEADER_LINES} header lines")
        if not line.strip():
            break
        if line[0] in " \t":
            if headers:
                key, value = headers[-1]
                headers[-1] = (key, value + "\n" + line.strip())
            continue
        key, sep, value = line.partition(":")
        if sep:
            headers.append((key.strip().lower(), value.strip()))
    return headers


def _first(headers: list[tuple[str, str]], key: str) -> str | None:
    return next((v for k, v in headers if k == key and v), None)


def _licenses(headers: list[tuple[str, str]]) -> tuple[str, ...]:
    expression = _first(headers, "license-expression")
    if expression:
        return (expression,)
    text = _first(headers, "license")
    if text and "\n" not in text and len(text) <= 100 and text.upper() != "UNKNOWN":
        return (text,)
    classifiers = [v.split("::")[-1].strip() for k, v in headers
                   if k == "classifier" and v.startswith("License ::")]
    return tuple(c for c in classifiers if c and c != "OSI Approved")


__all__ = ["ECOSYSTEM", "PythonInstalledCataloger", "PythonLockfileCataloger", "parse_headers"]
