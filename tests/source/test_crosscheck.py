"""Cross-checks against real tools: skopeo and umoci write the archives and
layouts, and their own view of an image (config digest, manifest digest, the
rootfs `umoci unpack` extracts) is the oracle lashing must agree with.

Every form of one image (OCI layout, re-compressed OCI layouts, oci-archive,
docker-archive, a docker-archive converted back to OCI) must give the same
image id, the same diff_ids and the same merged file tree.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

from lashing.errors import DigestMismatchError, InputError
from lashing.fs import FileKind, FileTree, tree_from_directory, tree_from_image, want_globs
from lashing.model import Report
from lashing.options import SourceOptions
from lashing.pipeline import scan
from lashing.progress import NullProgress
from lashing.source.open import open_image
from lashing.source.resolve import TargetType, resolve

from imagebuilder import (
    LAYER_MEDIA,
    BuiltImage,
    F,
    Files,
    build,
    compress,
    image_config,
    layer_tar,
    write_docker_archive,
    write_oci_layout,
)

SKOPEO = shutil.which("skopeo")
UMOCI = shutil.which("umoci")
ROOT = os.geteuid() == 0

Test = TypeVar("Test", bound=Callable[..., None])


def needs_skopeo(test: Test) -> Test:
    skip = pytest.mark.skipif(
        SKOPEO is None, reason="skopeo is not installed (Debian package 'skopeo')")
    marked: Test = pytest.mark.tools(skip(test))
    return marked


def needs_umoci(test: Test) -> Test:
    skip = pytest.mark.skipif(
        UMOCI is None, reason="umoci is not installed (Debian package 'umoci')")
    marked: Test = pytest.mark.tools(skip(test))
    return marked


# One row per tree entry: (path, kind, mode, uid, gid, size, link target, layer).
Row = tuple[str, str, int, int, int, int, str | None, str | None]
# The same without the layer, with hard links as plain files and no symlink
# modes: what a directory on disk can show.
DiskRow = tuple[str, str, int | None, int | None, int | None, int, str | None]

OS_RELEASE = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
    'VERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n'
)

LAYER1: Files = {
    "etc/": F(kind="dir"),
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n",
    "etc/hostname": "layer1\n",
    "etc/gone": "to be whited out\n",
    "etc/os-release": F(kind="symlink", target="../usr/lib/os-release"),
    "opt/": F(kind="dir"),
    "opt/a": "a\n",
    "opt/sub/b": "b\n",
    "usr/lib/os-release": OS_RELEASE,
    "usr/bin/su": F(b"\x7fELF setuid\n", mode=0o4755),
    "usr/bin/newgrp": F(b"\x7fELF setgid\n", mode=0o2755, gid=42),
    "home/u/": F(kind="dir", mode=0o700, uid=1000, gid=1000),
    "home/u/notes.txt": F(b"mine\n", mode=0o600, uid=1000, gid=1000),
}
LAYER2: Files = {
    "etc/.wh.gone": "",
    "opt/.wh..wh..opq": "",
    "opt/c": "c\n",
    "bin": F(kind="symlink", target="usr/bin"),
    "etc/passwd.hard": F(kind="hardlink", target="etc/passwd"),
    "usr/bin/tool": F(b"#!/bin/sh\necho tool\n", mode=0o755),
}
LAYER3: Files = {
    "etc/hostname": "layer3\n",
    "etc/new": "new in layer 3\n",
    "home/u/.profile": F(b"export A=1\n", uid=1000, gid=1000),
}
LAYERS: list[Files] = [LAYER1, LAYER2, LAYER3]
TAG = "v1"
WANT = want_globs("/etc/**", "/usr/lib/os-release", "/opt/**")


# -- helpers -------------------------------------------------------------------

def run(*args: str) -> bytes:
    """Run a tool; a failure shows its stderr."""
    proc = subprocess.run(args, capture_output=True, check=False)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed ({proc.returncode}): "
                    f"{proc.stderr.decode(errors='replace')}")
    return proc.stdout


def skopeo(*args: str) -> bytes:
    assert SKOPEO is not None
    return run(SKOPEO, "--insecure-policy", *args)


def umoci(*args: str) -> bytes:
    assert UMOCI is not None
    return run(UMOCI, *args)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def rows(tree: FileTree) -> list[Row]:
    return [(e.path, e.kind.value, e.mode, e.uid, e.gid, e.size, e.link_target, e.layer)
            for e in tree.walk()]


def disk_rows(tree: FileTree, owners: bool = True) -> list[DiskRow]:
    out: list[DiskRow] = []
    for e in tree.walk():
        kind = FileKind.FILE if e.kind is FileKind.HARDLINK else e.kind
        symlink = kind is FileKind.SYMLINK
        out.append((e.path, kind.value, None if symlink else e.mode,
                    e.uid if owners else None, e.gid if owners else None,
                    e.size, e.link_target if symlink else None))
    return out


def lashing_tree(text: str) -> FileTree:
    """The merged tree of an image target, through open_image and tree_from_image."""
    with open_image(resolve(text), SourceOptions(), NullProgress()) as image:
        return tree_from_image(image, WANT)


def tree_and_report(text: str) -> tuple[list[Row], dict[str, bytes], Report]:
    with lashing_tree(text) as tree:
        listing = rows(tree)
        contents = {p: tree.read(p) for p in ("/etc/hostname", "/etc/passwd.hard",
                                               "/etc/os-release", "/opt/c")}
    return listing, contents, scan(resolve(text))


def unpack(layout: Path, tag: str, dest: Path) -> Path:
    """The rootfs `umoci unpack` extracts: an independent merge of the layers."""
    args = ["unpack", "--image", f"{layout}:{tag}", str(dest)]
    if not ROOT:
        args.insert(1, "--rootless")
    umoci(*args)
    return dest / "rootfs"


def config_of(transport_ref: str) -> tuple[str, list[str]]:
    """(image id, diff_ids) as skopeo reads them."""
    raw = skopeo("inspect", "--config", "--raw", transport_ref)
    doc = json.loads(raw)
    return sha256(raw), list(doc["rootfs"]["diff_ids"])


def oci_manifest_digest(layout: Path, tag: str) -> str:
    raw = skopeo("inspect", "--raw", f"oci:{layout}:{tag}")
    digest = json.loads(skopeo("inspect", f"oci:{layout}:{tag}"))["Digest"]
    assert digest == sha256(raw)
    return str(digest)


def layer_digests(layout: Path, tag: str) -> list[str]:
    manifest = json.loads(skopeo("inspect", "--raw", f"oci:{layout}:{tag}"))
    return [str(d["digest"]) for d in manifest["layers"]]


def layer_media_types(layout: Path, tag: str) -> list[str]:
    manifest = json.loads(skopeo("inspect", "--raw", f"oci:{layout}:{tag}"))
    return [str(d["mediaType"]) for d in manifest["layers"]]


def skopeo_copy_zstd(src: str, dest: str) -> bool:
    """Copy with zstd layers; False when this skopeo cannot write zstd."""
    assert SKOPEO is not None
    proc = subprocess.run([SKOPEO, "--insecure-policy", "copy", "-q", "--dest-compress-format",
                           "zstd", src, dest], capture_output=True, check=False)
    return proc.returncode == 0


# -- the image in every form ---------------------------------------------------

@dataclass
class Forms:
    built: BuiltImage
    layout: Path  # written by the builder
    targets: dict[str, str] = field(default_factory=dict)  # form -> lashing target text
    manifest_digests: dict[str, str | None] = field(default_factory=dict)
    layouts: dict[str, Path] = field(default_factory=dict)  # OCI forms -> layout dir
    archive: Path | None = None  # docker-archive written by skopeo


@pytest.fixture(scope="module")
def forms(tmp_path_factory: pytest.TempPathFactory) -> Forms:
    if SKOPEO is None:
        pytest.skip("skopeo is not installed (Debian package 'skopeo')")
    d = tmp_path_factory.mktemp("forms")
    built = build(LAYERS)
    src = write_oci_layout(d / "builder-oci", [(built, TAG)])
    f = Forms(built, src)

    def oci_form(name: str, layout: Path) -> None:
        f.layouts[name] = layout
        f.targets[name] = f"oci:{layout}:{TAG}"
        f.manifest_digests[name] = oci_manifest_digest(layout, TAG)

    oci_form("builder-oci", src)

    # skopeo copy oci -> oci: blobs already compressed are reused as they are.
    skopeo("copy", "-q", f"oci:{src}:{TAG}", f"oci:{d / 'skopeo-oci'}:{TAG}")
    oci_form("skopeo-oci", d / "skopeo-oci")

    # Uncompressed layers from the builder; skopeo gzips them with Go's gzip.
    plain = write_oci_layout(d / "builder-plain", [(build(LAYERS, compression=None), TAG)])
    oci_form("builder-uncompressed", plain)
    skopeo("copy", "-q", f"oci:{plain}:{TAG}", f"oci:{d / 'skopeo-gzipped'}:{TAG}")
    oci_form("skopeo-gzipped", d / "skopeo-gzipped")

    # zstd layers: re-compressed by skopeo when it can, else by the builder.
    zstd = d / "zstd-oci"
    if not skopeo_copy_zstd(f"oci:{src}:{TAG}", f"oci:{zstd}:{TAG}"):
        shutil.rmtree(zstd, ignore_errors=True)
        write_oci_layout(zstd, [(build(LAYERS, compression="zstd"), TAG)])
    oci_form("zstd-oci", zstd)
    # ... and back to gzip from zstd: a second, independent re-compression.
    skopeo("copy", "-q", "--dest-compress-format", "gzip",
           f"oci:{zstd}:{TAG}", f"oci:{d / 'regzipped'}:{TAG}")
    oci_form("regzipped-oci", d / "regzipped")

    # The plain layout directory, sniffed.
    f.targets["plain-dir"] = str(src)
    f.manifest_digests["plain-dir"] = f.manifest_digests["builder-oci"]

    # oci-archive, with and without the tag, and sniffed as a plain path.
    oa = d / "image.oci.tar"
    skopeo("copy", "-q", f"oci:{src}:{TAG}", f"oci-archive:{oa}:{TAG}")
    for name, text in (("oci-archive", f"oci-archive:{oa}"),
                       ("oci-archive-tag", f"oci-archive:{oa}:{TAG}"),
                       ("oci-archive-plain", str(oa))):
        f.targets[name] = text
        f.manifest_digests[name] = f.manifest_digests["builder-oci"]

    # docker-archive with two tags for the one image.
    da = d / "image.docker.tar"
    skopeo("copy", "-q", "--additional-tag", "other/app:v2",
           f"oci:{src}:{TAG}", f"docker-archive:{da}:example.com/team/app:{TAG}")
    f.archive = da
    for name, text in (("docker-archive", f"docker-archive:{da}"),
                       ("docker-archive-tag", f"docker-archive:{da}:example.com/team/app:{TAG}"),
                       ("docker-archive-extra-tag", f"docker-archive:{da}:other/app:v2"),
                       ("docker-archive-hub-tag",
                        f"docker-archive:{da}:docker.io/other/app:v2"),
                       ("docker-archive-plain", str(da))):
        f.targets[name] = text
        f.manifest_digests[name] = None  # a docker-archive keeps no manifest

    # docker-archive back to OCI: uncompressed layers, gzipped again by skopeo.
    skopeo("copy", "-q", f"docker-archive:{da}", f"oci:{d / 'from-docker'}:{TAG}")
    oci_form("oci-from-docker-archive", d / "from-docker")
    return f


FORMS = [
    "builder-oci", "skopeo-oci", "builder-uncompressed", "skopeo-gzipped", "zstd-oci",
    "regzipped-oci", "plain-dir", "oci-archive", "oci-archive-tag", "oci-archive-plain",
    "docker-archive", "docker-archive-tag", "docker-archive-extra-tag",
    "docker-archive-hub-tag", "docker-archive-plain", "oci-from-docker-archive",
]


# skopeo re-serialises the configuration when it converts a Docker manifest
# to OCI, so the image id changes while the diff_ids and the files do not.
CONVERTED = {"oci-from-docker-archive"}


@pytest.fixture(scope="module")
def reference(forms: Forms) -> tuple[list[Row], dict[str, bytes], Report]:
    """lashing's view of the builder's own layout, which every form must match."""
    return tree_and_report(forms.targets["builder-oci"])


# -- every form agrees -----------------------------------------------------------

@needs_skopeo
def test_forms_were_really_rewritten(forms: Forms) -> None:
    """The re-compressed forms hold different blobs for the same diff_ids."""
    original = layer_digests(forms.layouts["builder-oci"], TAG)
    assert layer_digests(forms.layouts["skopeo-oci"], TAG) == original
    for name in ("skopeo-gzipped", "zstd-oci", "regzipped-oci", "oci-from-docker-archive"):
        digests = layer_digests(forms.layouts[name], TAG)
        assert not set(digests) & set(original), name
    assert set(layer_media_types(forms.layouts["zstd-oci"], TAG)) == {
        "application/vnd.oci.image.layer.v1.tar+zstd"}
    assert set(layer_media_types(forms.layouts["builder-uncompressed"], TAG)) == {
        "application/vnd.oci.image.layer.v1.tar"}


@needs_skopeo
@pytest.mark.parametrize("form", FORMS)
def test_form_matches_skopeo_and_the_builder(
    forms: Forms, reference: tuple[list[Row], dict[str, bytes], Report], form: str
) -> None:
    text = forms.targets[form]
    listing, contents, report = tree_and_report(text)
    ref_listing, ref_contents, _ = reference
    (target,) = report.targets

    # skopeo reads the same configuration blob from the same form.
    explicit = text.startswith(("oci:", "oci-archive:", "docker-archive:"))
    skopeo_ref = text if explicit else _skopeo_name(text)
    image_id, diff_ids = config_of(skopeo_ref)
    assert target.image_id == image_id
    if form not in CONVERTED:
        assert image_id == forms.built.image_id
    assert [layer.diff_id for layer in target.layers] == diff_ids == forms.built.diff_ids
    assert target.manifest_digest == forms.manifest_digests[form]
    assert target.platform == "linux/amd64"
    assert target.os is not None and target.os.ecosystem == "Debian:12"

    assert listing == ref_listing
    assert contents == ref_contents
    assert not report.issues


def _skopeo_name(text: str) -> str:
    """The skopeo name of a plain path, by what lashing sniffed it as."""
    kind = resolve(text).type
    return {TargetType.OCI_DIR: f"oci:{text}:{TAG}", TargetType.OCI_ARCHIVE: f"oci-archive:{text}",
            TargetType.DOCKER_ARCHIVE: f"docker-archive:{text}"}[kind]


@needs_skopeo
def test_layer_digests_match_the_manifest(forms: Forms) -> None:
    """Layer.digest is the blob digest the manifest names (None in docker-archive)."""
    for name in ("builder-oci", "zstd-oci", "regzipped-oci"):
        with open_image(resolve(forms.targets[name]), SourceOptions(), NullProgress()) as image:
            assert [layer.digest for layer in image.layers] == layer_digests(
                forms.layouts[name], TAG)
    with open_image(resolve(forms.targets["docker-archive"]), SourceOptions(),
                    NullProgress()) as image:
        assert image.repo_tags == ("example.com/team/app:v1", "docker.io/other/app:v2")
        assert image.manifest_digest is None


@needs_skopeo
def test_docker_archive_from_stdin(forms: Forms) -> None:
    assert forms.archive is not None
    with forms.archive.open("rb") as stdin:
        report = scan(resolve("docker-archive:-"), stdin=stdin)
    assert report.targets[0].image_id == forms.built.image_id


@needs_skopeo
def test_docker_archive_unknown_tag_lists_tags(forms: Forms) -> None:
    with pytest.raises(InputError, match=r"no image tagged 'nope:1'.*example.com/team/app:v1"):
        scan(resolve(f"docker-archive:{forms.archive}:nope:1"))


# -- the merged tree, against umoci unpack and by hand ---------------------------

@needs_skopeo
@needs_umoci
def test_merged_tree_matches_umoci_unpack(
    forms: Forms, reference: tuple[list[Row], dict[str, bytes], Report],
    tmp_path: Path,
) -> None:
    rootfs = unpack(forms.layout, TAG, tmp_path / "bundle")
    with tree_from_directory(rootfs, want_globs()) as disk, lashing_tree(
            forms.targets["builder-oci"]) as merged:
        assert disk_rows(merged, owners=ROOT) == disk_rows(disk, owners=ROOT)


@needs_skopeo
def test_merged_tree_semantics(forms: Forms) -> None:
    l1, l2, l3 = forms.built.diff_ids
    with lashing_tree(forms.targets["builder-oci"]) as tree:
        # a whiteout removes the lower file only
        assert "/etc/gone" not in tree
        assert "/etc/.wh.gone" not in tree
        # an opaque directory shows only the upper layer's entries
        assert [e.path for e in tree.walk() if e.path.startswith("/opt/")] == ["/opt/c"]
        assert "/opt/.wh..wh..opq" not in tree
        opt = tree.get("/opt")
        assert opt is not None and opt.kind is FileKind.DIR
        # each path belongs to the layer that last wrote it
        layer_of = {e.path: e.layer for e in tree.walk()}
        assert layer_of["/etc/passwd"] == l1
        assert layer_of["/opt/c"] == l2
        assert layer_of["/etc/hostname"] == l3
        assert layer_of["/etc/new"] == l3
        assert layer_of["/home/u/notes.txt"] == l1
        assert layer_of["/home/u/.profile"] == l3
        assert tree.read("/etc/hostname") == b"layer3\n"
        # special bits and owners
        su = tree.get("/usr/bin/su")
        assert su is not None and su.is_setuid and su.mode == 0o4755
        newgrp = tree.get("/usr/bin/newgrp")
        assert newgrp is not None and newgrp.is_setgid and newgrp.gid == 42
        home = tree.get("/home/u")
        assert home is not None and (home.uid, home.gid, home.mode) == (1000, 1000, 0o700)
        # a hard link points at a tree path and shares the content
        hard = tree.get("/etc/passwd.hard")
        assert hard is not None and hard.kind is FileKind.HARDLINK
        assert hard.link_target == "/etc/passwd"
        assert tree.read("/etc/passwd.hard") == tree.read("/etc/passwd")
        # symlinks resolve inside the tree
        assert tree.resolve("/bin/tool") == "/usr/bin/tool"
        assert tree.resolve("/etc/os-release") == "/usr/lib/os-release"
        assert tree.read("/etc/os-release").startswith(b"PRETTY_NAME=")
        assert tree.resolve("/bin/missing") is None


# -- a docker-archive holding two images ----------------------------------------

@pytest.fixture(scope="module")
def two_images(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuiltImage, BuiltImage]:
    d = tmp_path_factory.mktemp("multi")
    first = build([{"etc/first": "1\n"}])
    second = build([{"etc/second": "2\n"}, {"etc/more": "3\n"}])
    path = write_docker_archive(d / "two.tar", [
        (first, ["example.com/first:1"]),
        (second, ["second:2", "docker.io/library/second:latest"]),
    ])
    return path, first, second


@needs_skopeo
@pytest.mark.parametrize(("ref", "which"), [
    ("example.com/first:1", 0),
    ("second:2", 1),
    ("docker.io/library/second:2", 1),
    ("second:latest", 1),
    ("second", 1),
])
def test_two_image_archive_selects_by_tag(
    two_images: tuple[Path, BuiltImage, BuiltImage], ref: str, which: int
) -> None:
    path, first, second = two_images
    want = (first, second)[which]
    report = scan(resolve(f"docker-archive:{path}:{ref}"))
    assert report.targets[0].image_id == want.image_id
    assert [layer.diff_id for layer in report.targets[0].layers] == want.diff_ids
    # skopeo picks the same image for the tags it can name
    if ref != "second":
        assert config_of(f"docker-archive:{path}:{ref}")[0] == want.image_id


@needs_skopeo
def test_two_image_archive_trees_match_skopeo_copies(
    two_images: tuple[Path, BuiltImage, BuiltImage], tmp_path: Path
) -> None:
    path, _, _ = two_images
    for ref in ("example.com/first:1", "second:2"):
        out = tmp_path / ref.replace("/", "_").replace(":", "_")
        skopeo("copy", "-q", f"docker-archive:{path}:{ref}", f"oci:{out}:{TAG}")
        with lashing_tree(f"docker-archive:{path}:{ref}") as a, lashing_tree(
                f"oci:{out}:{TAG}") as b:
            assert rows(a) == rows(b)


def test_two_image_archive_needs_a_tag(
    two_images: tuple[Path, BuiltImage, BuiltImage],
) -> None:
    path, _, _ = two_images
    with pytest.raises(InputError, match=r"holds 2 images.*example.com/first:1"):
        scan(resolve(f"docker-archive:{path}"))


# -- layouts written by umoci ------------------------------------------------------

@dataclass
class UmociImage:
    layout: Path
    diff_ids: list[str]
    image_id: str
    manifest_digest: str


@pytest.fixture(scope="module")
def umoci_image(tmp_path_factory: pytest.TempPathFactory) -> UmociImage:
    """Four layers from umoci insert: files, a whiteout, an opaque directory."""
    if UMOCI is None:
        pytest.skip("umoci is not installed (Debian package 'umoci')")
    d = tmp_path_factory.mktemp("umoci")
    layout = d / "layout"
    image = f"{layout}:t"
    umoci("init", "--layout", str(layout))
    umoci("new", "--image", image)

    etc = d / "src-etc"
    etc.mkdir()
    (etc / "keep").write_text("kept\n")
    (etc / "gone").write_text("removed by a whiteout\n")
    (etc / "link").symlink_to("keep")
    opt = d / "src-opt"
    (opt / "sub").mkdir(parents=True)
    (opt / "a").write_text("a\n")
    (opt / "sub" / "b").write_text("b\n")
    new_opt = d / "src-opt2"
    new_opt.mkdir()
    (new_opt / "c").write_text("c\n")
    tool = d / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o4755)

    umoci("insert", "--image", image, str(etc), "/etc")  # layer 1
    umoci("insert", "--image", image, str(opt), "/opt")  # layer 2
    umoci("insert", "--image", image, "--whiteout", "/etc/gone")  # layer 3
    umoci("insert", "--image", image, "--opaque", str(new_opt), "/opt")  # layer 4
    umoci("insert", "--image", image, str(tool), "/usr/local/bin/tool")  # layer 5

    index = json.loads((layout / "index.json").read_text())
    (desc,) = index["manifests"]
    manifest = json.loads((layout / "blobs" / "sha256" / desc["digest"][7:]).read_bytes())
    config_raw = (layout / "blobs" / "sha256" / manifest["config"]["digest"][7:]).read_bytes()
    diff_ids = json.loads(config_raw)["rootfs"]["diff_ids"]
    assert len(diff_ids) == 5
    return UmociImage(layout, diff_ids, sha256(config_raw), desc["digest"])


@needs_umoci
def test_umoci_layout_identity(umoci_image: UmociImage) -> None:
    report = scan(resolve(f"oci:{umoci_image.layout}:t"))
    (target,) = report.targets
    assert target.image_id == umoci_image.image_id
    assert target.manifest_digest == umoci_image.manifest_digest
    assert [layer.diff_id for layer in target.layers] == umoci_image.diff_ids
    assert all(layer.created_by.startswith("umoci insert") for layer in target.layers)
    # no OS files: nothing detected, and that is not an error
    assert target.os is None


@needs_umoci
def test_umoci_whiteout_and_opaque(umoci_image: UmociImage) -> None:
    l1, l2, _l3, l4, l5 = umoci_image.diff_ids
    with lashing_tree(f"oci:{umoci_image.layout}:t") as tree:
        assert "/etc/gone" not in tree
        assert "/etc/keep" in tree
        assert tree.read("/etc/keep") == b"kept\n"
        assert tree.resolve("/etc/link") == "/etc/keep"
        assert tree.read("/etc/link") == b"kept\n"
        assert sorted(e.path for e in tree.walk() if e.path.startswith("/opt/")) == ["/opt/c"]
        layer_of = {e.path: e.layer for e in tree.walk()}
        assert layer_of["/etc/keep"] == l1
        assert layer_of["/etc/link"] == l1
        assert layer_of["/opt/c"] == l4
        assert layer_of["/usr/local/bin/tool"] == l5
        assert l2 not in layer_of.values()  # everything layer 2 wrote is masked
        tool = tree.get("/usr/local/bin/tool")
        assert tool is not None and tool.is_setuid


@needs_umoci
def test_umoci_tree_matches_umoci_unpack(umoci_image: UmociImage, tmp_path: Path) -> None:
    rootfs = unpack(umoci_image.layout, "t", tmp_path / "bundle")
    with tree_from_directory(rootfs, want_globs()) as disk, lashing_tree(
            f"oci:{umoci_image.layout}:t") as merged:
        assert disk_rows(merged, owners=ROOT) == disk_rows(disk, owners=ROOT)


@needs_umoci
@needs_skopeo
def test_umoci_layout_through_skopeo_archives(umoci_image: UmociImage, tmp_path: Path) -> None:
    """umoci's layout copied by skopeo into both archive forms reads the same."""
    da, oa = tmp_path / "u.docker.tar", tmp_path / "u.oci.tar"
    skopeo("copy", "-q", f"oci:{umoci_image.layout}:t", f"docker-archive:{da}:u:t")
    skopeo("copy", "-q", f"oci:{umoci_image.layout}:t", f"oci-archive:{oa}:t")
    listings = []
    for text in (f"oci:{umoci_image.layout}:t", str(da), str(oa)):
        with lashing_tree(text) as tree:
            listings.append(rows(tree))
        assert scan(resolve(text)).targets[0].image_id == umoci_image.image_id
    assert listings[0] == listings[1] == listings[2]


