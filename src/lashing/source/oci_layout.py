"""`oci:DIR[:TAG]` and `oci-archive:PATH[:TAG]`: OCI image layouts."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import IO, Any

from lashing.errors import DigestMismatchError, InputError
from lashing.fs.stream import sha256_digest
from lashing.options import SourceOptions
from lashing.source.image import INDEX_TYPES, Image, build_layers, load_json, parse_config
from lashing.source.manifest import descriptor, layer_descriptors, media_type, select_platform
from lashing.source.store import DirStore, Store, TarStore, blob_path, read_limited

REF_NAME = "org.opencontainers.image.ref.name"


def open_oci_dir(path: Path, tag: str | None, options: SourceOptions, reference: str) -> Image:
    if not path.exists():
        raise InputError(f"{reference}: no such directory {path}")
    if not (path / "oci-layout").is_file():
        raise InputError(f"{reference}: {path} is not an OCI image layout (no oci-layout file)")
    return _open(DirStore(path), tag, options, reference)


def open_oci_archive(path: Path, tag: str | None, options: SourceOptions,
                     reference: str) -> Image:
    store = TarStore(path, reference)
    if not store.exists("oci-layout"):
        raise InputError(f"{reference}: not an OCI archive (no oci-layout file inside)")
    return _open(store, tag, options, reference)


def _read_blob(store: Store, digest: str, size: int, limit: int, what: str) -> bytes:
    path = blob_path(digest, what)
    if not store.exists(path):
        raise InputError(f"{what}: blob {digest} is missing from the layout")
    if size > limit:
        raise InputError(f"{what}: blob {digest} is {size} bytes, over the {limit}-byte limit")
    actual_size = store.size(path)
    if actual_size != size:
        raise DigestMismatchError(
            f"{what}: blob {digest} is {actual_size} bytes, its descriptor says {size}; refused")
    with store.open(path) as f:
        data = f.read()
    actual = sha256_digest(data)
    if actual != digest:
        raise DigestMismatchError(f"{what}: blob {digest} has digest {actual}; refused")
    return data


def _choose(index: dict[str, Any], tag: str | None, options: SourceOptions,
            what: str) -> dict[str, Any]:
    manifests = index.get("manifests")
    if not isinstance(manifests, list) or not manifests:
        raise InputError(f"{what}: index.json lists no manifests")
    if tag is not None:
        names = [d for d in manifests
                 if _ref_name(d) == tag or _ref_name(d).endswith(":" + tag)]
        if not names:
            tags = sorted({_ref_name(d) for d in manifests if _ref_name(d)})
            raise InputError(f"{what}: no image tagged {tag!r}; tags: {', '.join(tags) or 'none'}")
        if len(names) == 1:
            return dict(names[0])
        return select_platform({"manifests": names}, options.platform, what,
                               options.platform_explicit)
    if len(manifests) == 1:
        return dict(manifests[0])
    if any(isinstance(d, dict) and "platform" in d for d in manifests):
        return select_platform(index, options.platform, what, options.platform_explicit)
    tags = sorted({_ref_name(d) for d in manifests if _ref_name(d)})
    raise InputError(f"{what}: the layout holds {len(manifests)} images; name one as "
                     f"{what}:TAG (tags: {', '.join(tags) or 'none'})")


def _ref_name(desc: Any) -> str:
    if not isinstance(desc, dict):
        return ""
    ann = desc.get("annotations")
    return str(ann.get(REF_NAME, "")) if isinstance(ann, dict) else ""


def _open(store: Store, tag: str | None, options: SourceOptions, reference: str) -> Image:
    limit = options.limits.max_json_bytes
    index = load_json(read_limited(store, "index.json", limit, reference),
                      f"{reference}: index.json", limit)
    if not isinstance(index, dict):
        raise InputError(f"{reference}: index.json is not a JSON object")
    desc = _choose(index, tag, options, reference)
    for _depth in range(4):
        d = descriptor(desc, reference)
        data = _read_blob(store, d.digest, d.size, limit, reference)
        doc = load_json(data, f"{reference}: manifest {d.digest}", limit)
        mt = media_type(doc, f"{reference}: manifest {d.digest}", d.media_type or None)
        if mt in INDEX_TYPES:
            desc = select_platform(doc, options.platform, reference, options.platform_explicit)
            continue
        return _image(store, doc, d.digest, reference, options)
    raise InputError(f"{reference}: indexes nested too deeply")


def _image(store: Store, doc: dict[str, Any], manifest_digest: str, reference: str,
           options: SourceOptions) -> Image:
    limit = options.limits.max_json_bytes
    cfg = descriptor(doc.get("config"), reference)
    config_bytes = _read_blob(store, cfg.digest, cfg.size, limit, reference)
    config = parse_config(config_bytes, f"{reference}: config {cfg.digest}")
    blobs = []
    for d in layer_descriptors(doc, reference):
        path = blob_path(d.digest, reference)
        if not store.exists(path):
            raise InputError(f"{reference}: layer {d.digest} is missing from the layout")
        opener = functools.partial(_open_blob, store, path)
        blobs.append((d.digest, d.media_type, d.size, opener))
    return Image(
        reference=reference,
        image_id=cfg.digest,
        manifest_digest=manifest_digest,
        repo_digests=(),
        repo_tags=(),
        config=config,
        layers=build_layers(config, blobs, reference),
    )


def _open_blob(store: Store, path: str) -> IO[bytes]:
    return store.open(path)
