"""The rpm cataloger: header blobs, the SQLite, Berkeley DB and NDB
databases, checked against `rpm -qa` on real databases (built by
tests/fixtures/build.d/11-rpmdb.sh) and against damaged and hostile files."""

from __future__ import annotations

import contextlib
import random
import sqlite3
import struct
import zlib
from pathlib import Path

import pytest
from packageurl import PackageURL

from lashing.catalog import catalog
from lashing.catalog.base import CatalogContext, CatalogError
from lashing.catalog.rpm import RpmCataloger
from lashing.catalog.rpmdb import header_blobs, parse_header, split_sourcerpm
from lashing.fs import tree_from_directory, want_globs
from lashing.model import OSInfo, Package

PROJECT = Path(__file__).resolve().parents[2]
FIXTURES = PROJECT / "build" / "fixtures" / "rpmdb"
BACKENDS = {  # fixture directory -> the database file rpm wrote there
    "sqlite": "var/lib/rpm/rpmdb.sqlite",
    "bdb-le": "var/lib/rpm/Packages",
    "bdb-be": "var/lib/rpm/Packages",
    "ndb": "usr/lib/sysimage/rpm/Packages.db",
}
ALMA = OSInfo(family="almalinux", version="9", ecosystem="AlmaLinux:9", supported=True)
RPM = RpmCataloger()
NAME, VERSION, RELEASE, EPOCH, LICENSE, ARCH, SOURCERPM = 1000, 1001, 1002, 1003, 1014, 1022, 1044


# -- writers for small synthetic databases ------------------------------------------

def make_header(fields: dict[int, str | int], region: bool = True,
                dribble: dict[int, str | int] | None = None) -> bytes:
    """An rpm header blob: STRING and INT32 entries, an optional immutable
    region (tag 63) around `fields`, and `dribble` entries after it."""
    store = bytearray()
    entries: list[tuple[int, int, int, int]] = []

    def add(tag: int, value: str | int) -> None:
        if isinstance(value, int):
            store.extend(b"\0" * (-len(store) % 4))
            entries.append((tag, 4, len(store), 1))
            store.extend(struct.pack(">I", value))
        else:
            entries.append((tag, 6, len(store), 1))
            store.extend(value.encode() + b"\0")

    for tag, value in fields.items():
        add(tag, value)
    if region:
        count = len(entries) + 1
        entries.insert(0, (63, 7, len(store), 16))
        store.extend(struct.pack(">iIiI", 63, 7, -16 * count, 16))
    for tag, value in (dribble or {}).items():
        add(tag, value)
    index = b"".join(struct.pack(">iIiI", *e) for e in entries)
    return struct.pack(">II", len(entries), len(store)) + index + bytes(store)


def pkg(name: str, version: str = "1.0", release: str = "1.el9", epoch: int | None = None,
        **extra: str) -> bytes:
    fields: dict[int, str | int] = {NAME: name, VERSION: version, RELEASE: release}
    if epoch is not None:
        fields[EPOCH] = epoch
    fields[ARCH] = extra.get("arch", "x86_64")
    fields[LICENSE] = extra.get("license", "MIT")
    fields[SOURCERPM] = extra.get("sourcerpm", f"{name}-{version}-{release}.src.rpm")
    return make_header(fields)


def make_sqlite(tmp_path: Path, blobs: list[bytes], wal: bool = True) -> bytes:
    path = tmp_path / "rpmdb.sqlite"
    con = sqlite3.connect(path)
    if wal:
        con.execute("PRAGMA journal_mode = WAL")
    con.execute("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, "
                "blob BLOB NOT NULL)")
    con.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
    con.commit()
    con.close()
    return path.read_bytes()


def make_ndb(blobs: list[bytes]) -> bytes:
    """Packages.db as rpm's rpmpkg.c lays it out: one slot page, then blobs."""
    page = bytearray(4096)
    page[0:20] = b"RpmP" + struct.pack("<IIII", 0, 1, 1, len(blobs) + 1)
    for offset in range(32, 4096, 16):
        page[offset:offset + 4] = b"Slot"
    data = bytearray()
    for index, blob in enumerate(blobs, 1):
        block = (4096 + len(data)) // 16
        count = (16 + len(blob) + 12 + 15) // 16
        body = b"BlbS" + struct.pack("<III", index, 0, len(blob)) + blob
        body += b"\0" * (count * 16 - 12 - len(body))
        data += body + struct.pack("<II", zlib.adler32(body), len(blob)) + b"BlbE"
        slot = 32 + 16 * (index - 1)
        page[slot + 4:slot + 16] = struct.pack("<III", index, block, count)
    return bytes(page + data)


