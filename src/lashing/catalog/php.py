"""PHP packages (OSV ecosystem `Packagist`, purl `pkg:composer/vendor/name@1.0`).

`php-installed` reads Composer's record of what it installed,
`vendor/composer/installed.json`: the Composer 1 list and the Composer 2
`{"packages": [...], "dev-package-names": [...]}` form.

`php-lockfile` reads `composer.lock`: `packages` and `packages-dev` (kept
unless `include_dev` is False).

Versions are reported as Composer wrote them (`v5.4.0` keeps its `v`);
branch aliases like `dev-main` are reported too. Licenses come from each
package's `license` list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lashing.catalog._common import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_PACKAGES,
    Collector,
    as_dict,
    as_list,
    as_str,
    guarded,
    load_json,
    make_package,
)
from lashing.catalog.base import CatalogContext, CatalogError
from lashing.model import Package

ECOSYSTEM = "Packagist"


def composer_package(cataloger: str, name: str, version: str, path: str, ctx: CatalogContext,
                     licenses: tuple[str, ...] = ()) -> Package:
    vendor, slash, short = name.partition("/")
    return make_package(cataloger, ECOSYSTEM, "composer", name, version, path, ctx,
                        namespace=vendor if slash else None, purl_name=short if slash else name,
                        licenses=licenses)


def _collect(cataloger: str, entries: Iterable[Any], found: Collector, path: str,
             ctx: CatalogContext, skip: frozenset[str] = frozenset()) -> None:
    for entry in map(as_dict, entries):
        name, version = as_str(entry.get("name")), as_str(entry.get("version"))
        if not name or not version or name in skip:
            continue
        licenses = tuple(s for s in map(as_str, as_list(entry.get("license"))) if s)
        found.add(composer_package(cataloger, name, version, path, ctx, licenses))


@dataclass(frozen=True)
class PhpInstalledCataloger:
    """vendor/composer/installed.json, Composer 1 and 2."""

    include_dev: bool = True
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_packages: int = DEFAULT_MAX_PACKAGES
    name: str = field(default="php-installed", init=False)
    tags: tuple[str, ...] = field(default=("language", "installed"), init=False)
    globs: tuple[str, ...] = field(default=("**/vendor/composer/installed.json",), init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        return guarded("installed.json", lambda: self._parse(path, data, ctx))

    def _parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        doc = load_json(data, self.max_file_bytes, "installed.json")
        found = Collector(self.max_packages)
        if isinstance(doc, list):
            _collect(self.name, doc, found, path, ctx)
        elif isinstance(doc, dict):
            dev = frozenset() if self.include_dev else frozenset(
                n for n in map(as_str, as_list(doc.get("dev-package-names"))) if n)
            _collect(self.name, as_list(doc.get("packages")), found, path, ctx, dev)
        else:
            raise CatalogError("installed.json is neither a list nor an object")
        return found.result()


@dataclass(frozen=True)
class PhpLockfileCataloger:
    """composer.lock packages and packages-dev."""

    include_dev: bool = True
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_packages: int = DEFAULT_MAX_PACKAGES
    name: str = field(default="php-lockfile", init=False)
    tags: tuple[str, ...] = field(default=("language", "lockfile"), init=False)
    globs: tuple[str, ...] = field(default=("**/composer.lock",), init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        return guarded("composer.lock", lambda: self._parse(path, data, ctx))

    def _parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        doc = load_json(data, self.max_file_bytes, "composer.lock")
        if not isinstance(doc, dict):
            raise CatalogError("composer.lock is not a JSON object")
        found = Collector(self.max_packages)
        _collect(self.name, as_list(doc.get("packages")), found, path, ctx)
        if self.include_dev:
            _collect(self.name, as_list(doc.get("packages-dev")), found, path, ctx)
        return found.result()


__all__ = ["ECOSYSTEM", "PhpInstalledCataloger", "PhpLockfileCataloger"]
