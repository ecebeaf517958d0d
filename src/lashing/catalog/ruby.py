"""Ruby gems (OSV ecosystem `RubyGems`, purl type `gem`).

`ruby-installed` reads the gemspecs RubyGems writes for installed gems,
`specifications/*.gemspec` and the default gems in
`specifications/default/*.gemspec`. They are Ruby code and are never run:
`s.name = "x"`, `s.version = "1.2"` (with or without `.freeze`,
`Gem::Version.new(...)`) and `s.license(s) = ...` are read with patterns.

`ruby-lockfile` reads `Gemfile.lock` / `gems.locked`: the `specs:` of the
`GEM` (rubygems.org and other gem servers) and `GIT` sections, one
four-space-indented `name (version)` line per gem. A platform suffix
(`nokogiri (1.15.4-x86_64-linux)`) is not part of the version. `PATH`
gems are local code and are skipped. Bundler does not record which group
a gem belongs to, so development gems cannot be told apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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

ECOSYSTEM = "RubyGems"

_STRING = r"""(?:%q\{|["'])([^"'}]+)["'}]"""
_NAME = re.compile(r"^\s*\w+\.name\s*=\s*" + _STRING, re.M)
_VERSION = re.compile(r"^\s*\w+\.version\s*=\s*(?:Gem::Version\.new\(\s*)?" + _STRING, re.M)
_LICENSES = re.compile(r"^\s*\w+\.licenses?\s*=\s*\[?([^\n\]]*)", re.M)
_QUOTED = re.compile(r"""["']([^"']+)["']""")
_SPEC = re.compile(r"^    (\S+) \(([^)\s]+)\)$")


def gem_package(cataloger: str, name: str, version: str, path: str, ctx: CatalogContext,
                licenses: tuple[str, ...] = ()) -> Package:
    return make_package(cataloger, ECOSYSTEM, "gem", name, version, path, ctx,
                        licenses=licenses)


@dataclass(frozen=True)
class RubyInstalledCataloger:
    """Installed gems' specifications."""

    max_file_bytes: int = 4 * MiB
    name: str = field(default="ruby-installed", init=False)
    tags: tuple[str, ...] = field(default=("language", "installed"), init=False)
    globs: tuple[str, ...] = field(default=(
        "**/specifications/*.gemspec", "**/specifications/default/*.gemspec"), init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        return guarded("gemspec", lambda: self._parse(path, data, ctx))

    def _parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        check_size(data, self.max_file_bytes, "gemspec")
        text = data.decode("utf-8", errors="replace")
        name, version = _NAME.search(text), _VERSION.search(text)
        if not name or not version:
            raise CatalogError("gemspec without a literal name and version")
        licenses: list[str] = []
        for match in _LICENSES.finditer(text):
            licenses += _QUOTED.findall(match.group(1))
        return [gem_package(self.name, name.group(1), version.group(1), path, ctx,
                            tuple(licenses))]


@dataclass(frozen=True)
class RubyLockfileCataloger:
    """Gemfile.lock gems from gem servers and git."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_packages: int = DEFAULT_MAX_PACKAGES
    name: str = field(default="ruby-lockfile", init=False)
    tags: tuple[str, ...] = field(default=("language", "lockfile"), init=False)
    globs: tuple[str, ...] = field(default=("**/Gemfile.lock", "**/gems.locked"), init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        return guarded("Gemfile.lock", lambda: self._parse(path, data, ctx))

    def _parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        check_size(data, self.max_file_bytes, "Gemfile.lock")
        found = Collector(self.max_packages)
        section: str | None = None
        in_specs = False
        for line in data.decode("utf-8", errors="replace").splitlines():
            if line and not line[0].isspace():
                section, in_specs = line.strip(), False
                continue
            if line.strip() == "specs:":
                in_specs = True
                continue
            if not in_specs or section not in ("GEM", "GIT"):
                continue
            match = _SPEC.match(line)
            if match:
                name, version = match.groups()
                found.add(gem_package(self.name, name, _without_platform(version), path, ctx))
        return found.result()


def _without_platform(version: str) -> str:
    """`1.15.4-x86_64-linux` -> `1.15.4`; RubyGems versions never contain `-`."""
    return version.split("-", 1)[0]


__all__ = ["ECOSYSTEM", "RubyInstalledCataloger", "RubyLockfileCataloger"]