def make_bdb(items: list[tuple[bytes, bytes]], page_size: int = 512, per_page: int = 2,
             offpage: bool = False, order: str = "<") -> bytes:
    """A Berkeley DB hash file with one bucket: page 1 and chained pages after
    it hold `per_page` pairs each; values inline or on overflow pages."""
    chunks = [items[i:i + per_page] for i in range(0, len(items), per_page)] or [[]]
    pages: list[bytearray] = [bytearray(page_size) for _ in chunks]
    overflow: list[bytearray] = []
    first_overflow = 1 + len(chunks)

    def page_header(page: bytearray, number: int, next_page: int, entries: int,
                    high: int, kind: int) -> None:
        struct.pack_into(order + "III", page, 8, number, 0, next_page)
        struct.pack_into(order + "HH", page, 20, entries, high)
        page[25] = kind

    for n, chunk in enumerate(chunks):
        page, end, offsets = pages[n], page_size, []
        for key, value in chunk:
            stored = [b"\x01" + key]
            if offpage:
                number = first_overflow + len(overflow)
                room = page_size - 26
                parts = [value[i:i + room] for i in range(0, len(value), room)]
                for i, part in enumerate(parts):
                    ov = bytearray(page_size)
                    nxt = number + i + 1 if i + 1 < len(parts) else 0
                    page_header(ov, number + i, nxt, 1, len(part), 7)
                    ov[26:26 + len(part)] = part
                    overflow.append(ov)
                stored.append(b"\x03\0\0\0" + struct.pack(order + "II", number, len(value)))
            else:
                stored.append(b"\x01" + value)
            for item in stored:
                end -= len(item)
                page[end:end + len(item)] = item
                offsets.append(end)
        for i, offset in enumerate(offsets):
            struct.pack_into(order + "H", page, 26 + 2 * i, offset)
        nxt = n + 2 if n + 1 < len(chunks) else 0
        page_header(page, n + 1, nxt, len(offsets), end, 13)
    meta = bytearray(page_size)
    struct.pack_into(order + "IIII", meta, 8, 0, 0x061561, 9, page_size)
    meta[25] = 8
    struct.pack_into(order + "I", meta, 32, len(pages) + len(overflow))
    struct.pack_into(order + "I", meta, 96, 1)  # spares[0]: bucket 0 is on page 1
    return bytes(meta + b"".join(pages) + b"".join(overflow))


def parse(path: str, data: bytes, os: OSInfo | None = ALMA) -> list[Package]:
    return list(RPM.parse(path, data, CatalogContext(os=os, layer="sha256:0f")))


BLOBS = [pkg("openssl-libs", "3.0.7", "25.el9", epoch=1, sourcerpm="openssl-3.0.7-25.el9.src.rpm",
             license="Apache-2.0"),
         pkg("bash", "5.1.8", "6.el9", license="GPL-3.0-or-later"),
         pkg("gpg-pubkey", "8483c65d", "5ccc5b19", arch="(none)", sourcerpm="(none)")]


# -- headers ----------------------------------------------------------------------------

def test_header_fields() -> None:
    h = parse_header(BLOBS[0])
    assert (h.name, h.version, h.release, h.epoch, h.arch) == (
        "openssl-libs", "3.0.7", "25.el9", 1, "x86_64")
    assert (h.license, h.sourcerpm, h.vendor) == ("Apache-2.0", "openssl-3.0.7-25.el9.src.rpm",
                                                  None)
    assert h.evr == "1:3.0.7-25.el9"
    assert parse_header(BLOBS[1]).evr == "5.1.8-6.el9"


def test_header_dribble_replaces_region_and_no_region_reads_all() -> None:
    blob = make_header({NAME: "a", VERSION: "1", RELEASE: "1"}, dribble={VERSION: "2"})
    assert parse_header(blob).version == "2"
    plain = make_header({NAME: "a", VERSION: "1", RELEASE: "3", EPOCH: 4}, region=False)
    assert parse_header(plain).evr == "4:1-3"


