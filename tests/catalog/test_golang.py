"""The Go catalogers: build information in Go binaries (real binaries built by
tests/fixtures/build.d/22-go.sh and compared with `go version -m`, plus
synthetic ELF/PE files for the old pointer format and broken input) and go.mod."""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from lashing.catalog import CATALOGERS, catalog
from lashing.catalog.base import CatalogContext, CatalogError
from lashing.catalog.golang import GoBinaryCataloger, GoModCataloger, stdlib_version
from lashing.fs import tree_from_directory, want_globs
from lashing.model import Location, Package

DATA = Path(__file__).parent / "data" / "lang" / "go"
ROOT = Path(__file__).resolve().parents[2]
GOBIN = ROOT / "build" / "fixtures" / "gobin"
CTX = CatalogContext(os=None, layer="sha256:" + "ef" * 32)
BINARY = GoBinaryCataloger()
GOMOD = GoModCataloger()
MAGIC = b"\xff Go buildinf:"
SENTINEL = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6"
MODINFO = ("path\texample.com/tool\n"
           "mod\texample.com/tool\tv1.4.0\th1:abc=\n"
           "dep\tgithub.com/pkg/errors\tv0.9.1\th1:def=\n"
           "dep\tgolang.org/x/sys\tv0.1.0\n"
           "=>\tgolang.org/x/sys\tv0.15.0\th1:ghi=\n"
           "dep\texample.com/local\tv0.0.0\n"
           "=>\t../local\t\n"
           "build\t-compiler=gc\n")
MODINFO_PACKAGES = {("stdlib", "1.20.12"), ("example.com/tool", "v1.4.0"),
                    ("github.com/pkg/errors", "v0.9.1"), ("golang.org/x/sys", "v0.15.0")}


def pairs(packages: list[Package]) -> set[tuple[str, str]]:
    return {(p.name, p.version) for p in packages}


# -- synthetic binaries --------------------------------------------------------

Content = bytes | Callable[[int], bytes]  # section bytes, or bytes from the section's address


def build_elf(sections: list[tuple[str, Content]], *, bits: int = 64, big: bool = False,
              base: int = 0x400000) -> bytes:
    """A minimal ELF file: one PT_LOAD segment mapping the whole file at
    `base`, the given sections and a section name table."""
    e = ">" if big else "<"
    ehsize, phsize, shsize = (64, 56, 64) if bits == 64 else (52, 32, 40)
    names = b"\0" + b"".join(n.encode() + b"\0" for n, _ in sections) + b".shstrtab\0"
    offset = ehsize + phsize
    layout: list[tuple[int, int, bytes]] = []  # name offset, file offset, data
    name_at = 1
    for name, content in sections:
        offset = (offset + 15) & ~15
        data = content(base + offset) if callable(content) else content
        layout.append((name_at, offset, data))
        name_at += len(name) + 1
        offset += len(data)
    layout.append((name_at, offset, names))
    offset += len(names)
    shoff = (offset + 7) & ~7
    ident = b"\x7fELF" + bytes([2 if bits == 64 else 1, 2 if big else 1, 1]) + b"\0" * 9
    count = len(layout) + 1
    if bits == 64:
        header = ident + struct.pack(e + "HHIQQQIHHHHHH", 2, 62, 1, base, ehsize, shoff, 0,
                                     ehsize, phsize, 1, shsize, count, count - 1)
        phdr = struct.pack(e + "IIQQQQQQ", 1, 5, 0, base, base, shoff, shoff, 0x1000)
    else:
        header = ident + struct.pack(e + "HHIIIIIHHHHHH", 2, 3, 1, base, ehsize, shoff, 0,
                                     ehsize, phsize, 1, shsize, count, count - 1)
        phdr = struct.pack(e + "IIIIIIII", 1, 0, base, base, shoff, shoff, 5, 0x1000)
    out = bytearray(header + phdr)
    shdrs = bytearray(b"\0" * shsize)
    for i, (name_off, off, data) in enumerate(layout):
        out += b"\0" * (off - len(out)) + data
        stype = 3 if i == len(layout) - 1 else 1
        if bits == 64:
            shdrs += struct.pack(e + "IIQQQQIIQQ", name_off, stype, 2, base + off, off, len(data),
                                 0, 0, 16, 0)
        else:
            shdrs += struct.pack(e + "IIIIIIIIII", name_off, stype, 2, base + off, off, len(data),
                                 0, 0, 16, 0)
    out += b"\0" * (shoff - len(out)) + shdrs
    return bytes(out)


def uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def inline_buildinfo(version: str, modinfo: str) -> bytes:
    mod = SENTINEL + modinfo.encode() + SENTINEL
    return (MAGIC + bytes([8, 2]) + b"\0" * 16 + uvarint(len(version)) + version.encode()
            + uvarint(len(mod)) + mod)


def pointer_buildinfo(version: str, modinfo: str, bits: int, big: bool) -> Callable[[int], bytes]:
    """Go < 1.18: pointers to string headers, followed through the segment."""
    e = ">" if big else "<"
    word = "Q" if bits == 64 else "I"
    ptr = bits // 8
    ver, mod = version.encode(), SENTINEL + modinfo.encode() + SENTINEL

    def content(addr: int) -> bytes:
        headers_at = addr + 32
        strings_at = headers_at + 4 * ptr
        header = MAGIC + bytes([ptr, 1 if big else 0])
        header += struct.pack(e + word * 2, headers_at, headers_at + 2 * ptr)
        header += b"\0" * (32 - len(header))
        headers = struct.pack(e + word * 4, strings_at, len(ver), strings_at + len(ver), len(mod))
        return header + headers + ver + mod

    return content


# -- tests -----------------------------------------------------------------------

def test_registered() -> None:
    names = {c.name for c in CATALOGERS}
    assert {"go-binary", "go-module"} <= names
    assert BINARY.tags == ("binary",)
    assert GOMOD.tags == ("language", "lockfile")


@pytest.mark.parametrize(("path", "wanted"), [
    ("/usr/local/bin/app", True), ("/usr/bin/skopeo", True), ("/go/bin/dlv", True),
    ("/opt/tool/bin/tool", True), ("/home/dev/go/bin/gopls", True), ("/app/server", True),
    ("/etc/passwd", False), ("/usr/share/doc/x", False), ("/srv/go.mod", False),
])
def test_binary_globs(path: str, wanted: bool) -> None:
    assert want_globs(*BINARY.globs)(path) is wanted


@pytest.mark.parametrize(("go", "stdlib"), [
    ("go1.21.5", "1.21.5"), ("go1.19", "1.19.0"), ("go1.21rc2", "1.21.0-rc.2"),
    ("go1.20.1 X:boringcrypto", "1.20.1"), ("devel go1.22-abcdef", None), ("", None),
])
def test_stdlib_version(go: str, stdlib: str | None) -> None:
    assert stdlib_version(go) == stdlib


def test_go_mod() -> None:
    found = GOMOD.parse("/src/go.mod", (DATA / "go.mod").read_bytes(), CTX)
    assert pairs(found) == {
        ("github.com/gorilla/mux", "v1.8.1"), ("github.com/google/uuid", "v1.5.0"),
        ("golang.org/x/net", "v0.20.0"),  # path-wide replace
        ("gopkg.in/yaml.v3", "v3.0.1"),
        ("github.com/sirupsen/logrus", "v1.9.3"),  # the exact-version replace wins
        ("github.com/quoted/module", "v1.0.0"),
        ("github.com/docker/docker", "v24.0.7+incompatible"),
    }  # internal-lib is replaced by a local directory
    purls = {p.name: p.purl for p in found}
    assert purls["gopkg.in/yaml.v3"] == "pkg:golang/gopkg.in/yaml.v3@v3.0.1"
    assert purls["github.com/docker/docker"] == (
        "pkg:golang/github.com/docker/docker@v24.0.7%2Bincompatible")
    assert {p.ecosystem for p in found} == {"Go"}
    assert {p.found_by for p in found} == {"go-module"}


