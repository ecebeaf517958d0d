"""The apk cataloger, on the shared real Alpine databases and small cases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packageurl import PackageURL

from lashing.catalog import catalog
from lashing.catalog.apk import ApkCataloger
from lashing.catalog.base import CatalogContext, Cataloger, CatalogError
from lashing.catalog.dpkg import DpkgCataloger
from lashing.fs import tree_from_directory, want_globs
from lashing.model import OSInfo, Package

PROJECT = Path(__file__).resolve().parents[2]
SHARED_APK = (PROJECT.parent / "shared" / "data" / "pkgdb-fixtures" / "extractor" / "filesystem"
              / "os" / "apk" / "testdata")
INSTALLED = "/lib/apk/db/installed"
ALPINE = OSInfo(family="alpine", version="3.18", ecosystem="Alpine:v3.18", supported=True)
APK = ApkCataloger()


def parse(data: str | bytes, os: OSInfo | None = ALPINE) -> list[Package]:
    raw = data.encode() if isinstance(data, str) else data
    return list(APK.parse(INSTALLED, raw, CatalogContext(os=os, layer="sha256:def")))


def shared(name: str) -> bytes:
    if not SHARED_APK.is_dir():
        pytest.skip("needs ../shared/data/pkgdb-fixtures (shared real package databases)")
    return (SHARED_APK / name).read_bytes()


def test_shared_installed_database() -> None:
    data = shared("installed")
    packages = parse(data)
    # independent reading of the same file: every P:/V: pair, in order
    text = data.decode()
    expected = re.findall(r"^P:(.*)\nV:(.*)$", text, re.M)
    assert len(expected) == 15 == text.count("\nP:")  # the file starts with C:
    assert [(p.name, p.version) for p in packages] == expected
    by_name = {p.name: p for p in packages}
    crypto = by_name["libcrypto3"]
    assert (crypto.source_name, crypto.source_version) == ("openssl", "3.1.0-r4")
    assert crypto.licenses == ("Apache-2.0",)
    assert crypto.ecosystem == "Alpine:v3.18"
    assert crypto.purl == ("pkg:apk/alpine/libcrypto3@3.1.0-r4?arch=x86_64&distro=alpine-3.18"
                           "&upstream=openssl")
    musl = by_name["musl-utils"]
    assert musl.licenses == ("MIT AND BSD-2-Clause AND GPL-2.0-or-later",)
    assert (musl.source_name, musl.source_version) == ("musl", "1.2.4-r0")
    zlib = by_name["zlib"]
    assert zlib.purl == "pkg:apk/alpine/zlib@1.2.13-r1?arch=x86_64&distro=alpine-3.18"
    assert (zlib.source_name, zlib.source_version) == ("zlib", "1.2.13-r1")
    for p in packages:
        assert p.found_by == "apk"
        assert p.locations[0].path == INSTALLED and p.locations[0].layer == "sha256:def"
        assert PackageURL.from_string(p.purl).name == p.name


def test_shared_small_databases() -> None:
    single = parse(shared("single"))
    assert [(p.name, p.version, p.source_name) for p in single] == [
        ("alpine-baselayout-data", "3.4.3-r1", "alpine-baselayout")]
    noarch = parse(shared("different-arch"))
    assert PackageURL.from_string(noarch[0].purl).qualifiers["arch"] == "noarch"
    no_origin = parse(shared("no-origin"))  # also: no newline at the end
    assert [(p.name, p.version, p.source_name, p.licenses) for p in no_origin] == [
        ("pkgname", "1.2.3", "pkgname", ("GPL-2.0-only",))]
    assert parse(shared("empty")) == []
    with pytest.raises(CatalogError, match="line 1: expected 'K:value'"):
        parse(shared("invalid"))


def test_crlf_and_repeated_file_fields() -> None:
    text = ("P:a\r\nV:1-r0\r\nF:usr\r\nR:x\r\nF:etc\r\nR:y\r\n\r\n\r\n"
            "P:b\r\nV:2-r1\r\nP:ignored\r\n")
    assert [(p.name, p.version) for p in parse(text)] == [("a", "1-r0"), ("b", "2-r1")]


def test_ecosystems() -> None:
    text = "P:a\nV:1-r0\nA:aarch64\n"
    unknown = parse(text, None)[0]
    assert (unknown.ecosystem, unknown.purl) == ("Alpine", "pkg:apk/alpine/a@1-r0?arch=aarch64")
    wolfi = OSInfo(family="wolfi", version="20230201", ecosystem="Wolfi", supported=True)
    assert parse(text, wolfi)[0].ecosystem == "Wolfi"
    assert parse(text, wolfi)[0].purl.startswith("pkg:apk/wolfi/a@1-r0?")
    edge = OSInfo(family="alpine", version="", ecosystem=None, supported=False)
    assert parse(text, edge)[0].ecosystem == "Alpine"
    debian = OSInfo(family="debian", version="12", ecosystem="Debian:12", supported=True)
    assert parse(text, debian)[0].ecosystem == "Alpine"


@pytest.mark.parametrize(("text", "message"), [
    ("P:a\nV:1\nnot a field\n", "line 3: expected 'K:value'"),
    ("P:a\nA:x86_64\n", "line 1: package 'a' without a valid version"),
    ("V:1\n\nP:b\nV:2\n", "line 1: package without a valid name"),
    ("P:a b\nV:1\n", "valid name"),
    ("P:a\nV:1\0\n", "binary data"),
])
def test_corrupt_databases(text: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse(text)


def test_merged_usr_location(tmp_path: Path) -> None:
    (tmp_path / "usr" / "lib" / "apk" / "db").mkdir(parents=True)
    (tmp_path / "usr" / "lib" / "apk" / "db" / "installed").write_text("P:musl\nV:1.2.5-r0\n")
    (tmp_path / "lib").symlink_to("usr/lib")
    with tree_from_directory(tmp_path, want_globs(*APK.globs)) as tree:
        packages, issues = catalog(tree, [APK], ALPINE)
    assert issues == []
    assert [(p.name, p.locations[0].path) for p in packages] == [
        ("musl", "/usr/lib/apk/db/installed")]


def test_corrupt_database_becomes_an_issue(tmp_path: Path) -> None:
    (tmp_path / "lib" / "apk" / "db").mkdir(parents=True)
    (tmp_path / "lib" / "apk" / "db" / "installed").write_text("P:musl\nV:1.2.4-r0\n\nV:oops\n")
    (tmp_path / "var" / "lib" / "dpkg").mkdir(parents=True)
    (tmp_path / "var" / "lib" / "dpkg" / "status").write_text(
        "Package: tzdata\nStatus: install ok installed\nVersion: 2024a-0+deb12u1\n")
    dpkg = DpkgCataloger()
    catalogers: list[Cataloger] = [APK, dpkg]
    with tree_from_directory(tmp_path, want_globs(*APK.globs, *dpkg.globs)) as tree:
        packages, issues = catalog(tree, catalogers, None)
    assert [p.name for p in packages] == ["tzdata"]
    assert [(i.plugin, i.location.path) for i in issues] == [("apk", INSTALLED)]
    assert "line 4" in issues[0].message
