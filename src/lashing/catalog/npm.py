"""JavaScript packages (OSV ecosystem `npm`, purl type `npm`; a scope is the
purl namespace: `pkg:npm/%40types/node@20.10.5`).

`npm-installed` reads the `package.json` of each installed package: the one
directly inside `node_modules/<name>/` or `node_modules/@scope/<name>/`
(nested `node_modules` included, so every copy npm installed is found; pnpm's
`node_modules/.pnpm/<id>/node_modules/<name>` store too). A package.json
without name or version there is skipped, not an error. Licenses come from
`license` (string or `{type}`) or the old `licenses` list.

`npm-lockfile` reads `package-lock.json` / `npm-shrinkwrap.json` (v1
`dependencies` tree and v2/v3 `packages` map; links, workspace members and
`file:`/git/URL versions skipped; `npm:` aliases reported under the real
name), `yarn.lock` (classic v1 and berry) and `pnpm-lock.yaml` (v5, v6, v9;
read line by line in pnpm's own layout, see `_pnpm`).

Development dependencies: a lockfile in an image does not say whether
`--omit=dev` was used, so lockfile packages marked dev (package-lock `dev`,
pnpm v5/v6 `dev: true`) are kept, as osv-scanner and syft do, unless
`include_dev` is False; yarn.lock and pnpm v9 do not mark them. The
installed cataloger reports what is really on disk. Each (name, version) is
reported once per file.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field

from lashing.catalog import _jslock, _pnpm
from lashing.catalog._common import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_PACKAGES,
    Collector,
    MiB,
    as_dict,
    as_list,
    as_str,
    guarded,
    load_json,
    make_package,
)
from lashing.catalog.base import CatalogContext
from lashing.model import Package

ECOSYSTEM = "npm"


def npm_package(cataloger: str, name: str, version: str, path: str, ctx: CatalogContext,
                licenses: tuple[str, ...] = ()) -> Package:
    namespace, slash, short = name.rpartition("/")
    return make_package(cataloger, ECOSYSTEM, "npm", name, version, path, ctx,
                        namespace=namespace if slash else None, purl_name=short,
                        licenses=licenses)


def is_installed_manifest(path: str) -> bool:
    """Whether `path` is node_modules/<name>/package.json or
    node_modules/@scope/<name>/package.json."""
    parts = path.split("/")
    if len(parts) >= 4 and parts[-3] == "node_modules" and not parts[-2].startswith("@"):
        return not parts[-2].startswith(".")
    return (len(parts) >= 5 and parts[-4] == "node_modules" and parts[-3].startswith("@")
            and len(parts[-3]) > 1)


@dataclass(frozen=True)
class NpmInstalledCataloger:
    """package.json of each package installed under node_modules."""

    max_file_bytes: int = 16 * MiB
    name: str = field(default="npm-installed", init=False)
    tags: tuple[str, ...] = field(default=("language", "installed"), init=False)
    globs: tuple[str, ...] = field(default=(
        "**/node_modules/*/package.json", "**/node_modules/@*/*/package.json"), init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        return guarded("package.json", lambda: self._parse(path, data, ctx))

    def _parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        if not is_installed_manifest(path):
            return []
        doc = as_dict(load_json(data, self.max_file_bytes, "package.json"))
        name, version = as_str(doc.get("name")), as_str(doc.get("version"))
        if not name or not version:
            return []
        return [npm_package(self.name, name, version, path, ctx, _licenses(doc))]


def _licenses(doc: dict[str, object]) -> tuple[str, ...]:
    value = doc.get("license")
    if isinstance(value, dict):
        value = value.get("type")
    text = as_str(value)
    if text:
        return (text,)
    found = [as_str(as_dict(item).get("type")) or as_str(item) for item in as_list(doc.get(
        "licenses"))]
    return tuple(f for f in found if f)


@dataclass(frozen=True)
class NpmLockfileCataloger:
    """package-lock.json, npm-shrinkwrap.json, yarn.lock and pnpm-lock.yaml."""

    include_dev: bool = True
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_packages: int = DEFAULT_MAX_PACKAGES
    max_depth: int = 200  # nesting of a v1 `dependencies` tree
    name: str = field(default="npm-lockfile", init=False)
    tags: tuple[str, ...] = field(default=("language", "lockfile"), init=False)
    globs: tuple[str, ...] = field(default=(
        "**/package-lock.json", "**/npm-shrinkwrap.json", "**/yarn.lock", "**/pnpm-lock.yaml"),
        init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        base = posixpath.basename(path)
        return guarded(base, lambda: self._parse(base, path, data, ctx))

    def _parse(self, base: str, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        entries: Iterator[_jslock.Locked]
        if base == "yarn.lock":
            entries = _jslock.yarn(data, self.max_file_bytes)
        elif base == "pnpm-lock.yaml":
            entries = _pnpm.pnpm(data, self.max_file_bytes)
        else:
            entries = _jslock.package_lock(data, self.max_file_bytes, self.max_depth)
        found = Collector(self.max_packages)
        for entry in entries:
            if entry.dev and not self.include_dev:
                continue
            found.add(npm_package(self.name, entry.name, entry.version, path, ctx))
        return found.result()


__all__ = ["ECOSYSTEM", "NpmInstalledCataloger", "NpmLockfileCataloger", "is_installed_manifest"]