@needs_umoci
def test_umoci_second_tag(umoci_image: UmociImage, tmp_path: Path) -> None:
    """A layout with two tags: each names its own manifest; no tag is an error."""
    layout = tmp_path / "two-tags"
    shutil.copytree(umoci_image.layout, layout)
    umoci("new", "--image", f"{layout}:empty")
    with pytest.raises(InputError, match=r"holds 2 images.*empty, t"):
        scan(resolve(f"oci:{layout}"))
    assert scan(resolve(f"oci:{layout}:t")).targets[0].image_id == umoci_image.image_id
    empty = scan(resolve(f"oci:{layout}:empty")).targets[0]
    assert empty.layers == ()
    assert empty.image_id != umoci_image.image_id


# -- what umoci insert (up to 0.4.7) writes, without umoci -------------------------

def image_from_tars(tars: list[bytes], diff_ids: list[str] | None = None) -> BuiltImage:
    """An image whose layers are the given tar streams, byte for byte."""
    diff_ids = diff_ids or [sha256(t) for t in tars]
    cfg = image_config(diff_ids)
    blobs = [compress(t, "gzip") for t in tars]
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha256(cfg), "size": len(cfg)},
        "layers": [{"mediaType": LAYER_MEDIA["gzip"], "digest": sha256(b), "size": len(b)}
                   for b in blobs],
    }).encode()
    return BuiltImage(sha256(cfg), sha256(manifest), diff_ids, cfg, blobs, manifest)


