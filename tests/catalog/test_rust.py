"""The Rust catalogers: Cargo.lock, and the cargo-auditable `.dep-v0` section
of ELF binaries (synthetic ELF files, and a real one given the section by
binutils' objcopy)."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest

from lashing.catalog import CATALOGERS, catalog
from lashing.catalog._binary import Elf
from lashing.catalog.base import CatalogContext, Cataloger, CatalogError
from lashing.catalog.rust import RustBinaryCataloger, RustLockfileCataloger
from lashing.fs import tree_from_directory, want_globs
from lashing.model import Location, Package

DATA = Path(__file__).parent / "data" / "lang" / "rust"
CTX = CatalogContext(os=None, layer="sha256:" + "12" * 32)
LOCK = RustLockfileCataloger()
BINARY = RustBinaryCataloger()
AUDIT: dict[str, Any] = {"packages": [
    {"name": "my-tool", "version": "0.3.0", "source": "local", "root": True,
     "dependencies": [1, 2, 3]},
    {"name": "serde", "version": "1.0.193", "source": "crates.io"},
    {"name": "cc", "version": "1.0.83", "source": "crates.io", "kind": "build"},
    {"name": "ring", "version": "0.17.7", "source": "git"},
    {"name": "helper", "version": "0.1.0", "source": "local"},
]}
AUDIT_PACKAGES = {("serde", "1.0.193"), ("cc", "1.0.83"), ("ring", "0.17.7")}


def pairs(packages: list[Package]) -> set[tuple[str, str]]:
    return {(p.name, p.version) for p in packages}


def build_elf(sections: list[tuple[str, bytes]], *, bits: int = 64, big: bool = False) -> bytes:
    """A minimal ELF file with the given sections and a section name table."""
    e = ">" if big else "<"
    ehsize, shsize = (64, 64) if bits == 64 else (52, 40)
    names = b"\0" + b"".join(n.encode() + b"\0" for n, _ in sections) + b".shstrtab\0"
    body = bytearray()
    entries: list[tuple[int, int, int, int]] = []  # name offset, type, file offset, size
    name_at = 1
    for name, data in [*sections, (".shstrtab", names)]:
        entries.append((name_at, 3 if name == ".shstrtab" else 1, ehsize + len(body), len(data)))
        name_at += len(name) + 1
        body += data
    shoff = ehsize + len(body)
    ident = b"\x7fELF" + bytes([2 if bits == 64 else 1, 2 if big else 1, 1]) + b"\0" * 9
    count = len(entries) + 1
    fmt = "HHIQQQIHHHHHH" if bits == 64 else "HHIIIIIHHHHHH"
    header = ident + struct.pack(e + fmt, 2, 62, 1, 0, 0, shoff, 0, ehsize, 0, 0, shsize,
                                 count, count - 1)
    table = bytearray(b"\0" * shsize)
    for name_off, stype, off, size in entries:
        if bits == 64:
            table += struct.pack(e + "IIQQQQIIQQ", name_off, stype, 0, 0, off, size, 0, 0, 1, 0)
        else:
            table += struct.pack(e + "IIIIIIIIII", name_off, stype, 0, 0, off, size, 0, 0, 1, 0)
    return bytes(header + body + table)


def dep_v0(doc: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(doc).encode())


def test_registered() -> None:
    assert {"rust-lockfile", "rust-binary"} <= {c.name for c in CATALOGERS}
    assert BINARY.tags == ("binary",)
    assert LOCK.tags == ("language", "lockfile")


def test_cargo_lock() -> None:
    found = LOCK.parse("/src/Cargo.lock", (DATA / "Cargo.lock").read_bytes(), CTX)
    assert pairs(found) == {
        ("autocfg", "1.1.0"), ("cfg-if", "1.0.0"), ("serde", "1.0.193"),
        ("serde_derive", "1.0.193"), ("tokio", "1.35.0"), ("syn", "1.0.109"), ("syn", "2.0.41"),
    }  # my-cli and my-core are the workspace's own crates
    serde = next(p for p in found if p.name == "serde")
    assert (serde.purl, serde.ecosystem, serde.found_by) == (
        "pkg:cargo/serde@1.0.193", "crates.io", "rust-lockfile")
    assert serde.locations == (Location(path="/src/Cargo.lock", layer=CTX.layer),)


def test_cargo_lock_v4() -> None:
    data = (b'version = 4\n\n[[package]]\nname = "anyhow"\nversion = "1.0.86"\n'
            b'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
            b'checksum = "b3d1d046238990b9cf5bcde22a3fb3584ee5cf65fb2765f454ed428c7a0063da"\n')
    assert pairs(LOCK.parse("/Cargo.lock", data, CTX)) == {("anyhow", "1.0.86")}


def test_bad_cargo_lock() -> None:
    with pytest.raises(CatalogError, match=r"invalid Cargo\.lock"):
        LOCK.parse("/Cargo.lock", b"[[package]]\nname = serde\n", CTX)


@pytest.mark.parametrize(("bits", "big"), [(64, False), (32, True)])
def test_dep_v0_section(bits: int, big: bool) -> None:
    data = build_elf([(".text", b"\xc3" * 32), (".dep-v0", dep_v0(AUDIT))], bits=bits, big=big)
    found = BINARY.parse("/usr/local/bin/my-tool", data, CTX)
    assert pairs(found) == AUDIT_PACKAGES
    assert {(p.ecosystem, p.found_by) for p in found} == {("crates.io", "rust-binary")}
    assert "pkg:cargo/ring@0.17.7" in {p.purl for p in found}


def test_binaries_without_audit_data() -> None:
    assert BINARY.parse("/usr/bin/true", build_elf([(".text", b"\xc3")]), CTX) == []
    assert BINARY.parse("/usr/bin/script", b"#!/bin/sh\n", CTX) == []
    assert BINARY.parse("/app/x.exe", b"MZ" + b"\0" * 100, CTX) == []


def test_decompression_limit() -> None:
    padded = dict(AUDIT, padding=" " * 4_000_000)
    data = build_elf([(".dep-v0", dep_v0(padded))])
    assert len(data) < 50_000
    with pytest.raises(CatalogError, match="inflates past 1000000 bytes"):
        RustBinaryCataloger(max_decompressed_bytes=1_000_000).parse("/usr/bin/x", data, CTX)
    assert pairs(BINARY.parse("/usr/bin/x", data, CTX)) == AUDIT_PACKAGES


@pytest.mark.parametrize(("section", "message"), [
    (b"not zlib at all", "not zlib data"),
    (dep_v0(AUDIT)[:-8], "truncated"),
    (zlib.compress(b"{not json"), "JSONDecodeError"),
])
def test_bad_dep_v0(section: bytes, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        BINARY.parse("/usr/bin/x", build_elf([(".dep-v0", section)]), CTX)


@pytest.mark.parametrize("cut", [-3, -64, -100])
def test_truncated_elf(cut: int) -> None:
    """The section header table cut short (the name table, and so the
    section's name, still there)."""
    data = build_elf([(".dep-v0", dep_v0(AUDIT))])
    assert b".dep-v0" in data[:cut]
    with pytest.raises(CatalogError, match="truncated"):
        BINARY.parse("/usr/bin/x", data[:cut], CTX)


def test_truncated_before_the_name_table_is_not_recognised() -> None:
    data = build_elf([(".dep-v0", dep_v0(AUDIT))])
    assert BINARY.parse("/usr/bin/x", data[:100], CTX) == []
    assert BINARY.parse("/usr/bin/x", data[:30], CTX) == []


def test_section_past_the_end() -> None:
    data = bytearray(build_elf([(".dep-v0", dep_v0(AUDIT))]))
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    struct.pack_into("<Q", data, shoff + 64 + 0x20, 10**9)  # section 1's size
    with pytest.raises(CatalogError, match="past the end"):
        BINARY.parse("/usr/bin/x", bytes(data), CTX)


def test_section_count_limit() -> None:
    data = build_elf([(f".s{i}", b"") for i in range(20)] + [(".dep-v0", dep_v0(AUDIT))])
    with pytest.raises(CatalogError, match="over the limit"):
        Elf(data, max_sections=10)


def test_real_elf_given_the_section_by_objcopy(tmp_path: Path) -> None:
    """A real executable (this machine's /bin/true) with a `.dep-v0` section
    added by binutils, the way cargo-auditable's linker step leaves it."""
    objcopy, true = shutil.which("objcopy"), Path("/bin/true")
    if objcopy is None or not true.is_file():
        pytest.skip("needs objcopy (Debian binutils) and /bin/true")
    payload = tmp_path / "dep-v0"
    payload.write_bytes(dep_v0(AUDIT))
    binary = tmp_path / "tool"
    subprocess.run([objcopy, "--add-section", f".dep-v0={payload}",
                    "--set-section-flags", ".dep-v0=noload,readonly", str(true), str(binary)],
                   check=True, capture_output=True)
    readelf = shutil.which("readelf")
    if readelf:
        sections = subprocess.run([readelf, "-S", "-W", str(binary)], check=True,
                                  capture_output=True, text=True).stdout
        assert ".dep-v0" in sections
    assert pairs(BINARY.parse("/usr/bin/tool", binary.read_bytes(), CTX)) == AUDIT_PACKAGES
    assert BINARY.parse("/bin/true", true.read_bytes(), CTX) == []


def test_runner_turns_a_bad_section_into_an_issue(tmp_path: Path) -> None:
    bindir = tmp_path / "usr/bin"
    bindir.mkdir(parents=True)
    (bindir / "good").write_bytes(build_elf([(".dep-v0", dep_v0(AUDIT))]))
    (bindir / "bad").write_bytes(build_elf([(".dep-v0", b"garbage")]))
    (tmp_path / "src").mkdir()
    (tmp_path / "src/Cargo.lock").write_text("[[package]]\nname = 'x'\nversion = '1.0.0'\n"
                                             "source = 'registry+https://example.org'\n")
    cats: list[Cataloger] = [BINARY, LOCK]
    tree = tree_from_directory(tmp_path, want_globs(*BINARY.globs, *LOCK.globs))
    with tree:
        packages, issues = catalog(tree, cats, None)
    assert pairs(packages) == AUDIT_PACKAGES | {("x", "1.0.0")}
    assert [(i.plugin, i.location.path) for i in issues] == [("rust-binary", "/usr/bin/bad")]
