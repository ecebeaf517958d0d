"""The merged file tree: whiteouts, opaque directories, links, kept contents."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lashing.errors import DigestMismatchError, HostileInputError, InputError, LimitExceededError
from lashing.fs import (
    FileEntry,
    FileKind,
    FileTree,
    tree_from_directory,
    tree_from_image,
    want_globs,
)
from lashing.options import Limits, SourceOptions
from lashing.source.oci_layout import open_oci_dir

from imagebuilder import F, Files, build, image_config, sha256, write_oci_layout


def tree_of(tmp_path: Path, layers: list[Files], want: str = "**",
            compression: str | None = "gzip", limits: Limits | None = None) -> FileTree:
    img = build(layers, compression=compression)
    write_oci_layout(tmp_path / "oci", [(img, "t")])
    image = open_oci_dir(tmp_path / "oci", "t", SourceOptions(), "oci:test")
    return tree_from_image(image, want_globs(want), limits or Limits())


def test_whiteout_removes_lower_file_and_directory(tmp_path: Path) -> None:
    tree = tree_of(tmp_path, [
        {"etc/a": "a", "etc/b": "b", "opt/app/x": "x", "opt/app/sub/y": "y"},
        {"etc/.wh.a": "", "opt/.wh.app": ""},
    ])
    assert tree.get("/etc/a") is None
    assert tree.read("/etc/b") == b"b"
    assert tree.get("/opt/app") is None and tree.get("/opt/app/sub/y") is None
    assert tree.get("/opt") is not None
    assert not any(e.path.split("/")[-1].startswith(".wh.") for e in tree.walk())


def test_opaque_directory_hides_lower_entries_only(tmp_path: Path) -> None:
    tree = tree_of(tmp_path, [
        {"var/cache/old": "old", "var/cache/dir/deep": "d", "var/keep": "k"},
        {"var/cache/new": "new", "var/cache/.wh..wh..opq": ""},
    ])
    names = sorted(e.path for e in tree.walk() if e.path.startswith("/var/cache/"))
    assert names == ["/var/cache/new"]
    assert tree.read("/var/keep") == b"k"


def test_layer_attribution_is_the_last_writer(tmp_path: Path) -> None:
    img = build([{"a": "1", "b": "1"}, {"b": "2"}])
    write_oci_layout(tmp_path / "oci", [(img, "t")])
    image = open_oci_dir(tmp_path / "oci", "t", SourceOptions(), "oci:test")
    tree = tree_from_image(image, want_globs("/b"))
    a, b = tree.get("/a"), tree.get("/b")
    assert a is not None and b is not None
    assert a.layer == img.diff_ids[0] and b.layer == img.diff_ids[1]
    assert tree.read("/b") == b"2"
    with pytest.raises(KeyError):
        tree.read("/a")  # not asked for


def test_file_replaced_by_directory_and_back(tmp_path: Path) -> None:
    tree = tree_of(tmp_path, [{"x": "file"}, {"x/inner": "i"}, {"x/.wh.inner": ""}])
    entry = tree.get("/x")
    assert entry is not None and entry.kind is FileKind.DIR
    assert tree.get("/x/inner") is None


def test_entry_metadata(tmp_path: Path) -> None:
    tree = tree_of(tmp_path, [{
        "usr/bin/su": F(b"su", mode=0o4755),
        "home/u/f": F(b"12345", uid=1000, gid=1000, mode=0o600),
        "run/fifo": F(kind="fifo"),
    }])
    su = tree.get("/usr/bin/su")
    f = tree.get("/home/u/f")
    assert su is not None and su.is_setuid and su.mode == 0o4755
    assert f is not None and (f.uid, f.gid, f.size, f.mode) == (1000, 1000, 5, 0o600)
    fifo = tree.get("/run/fifo")
    assert fifo is not None and fifo.kind is FileKind.FIFO
    home = tree.get("/home/u")
    assert home is not None and home.kind is FileKind.DIR  # implied parent


def test_symlinks_resolve_inside_the_tree(tmp_path: Path) -> None:
    tree = tree_of(tmp_path, [{
        "usr/lib/os-release": "ID=debian\n",
        "etc/os-release": F(kind="symlink", target="../usr/lib/os-release"),
        "etc/abs": F(kind="symlink", target="/usr/lib/os-release"),
        "etc/escape": F(kind="symlink", target="../../../../usr/lib/os-release"),
        "etc/shadow-link": F(kind="symlink", target="/etc/shadow"),
        "loop/a": F(kind="symlink", target="b"),
        "loop/b": F(kind="symlink", target="a"),
        "lib": F(kind="symlink", target="usr/lib"),
    }])
    for link in ("/etc/os-release", "/etc/abs", "/etc/escape", "/lib/os-release"):
        assert tree.resolve(link) == "/usr/lib/os-release"
        assert tree.read(link) == b"ID=debian\n"
    assert tree.resolve("/etc/shadow-link") is None  # dangling inside; never the host's
    assert tree.resolve("/loop/a") is None
    entry = tree.get("/etc/os-release")
    assert entry is not None and entry.kind is FileKind.SYMLINK


def test_hard_link_shares_content(tmp_path: Path) -> None:
    tree = tree_of(tmp_path, [{
        "bin/busybox": F(b"BB", mode=0o755),
        "bin/ls": F(kind="hardlink", target="bin/busybox"),
    }])
    ls = tree.get("/bin/ls")
    assert ls is not None and ls.kind is FileKind.HARDLINK and ls.link_target == "/bin/busybox"
    assert ls.size == 2 and tree.read("/bin/ls") == b"BB"


@pytest.mark.parametrize("compression", [None, "gzip", "zstd"])
def test_compression_is_detected_from_bytes(tmp_path: Path, compression: str | None) -> None:
    tree = tree_of(tmp_path, [{"f": "data"}], compression=compression)
    assert tree.read("/f") == b"data"


def test_large_wanted_files_are_spooled(tmp_path: Path) -> None:
    big = bytes(range(256)) * 100
    tree = tree_of(tmp_path, [{"big": big, "small": "s"}],
                   limits=Limits(max_file_in_memory=1000))
    assert tree.read("/big") == big
    assert tree.read("/small") == b"s"
    tree.close()


def test_spool_cap_becomes_an_issue(tmp_path: Path) -> None:
    tree = tree_of(tmp_path, [{"big": b"x" * 5000}],
                   limits=Limits(max_file_in_memory=100, max_spooled_bytes=1000))
    assert not tree.has_content("/big")
    assert any("spool limit" in i.message for i in tree.issues)


def test_want_globs() -> None:
    want = want_globs("/etc/os-release", "**/*.dist-info/METADATA", "/var/lib/dpkg/status.d/*")
    assert want("/etc/os-release")
    assert want("/usr/lib/python3/site-packages/a-1.dist-info/METADATA")
    assert want("/x.dist-info/METADATA")
    assert want("/var/lib/dpkg/status.d/base")
    assert not want("/var/lib/dpkg/status.d/sub/x")
    assert not want("/etc/os-release.bak")
    assert not want_globs()("/anything")


def test_directory_tree(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text("ID=alpine\n")
    (root / "etc" / "link").symlink_to("/etc/os-release")
    (root / "outside").symlink_to("/etc/passwd")
    tree = tree_from_directory(root, want_globs("/etc/*"))
    assert tree.read("/etc/link") == b"ID=alpine\n"
    assert tree.resolve("/outside") is None  # the host's /etc/passwd is never read
    entry = tree.get("/etc/os-release")
    assert entry is not None and entry.layer is None


# --- hostile layers ------------------------------------------------------------


@pytest.mark.parametrize("name", ["../escape", "a/../../escape", "/etc/passwd"])
def test_traversal_member_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(HostileInputError, match="refused"):
        tree_of(tmp_path, [{name: "x"}])


def test_hard_link_leaving_the_tree_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HostileInputError, match="leaves the tree"):
        tree_of(tmp_path, [{"x": F(kind="hardlink", target="../../etc/passwd")}])


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LimitExceededError, match="decompression bomb"):
        tree_of(tmp_path, [{"zeros": b"\0" * 200_000}],
                limits=Limits(max_uncompressed_bytes=100_000))


def test_wrong_diff_id_is_refused(tmp_path: Path) -> None:
    img = build([{"a": "1"}])
    img.diff_ids[0] = "sha256:" + "0" * 64
    img.config = image_config(img.diff_ids)
    img.image_id = sha256(img.config)
    manifest = json.loads(img.manifest)
    manifest["config"]["digest"] = img.image_id
    manifest["config"]["size"] = len(img.config)
    img.manifest = json.dumps(manifest).encode()
    img.manifest_digest = sha256(img.manifest)
    write_oci_layout(tmp_path / "oci", [(img, "t")])
    image = open_oci_dir(tmp_path / "oci", "t", SourceOptions(), "oci:test")
    with pytest.raises(DigestMismatchError, match="diff_id"):
        tree_from_image(image, want_globs())


def _damaged(tmp_path: Path, damage: str) -> FileTree:
    img = build([{"a": bytes(range(256)) * 64}])
    write_oci_layout(tmp_path / "oci", [(img, "t")])
    path = tmp_path / "oci/blobs/sha256" / hashlib.sha256(img.layer_blobs[0]).hexdigest()
    data = path.read_bytes()
    cut = data[: len(data) // 2]
    data = cut if damage == "truncated" else data[:30] + b"\xff" * 40 + data[70:]
    path.write_bytes(data)
    image = open_oci_dir(tmp_path / "oci", "t", SourceOptions(), "oci:test")
    return tree_from_image(image, want_globs())


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_damaged_gzip_is_an_input_error(tmp_path: Path, damage: str) -> None:
    with pytest.raises(InputError, match="corrupt or truncated layer"):
        _damaged(tmp_path, damage)


def test_truncated_tar_is_an_input_error(tmp_path: Path) -> None:
    img = build([{"a": b"x" * 5000}], compression=None)
    write_oci_layout(tmp_path / "oci", [(img, "t")])
    path = tmp_path / "oci/blobs/sha256" / hashlib.sha256(img.layer_blobs[0]).hexdigest()
    path.write_bytes(path.read_bytes()[:1500])
    image = open_oci_dir(tmp_path / "oci", "t", SourceOptions(), "oci:test")
    with pytest.raises(InputError, match=r"corrupt or truncated|digest"):
        tree_from_image(image, want_globs())


class Recorder:
    def __init__(self, limit_paths: str = "/**") -> None:
        self.match = want_globs(limit_paths)
        self.seen: list[tuple[str, str | None, bytes]] = []
        self.skips: list[str] = []

    def wants(self, entry: FileEntry) -> bool:
        return self.match(entry.path)

    def visit(self, entry: FileEntry, data: bytes) -> None:
        self.seen.append((entry.path, entry.layer, data))

    def skipped(self, entry: FileEntry, reason: str) -> None:
        self.skips.append(entry.path)


def test_visitors_see_deleted_and_replaced_files(tmp_path: Path) -> None:
    img = build([{"root/.aws/credentials": "key", "etc/conf": "v1", "big": b"x" * 5000},
                 {"root/.aws/.wh.credentials": "", "etc/conf": "v2"}])
    write_oci_layout(tmp_path / "oci", [(img, "t")])
    image = open_oci_dir(tmp_path / "oci", "t", SourceOptions(), "oci:test")
    rec = Recorder()
    tree = tree_from_image(image, want_globs("/etc/conf"), Limits(max_file_in_memory=1000),
                           visitors=[rec])
    assert ("/root/.aws/credentials", img.diff_ids[0], b"key") in rec.seen
    assert ("/etc/conf", img.diff_ids[0], b"v1") in rec.seen
    assert ("/etc/conf", img.diff_ids[1], b"v2") in rec.seen
    assert rec.skips == ["/big"]
    assert tree.get("/root/.aws/credentials") is None
    assert tree.read("/etc/conf") == b"v2"