def test_inline_buildinfo() -> None:
    long_modinfo = MODINFO + "build\t-ldflags=" + "x" * 300 + "\n"  # a multi-byte length
    data = build_elf([(".text", b"\x90" * 64),
                      (".go.buildinfo", inline_buildinfo("go1.20.12", long_modinfo))])
    found = BINARY.parse("/usr/local/bin/tool", data, CTX)
    assert pairs(found) == MODINFO_PACKAGES
    stdlib = next(p for p in found if p.name == "stdlib")
    assert (stdlib.purl, stdlib.ecosystem) == ("pkg:golang/stdlib@1.20.12", "Go")
    assert stdlib.locations == (Location(path="/usr/local/bin/tool", layer=CTX.layer),)


@pytest.mark.parametrize(("bits", "big"), [(64, False), (32, True), (32, False), (64, True)])
def test_pointer_format_buildinfo(bits: int, big: bool) -> None:
    data = build_elf([(".go.buildinfo", pointer_buildinfo("go1.16.15", MODINFO, bits, big))],
                     bits=bits, big=big)
    found = BINARY.parse("/usr/bin/old", data, CTX)
    assert pairs(found) == MODINFO_PACKAGES - {("stdlib", "1.20.12")} | {("stdlib", "1.16.15")}


def test_pointer_format_outside_elf_is_an_error() -> None:
    data = b"MZ" + b"\0" * 62 + pointer_buildinfo("go1.16", MODINFO, 64, False)(0x1000)
    with pytest.raises(CatalogError, match=r"Go < 1\.18 PE binary"):
        BINARY.parse("/app/tool.exe", data, CTX)


def test_pointer_into_no_segment_is_an_error() -> None:
    def dangling(addr: int) -> bytes:
        return MAGIC + bytes([8, 0]) + struct.pack("<QQ", 0xDEAD0000, 0xDEAD0010)
    data = build_elf([(".go.buildinfo", dangling)])
    with pytest.raises(CatalogError, match="no loadable segment"):
        BINARY.parse("/usr/bin/old", data, CTX)


def test_buildinfo_found_without_section_headers() -> None:
    """Stripped of section headers (or PE/Mach-O): the magic is searched for."""
    data = b"\xcf\xfa\xed\xfe" + b"\0" * 28 + inline_buildinfo("go1.21.5", MODINFO)
    assert ("stdlib", "1.21.5") in pairs(BINARY.parse("/usr/bin/mac", data, CTX))


def test_truncated_binaries() -> None:
    inline = build_elf([(".go.buildinfo", inline_buildinfo("go1.21.5", MODINFO))])
    pointer = build_elf([(".go.buildinfo", pointer_buildinfo("go1.16.15", MODINFO, 64, False))])
    start = inline.index(MAGIC)
    # cut inside the module list: an error
    with pytest.raises(CatalogError, match="truncated"):
        BINARY.parse("/usr/bin/cut", inline[:start + 100], CTX)
    # the section table cut off: inline build info is still found by its magic ...
    assert pairs(BINARY.parse("/usr/bin/cut", inline[:-10], CTX)) == {
        ("stdlib", "1.21.5"), *(MODINFO_PACKAGES - {("stdlib", "1.20.12")})}
    # ... the pointer format needs the ELF tables
    with pytest.raises(CatalogError, match="ELF truncated"):
        BINARY.parse("/usr/bin/cut", pointer[:-10], CTX)
    with pytest.raises(CatalogError, match="ELF truncated"):
        BINARY.parse("/usr/bin/cut", pointer[:start + 40], CTX)
    # cut before the magic: nothing says it is a Go binary
    assert BINARY.parse("/usr/bin/cut", inline[:start], CTX) == []


def test_string_length_past_the_end_is_an_error() -> None:
    bad = MAGIC + bytes([8, 2]) + b"\0" * 16 + uvarint(10_000) + b"go1.21"
    with pytest.raises(CatalogError, match="runs past the end"):
        BINARY.parse("/usr/bin/bad", build_elf([(".go.buildinfo", bad)]), CTX)


def test_not_a_go_binary() -> None:
    assert BINARY.parse("/usr/bin/script", b"#!/bin/sh\necho hi\n", CTX) == []
    assert BINARY.parse("/usr/bin/c-program", build_elf([(".text", b"\xc3")]), CTX) == []
    text_with_magic = b"\x7fELF" + b"\0" * 60 + MAGIC + b"not really"  # no valid ELF tables
    with pytest.raises(CatalogError):
        BINARY.parse("/usr/bin/odd", text_with_magic, CTX)


