"""Bad and hostile input: one clear error naming the input, exit 2, nothing written."""

from __future__ import annotations

import gzip
import hashlib
import json
import tempfile
from pathlib import Path

import pytest

from lashing.errors import InputError
from lashing.options import Limits, SourceOptions
from lashing.source.oci_layout import open_oci_dir

from cli_helpers import Result, run
from imagebuilder import (
    F,
    build,
    layer_tar,
    write_docker_archive,
    write_oci_index_image,
    write_oci_layout,
)


def refused(r: Result, *words: str, tmp_path: Path | None = None) -> None:
    assert r.code == 2, (r.code, r.err)
    assert r.out == ""
    first = r.err.splitlines()[0]
    assert first.startswith("error: ")
    assert "Traceback" not in r.err
    for w in words:
        assert w in r.err, (w, r.err)


def scan_to(tmp_path: Path, target: str, *extra: str) -> Result:
    out = tmp_path / "report.json"
    r = run("scan", target, "--format", "json", "-o", str(out), *extra)
    if r.code != 0:
        assert not out.exists(), "a failed scan must write nothing"
    return r


def blob_file(root: Path, data: bytes) -> Path:
    return root / "blobs/sha256" / hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("name", ["../../etc/cron.d/evil", "/etc/passwd", "a/../../b"])
def test_traversal_member(tmp_path: Path, name: str) -> None:
    write_docker_archive(tmp_path / "a.tar", [(build([{name: "x"}]), ["t:1"])])
    r = scan_to(tmp_path, f"docker-archive:{tmp_path / 'a.tar'}")
    refused(r, "a.tar", name, "refused")


def test_hard_link_leaving_tree(tmp_path: Path) -> None:
    img = build([{"x": F(kind="hardlink", target="../../../etc/shadow")}])
    write_oci_layout(tmp_path / "oci", [(img, "t")])
    refused(scan_to(tmp_path, f"oci:{tmp_path / 'oci'}"), "leaves the tree")


def test_layer_digest_mismatch(tmp_path: Path) -> None:
    img = build([{"a": "original"}])
    write_oci_layout(tmp_path / "oci", [(img, "t")])
    blob_file(tmp_path / "oci", img.layer_blobs[0]).write_bytes(
        gzip.compress(layer_tar({"a": "tampered"}), mtime=0))
    refused(scan_to(tmp_path, f"oci:{tmp_path / 'oci'}"), "digest", "refused")


def test_manifest_digest_mismatch(tmp_path: Path) -> None:
    img = build([{"a": "1"}])
    write_oci_layout(tmp_path / "oci", [(img, "t")])
    blob_file(tmp_path / "oci", img.manifest).write_bytes(img.manifest.replace(b"2", b"2 "))
    refused(scan_to(tmp_path, f"oci:{tmp_path / 'oci'}"), str(img.manifest_digest), "refused")


def test_config_digest_mismatch_in_docker_archive(tmp_path: Path) -> None:
    img = build([{"a": "1"}])
    img.config = img.config.replace(b'"amd64"', b'"arm64"')  # name stays the old digest
    write_docker_archive(tmp_path / "a.tar", [(img, ["t:1"])])
    refused(scan_to(tmp_path, str(tmp_path / "a.tar")), "configuration", "refused")


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_layer(tmp_path: Path, cut: float) -> None:
    img = build([{"a": bytes(range(256)) * 200}])
    write_oci_layout(tmp_path / "oci", [(img, "t")])
    path = blob_file(tmp_path / "oci", img.layer_blobs[0])
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * cut)])
    refused(scan_to(tmp_path, f"oci:{tmp_path / 'oci'}"), "corrupt or truncated")


def test_truncated_archive(tmp_path: Path) -> None:
    write_docker_archive(tmp_path / "a.tar", [(build([{"a": "x" * 10000}]), ["t:1"])])
    data = (tmp_path / "a.tar").read_bytes()
    (tmp_path / "cut.tar").write_bytes(data[:3000])
    refused(scan_to(tmp_path, f"docker-archive:{tmp_path / 'cut.tar'}"), "cut.tar")


def test_decompression_bomb(tmp_path: Path) -> None:
    img = build([{"zeros": b"\0" * 1_000_000}])  # ~1 KiB gzip, 1 MB inflated
    write_oci_layout(tmp_path / "oci", [(img, "t")])
    refused(scan_to(tmp_path, f"oci:{tmp_path / 'oci'}", "--max-uncompressed", "100KB"),
            "decompression bomb")
    assert run("scan", f"oci:{tmp_path / 'oci'}").code == 0


def test_bad_size_option(tmp_path: Path) -> None:
    refused(run("scan", "x", "--max-uncompressed", "lots"), "--max-uncompressed")