def end_of_last_data(tar_bytes: bytes) -> int:
    """Where the last member's data ends, before its padding and the end blocks."""
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        last = tar.getmembers()[-1]
    return last.offset_data + last.size


UNPADDED_FILES: Files = {"etc/": F(kind="dir"), "etc/a": "a\n", "etc/last": "x" * 700}


def test_layer_without_padding_or_end_blocks_is_read(tmp_path: Path) -> None:
    """The tar writer was never closed: data complete, padding and end blocks missing."""
    full = layer_tar(UNPADDED_FILES)
    cut = full[:end_of_last_data(full)]
    assert len(cut) % 512 != 0
    layout = write_oci_layout(tmp_path / "layout", [(image_from_tars([cut]), "t")])
    with lashing_tree(f"oci:{layout}:t") as tree:
        assert tree.read("/etc/last") == b"x" * 700
        assert tree.read("/etc/a") == b"a\n"
        assert not tree.issues
    assert scan(resolve(f"oci:{layout}:t")).targets[0].layers[0].diff_id == sha256(cut)


def test_layer_cut_inside_the_data_is_refused(tmp_path: Path) -> None:
    """Missing data is not padding: refused even when the diff_id matches the cut bytes."""
    full = layer_tar(UNPADDED_FILES)
    cut = full[:end_of_last_data(full) - 300]
    layout = write_oci_layout(tmp_path / "layout", [(image_from_tars([cut]), "t")])
    with pytest.raises(InputError, match="corrupt or truncated"):
        scan(resolve(f"oci:{layout}:t"))


def test_layer_cut_with_the_original_diff_id_is_refused(tmp_path: Path) -> None:
    full = layer_tar(UNPADDED_FILES)
    cut = full[:end_of_last_data(full)]
    layout = write_oci_layout(tmp_path / "layout",
                              [(image_from_tars([cut], [sha256(full)]), "t")])
    with pytest.raises(DigestMismatchError, match="expected diff_id"):
        scan(resolve(f"oci:{layout}:t"))
