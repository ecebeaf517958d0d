"""The host's own packages: the OS catalogers' files under --root, the OS
release, and a match against the offline vulnerability database."""

from __future__ import annotations

import glob
import os
import posixpath
import stat
from dataclasses import dataclass, field
from pathlib import Path

from lashing.catalog import CATALOGERS, catalog, wanted_globs
from lashing.catalog.base import Cataloger
from lashing.fs.tree import Content, FileEntry, FileKind, FileTree
from lashing.model import DatabaseInfo, Finding, Issue, Location, OSInfo, Package, Surface
from lashing.osinfo import OS_FILES, detect_os
from lashing.vulndb import database_info, match, open_database, staleness_warning

MAX_FILE = 256 * 1024 * 1024


@dataclass
class HostPackages:
    os: OSInfo | None = None
    packages: tuple[Package, ...] = ()
    findings: list[Finding] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    database: DatabaseInfo | None = None


def os_catalogers() -> tuple[Cataloger, ...]:
    return tuple(c for c in CATALOGERS if "os" in c.tags)


def host_tree(root: Path, globs: tuple[str, ...]) -> FileTree:
    """A FileTree holding just the files the globs name (no walk of the whole host:
    under / that would cross /proc, /sys and every mounted filesystem)."""
    entries: dict[str, FileEntry] = {"/": FileEntry("/", FileKind.DIR, 0o755, 0, 0, 0, None,
                                                    None)}
    contents: dict[str, Content] = {}
    issues: list[Issue] = []
    base = str(root.resolve()).rstrip("/")
    for pattern in globs:
        for full in sorted(glob.glob(glob.escape(base) + pattern,  # noqa: PTH207
                                   recursive=True)):
            path = full[len(base):] or "/"
            try:
                st = os.lstat(full)
                if not stat.S_ISREG(st.st_mode):
                    continue
                with open(full, "rb") as f:
                    data = f.read(MAX_FILE)
            except OSError as exc:
                issues.append(Issue("catalog", "host", Location(path=path),
                                    f"cannot read: {exc.strerror}"))
                continue
            parent = posixpath.dirname(path)
            while parent not in entries:
                entries[parent] = FileEntry(parent, FileKind.DIR, 0o755, 0, 0, 0, None, None)
                parent = posixpath.dirname(parent)
            entries[path] = FileEntry(path, FileKind.FILE, stat.S_IMODE(st.st_mode), st.st_uid,
                                      st.st_gid, len(data), None, None)
            contents[path] = data
    return FileTree(entries, contents, None, issues)


def host_packages(root: Path, db_path: Path | None, target: str) -> HostPackages:
    catalogers = os_catalogers()
    out = HostPackages()
    tree = host_tree(root, (*OS_FILES, *wanted_globs(catalogers)))
    out.os, os_issues = detect_os(tree)
    packages, cat_issues = catalog(tree, catalogers, out.os)
    out.packages = tuple(packages)
    out.issues.extend([*tree.issues, *os_issues, *cat_issues])
    if not packages:
        return out
    if db_path is None or not db_path.is_file():
        out.issues.append(Issue(
            stage="vulndb", plugin="database", location=Location(path=str(db_path or "")),
            message="no vulnerability database, so the host's packages were not checked for "
                    "vulnerabilities; run 'lashing db update' or 'lashing db import'"))
        return out
    with open_database(db_path) as db:
        findings, issues = match(packages, db, target=target, target_identity=target,
                                 surface=Surface.BUILD_HOST)
        out.database = database_info(db)
        stale = staleness_warning(db, ecosystems={p.ecosystem for p in packages})
    if stale:
        out.issues.append(Issue("vulndb", "database", Location(path=str(db_path)), stale))
    out.findings.extend(findings)
    out.issues.extend(issues)
    return out