def test_manifest_not_json(tmp_path: Path) -> None:
    write_docker_archive(tmp_path / "a.tar", [(build([{"a": "1"}]), ["t:1"])])
    import tarfile

    with tarfile.open(tmp_path / "a.tar") as src, tarfile.open(tmp_path / "b.tar", "w") as dst:
        for m in src:
            f = src.extractfile(m)
            data = b"{not json" if m.name == "manifest.json" else (f.read() if f else b"")
            m.size = len(data)
            import io

            dst.addfile(m, io.BytesIO(data))
    refused(scan_to(tmp_path, f"docker-archive:{tmp_path / 'b.tar'}"), "manifest.json",
            "not valid JSON")


def test_oci_manifest_not_json(tmp_path: Path) -> None:
    root = tmp_path / "oci"
    write_oci_layout(root, [(build([{"a": "1"}]), "t")])
    junk = b"<html>not a manifest</html>"
    digest = "sha256:" + hashlib.sha256(junk).hexdigest()
    blob_file(root, junk).write_bytes(junk)
    index = json.loads((root / "index.json").read_text())
    index["manifests"][0].update(digest=digest, size=len(junk))
    (root / "index.json").write_text(json.dumps(index))
    refused(scan_to(tmp_path, f"oci:{root}"), "not valid JSON")


def test_manifest_over_size_limit(tmp_path: Path) -> None:
    write_oci_layout(tmp_path / "oci", [(build([{"a": "1"}]), "t")])
    options = SourceOptions(limits=Limits(max_json_bytes=200))
    with pytest.raises(InputError, match="limit"):
        open_oci_dir(tmp_path / "oci", "t", options, "oci:x")


def test_unknown_platform_lists_available(tmp_path: Path) -> None:
    root = write_oci_index_image(tmp_path / "oci", [
        (build([{"a": "amd"}], arch="amd64"), "amd64", None),
        (build([{"a": "arm"}], arch="arm64", variant="v8"), "arm64", "v8"),
    ])
    refused(scan_to(tmp_path, f"oci:{root}", "--platform", "linux/s390x"),
            "linux/s390x", "linux/amd64", "linux/arm64/v8")
    ok = run("scan", f"oci:{root}", "--platform", "linux/arm64", "--format", "json")
    assert ok.code == 0 and ok.json()["targets"][0]["platform"] == "linux/arm64/v8"
    refused(run("scan", f"oci:{root}", "--platform", "linux"), "--platform")


def test_missing_file(tmp_path: Path) -> None:
    refused(scan_to(tmp_path, f"docker-archive:{tmp_path / 'nope.tar'}"), "nope.tar",
            "no such file")
    refused(scan_to(tmp_path, f"oci-archive:{tmp_path / 'nope.tar'}"), "nope.tar")


def test_oci_dir_without_layout(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    refused(scan_to(tmp_path, f"oci:{tmp_path / 'empty'}"), "empty", "no oci-layout")


def test_multi_image_archive_needs_a_tag(tmp_path: Path) -> None:
    a, b = build([{"a": "1"}]), build([{"b": "2"}])
    archive = write_docker_archive(tmp_path / "two.tar", [(a, ["one:1"]), (b, ["two:2"])])
    refused(run("scan", str(archive)), "2 images", "one:1", "two:2")
    refused(run("scan", f"docker-archive:{archive}:three:3"), "three:3")
    r = run("scan", f"docker-archive:{archive}:docker.io/library/two:2", "--format", "json")
    assert r.code == 0 and r.json()["targets"][0]["image_id"] == b.image_id


def test_not_an_archive(tmp_path: Path) -> None:
    (tmp_path / "x.tar").write_bytes(b"\x00garbage" * 100)
    refused(run("scan", f"docker-archive:{tmp_path / 'x.tar'}"), "x.tar")


def test_gzipped_docker_archive_is_read_and_bounded(tmp_path: Path) -> None:
    img = build([{"etc/os-release": "ID=debian\nVERSION_ID=12\n", "zeros": b"\0" * 300_000}])
    archive = write_docker_archive(tmp_path / "a.tar", [(img, ["t:1"])])
    gz = tmp_path / "a.tar.gz"
    gz.write_bytes(gzip.compress(archive.read_bytes()))
    for target in (str(gz), f"docker-archive:{gz}"):
        r = run("scan", target, "--format", "json")
        assert r.code == 0, r.err
        assert r.json()["targets"][0]["image_id"] == img.image_id
    r = run("scan", "docker-archive:-", "--format", "json", stdin=gz.read_bytes())
    assert r.code == 0 and r.json()["targets"][0]["image_id"] == img.image_id
    refused(run("scan", str(gz), "--max-uncompressed", "100KB"), "decompressed archive",
            "over")
    leftovers = [p for p in Path(tempfile.gettempdir()).glob("lashing-stdin-*")]
    assert leftovers == [] or all(p.stat().st_mtime < gz.stat().st_mtime for p in leftovers)
