"""False positives: stock official-image Dockerfiles (../shared/data) and a real
Debian root filesystem (when a fixture has been built) must yield no secret."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lashing.fs.tree import FileEntry, FileKind
from lashing.rules.secrets import SecretScanner, scan_text

PROJECT = Path(__file__).resolve().parents[3]
DOCKERFILES = PROJECT.parent / "shared" / "data" / "dockerfiles-official"
ROOTFS_CANDIDATES = (PROJECT / "build" / "fixtures" / "debian-rootfs",
                     PROJECT / "bench" / ".work" / "rootfs")


def test_official_dockerfiles_have_no_secrets() -> None:
    if not DOCKERFILES.is_dir():
        pytest.skip(f"{DOCKERFILES} is absent: ../shared/data is not checked out")
    files = sorted(p for p in DOCKERFILES.rglob("*") if p.is_file())
    assert len(files) > 50
    found = [f"{p.relative_to(DOCKERFILES)}: {rule_id} {v.message}"
             for p in files for rule_id, v in scan_text(p.read_bytes(), "/" + p.name)]
    assert found == []


def walk_rootfs(root: Path) -> list[tuple[FileEntry, Path]]:
    out = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            full = Path(dirpath) / name
            st = full.lstat()
            if not stat.S_ISREG(st.st_mode):
                continue
            path = "/" + str(full.relative_to(root))
            out.append((FileEntry(path, FileKind.FILE, stat.S_IMODE(st.st_mode), st.st_uid,
                                  st.st_gid, st.st_size, None, "sha256:" + "0" * 64), full))
    return out


def rootfs() -> Path:
    for candidate in ROOTFS_CANDIDATES:
        if (candidate / "var" / "lib" / "dpkg" / "status").is_file():
            return candidate
    pytest.skip("no Debian root filesystem fixture (scripts/build-fixtures.sh builds "
                "build/fixtures/debian-rootfs with debootstrap)")


def test_debian_rootfs_has_no_secrets() -> None:
    root = rootfs()
    scanner = SecretScanner()
    for entry, full in walk_rootfs(root):
        if scanner.wants(entry):
            try:
                data = full.read_bytes()
            except OSError:
                continue
            scanner.visit(entry, data)
    assert scanner.counts.scanned > 500
    assert [f.message for f in scanner.findings("debian", "rootfs")] == []
