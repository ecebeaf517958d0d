"""Build tiny container images in code: layers from dicts of files, written as
OCI image layouts and docker-archive tarballs. No binary fixtures in git."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import zstandard


@dataclass(frozen=True)
class F:
    """A tar member with full control: kind is file, dir, symlink, hardlink, fifo."""

    data: bytes = b""
    kind: str = "file"
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    target: str = ""  # symlink or hard link target


Files = Mapping[str, "bytes | str | F"]


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(files: Files) -> bytes:
    """An uncompressed layer tar; member names are used exactly as given."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, spec in files.items():
            f = spec if isinstance(spec, F) else F(spec.encode() if isinstance(spec, str) else spec)
            info = tarfile.TarInfo(name)
            info.mode = f.mode
            info.uid, info.gid = f.uid, f.gid
            info.mtime = 1700000000
            if f.kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = f.mode if f.mode != 0o644 else 0o755
                tar.addfile(info)
            elif f.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = f.target
                tar.addfile(info)
            elif f.kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = f.target
                tar.addfile(info)
            elif f.kind == "fifo":
                info.type = tarfile.FIFOTYPE
                tar.addfile(info)
            else:
                info.size = len(f.data)
                tar.addfile(info, io.BytesIO(f.data))
    return buf.getvalue()


def compress(data: bytes, compression: str | None) -> bytes:
    if compression == "gzip":
        return gzip.compress(data, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


LAYER_MEDIA = {
    None: "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}


@dataclass
class BuiltImage:
    image_id: str
    manifest_digest: str | None
    diff_ids: list[str]
    config: bytes
    layer_blobs: list[bytes] = field(default_factory=list)
    manifest: bytes = b""


def image_config(diff_ids: Sequence[str], config: Mapping[str, object] | None = None,
                 history: Sequence[str] | None = None, arch: str = "amd64",
                 variant: str | None = None) -> bytes:
    doc: dict[str, object] = {
        "architecture": arch,
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": dict(config or {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]}),
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        "history": [
            {"created": "2024-01-01T00:00:00Z", "created_by": h}
            for h in (history or [f"layer {i}" for i in range(len(diff_ids))])
        ],
    }
    if variant:
        doc["variant"] = variant
    return json.dumps(doc, sort_keys=True).encode()


def build(layers: Sequence[Files], compression: str | None = "gzip",
          config: Mapping[str, object] | None = None, arch: str = "amd64",
          variant: str | None = None) -> BuiltImage:
    tars = [layer_tar(files) for files in layers]
    diff_ids = [sha256(t) for t in tars]
    cfg = image_config(diff_ids, config, arch=arch, variant=variant)
    blobs = [compress(t, compression) for t in tars]
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha256(cfg), "size": len(cfg)},
        "layers": [{"mediaType": LAYER_MEDIA[compression], "digest": sha256(b), "size": len(b)}
                   for b in blobs],
    }, sort_keys=True).encode()
    return BuiltImage(sha256(cfg), sha256(manifest), diff_ids, cfg, blobs, manifest)


def _write_blob(root: Path, data: bytes) -> str:
    digest = sha256(data)
    path = root / "blobs" / "sha256" / digest.split(":", 1)[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


def write_oci_layout(root: Path, images: Sequence[tuple[BuiltImage, str | None]],
                     index_extra: Mapping[str, object] | None = None) -> Path:
    """Write an OCI image layout with one manifest per (image, tag)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    manifests = []
    for img, tag in images:
        _write_blob(root, img.config)
        for b in img.layer_blobs:
            _write_blob(root, b)
        _write_blob(root, img.manifest)
        desc: dict[str, object] = {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": img.manifest_digest, "size": len(img.manifest),
        }
        if tag:
            desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
        manifests.append(desc)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": manifests, **(index_extra or {})}
    (root / "index.json").write_text(json.dumps(index))
    return root


def write_oci_index_image(root: Path, platforms: Sequence[tuple[BuiltImage, str, str | None]],
                          tag: str = "latest") -> Path:
    """A multi-platform image: the layout's index points to an image index."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    entries = []
    for img, arch, variant in platforms:
        _write_blob(root, img.config)
        for b in img.layer_blobs:
            _write_blob(root, b)
        _write_blob(root, img.manifest)
        plat: dict[str, str] = {"os": "linux", "architecture": arch}
        if variant:
            plat["variant"] = variant
        entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": img.manifest_digest, "size": len(img.manifest),
                        "platform": plat})
    inner = json.dumps({"schemaVersion": 2,
                        "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": entries}).encode()
    digest = _write_blob(root, inner)
    (root / "index.json").write_text(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
                       "digest": digest, "size": len(inner),
                       "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
    return root


def write_docker_archive(path: Path, images: Sequence[tuple[BuiltImage, Sequence[str]]],
                         gzip_layers: bool = False) -> Path:
    """A `docker save` style tarball (legacy <id>/layer.tar layout)."""
    members: dict[str, bytes] = {}
    manifest = []
    for img, tags in images:
        cfg_name = img.image_id.split(":", 1)[1] + ".json"
        members[cfg_name] = img.config
        layer_names = []
        for blob, diff_id in zip(img.layer_blobs, img.diff_ids, strict=True):
            raw = blob if gzip_layers else _decompress(blob)
            name = diff_id.split(":", 1)[1] + "/layer.tar"
            members[name] = raw
            layer_names.append(name)
        manifest.append({"Config": cfg_name, "RepoTags": list(tags), "Layers": layer_names})
    members["manifest.json"] = json.dumps(manifest).encode()
    write_tar(path, members)
    return path


def _decompress(blob: bytes) -> bytes:
    if blob[:2] == b"\x1f\x8b":
        return gzip.decompress(blob)
    if blob[:4] == b"\x28\xb5\x2f\xfd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(blob)
    return blob


def write_tar(path: Path, members: Mapping[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data))
    return path


def tar_directory(src: Path, dest: Path) -> Path:
    """Pack a directory (an OCI layout) into a tar, as oci-archive."""
    with tarfile.open(dest, "w") as tar:
        for p in sorted(src.rglob("*")):
            tar.add(p, arcname=str(p.relative_to(src)), recursive=False)
    return dest
