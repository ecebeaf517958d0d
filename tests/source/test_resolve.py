"""Target syntax: one test per row of DESIGN's Targets table, the order in
which a plain argument is resolved, and the errors."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from lashing.errors import InputError
from lashing.options import SourceOptions
from lashing.progress import NullProgress
from lashing.source.open import open_image
from lashing.source.reference import parse_reference
from lashing.source.resolve import IMAGE_TYPES, ResolvedTarget, TargetType, resolve

from imagebuilder import build, tar_directory, write_docker_archive, write_oci_layout, write_tar

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def image_files(tmp_path: Path) -> dict[str, Path]:
    """A docker-archive, an OCI layout and an oci-archive of one small image."""
    img = build([{"etc/hostname": "box\n"}])
    layout = write_oci_layout(tmp_path / "layout", [(img, "v1")])
    return {
        "docker-archive": write_docker_archive(tmp_path / "image.tar", [(img, ["app:1"])]),
        "oci": layout,
        "oci-archive": tar_directory(layout, tmp_path / "image.oci.tar"),
    }


def check(target: ResolvedTarget, kind: TargetType, *, path: Path | None = None,
          tag: str | None = None, reference: str | None = None, stdin: bool = False) -> None:
    assert (target.type, target.path, target.tag, target.reference, target.stdin) == (
        kind, path, tag, reference, stdin)


# -- explicit transports ------------------------------------------------------------

def test_docker_archive_path(image_files: dict[str, Path]) -> None:
    path = image_files["docker-archive"]
    check(resolve(f"docker-archive:{path}"), TargetType.DOCKER_ARCHIVE, path=path)


def test_docker_archive_path_repo_tag(image_files: dict[str, Path]) -> None:
    path = image_files["docker-archive"]
    check(resolve(f"docker-archive:{path}:app:1"), TargetType.DOCKER_ARCHIVE, path=path,
          tag="app:1")
    # the reference may itself hold colons: a registry port
    check(resolve(f"docker-archive:{path}:localhost:5000/team/app:1.2"),
          TargetType.DOCKER_ARCHIVE, path=path, tag="localhost:5000/team/app:1.2")


def test_docker_archive_path_with_a_colon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          image_files: dict[str, Path]) -> None:
    """The longest existing prefix is the path, so a file name may hold a colon."""
    monkeypatch.chdir(tmp_path)
    odd = tmp_path / "saved:2024.tar"
    odd.write_bytes(image_files["docker-archive"].read_bytes())
    check(resolve("docker-archive:saved:2024.tar"), TargetType.DOCKER_ARCHIVE,
          path=Path("saved:2024.tar"))
    check(resolve("docker-archive:saved:2024.tar:app:1"), TargetType.DOCKER_ARCHIVE,
          path=Path("saved:2024.tar"), tag="app:1")


def test_docker_archive_stdin() -> None:
    check(resolve("docker-archive:-"), TargetType.DOCKER_ARCHIVE, stdin=True)
    check(resolve("docker-archive:-:app:1"), TargetType.DOCKER_ARCHIVE, tag="app:1", stdin=True)


def test_oci_dir(image_files: dict[str, Path]) -> None:
    layout = image_files["oci"]
    check(resolve(f"oci:{layout}"), TargetType.OCI_DIR, path=layout)


def test_oci_dir_tag(image_files: dict[str, Path]) -> None:
    layout = image_files["oci"]
    check(resolve(f"oci:{layout}:v1"), TargetType.OCI_DIR, path=layout, tag="v1")


def test_oci_archive(image_files: dict[str, Path]) -> None:
    archive = image_files["oci-archive"]
    check(resolve(f"oci-archive:{archive}"), TargetType.OCI_ARCHIVE, path=archive)
    check(resolve(f"oci-archive:{archive}:v1"), TargetType.OCI_ARCHIVE, path=archive, tag="v1")


def test_missing_path_keeps_the_first_colon_split(tmp_path: Path) -> None:
    """Nothing exists: the path ends at the first colon, and opening it fails later."""
    missing = tmp_path / "nope"
    check(resolve(f"oci:{missing}:v1"), TargetType.OCI_DIR, path=missing, tag="v1")


@pytest.mark.parametrize("ref", [
    "alpine", "alpine:3.20", "registry:5000/app:1.2", f"app@{DIGEST}", "ghcr.io/org/app:v1",
])
def test_docker_reference(ref: str) -> None:
    check(resolve(f"docker://{ref}"), TargetType.REGISTRY, reference=ref)


def test_dir(tmp_path: Path) -> None:
    check(resolve(f"dir:{tmp_path}"), TargetType.DIRECTORY, path=tmp_path)


def test_dir_is_explicit_even_for_an_oci_layout(image_files: dict[str, Path]) -> None:
    layout = image_files["oci"]
    check(resolve(f"dir:{layout}"), TargetType.DIRECTORY, path=layout)


def test_sbom(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5"}))
    check(resolve(f"sbom:{path}"), TargetType.SBOM, path=path)


def test_stdin_manifests() -> None:
    check(resolve("-"), TargetType.STDIN_MANIFESTS, stdin=True)


# -- plain existing paths, sniffed ------------------------------------------------

def test_plain_tar_with_manifest_json_is_a_docker_archive(image_files: dict[str, Path]) -> None:
    path = image_files["docker-archive"]
    check(resolve(str(path)), TargetType.DOCKER_ARCHIVE, path=path)


def test_plain_tar_with_oci_layout_is_an_oci_archive(image_files: dict[str, Path]) -> None:
    path = image_files["oci-archive"]
    check(resolve(str(path)), TargetType.OCI_ARCHIVE, path=path)


def test_plain_tar_with_dot_slash_names(image_files: dict[str, Path], tmp_path: Path) -> None:
    """`tar -C layout -cf x.tar .` writes ./oci-layout; it is still an oci-archive
    and opens like one."""
    archive = tmp_path / "dotted.tar"
    layout = image_files["oci"]
    with tarfile.open(archive, "w") as tar:
        tar.add(layout, arcname=".")
    target = resolve(str(archive))
    check(target, TargetType.OCI_ARCHIVE, path=archive)
    with open_image(target, SourceOptions(), NullProgress()) as image:
        assert len(image.layers) == 1


def test_plain_directory_with_oci_layout_is_an_oci_layout(image_files: dict[str, Path]) -> None:
    layout = image_files["oci"]
    check(resolve(str(layout)), TargetType.OCI_DIR, path=layout)


def test_plain_other_directory_is_dir(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    check(resolve(str(tmp_path)), TargetType.DIRECTORY, path=tmp_path)


def test_plain_json_sbom_larger_than_the_sniffed_head(tmp_path: Path) -> None:
    """Only the first 64 KiB are read: the keys are found in the text."""
    path = tmp_path / "big.cdx.json"
    components = [{"type": "library", "name": f"pkg{i}", "version": "1.0"} for i in range(5000)]
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "components": components}))
    assert path.stat().st_size > 64 * 1024
    check(resolve(str(path)), TargetType.SBOM, path=path)


@pytest.mark.parametrize(("name", "doc"), [
    ("bom.cdx.json", {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}),
    ("bom.spdx.json", {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}),
    ("nameless", {"$schema": "x", "bomFormat": "CycloneDX"}),
])
def test_plain_json_sbom(tmp_path: Path, name: str, doc: dict[str, object]) -> None:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2))
    check(resolve(str(path)), TargetType.SBOM, path=path)


@pytest.mark.parametrize(("name", "text"), [
    ("deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"),
    ("multi.yml", "# comment\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
                  "---\napiVersion: v1\nkind: ConfigMap\n"),
    ("pod.json", json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})),
])
def test_plain_kubernetes(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    check(resolve(str(path)), TargetType.KUBERNETES, path=path)


@pytest.mark.parametrize(("name", "text"), [
    ("compose.yaml", "services:\n  web:\n    image: nginx\n"),
    ("docker-compose.yml", 'version: "3.8"\nservices:\n  db:\n    image: postgres\n'),
    ("compose.json", json.dumps({"services": {"web": {"image": "nginx"}}})),
])
def test_plain_compose(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    check(resolve(str(path)), TargetType.COMPOSE, path=path)


@pytest.mark.parametrize("name", [
    "Dockerfile", "Containerfile", "x.Dockerfile", "Dockerfile.dev", "api.dockerfile",
])
def test_plain_dockerfile(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("FROM alpine:3.20\nRUN apk add curl\n")
    check(resolve(str(path)), TargetType.DOCKERFILE, path=path)


# -- plain non-existing paths: image references -----------------------------------

@pytest.mark.parametrize(("text", "repository"), [
    ("alpine", "docker.io/library/alpine"),
    ("alpine:3.20", "docker.io/library/alpine"),
    ("team/app", "docker.io/team/app"),
    ("registry:5000/app:1.2", "registry:5000/app"),
    ("localhost/app", "localhost/app"),
    (f"app@{DIGEST}", "docker.io/library/app"),
    (f"ghcr.io/org/app:v1@{DIGEST}", "ghcr.io/org/app"),
])
def test_plain_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str,
                         repository: str) -> None:
    monkeypatch.chdir(tmp_path)
    target = resolve(text)
    check(target, TargetType.REGISTRY, reference=text)
    assert target.type in IMAGE_TYPES
    assert target.reference is not None
    assert parse_reference(target.reference).repository_name == repository


# -- precedence ------------------------------------------------------------------

def test_existing_directory_named_like_a_reference_is_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "alpine").mkdir()
    check(resolve("alpine"), TargetType.DIRECTORY, path=Path("alpine"))


def test_existing_layout_named_like_a_reference_is_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_oci_layout(tmp_path / "nginx", [(build([{"a": "a"}]), "latest")])
    check(resolve("nginx"), TargetType.OCI_DIR, path=Path("nginx"))


def test_existing_file_named_like_a_reference_is_sniffed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "web").write_text("services:\n  web:\n    image: nginx\n")
    check(resolve("web"), TargetType.COMPOSE, path=Path("web"))


def test_explicit_transport_wins_over_sniffing(image_files: dict[str, Path]) -> None:
    """An oci-archive named with docker-archive: is opened as what the user said."""
    path = image_files["oci-archive"]
    check(resolve(f"docker-archive:{path}"), TargetType.DOCKER_ARCHIVE, path=path)
    with pytest.raises(InputError, match=r"no manifest\.json"), open_image(
            resolve(f"docker-archive:{path}"), SourceOptions(), NullProgress()):
        pass


def test_reference_from_another_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A path only counts relative to the current directory."""
    (tmp_path / "alpine").mkdir()
    monkeypatch.chdir(tmp_path / "alpine")
    check(resolve("alpine"), TargetType.REGISTRY, reference="alpine")


