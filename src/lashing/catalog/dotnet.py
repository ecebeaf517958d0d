"""NuGet packages (OSV ecosystem `NuGet`, purl `pkg:nuget/Newtonsoft.Json@13.0.1`).

`dotnet-deps` reads the `<app>.deps.json` the .NET SDK writes next to a
built application: every `libraries` entry `"Name/Version"` of type
`package` (projects and framework references are not NuGet releases).

`dotnet-lockfile` reads `packages.lock.json` (NuGet lock files, version 1
and 2): every dependency of every target framework except `Project`
references, with its `resolved` version. A package locked for several
frameworks is reported once per version.

Names keep NuGet's display case (`Newtonsoft.Json`); NuGet treats them
case-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lashing.catalog._common import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_PACKAGES,
    Collector,
    as_dict,
    as_str,
    guarded,
    load_json,
    make_package,
)
from lashing.catalog.base import CatalogContext, CatalogError
from lashing.model import Package

ECOSYSTEM = "NuGet"


def nuget_package(cataloger: str, name: str, version: str, path: str,
                  ctx: CatalogContext) -> Package:
    return make_package(cataloger, ECOSYSTEM, "nuget", name, version, path, ctx)


@dataclass(frozen=True)
class DotnetDepsCataloger:
    """Packages of a built .NET application, from its deps.json."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_packages: int = DEFAULT_MAX_PACKAGES
    name: str = field(default="dotnet-deps", init=False)
    tags: tuple[str, ...] = field(default=("language", "installed"), init=False)
    globs: tuple[str, ...] = field(default=("**/*.deps.json",), init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        return guarded("deps.json", lambda: self._parse(path, data, ctx))

    def _parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        doc = load_json(data, self.max_file_bytes, "deps.json")
        if not isinstance(doc, dict):
            raise CatalogError("deps.json is not a JSON object")
        found = Collector(self.max_packages)
        for key, value in as_dict(doc.get("libraries")).items():
            name, slash, version = key.rpartition("/")
            if slash and name and version and as_dict(value).get("type") == "package":
                found.add(nuget_package(self.name, name, version, path, ctx))
        return found.result()


@dataclass(frozen=True)
class DotnetLockfileCataloger:
    """NuGet packages.lock.json."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_packages: int = DEFAULT_MAX_PACKAGES
    name: str = field(default="dotnet-lockfile", init=False)
    tags: tuple[str, ...] = field(default=("language", "lockfile"), init=False)
    globs: tuple[str, ...] = field(default=("**/packages.lock.json",), init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        return guarded("packages.lock.json", lambda: self._parse(path, data, ctx))

    def _parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        doc = load_json(data, self.max_file_bytes, "packages.lock.json")
        if not isinstance(doc, dict) or "dependencies" not in doc:
            raise CatalogError("packages.lock.json without `dependencies`")
        found = Collector(self.max_packages)
        for framework in as_dict(doc.get("dependencies")).values():
            for name, value in as_dict(framework).items():
                entry = as_dict(value)
                version = as_str(entry.get("resolved"))
                if version and entry.get("type") != "Project":
                    found.add(nuget_package(self.name, name, version, path, ctx))
        return found.result()


__all__ = ["ECOSYSTEM", "DotnetDepsCataloger", "DotnetLockfileCataloger"]
