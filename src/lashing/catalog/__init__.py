"""The catalog stage: every OS and language package in a FileTree.

CATALOGERS is the one explicit list; a test checks every module in this
package is in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lashing.catalog.apk import ApkCataloger
from lashing.catalog.base import CatalogContext, Cataloger, CatalogError
from lashing.catalog.dotnet import DotnetDepsCataloger, DotnetLockfileCataloger
from lashing.catalog.dpkg import DpkgCataloger
from lashing.catalog.golang import GoBinaryCataloger, GoModCataloger
from lashing.catalog.java import JavaArchiveCataloger, JavaLockfileCataloger
from lashing.catalog.npm import NpmInstalledCataloger, NpmLockfileCataloger
from lashing.catalog.ownership import OWNERSHIP_GLOBS, drop_owned, owned_paths
from lashing.catalog.php import PhpInstalledCataloger, PhpLockfileCataloger
from lashing.catalog.python import PythonInstalledCataloger, PythonLockfileCataloger
from lashing.catalog.rpm import RpmCataloger
from lashing.catalog.ruby import RubyInstalledCataloger, RubyLockfileCataloger
from lashing.catalog.rust import RustBinaryCataloger, RustLockfileCataloger
from lashing.errors import InputError
from lashing.fs.tree import FileKind, FileTree, want_globs
from lashing.model import Issue, Location, OSInfo, Package

CATALOGERS: tuple[Cataloger, ...] = (
    DpkgCataloger(),
    ApkCataloger(),
    RpmCataloger(),
    PythonInstalledCataloger(),
    PythonLockfileCataloger(),
    NpmInstalledCataloger(),
    NpmLockfileCataloger(),
    GoBinaryCataloger(),
    GoModCataloger(),
    JavaArchiveCataloger(),
    JavaLockfileCataloger(),
    RustBinaryCataloger(),
    RustLockfileCataloger(),
    RubyInstalledCataloger(),
    RubyLockfileCataloger(),
    PhpInstalledCataloger(),
    PhpLockfileCataloger(),
    DotnetDepsCataloger(),
    DotnetLockfileCataloger(),
)


def select(names: Sequence[str] | None) -> tuple[Cataloger, ...]:
    """Catalogers by name or tag (`--catalogers dpkg,python` or `os`)."""
    if not names:
        return CATALOGERS
    chosen = []
    known = {c.name for c in CATALOGERS} | {t for c in CATALOGERS for t in c.tags}
    for name in names:
        if name not in known:
            raise InputError(f"--catalogers: unknown cataloger or tag {name!r}",
                             "known: " + ", ".join(sorted(known)))
    for c in CATALOGERS:
        if c.name in names or set(c.tags) & set(names):
            chosen.append(c)
    return tuple(chosen)


def magics_of(cataloger: Cataloger) -> tuple[bytes, ...]:
    """Magic numbers a file must start with to be worth keeping (binary catalogers
    declare them: their globs cover whole directories of arbitrary files)."""
    magics: tuple[bytes, ...] = getattr(cataloger, "magics", ())
    return magics


def wanted_globs(catalogers: Iterable[Cataloger]) -> tuple[str, ...]:
    """Globs of the files to keep whatever their content (with dpkg's file lists,
    which say which language packages the distribution installed)."""
    chosen = list(catalogers)
    globs = tuple(g for c in chosen if not magics_of(c) for g in c.globs)
    return (*globs, *OWNERSHIP_GLOBS) if any(c.name == "dpkg" for c in chosen) else globs


def sniffed_globs(catalogers: Iterable[Cataloger]) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
    """Globs of files kept only when they start with a magic number, and the magics."""
    chosen = [c for c in catalogers if magics_of(c)]
    globs = tuple(dict.fromkeys(g for c in chosen for g in c.globs))
    magics = tuple(dict.fromkeys(m for c in chosen for m in magics_of(c)))
    return globs, magics


def catalog(tree: FileTree, catalogers: Sequence[Cataloger],
            os_info: OSInfo | None) -> tuple[list[Package], list[Issue]]:
    """Run every cataloger over the files it asked for. A file that fails to
    parse becomes an Issue; the rest of the scan goes on."""
    packages: list[Package] = []
    issues: list[Issue] = []
    matchers = [(c, want_globs(*c.globs)) for c in catalogers]
    for entry in tree.kept():  # the tree kept exactly what some cataloger asked for
        if entry.kind not in (FileKind.FILE, FileKind.HARDLINK):
            continue
        for cataloger, match in matchers:
            if not match(entry.path):
                continue
            loc = Location(path=entry.path, layer=entry.layer)
            try:
                data = tree.read(entry.path)
            except KeyError:
                continue  # a symlink to elsewhere, a directory, or skipped by a limit
            ctx = CatalogContext(os=os_info, layer=entry.layer)
            try:
                packages.extend(cataloger.parse(entry.path, data, ctx))
            except (CatalogError, ValueError, UnicodeDecodeError, KeyError, IndexError) as exc:
                issues.append(Issue(stage="catalog", plugin=cataloger.name, location=loc,
                                    message=f"cannot parse: {exc}"))
    language = {c.name for c in catalogers if "language" in c.tags}
    return drop_owned(packages, owned_paths(tree), language), issues


__all__ = [
    "CATALOGERS",
    "CatalogContext",
    "CatalogError",
    "Cataloger",
    "catalog",
    "magics_of",
    "select",
    "sniffed_globs",
    "wanted_globs",
]
