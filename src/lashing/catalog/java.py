"""Java packages (OSV ecosystem `Maven`, name `groupId:artifactId`, purl
`pkg:maven/groupId/artifactId@version`).

`java-archive` reads `.jar`, `.war`, `.ear` (and Jenkins `.jpi`/`.hpi`)
archives: every `META-INF/maven/<group>/<artifact>/pom.properties` is one
package, so shaded jars report what they bundle. An archive without any is
named from its file name and `META-INF/MANIFEST.MF`: the artifact is the
file name without its version (`guava-31.1-jre.jar` -> `guava`), the group
`Implementation-Vendor-Id` when present, the version
`Implementation-Version`, `Bundle-Version` or the one in the file name.
Without a group the name is the bare artifact, which matches no advisory.

Archives inside archives (`WEB-INF/lib/*.jar`, `BOOT-INF/lib/*.jar`, jars
in an ear) are read recursively up to `max_depth`. Limits: member count
per archive, bytes per member read (declared and actual), total bytes
decompressed per file. A file that is not a zip, has a damaged or
encrypted member we need, or breaks a limit is a CatalogError; a nested
member that is merely named like an archive is skipped.

`java-lockfile` reads `pom.xml` (see `_javalock`) and `gradle.lockfile`.
"""

from __future__ import annotations

import io
import lzma
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field

from lashing.catalog import _javalock
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

ECOSYSTEM = "Maven"
ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".jpi", ".hpi")
_POM_PROPERTIES = re.compile(r"META-INF/maven/[^/]+/[^/]+/pom\.properties")
_PROPERTY = re.compile(r"([^=:\s]+)\s*[=:\s]\s*(.*)$")
_FILE_VERSION = re.compile(r"^(?P<name>.+)[-_](?P<version>\d[\w.+~\-]*)$")  # the last -<digit>


def maven_package(cataloger: str, group: str | None, artifact: str, version: str, path: str,
                  ctx: CatalogContext) -> Package:
    name = f"{group}:{artifact}" if group else artifact
    return make_package(cataloger, ECOSYSTEM, "maven", name, version, path, ctx,
                        namespace=group or None, purl_name=artifact)


class _NotZip(CatalogError):
    """An archive member named like an archive that is not one."""


_READ_ERRORS = (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError,
                ValueError, zlib.error, lzma.LZMAError)


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit

    def take(self, size: int, what: str) -> None:
        self.left -= size
        if self.left < 0:
            raise CatalogError(f"{what}: archive decompresses to more than the limit")