def test_runner_turns_a_truncated_binary_into_an_issue(tmp_path: Path) -> None:
    bindir = tmp_path / "usr/local/bin"
    bindir.mkdir(parents=True)
    good = build_elf([(".go.buildinfo", inline_buildinfo("go1.20.12", MODINFO))])
    (bindir / "good").write_bytes(good)
    old = build_elf([(".go.buildinfo", pointer_buildinfo("go1.16.15", MODINFO, 64, False))])
    (bindir / "broken").write_bytes(old[:-10])
    (bindir / "script").write_text("#!/bin/sh\n")
    tree = tree_from_directory(tmp_path, want_globs(*BINARY.globs))
    with tree:
        packages, issues = catalog(tree, [BINARY], None)
    assert pairs(packages) == MODINFO_PACKAGES
    assert [(i.plugin, i.location.path) for i in issues] == [
        ("go-binary", "/usr/local/bin/broken")]


# -- oracle: `go version -m` -------------------------------------------------------

def version_m(text: str) -> set[tuple[str, str]]:
    """What `go version -m` printed, under the cataloger's documented rules:
    the toolchain as stdlib, a replacement instead of the module it replaces,
    nothing for local directories or a `(devel)` main module."""
    lines = text.splitlines()
    found = {("stdlib", lines[0].rsplit(" go", 1)[1])}
    modules: list[list[str]] = []
    for line in lines[1:]:
        fields = line.strip("\t").split("\t")
        if fields[0] in ("mod", "dep"):
            modules.append(fields[1:3])
        elif fields[0] == "=>":
            modules[-1] = fields[1:3]
    for path, version in modules:
        if not path.startswith(".") and version not in ("", "(devel)"):
            found.add((path, version))
    return found


def gobin_binaries() -> list[Path]:
    if not GOBIN.is_dir():
        pytest.skip(f"{GOBIN} missing: run scripts/build-fixtures.sh (needs Debian golang-go)")
    return sorted(p for p in GOBIN.glob("app-*") if p.suffix != ".txt")


def test_real_binaries_match_go_version_m() -> None:
    binaries = gobin_binaries()
    assert len(binaries) == 7  # ELF amd64/arm64/386/ppc64, stripped, PE, Mach-O
    for binary in binaries:
        oracle = (binary.parent / (binary.name + ".version-m.txt")).read_text()
        assert "=>\texample.com/greetfork\tv1.3.1" in oracle
        found = BINARY.parse(f"/usr/local/bin/{binary.name}", binary.read_bytes(), CTX)
        assert pairs(found) == version_m(oracle), binary.name
        assert ("example.com/greetfork", "v1.3.1") in pairs(found)


def test_real_go_mod_matches_the_binary() -> None:
    """go.mod of the fixture module reports what the binary was built with."""
    gobin_binaries()
    from_mod = pairs(GOMOD.parse("/src/go.mod", (GOBIN / "go.mod").read_bytes(), CTX))
    from_binary = pairs(BINARY.parse("/usr/bin/app", (GOBIN / "app-linux-amd64").read_bytes(),
                                     CTX))
    assert from_mod == from_binary - {p for p in from_binary if p[0] == "stdlib"}


def test_debian_go_binaries_match_go_version_m() -> None:
    """Go programs Debian ships (built in GOPATH mode: a toolchain, no modules)
    against `go version -m`, when the go command is here."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("needs the go command (Debian golang-go)")
    candidates = [Path(p) for p in ("/usr/bin/skopeo", "/usr/bin/umoci",
                                    "/usr/bin/docker-registry") if Path(p).is_file()]
    if not candidates:
        pytest.skip("no Debian-built Go programs here (skopeo, umoci, docker-registry)")
    for binary in candidates:
        oracle = subprocess.run([go, "version", "-m", str(binary)], capture_output=True,
                                text=True, check=True).stdout
        found = BINARY.parse(str(binary), binary.read_bytes(), CTX)
        assert pairs(found) == version_m(oracle), binary
