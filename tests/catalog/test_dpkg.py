"""The dpkg cataloger: a committed real status file, the shared real samples
and a debootstrap root filesystem, each checked against dpkg-query itself."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from packageurl import PackageURL

from lashing.catalog import catalog
from lashing.catalog.base import CatalogContext, CatalogError
from lashing.catalog.dpkg import DpkgCataloger, paragraphs
from lashing.fs import tree_from_directory, want_globs
from lashing.model import OSInfo, Package
from lashing.osinfo import OS_FILES, detect_os

PROJECT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data" / "os"
SHARED = PROJECT.parent / "shared" / "data" / "pkgdb-fixtures" / "extractor" / "filesystem" / "os"
SHARED_DPKG = SHARED / "dpkg" / "testdata" / "dpkg"
ROOTFS = PROJECT / "build" / "fixtures" / "debian-rootfs"

DEBIAN_12 = OSInfo(family="debian", version="12", ecosystem="Debian:12", supported=True)
UBUNTU = OSInfo(family="ubuntu", version="22.04", ecosystem="Ubuntu:22.04:LTS", supported=True)
DPKG = DpkgCataloger()
STATUS = "/var/lib/dpkg/status"
INSTALLED = ("installed", "triggers-pending", "triggers-awaited")


def parse(text: str | bytes, os: OSInfo | None = DEBIAN_12, path: str = STATUS) -> list[Package]:
    data = text.encode() if isinstance(text, str) else text
    return list(DPKG.parse(path, data, CatalogContext(os=os, layer="sha256:abc")))


def para(name: str, version: str = "1.0", status: str | None = "install ok installed",
         **extra: str) -> str:
    lines = [f"Package: {name}"]
    if status is not None:
        lines.append(f"Status: {status}")
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in extra.items()]
    lines.append(f"Version: {version}")
    return "\n".join(lines) + "\n"


# -- dpkg-query as the oracle --------------------------------------------------

def dpkg_query(admindir: Path) -> set[tuple[str, str, str, str, str]] | None:
    """(name, version, arch, source, source version) of the installed packages,
    as dpkg-query reports them, or None when dpkg-query refuses the database."""
    fmt = ("${db:Status-Status}\\t${Package}\\t${Version}\\t${Architecture}\\t"
           "${source:Package}\\t${source:Version}\\n")
    proc = subprocess.run(["dpkg-query", f"--admindir={admindir}", "-W", f"-f={fmt}"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    rows = set()
    for line in proc.stdout.splitlines():
        state, name, version, arch, source, source_version = line.split("\t")
        if state in INSTALLED:
            rows.add((name, version, arch, source, source_version))
    return rows


def ours(packages: list[Package]) -> set[tuple[str, str, str, str, str]]:
    rows = set()
    for p in packages:
        arch = PackageURL.from_string(p.purl).qualifiers.get("arch", "")
        rows.add((p.name, p.version, arch, p.source_name or "", p.source_version or ""))
    return rows


def need_dpkg_query() -> None:
    if shutil.which("dpkg-query") is None:
        pytest.skip("needs dpkg-query (Debian package dpkg) as the oracle")


def admindir_with(tmp_path: Path, status: bytes) -> Path:
    admin = tmp_path / "dpkg"
    (admin / "info").mkdir(parents=True)
    (admin / "updates").mkdir()
    (admin / "status").write_bytes(status)
    return admin


# -- the committed real sample ---------------------------------------------------

def test_committed_status_file() -> None:
    packages = parse((DATA / "dpkg-status").read_bytes())
    assert [(p.name, p.version) for p in packages] == [
        ("accountsservice", "22.08.8-6"), ("acl", "2.3.1-3"), ("adduser", "3.131"),
        ("admin-session", "2023.06.26.c543406313-00"), ("attr", "1:2.5.1-4"),
        ("libacl1", "2.3.1-3"), ("util-linux-extra", "2.38.1-5+b1"),
    ]
    by_name = {p.name: p for p in packages}
    libacl1 = by_name["libacl1"]
    assert (libacl1.source_name, libacl1.source_version) == ("acl", "2.3.1-3")
    assert libacl1.purl == "pkg:deb/debian/libacl1@2.3.1-3?arch=amd64&distro=debian-12&upstream=acl"
    extra = by_name["util-linux-extra"]
    assert (extra.source_name, extra.source_version) == ("util-linux", "2.38.1-5")
    assert extra.purl == ("pkg:deb/debian/util-linux-extra@2.38.1-5%2Bb1?arch=amd64"
                          "&distro=debian-12&upstream=util-linux%402.38.1-5")
    attr = by_name["attr"]
    assert (attr.source_name, attr.source_version) == ("attr", "1:2.5.1-4")
    assert attr.purl == "pkg:deb/debian/attr@1:2.5.1-4?arch=amd64&distro=debian-12"
    for p in packages:
        assert p.ecosystem == "Debian:12"
        assert p.found_by == "dpkg"
        assert p.locations[0].path == STATUS and p.locations[0].layer == "sha256:abc"
        assert p.licenses == ()


def test_committed_status_file_matches_dpkg_query(tmp_path: Path) -> None:
    need_dpkg_query()
    data = (DATA / "dpkg-status").read_bytes()
    assert ours(parse(data)) == dpkg_query(admindir_with(tmp_path, data))


# -- the shared real samples -----------------------------------------------------

def shared_samples() -> list[str]:
    if not SHARED_DPKG.is_dir():
        return []
    return sorted(p.name for p in SHARED_DPKG.iterdir() if p.is_file())


@pytest.mark.parametrize("name", shared_samples() or ["(absent)"])
def test_shared_samples_match_dpkg_query(name: str, tmp_path: Path) -> None:
    """Each real sample: the same installed packages as dpkg-query, or a
    CatalogError exactly when dpkg-query refuses the file."""
    if not SHARED_DPKG.is_dir():
        pytest.skip("needs ../shared/data/pkgdb-fixtures (shared real package databases)")
    need_dpkg_query()
    data = (SHARED_DPKG / name).read_bytes()
    expected = dpkg_query(admindir_with(tmp_path, data))
    if expected is None:
        with pytest.raises(CatalogError):
            parse(data)
    else:
        assert ours(parse(data)) == expected


def test_shared_status_field_states() -> None:
    if not SHARED_DPKG.is_dir():
        pytest.skip("needs ../shared/data/pkgdb-fixtures (shared real package databases)")
    names = {p.name for p in parse((SHARED_DPKG / "statusfield").read_bytes())}
    assert names == {"wantinstall_installed", "wantdeinstall_installed", "wantpurge_installed"}


def test_shared_distroless_status_d() -> None:
    if not SHARED_DPKG.is_dir():
        pytest.skip("needs ../shared/data/pkgdb-fixtures (shared real package databases)")
    foo = SHARED_DPKG / "status.d" / "foo"
    packages = parse(foo.read_bytes(), path="/var/lib/dpkg/status.d/foo")
    # no Status field in status.d means installed; an explicit config-files does not
    assert [(p.name, p.version) for p in packages] == [("foo", "1.2.3")]
    md5 = (SHARED_DPKG / "status.d" / "foo.md5sums").read_bytes()
    assert parse(md5, path="/var/lib/dpkg/status.d/foo.md5sums") == []


# -- format details ------------------------------------------------------------------

def test_states() -> None:
    text = "\n".join([
        para("a", status="install ok installed"),
        para("b", status="hold ok installed"),
        para("c", status="deinstall ok config-files"),
        para("d", status="install reinstreq half-installed"),
        para("e", status="install ok unpacked"),
        para("f", status="install ok half-configured"),
        para("g", status="install ok triggers-pending"),
        para("h", status="install ok triggers-awaited"),
        para("i", status="purge ok not-installed"),
        para("j", status=None),
    ])
    assert [p.name for p in parse(text)] == ["a", "b", "g", "h"]


@pytest.mark.parametrize("status", ["install ok", "install ok installed extra",
                                    "wanted ok installed", "install ok running"])
def test_malformed_status(status: str) -> None:
    with pytest.raises(CatalogError, match="line 1: malformed Status"):
        parse(para("a", status=status))


def test_multi_arch_same_name() -> None:
    text = para("libc6", "2.36-9", Architecture="amd64", Source="glibc") + "\n" + \
        para("libc6", "2.36-9", Architecture="i386", Source="glibc")
    packages = parse(text)
    assert [p.purl for p in packages] == [
        "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12&upstream=glibc",
        "pkg:deb/debian/libc6@2.36-9?arch=i386&distro=debian-12&upstream=glibc",
    ]


def test_crlf_continuations_and_blank_runs() -> None:
    text = ("\n\nPackage: a\r\nStatus: install ok installed\r\nDescription: one\r\n two\r\n"
            " .\r\n three\r\nVersion: 1\r\n\r\n \r\n\r\nPackage: b\r\nStatus: install ok "
            "installed\r\nVersion: 2\r\n\r\n\r\n")
    assert [(p.name, p.version) for p in parse(text)] == [("a", "1"), ("b", "2")]
    first = next(paragraphs(text.replace("\r\n", "\n")))
    assert first.line == 3 and first.fields["description"] == "one\ntwo\n.\nthree"


def test_whitespace_only_line_inside_a_value_continues_it() -> None:
    text = "Package: a\nStatus: install ok installed\nDescription: x\n \n more\nVersion: 1\n"
    assert [p.name for p in parse(text)] == ["a"]


def test_ecosystems_and_namespaces() -> None:
    text = para("a", "1.0", Architecture="amd64")
    assert parse(text, UBUNTU)[0].ecosystem == "Ubuntu:22.04:LTS"
    assert parse(text, UBUNTU)[0].purl == "pkg:deb/ubuntu/a@1.0?arch=amd64&distro=ubuntu-22.04"
    unknown = parse(text, None)[0]
    assert (unknown.ecosystem, unknown.purl) == ("Debian", "pkg:deb/debian/a@1.0?arch=amd64")
    kali = OSInfo(family="kali", version="2024.1", ecosystem=None, supported=False)
    assert parse(text, kali)[0].ecosystem == "Debian"
    assert parse(text, kali)[0].purl.startswith("pkg:deb/kali/a@1.0?")
    interim = OSInfo(family="ubuntu", version="23.10", ecosystem=None, supported=False)
    assert parse(text, interim)[0].ecosystem == "Ubuntu"


@pytest.mark.parametrize(("text", "message"), [
    ("Package: a\nStatus: install ok installed\nVersion 1\n", "line 3: expected 'Field: value'"),
    (" leading continuation\n", "line 1: continuation line outside a field"),
    ("Package: a\nPackage: b\n", "line 2: duplicate field"),
    ("# comment\nPackage: a\n", "line 1: expected 'Field: value'"),
    ("Status: install ok installed\nVersion: 1\n", "line 1: paragraph without a valid Package"),
    ("Package: a\nStatus: install ok installed\n", "line 1: package 'a' has no valid Version"),
    ("Package: a b\nStatus: install ok installed\nVersion: 1\n", "valid Package"),
    (para("a", Source="(1.0)"), "malformed Source"),
    ("Package: a\0\n", "binary data"),
])
def test_corrupt_status_files(text: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text)


def test_not_installed_paragraph_may_lack_version() -> None:
    assert parse(para("a", "1") + "\nPackage: b\nStatus: purge ok not-installed\n")[0].name == "a"


# -- through the runner ----------------------------------------------------------------

def test_corrupt_status_becomes_an_issue_and_status_d_still_counts(tmp_path: Path) -> None:
    dpkg = tmp_path / "var" / "lib" / "dpkg"
    (dpkg / "status.d").mkdir(parents=True)
    (dpkg / "status").write_text(para("good") + "\nPackage: bad\nthis is not a field\n")
    (dpkg / "status.d" / "base-files").write_text(para("base-files", "12.4+deb12u5"))
    (dpkg / "status.d" / "base-files.md5sums").write_text("0123  etc/issue\n")
    tree = tree_from_directory(tmp_path, want_globs(*DPKG.globs))
    with tree:
        packages, issues = catalog(tree, [DPKG], DEBIAN_12)
    assert [(p.name, p.locations[0].path) for p in packages] == [
        ("base-files", "/var/lib/dpkg/status.d/base-files")]
    assert len(issues) == 1
    issue = issues[0]
    assert (issue.stage, issue.plugin, issue.location.path) == ("catalog", "dpkg", STATUS)
    assert "line 6" in issue.message


# -- accuracy on a real root filesystem -------------------------------------------------

def test_debootstrap_rootfs_matches_dpkg_query() -> None:
    if not (ROOTFS / "var" / "lib" / "dpkg" / "status").is_file():
        pytest.skip(f"{ROOTFS} missing: run scripts/build-fixtures.sh")
    need_dpkg_query()
    expected = dpkg_query(ROOTFS / "var" / "lib" / "dpkg")
    assert expected, "dpkg-query reported no installed package"
    with tree_from_directory(ROOTFS, want_globs(*OS_FILES, *DPKG.globs)) as tree:
        os_info, _ = detect_os(tree)
        packages, issues = catalog(tree, [DPKG], os_info)
    assert issues == []
    assert ours(packages) == expected
    assert len(packages) == len(expected)
    assert os_info is not None and os_info.ecosystem == "Debian:12"
    assert {p.ecosystem for p in packages} == {"Debian:12"}
    for p in packages:
        purl = PackageURL.from_string(p.purl)
        assert (purl.type, purl.namespace, purl.name, purl.version) == (
            "deb", "debian", p.name, p.version)
        assert purl.qualifiers.get("distro") == "debian-12"