def corrupt(blob: bytes, offset: int, fmt: str, value: int) -> bytes:
    data = bytearray(blob)
    struct.pack_into(fmt, data, offset, value)
    return bytes(data)


GOOD = make_header({NAME: "a", VERSION: "1", RELEASE: "1", EPOCH: 2})


@pytest.mark.parametrize(("blob", "message"), [
    (b"\0\0\0", "too short"),
    (GOOD[:-1], "truncated"),
    (corrupt(GOOD, 0, ">I", 0), "declares 0 tags"),
    (corrupt(GOOD, 0, ">I", 0x10000), "declares 65536 tags"),
    (corrupt(GOOD, 4, ">I", 0x7FFFFFFF), "data bytes"),
    (corrupt(GOOD, 8 + 16 + 4, ">I", 99), "out of bounds"),  # entry 1: unknown type
    (corrupt(GOOD, 8 + 16 + 8, ">i", -5), "out of bounds"),  # entry 1: negative offset
    (corrupt(GOOD, 8 + 4 * 16 + 8, ">i", 10_000), "out of bounds"),  # EPOCH beyond data
    (corrupt(GOOD, 8 + 4, ">I", 6), "region tag 63 is malformed"),
    (corrupt(GOOD, 8 + 5 * 16 + 12 + 8, ">i", -16 * 9), "trailer"),  # region of 9 entries
    (corrupt(GOOD, 8 + 5 * 16 + 12 + 8, ">i", -20), "trailer"),
    (make_header({NAME: 7, VERSION: "1", RELEASE: "1"}), "expected a string"),
    (make_header({NAME: "a", VERSION: "1", RELEASE: "1", EPOCH: "x"}), "expected INT32"),
    (make_header({VERSION: "1", RELEASE: "1"}), "without name"),
])
def test_bad_headers(blob: bytes, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_header(blob)


def test_string_without_terminator() -> None:
    blob = bytearray(make_header({NAME: "abc", VERSION: "1", RELEASE: "1"}, region=False))
    blob[-1:] = b"x"  # RELEASE's NUL: the last string now runs off the data
    with pytest.raises(CatalogError, match="string runs past"):
        parse_header(bytes(blob))


@pytest.mark.parametrize(("name", "expected"), [
    ("openssl-3.0.7-25.el9.src.rpm", ("openssl", "3.0.7-25.el9")),
    ("python3.11-3.11.5-1.el9_3.src.rpm", ("python3.11", "3.11.5-1.el9_3")),
    ("foo-bar-1.0~rc1-1.nosrc.rpm", ("foo-bar", "1.0~rc1-1")),
    ("(none)", None), ("foo-1.0.src.rpm", None), ("foo-1.0-1.rpm", None),
])
def test_split_sourcerpm(name: str, expected: tuple[str, str] | None) -> None:
    assert split_sourcerpm(name) == expected


# -- the three formats, synthetic ------------------------------------------------------------

def expected_names(packages: list[Package]) -> list[tuple[str, str]]:
    return [(p.name, p.version) for p in packages]


def test_sqlite_ndb_bdb_synthetic(tmp_path: Path) -> None:
    want = [("openssl-libs", "1:3.0.7-25.el9"), ("bash", "5.1.8-6.el9")]
    assert expected_names(parse("/var/lib/rpm/rpmdb.sqlite", make_sqlite(tmp_path, BLOBS))) == want
    assert expected_names(parse("/usr/lib/sysimage/rpm/Packages.db", make_ndb(BLOBS))) == want
    items = [(struct.pack("<I", i), b) for i, b in enumerate(BLOBS, 1)]
    for order in "<>":
        for offpage in (False, True):
            data = make_bdb([(b"\0\0\0\0", b"\x04\0\0\0"), *items], per_page=1,
                            offpage=offpage, order=order)
            assert sorted(expected_names(parse("/var/lib/rpm/Packages", data))) == sorted(want)


def test_package_fields_and_purls() -> None:
    openssl, bash = parse("/var/lib/rpm/Packages.db", make_ndb(BLOBS))
    assert (openssl.source_name, openssl.source_version) == ("openssl", "1:3.0.7-25.el9")
    assert (bash.source_name, bash.source_version) == ("bash", "5.1.8-6.el9")
    assert openssl.licenses == ("Apache-2.0",)
    assert openssl.ecosystem == bash.ecosystem == "AlmaLinux:9"
    assert openssl.found_by == "rpm"
    assert openssl.locations[0].path == "/var/lib/rpm/Packages.db"
    assert openssl.locations[0].layer == "sha256:0f"
    assert openssl.purl == ("pkg:rpm/almalinux/openssl-libs@3.0.7-25.el9?arch=x86_64"
                            "&distro=almalinux-9&epoch=1&upstream=openssl-3.0.7-25.el9.src.rpm")
    rhel = OSInfo(family="rhel", version="9", ecosystem=None, supported=False)
    (p, _) = parse("/var/lib/rpm/Packages.db", make_ndb(BLOBS), rhel)
    assert p.ecosystem == "Red Hat" and p.purl.startswith("pkg:rpm/redhat/openssl-libs@")
    rocky = OSInfo(family="rocky", version="9", ecosystem="Rocky Linux:9", supported=True)
    assert parse("/var/lib/rpm/Packages.db", make_ndb(BLOBS), rocky)[0].ecosystem == "Rocky Linux:9"
    (p, _) = parse("/var/lib/rpm/Packages.db", make_ndb(BLOBS), None)
    assert p.ecosystem == "RPM"
    assert p.purl == ("pkg:rpm/openssl-libs@3.0.7-25.el9?arch=x86_64&epoch=1"
                      "&upstream=openssl-3.0.7-25.el9.src.rpm")
    centos = OSInfo(family="centos", version="7", ecosystem=None, supported=False)
    assert parse("/var/lib/rpm/Packages.db", make_ndb(BLOBS), centos)[0].ecosystem == "RPM"


def test_sqlite_without_wal_and_empty_files(tmp_path: Path) -> None:
    data = make_sqlite(tmp_path, BLOBS[1:2], wal=False)
    assert expected_names(parse("/var/lib/rpm/rpmdb.sqlite", data)) == [("bash", "5.1.8-6.el9")]
    assert parse("/var/lib/rpm/rpmdb.sqlite", b"") == []


# -- damaged and hostile databases ----------------------------------------------------------

def sqlite_with(tmp_path: Path, sql: str) -> bytes:
    path = tmp_path / "hostile.sqlite"
    con = sqlite3.connect(path)
    con.executescript(sql)
    con.close()
    return path.read_bytes()


def test_hostile_sqlite(tmp_path: Path) -> None:
    view = sqlite_with(tmp_path, "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS "
                                 "(SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x AS hnum, "
                                 "x AS blob FROM c;")
    with pytest.raises(CatalogError, match="no Packages table"):
        header_blobs(view)
    (tmp_path / "hostile.sqlite").unlink()
    text = sqlite_with(tmp_path, "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob);"
                                 "INSERT INTO Packages VALUES (1, 'text');")
    with pytest.raises(CatalogError, match="without a header blob"):
        header_blobs(text)
    (tmp_path / "hostile.sqlite").unlink()
    other = sqlite_with(tmp_path, "CREATE TABLE Other (x);")
    with pytest.raises(CatalogError, match="no Packages table"):
        header_blobs(other)
    with pytest.raises(CatalogError, match="record 1: rpm header"):
        parse("/var/lib/rpm/rpmdb.sqlite", make_sqlite(tmp_path / "..", [b"\0" * 16]))


def test_truncated_and_random_databases(tmp_path: Path) -> None:
    sqlite = make_sqlite(tmp_path, BLOBS)
    ndb = make_ndb(BLOBS)
    bdb = make_bdb([(struct.pack("<I", i), b) for i, b in enumerate(BLOBS, 1)], offpage=True)
    for data in (sqlite, ndb, bdb):
        for cut in (len(data) // 2, len(data) - 1, 600):
            with pytest.raises(CatalogError):
                parse("/var/lib/rpm/Packages", data[:cut])
    noise = random.Random(7).randbytes(8192)
    for head in (b"", b"SQLite format 3\0", b"RpmP", noise[:12] + struct.pack("<I", 0x061561)):
        with pytest.raises(CatalogError):
            parse("/var/lib/rpm/Packages", head + noise)


def test_hostile_ndb() -> None:
    data = make_ndb(BLOBS)
    flipped = bytearray(data)
    flipped[4096 + 40] ^= 0xFF  # inside the first blob
    with pytest.raises(CatalogError, match="checksum"):
        header_blobs(bytes(flipped))
    twice = bytearray(data)
    twice[48 + 4:48 + 8] = struct.pack("<I", 1)  # the second slot claims package 1 too
    with pytest.raises(CatalogError, match="two slots"):
        header_blobs(bytes(twice))
    beyond = bytearray(data)
    beyond[32 + 8:32 + 12] = struct.pack("<I", 0xFFFFFFF0)
    with pytest.raises(CatalogError, match="outside the file"):
        header_blobs(bytes(beyond))
    magic = bytearray(data)
    magic[4000:4004] = b"XXXX"
    with pytest.raises(CatalogError, match="bad magic"):
        header_blobs(bytes(magic))
    wrong_len = bytearray(data)
    wrong_len[4096 + 12:4096 + 16] = struct.pack("<I", 4)
    with pytest.raises(CatalogError, match="does not fit"):
        header_blobs(bytes(wrong_len))


def test_hostile_bdb() -> None:
    items = [(struct.pack("<I", i), b) for i, b in enumerate(BLOBS, 1)]
    chained = make_bdb(items, per_page=1, offpage=True)
    assert len(header_blobs(chained)) == 3  # three chained bucket pages
    loop = bytearray(chained)
    struct.pack_into("<I", loop, 3 * 512 + 16, 1)  # the last bucket page links back to page 1
    with pytest.raises(CatalogError, match="linked twice"):
        header_blobs(bytes(loop))
    big = make_bdb([(b"\1\0\0\0", pkg("big", license="x" * 1200))], offpage=True)
    assert len(header_blobs(big)) == 1  # bucket page 1, overflow pages 2, 3, 4
    overflow_loop = bytearray(big)
    struct.pack_into("<I", overflow_loop, 3 * 512 + 16, 2)
    with pytest.raises(CatalogError, match="linked twice"):
        header_blobs(bytes(overflow_loop))
    short_chain = bytearray(big)
    struct.pack_into("<I", short_chain, 3 * 512 + 16, 0)
    with pytest.raises(CatalogError, match="ends early"):
        header_blobs(bytes(short_chain))
    not_overflow = bytearray(big)
    not_overflow[3 * 512 + 25] = 13
    with pytest.raises(CatalogError, match="not an overflow page"):
        header_blobs(bytes(not_overflow))
    bad_offset = bytearray(chained)
    struct.pack_into("<H", bad_offset, 512 + 26, 9)
    with pytest.raises(CatalogError, match="out of bounds"):
        header_blobs(bytes(bad_offset))
    dup = bytearray(make_bdb(items[:1], per_page=1))
    dup[dup.rindex(b"\x01" + BLOBS[0][:8])] = 2  # H_DUPLICATE
    with pytest.raises(CatalogError, match="unsupported item type 2"):
        header_blobs(bytes(dup))
    for offset, value, message in ((12, 0x053162, "btree"), (20, 1000, "page size"),
                                   (16, 7, "unsupported"), (72, 99, "max bucket"),
                                   (32, 999, "truncated")):
        meta = bytearray(chained)
        struct.pack_into("<I", meta, offset, value)
        with pytest.raises(CatalogError, match=message):
            header_blobs(bytes(meta))
    encrypted = bytearray(chained)
    encrypted[24] = 1
    with pytest.raises(CatalogError, match="encrypted"):
        header_blobs(bytes(encrypted))
    zero_bucket = bytearray(chained)
    zero_bucket[512:1024] = bytes(512)  # a bucket page never written reads as empty
    assert header_blobs(bytes(zero_bucket)) == []


def mutations(data: bytes, seed: int, count: int = 40) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        buf = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        out.append(bytes(buf[:rng.randint(len(buf) // 2, len(buf))] if rng.random() < 0.3
                         else buf))
    return out


def test_mutated_databases_raise_only_catalog_error(tmp_path: Path) -> None:
    samples = [make_sqlite(tmp_path, BLOBS), make_ndb(BLOBS),
               make_bdb([(struct.pack(">I", i), b) for i, b in enumerate(BLOBS, 1)],
                        offpage=True, order=">")]
    samples += [(FIXTURES / d / f).read_bytes() for d, f in BACKENDS.items()
                if (FIXTURES / d / f).is_file()]
    for seed, data in enumerate(samples):
        for mutated in mutations(data, seed):
            with contextlib.suppress(CatalogError):  # any other exception fails the test
                parse("/var/lib/rpm/Packages", mutated)


def test_damaged_database_becomes_an_issue(tmp_path: Path) -> None:
    (tmp_path / "var" / "lib" / "rpm").mkdir(parents=True)
    (tmp_path / "usr" / "lib" / "sysimage" / "rpm").mkdir(parents=True)
    good = make_sqlite(tmp_path / "var", BLOBS)
    (tmp_path / "var" / "rpmdb.sqlite").unlink()
    (tmp_path / "var" / "lib" / "rpm" / "rpmdb.sqlite").write_bytes(good[:len(good) // 2])
    (tmp_path / "usr" / "lib" / "sysimage" / "rpm" / "Packages.db").write_bytes(make_ndb(BLOBS))
    with tree_from_directory(tmp_path, want_globs(*RPM.globs)) as tree:
        packages, issues = catalog(tree, [RPM], ALMA)
    assert [(p.name, p.locations[0].path) for p in packages] == [
        ("openssl-libs", "/usr/lib/sysimage/rpm/Packages.db"),
        ("bash", "/usr/lib/sysimage/rpm/Packages.db")]
    assert [(i.stage, i.plugin, i.location.path) for i in issues] == [
        ("catalog", "rpm", "/var/lib/rpm/rpmdb.sqlite")]
    assert "truncated" in issues[0].message


# -- accuracy against rpm itself ----------------------------------------------------------------

def rpm_qa(directory: Path) -> list[list[str]]:
    """Rows of expected.tsv: name, EPOCHNUM:V-R, EPOCH, ARCH, LICENSE, SOURCERPM."""
    lines = (directory / "expected.tsv").read_text().splitlines()
    return [line.split("\t") for line in lines if line]


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_real_database_matches_rpm_qa(backend: str) -> None:
    directory = FIXTURES / backend
    if (directory / "SKIPPED").is_file():
        pytest.skip(f"{backend}: {(directory / 'SKIPPED').read_text().strip()}")
    if not (directory / BACKENDS[backend]).is_file():
        pytest.skip(f"{directory} missing: run scripts/build-fixtures.sh")
    rows = rpm_qa(directory)
    keys = [row for row in rows if row[0] == "gpg-pubkey"]  # the fixture imports one
    expected = {tuple(row[:2]) for row in rows if row[0] != "gpg-pubkey"}
    with tree_from_directory(directory, want_globs(*RPM.globs)) as tree:
        packages, issues = catalog(tree, [RPM], ALMA)
    assert issues == []
    assert len(packages) == len(expected) == len(rows) - len(keys)
    ours = {(p.name, p.version if ":" in p.version else f"0:{p.version}") for p in packages}
    assert ours == expected
    by_name = {p.name: p for p in packages}
    for name, _evr, epoch, arch, license_, sourcerpm in (r for r in rows if r[0] != "gpg-pubkey"):
        p = by_name[name]
        purl = PackageURL.from_string(p.purl)
        assert purl.qualifiers.get("arch") == arch
        assert purl.qualifiers.get("epoch", "(none)") == epoch
        assert purl.qualifiers.get("upstream") == sourcerpm
        assert (":" in p.version) == (epoch != "(none)")
        assert p.licenses == (license_,)
        src = split_sourcerpm(sourcerpm)
        assert src is not None and p.source_name == src[0]
        assert p.locations[0].path == "/" + BACKENDS[backend]
    assert by_name["lashing-delta-part7"].source_name == "lashing-delta"
    assert by_name["lashing-alpha"].version == "2:1.2.3-4.el9"
    assert by_name["lashing-beta"].version == "1.0~rc1-1"
    assert by_name["lashing-gamma"].version == "0:2.0^20240101git1a2b3c-0.1"
