"""The streaming tar reader against archives Python's tarfile writes."""

from __future__ import annotations

import io
import tarfile

import pytest

from lashing.fs.tarstream import Member, TarFormatError, TarStream

LONG = "usr/share/" + "very-long-directory-name/" * 8 + "file.txt"


def archive(fmt: int, members: list[tuple[str, bytes, dict[str, object]]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, data, attrs in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            for k, v in attrs.items():
                setattr(info, k, v)
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buf.getvalue()


def read_all(data: bytes) -> tuple[list[tuple[Member, bytes]], int]:
    seen: list[bytes] = []
    stream = TarStream(io.BytesIO(data), seen.append, "test")
    out = [(m, stream.read()) for m in stream.members()]
    stream.drain()
    return out, sum(map(len, seen))


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_formats_and_every_byte_seen(fmt: int) -> None:
    name = LONG if fmt != tarfile.USTAR_FORMAT else "usr/share/" + "d" * 120 + "/f"
    data = archive(fmt, [
        (name, b"hello", {"mode": 0o4755, "uid": 1000, "gid": 50}),
        ("dir", b"", {"type": tarfile.DIRTYPE}),
        ("link", b"", {"type": tarfile.SYMTYPE, "linkname": "/" + LONG if fmt else "x"}),
        ("empty", b"", {}),
    ])
    members, seen = read_all(data)
    assert seen == len(data)  # hashing sees the whole stream, end blocks included
    first, content = members[0]
    assert (first.name, first.mode, first.uid, first.gid, first.size) == (
        name, 0o4755, 1000, 50, 5)
    assert content == b"hello"
    assert [m.type for m, _ in members] == [b"0", b"5", b"2", b"0"]


def test_pax_overrides_and_big_ids() -> None:
    data = archive(tarfile.PAX_FORMAT, [("f", b"x", {"uid": 10_000_000, "gid": 3_000_000})])
    [(member, _)], _ = read_all(data)
    assert (member.uid, member.gid) == (10_000_000, 3_000_000)


def test_gnu_base256_numbers() -> None:
    data = archive(tarfile.GNU_FORMAT, [("f", b"x", {"uid": 0o10000000})])  # > 7 octal digits
    [(member, _)], _ = read_all(data)
    assert member.uid == 0o10000000


def test_skipping_unread_content() -> None:
    data = archive(tarfile.USTAR_FORMAT, [("a", b"A" * 1500, {}), ("b", b"B" * 10, {})])
    stream = TarStream(io.BytesIO(data), lambda _c: None, "test")
    names = []
    for m in stream.members():
        names.append(m.name)
        if m.name == "b":
            assert stream.read() == b"B" * 10
    assert names == ["a", "b"]


def test_bad_checksum_is_refused() -> None:
    data = bytearray(archive(tarfile.USTAR_FORMAT, [("a", b"x", {})]))
    data[0:1] = b"z"
    with pytest.raises(TarFormatError, match="checksum"):
        read_all(bytes(data))


def test_truncated_data_and_header_are_refused() -> None:
    data = archive(tarfile.USTAR_FORMAT, [("a", b"x" * 4000, {}), ("b", b"y", {})])
    with pytest.raises(TarFormatError, match="ends early"):
        read_all(data[:2000])
    with pytest.raises(TarFormatError, match="ends early"):
        read_all(data[:512 + 4096 + 100])


def test_missing_padding_and_end_blocks_are_tolerated() -> None:
    data = archive(tarfile.USTAR_FORMAT, [("a", b"x" * 10, {})])
    members, _ = read_all(data[: 512 + 10])  # a writer that never closed the tar
    assert [(m.name, c) for m, c in members] == [("a", b"x" * 10)]


def test_oversized_extended_header_is_refused() -> None:
    header = tarfile.TarInfo("././@PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = 4 * 1024 * 1024
    raw = header.tobuf(tarfile.USTAR_FORMAT)
    with pytest.raises(TarFormatError, match="over the limit"):
        read_all(raw + b"\0" * 1024)
