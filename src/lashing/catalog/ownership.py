"""Files that OS packages own, from dpkg's `info/*.list` file lists.

A Python or npm package installed by the distribution (`python3-six`'s
`six-1.16.0.dist-info`) is an OS package: its fixes come through the
distribution, and its advisories are the distribution's. Language packages
whose every location is owned by an OS package are therefore not reported
twice.
"""

from __future__ import annotations

from lashing.fs.tree import FileTree, want_globs
from lashing.model import Package

OWNERSHIP_GLOBS = ("/var/lib/dpkg/info/*.list",)
MAX_LIST_BYTES = 16 * 1024 * 1024  # one package's file list
_IS_LIST = want_globs(*OWNERSHIP_GLOBS)


def owned_paths(tree: FileTree) -> set[str]:
    """Every path some dpkg package lists as installed by it."""
    owned: set[str] = set()
    for entry in tree.kept():
        if not _IS_LIST(entry.path) or entry.size > MAX_LIST_BYTES:
            continue
        try:
            text = tree.read(entry.path).decode("utf-8", "surrogateescape")
        except KeyError:
            continue
        owned.update(line for line in text.splitlines() if line.startswith("/"))
    return owned


def drop_owned(packages: list[Package], owned: set[str],
               language_catalogers: set[str]) -> list[Package]:
    """Language packages whose every location an OS package owns are left out."""
    if not owned:
        return packages
    kept = []
    for p in packages:
        paths = [loc.path for loc in p.locations if loc.path]
        if p.found_by in language_catalogers and paths and all(path in owned for path in paths):
            continue
        kept.append(p)
    return kept