# -- errors ------------------------------------------------------------------------

def test_empty_target() -> None:
    with pytest.raises(InputError, match="empty target"):
        resolve("")


@pytest.mark.parametrize("text", ["oci:", "oci-archive:", "docker-archive:", "dir:", "sbom:",
                                  "docker://"])
def test_transport_without_path(text: str) -> None:
    with pytest.raises(InputError, match="missing") as info:
        resolve(text)
    assert text in info.value.message


def test_unrecognised_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.bin"
    path.write_bytes(b"\x00\x01 just some bytes\n")
    with pytest.raises(InputError, match="cannot tell") as info:
        resolve(str(path))
    assert str(path) in info.value.message
    assert info.value.hint is not None and "docker-archive:" in info.value.hint


@pytest.mark.parametrize(("name", "text"), [
    ("empty.yaml", ""),
    ("config.json", json.dumps({"name": "x", "version": "1"})),
    ("list.json", json.dumps([1, 2, 3])),
    ("only-kind.yaml", "kind: Deployment\n"),
])
def test_unrecognised_documents(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError, match="cannot tell") as info:
        resolve(str(path))
    assert str(path) in info.value.message


def test_tar_that_is_not_an_image(tmp_path: Path) -> None:
    path = write_tar(tmp_path / "src.tar", {"README": b"hello\n", "main.go": b"package main\n"})
    with pytest.raises(InputError, match=r"neither manifest\.json nor oci-layout") as info:
        resolve(str(path))
    assert str(path) in info.value.message


@pytest.mark.parametrize("text", ["missing.tar", "./missing", "deploy.yaml", "../x/y",
                                  "Not_A_Reference!"])
def test_missing_file_that_is_not_a_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              text: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="no such file or directory") as info:
        resolve(text)
    assert text in info.value.message