@dataclass(frozen=True)
class JavaArchiveCataloger:
    """Maven coordinates of jar/war/ear archives, nested ones included."""

    max_file_bytes: int = 1024 * MiB
    max_depth: int = 3  # archives inside archives inside the file
    max_members: int = 100_000  # entries in one archive
    max_member_bytes: int = 256 * MiB  # one member read (a nested archive, a properties file)
    max_total_bytes: int = 1024 * MiB  # all members read from one file
    max_packages: int = DEFAULT_MAX_PACKAGES
    name: str = field(default="java-archive", init=False)
    tags: tuple[str, ...] = field(default=("language", "installed"), init=False)
    globs: tuple[str, ...] = field(default=tuple(f"**/*{s}" for s in ARCHIVE_SUFFIXES),
                                   init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        return guarded("archive", lambda: self._parse(path, data, ctx))

    def _parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        check_size(data, self.max_file_bytes, "archive")
        found = Collector(self.max_packages)
        budget = _Budget(self.max_total_bytes)
        self._archive(data, posixpath.basename(path), 0, budget, found, path, ctx)
        return found.result()

    def _archive(self, data: bytes, filename: str, depth: int, budget: _Budget,
                 found: Collector, path: str, ctx: CatalogContext) -> None:
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            raise _NotZip(f"{filename}: not a zip archive ({exc})") from None
        with zf:
            infos = zf.infolist()
            if len(infos) > self.max_members:
                raise CatalogError(f"{filename}: {len(infos)} entries, over the limit of "
                                   f"{self.max_members}")
            poms = [i for i in infos if _POM_PROPERTIES.fullmatch(i.filename)]
            for info in poms:
                props = _properties(self._read(zf, info, filename, budget, 1 * MiB))
                group, artifact = props.get("groupId"), props.get("artifactId")
                version = props.get("version")
                if group and artifact and version:
                    found.add(maven_package(self.name, group, artifact, version, path, ctx))
            if not poms:
                self._from_manifest(zf, filename, budget, found, path, ctx)
            if depth >= self.max_depth:
                return
            for info in infos:
                if info.is_dir() or not info.filename.lower().endswith(ARCHIVE_SUFFIXES):
                    continue
                nested = self._read(zf, info, filename, budget, self.max_member_bytes)
                try:
                    self._archive(nested, posixpath.basename(info.filename), depth + 1, budget,
                                  found, path, ctx)
                except _NotZip:
                    continue  # a file merely named .jar

    def _read(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, filename: str,
              budget: _Budget, limit: int) -> bytes:
        what = f"{filename}!{info.filename}"
        if info.file_size > limit:
            raise CatalogError(f"{what}: declares {info.file_size} bytes, over the limit of "
                               f"{limit}")
        budget.take(info.file_size, what)
        try:
            with zf.open(info) as member:
                content = member.read(limit + 1)
        except _READ_ERRORS as exc:  # damaged, encrypted, or an unsupported compression
            raise CatalogError(f"{what}: cannot read ({exc})") from None
        if len(content) > limit:
            raise CatalogError(f"{what}: decompresses past {limit} bytes")
        budget.take(max(0, len(content) - info.file_size), what)  # a header that lied
        return content

    def _from_manifest(self, zf: zipfile.ZipFile, filename: str, budget: _Budget,
                       found: Collector, path: str, ctx: CatalogContext) -> None:
        try:
            info = zf.getinfo("META-INF/MANIFEST.MF")
        except KeyError:
            manifest: dict[str, str] = {}
        else:
            manifest = _manifest(self._read(zf, info, filename, budget, 1 * MiB))
        stem = filename.rsplit(".", 1)[0]
        match = _FILE_VERSION.match(stem)
        artifact = match.group("name") if match else stem
        version = (manifest.get("Implementation-Version") or manifest.get("Bundle-Version")
                   or (match.group("version") if match else None))
        if not artifact or not version:
            return
        group = manifest.get("Implementation-Vendor-Id")
        found.add(maven_package(self.name, group, artifact.strip(), version, path, ctx))


def _properties(data: bytes) -> dict[str, str]:
    """A Java .properties file (the simple form Maven writes)."""
    props: dict[str, str] = {}
    for raw in data.decode("latin-1").splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        match = _PROPERTY.match(line)
        if match:
            props[match.group(1)] = match.group(2).strip()
    return props


def _manifest(data: bytes) -> dict[str, str]:
    """The main section of a jar manifest; continuation lines start with a space."""
    fields: dict[str, str] = {}
    last: str | None = None
    for line in data.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            break
        if line.startswith(" ") and last is not None:
            fields[last] += line[1:]
            continue
        key, sep, value = line.partition(":")
        if sep:
            last = key.strip()
            fields[last] = value.strip()
    return fields


@dataclass(frozen=True)
class JavaLockfileCataloger:
    """pom.xml dependencies and gradle.lockfile entries."""

    include_dev: bool = True
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_packages: int = DEFAULT_MAX_PACKAGES
    name: str = field(default="java-lockfile", init=False)
    tags: tuple[str, ...] = field(default=("language", "lockfile"), init=False)
    globs: tuple[str, ...] = field(default=(
        "**/pom.xml", "**/gradle.lockfile", "**/gradle/dependency-locks/*.lockfile"),
        init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        base = posixpath.basename(path)
        return guarded(base, lambda: self._parse(base, path, data, ctx))

    def _parse(self, base: str, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        check_size(data, self.max_file_bytes, base)
        deps = _javalock.pom(data) if base == "pom.xml" else _javalock.gradle(data)
        found = Collector(self.max_packages)
        for dep in deps:
            if dep.dev and not self.include_dev:
                continue
            found.add(maven_package(self.name, dep.group, dep.artifact, dep.version, path, ctx))
        return found.result()


__all__ = ["ECOSYSTEM", "JavaArchiveCataloger", "JavaLockfileCataloger"]
