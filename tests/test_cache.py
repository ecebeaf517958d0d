"""The blob cache and `lashing cache info|prune`."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from lashing.cache import BlobCache
from lashing.errors import DigestMismatchError

from cli_helpers import run


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def files(cache: BlobCache) -> list[str]:
    return sorted(p.name for p in cache.blob_dir.iterdir()) if cache.blob_dir.exists() else []


def age(cache: BlobCache, data: bytes, seconds_ago: float) -> None:
    t = time.time() - seconds_ago
    os.utime(cache.path(sha(data)), (t, t))


def test_put_open_read(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, 1 << 20)
    data = b"hello blob"
    assert cache.open(sha(data)) is None and not cache.has(sha(data))
    cache.put(sha(data), data, "test")
    assert cache.path(sha(data)) == tmp_path / "blobs" / "sha256" / sha(data)[7:]
    f = cache.open(sha(data))
    assert f is not None
    with f:
        assert f.read() == data
    assert cache.read(sha(data)) == data
    info = cache.info()
    assert (info.root, info.count, info.bytes) == (tmp_path, 1, len(data))


def test_streamed_write_returns_the_blob_opened(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, 1 << 20)
    data = b"x" * 100_000
    with cache.writer(sha(data), "stream", len(data)) as w:
        for i in range(0, len(data), 4096):
            w.write(data[i : i + 4096])
        reader = w.commit()
    with reader:
        assert reader.read() == data
    assert files(cache) == [sha(data)[7:]]


def test_digest_mismatch_leaves_nothing(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, 1 << 20)
    claimed = sha(b"what was promised")
    with pytest.raises(DigestMismatchError) as info, cache.writer(claimed, "https://r/blob") as w:
        w.write(b"what was sent")
        w.commit()
    assert claimed in info.value.message and "https://r/blob" in info.value.message
    assert info.value.exit_code == 2
    assert files(cache) == []  # no blob, no temporary file


def test_more_bytes_than_announced_stops_early(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, 1 << 20)
    data = b"0123456789"
    with (
        pytest.raises(DigestMismatchError, match="more than the 5 bytes"),
        cache.writer(sha(data), "src", 5) as w,
    ):
        w.write(data)
    assert files(cache) == []


def test_fewer_bytes_than_announced(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, 1 << 20)
    data = b"0123456789"
    with (
        pytest.raises(DigestMismatchError, match="11 were announced"),
        cache.writer(sha(data), "src", 11) as w,
    ):
        w.write(data)
        w.commit()
    assert files(cache) == []


def test_two_writers_of_one_blob(tmp_path: Path) -> None:
    """Two processes downloading the same blob at once: both succeed, one file."""
    cache_a, cache_b = BlobCache(tmp_path, 1 << 20), BlobCache(tmp_path, 1 << 20)
    data = os.urandom(50_000)
    wa = cache_a.writer(sha(data), "a", len(data))
    wb = cache_b.writer(sha(data), "b", len(data))
    for i in range(0, len(data), 1000):
        wa.write(data[i : i + 1000])
        wb.write(data[i : i + 1000])
    ra = wa.commit()
    rb = wb.commit()
    with ra, rb:
        assert ra.read() == data and rb.read() == data
    assert files(cache_a) == [sha(data)[7:]]
    assert cache_a.read(sha(data)) == data


def test_prune_evicts_least_recently_used(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, 1 << 20)
    old, middle, new = b"a" * 100, b"b" * 100, b"c" * 100
    for i, blob in enumerate((old, middle, new)):
        cache.put(sha(blob), blob, "t")
        age(cache, blob, 300 - 100 * i)
    result = cache.prune(250)
    assert (result.removed, result.freed_bytes, result.remaining_bytes) == (1, 100, 200)
    assert not cache.has(sha(old)) and cache.has(sha(middle)) and cache.has(sha(new))


def test_open_marks_recently_used(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, 1 << 20)
    first, second = b"1" * 100, b"2" * 100
    cache.put(sha(first), first, "t")
    cache.put(sha(second), second, "t")
    age(cache, first, 200)
    age(cache, second, 100)
    f = cache.open(sha(first))  # now the most recently used
    assert f is not None
    f.close()
    cache.prune(100)
    assert cache.has(sha(first)) and not cache.has(sha(second))


def test_put_prunes_to_the_cap(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, 250)
    blobs = [bytes([i]) * 100 for i in range(3)]
    for i, blob in enumerate(blobs):
        cache.put(sha(blob), blob, "t")
        age(cache, blob, 100 - i * 10)
    assert cache.info().bytes <= 250
    assert not cache.has(sha(blobs[0])) and cache.has(sha(blobs[2]))


def test_a_blob_larger_than_the_cap_is_still_readable(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, 10)
    data = b"z" * 100
    with cache.writer(sha(data), "t", len(data)) as w:
        w.write(data)
        reader = w.commit()
    with reader:
        assert reader.read() == data
    assert cache.info().count == 0


def test_clear_and_stale_temp_files(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, 1 << 20)
    cache.put(sha(b"k"), b"k", "t")
    stale = cache.blob_dir / ".tmp-crashed"
    stale.write_bytes(b"partial")
    os.utime(stale, (1, 1))
    fresh = cache.blob_dir / ".tmp-inflight"
    fresh.write_bytes(b"partial")
    assert cache.info().count == 1  # temporary files are not blobs
    assert not stale.exists() and fresh.exists()  # only old leftovers are removed
    result = cache.clear()
    assert (result.removed, result.freed_bytes) == (1, 1)
    assert cache.info().count == 0


def test_bad_digest_syntax(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="not a sha256 digest"):
        BlobCache(tmp_path, 1).path("sha256:../../etc/passwd")


# -- lashing cache ------------------------------------------------------------


def fill(root: Path) -> BlobCache:
    cache = BlobCache(root, 1 << 30)
    for i, size in enumerate((1000, 2000, 3000)):
        blob = bytes([i]) * size
        cache.put(sha(blob), blob, "t")
        age(cache, blob, 1000 - i * 100)
    return cache


def test_cache_info_table_and_json(tmp_path: Path) -> None:
    fill(tmp_path / "c")
    r = run("cache", "info", "--cache-dir", str(tmp_path / "c"))
    assert r.code == 0, r.err
    assert str(tmp_path / "c") in r.out and "blobs" in r.out and "6000 bytes" in r.out
    r = run("cache", "info", "--cache-dir", str(tmp_path / "c"), "--format", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["directory"] == str(tmp_path / "c")
    assert (doc["blobs"], doc["bytes"]) == (3, 6000)
    assert doc["max_bytes"] > 0


def test_cache_info_of_a_missing_directory(tmp_path: Path) -> None:
    r = run("cache", "info", "--cache-dir", str(tmp_path / "none"), "--format", "json")
    assert r.code == 0, r.err
    assert (r.json()["blobs"], r.json()["bytes"]) == (0, 0)


def test_cache_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(tmp_path / "env")
    monkeypatch.setenv("LASHING_CACHE_DIR", str(tmp_path / "env"))
    r = run("cache", "info", "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["blobs"] == 3


@pytest.mark.parametrize(("size", "left"), [("5000B", 5000), ("4kB", 3000), ("0", 0)])
def test_cache_prune_max_size(tmp_path: Path, size: str, left: int) -> None:
    cache = fill(tmp_path)
    r = run("cache", "prune", "--max-size", size, "--cache-dir", str(tmp_path), "-f", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["remaining_bytes"] == left == cache.info().bytes
    assert doc["freed_bytes"] == 6000 - left


def test_cache_prune_table_and_default_cap(tmp_path: Path) -> None:
    fill(tmp_path)
    r = run("cache", "prune", "--cache-dir", str(tmp_path))
    assert r.code == 0, r.err
    assert "removed" in r.out and "0 blobs" in r.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cache", "prune", "--max-size", "lots"], "--max-size"),
        (["cache", "info", "--max-size", "1GiB"], "prune"),
        (["cache", "info", "--format", "sarif"], "--format"),
        (["cache", "explode"], "invalid choice"),
    ],
)
def test_cache_command_errors(tmp_path: Path, argv: list[str], message: str) -> None:
    r = run(*argv, "--cache-dir", str(tmp_path))
    assert r.code == 2
    assert message in r.err


def test_cache_output_file(tmp_path: Path) -> None:
    out = tmp_path / "info.json"
    r = run("cache", "info", "--cache-dir", str(tmp_path), "-f", "json", "-o", str(out))
    assert r.code == 0 and r.out == ""
    assert json.loads(out.read_text())["blobs"] == 0
