"""Language packages the distribution installed are reported once, as OS packages."""

from __future__ import annotations

from pathlib import Path

from lashing.catalog import CATALOGERS, catalog, wanted_globs
from lashing.fs import tree_from_directory, want_globs

STATUS = """Package: python3-six
Status: install ok installed
Architecture: all
Source: six
Version: 1.16.0-4

"""


def metadata(name: str, version: str) -> str:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"


def test_dpkg_owned_python_package_is_not_reported_twice(tmp_path: Path) -> None:
    dist = tmp_path / "usr/lib/python3/dist-packages"
    (dist / "six-1.16.0.dist-info").mkdir(parents=True)
    (dist / "six-1.16.0.dist-info/METADATA").write_text(metadata("six", "1.16.0"))
    local = tmp_path / "usr/local/lib/python3.11/dist-packages/requests-2.31.0.dist-info"
    local.mkdir(parents=True)
    (local / "METADATA").write_text(metadata("requests", "2.31.0"))
    info = tmp_path / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    (tmp_path / "var/lib/dpkg/status").write_text(STATUS)
    (info / "python3-six.list").write_text(
        "/.\n/usr\n/usr/lib/python3/dist-packages/six-1.16.0.dist-info\n"
        "/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA\n")
    tree = tree_from_directory(tmp_path, want_globs(*wanted_globs(CATALOGERS)))
    packages, issues = catalog(tree, CATALOGERS, None)
    assert issues == []
    found = sorted((p.found_by, p.name, p.version) for p in packages)
    assert ("dpkg", "python3-six", "1.16.0-4") in found
    assert not any(p.found_by != "dpkg" and p.name == "six" for p in packages)
    assert any(p.name == "requests" and p.version == "2.31.0" for p in packages)


def test_without_file_lists_everything_is_reported(tmp_path: Path) -> None:
    dist = tmp_path / "usr/lib/python3/dist-packages/six-1.16.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(metadata("six", "1.16.0"))
    tree = tree_from_directory(tmp_path, want_globs(*wanted_globs(CATALOGERS)))
    packages, _ = catalog(tree, CATALOGERS, None)
    assert [p.name for p in packages] == ["six"]
