"""`docker-archive:PATH[:REPO:TAG]` and `docker-archive:-`: `docker save` /
`podman save` / `skopeo copy … docker-archive:` tarballs."""

from __future__ import annotations

import functools
import posixpath
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any

from lashing.errors import DigestMismatchError, InputError, LimitExceededError
from lashing.fs.stream import sha256_digest
from lashing.options import SourceOptions
from lashing.source.image import Image, build_layers, load_json, parse_config
from lashing.source.store import TarStore, read_limited


def open_docker_archive(path: Path, tag: str | None, options: SourceOptions,
                        reference: str) -> Image:
    store = TarStore(path, reference)
    return _open(store, tag, options, reference)


def spool_archive(stream: IO[bytes], options: SourceOptions, reference: str,
                  what: str = "the archive on standard input",
                  limit: int | None = None) -> Path:
    """Copy an archive from a pipe (or a decompressor) to a private temp file,
    since tar needs to seek. The caller deletes the file. The copy is capped
    by max_archive_bytes."""
    limit = options.limits.max_archive_bytes if limit is None else limit
    fd, name = tempfile.mkstemp(prefix="lashing-stdin-", suffix=".tar")
    path = Path(name)
    total = 0
    try:
        with open(fd, "wb") as out:
            while chunk := stream.read(1024 * 1024):
                total += len(chunk)
                if total > limit:
                    raise LimitExceededError(f"{reference}: {what} is over {limit} bytes")
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if total == 0:
        path.unlink(missing_ok=True)
        raise InputError(
            f"{reference}: {what} is empty",
            "pipe an archive in, e.g. podman save IMAGE | lashing scan docker-archive:-")
    return path


def _normalise_tag(tag: str) -> str:
    """`alpine:3` and `docker.io/library/alpine:3` name the same image."""
    name, _, version = tag.rpartition(":")
    if not name or "/" in version:
        name, version = tag, "latest"
    for prefix in ("docker.io/library/", "docker.io/", "localhost/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return f"{name}:{version}"


def _choose(manifest: Any, tag: str | None, reference: str) -> dict[str, Any]:
    if not isinstance(manifest, list) or not manifest or not all(
        isinstance(m, dict) for m in manifest
    ):
        raise InputError(f"{reference}: manifest.json is not a list of images")
    all_tags = sorted(t for m in manifest for t in (m.get("RepoTags") or []))
    if tag is None:
        if len(manifest) > 1:
            raise InputError(
                f"{reference}: the archive holds {len(manifest)} images; name one as "
                f"docker-archive:PATH:REPO:TAG (tags: {', '.join(all_tags) or 'none'})")
        return dict(manifest[0])
    want = _normalise_tag(tag)
    for m in manifest:
        if any(_normalise_tag(t) == want for t in m.get("RepoTags") or []):
            return dict(m)
    raise InputError(f"{reference}: no image tagged {tag!r} in the archive; "
                     f"tags: {', '.join(all_tags) or 'none'}")


def _expected_digest(member: str) -> str | None:
    """The digest a member's name promises: `blobs/sha256/HEX` or `HEX.json`."""
    parts = member.split("/")
    if len(parts) == 3 and parts[0] == "blobs":
        return f"{parts[1]}:{parts[2]}"
    base = posixpath.basename(member)
    if base.endswith(".json") and len(base) == 69:
        return "sha256:" + base[:-5]
    return None


def _open(store: TarStore, tag: str | None, options: SourceOptions, reference: str) -> Image:
    limit = options.limits.max_json_bytes
    if not store.exists("manifest.json"):
        raise InputError(f"{reference}: not a docker-archive (no manifest.json inside)")
    manifest = load_json(read_limited(store, "manifest.json", limit, reference),
                         f"{reference}: manifest.json", limit)
    entry = _choose(manifest, tag, reference)
    cfg_name = entry.get("Config")
    layers = entry.get("Layers")
    if not isinstance(cfg_name, str) or not isinstance(layers, list):
        raise InputError(f"{reference}: manifest.json entry without Config or Layers")
    config_bytes = read_limited(store, cfg_name, limit, reference)
    image_id = sha256_digest(config_bytes)
    expected = _expected_digest(cfg_name)
    if expected is not None and expected != image_id:
        raise DigestMismatchError(
            f"{reference}: configuration {cfg_name} has digest {image_id}; refused")
    config = parse_config(config_bytes, f"{reference}: {cfg_name}")
    sources = entry.get("LayerSources") or {}
    blobs = []
    for i, name in enumerate(layers):
        if not isinstance(name, str):
            raise InputError(f"{reference}: manifest.json layer {i + 1} is not a path")
        size = store.size(name)
        digest = _expected_digest(name)
        diff_id = config.diff_ids[i] if i < len(config.diff_ids) else None
        media = "application/vnd.docker.image.rootfs.diff.tar"
        if isinstance(sources, dict) and diff_id in sources:
            media = str(sources[diff_id].get("mediaType") or media)
        blobs.append((digest, media, size, functools.partial(store.open, name)))
    return Image(
        reference=reference,
        image_id=image_id,
        manifest_digest=None,
        repo_digests=(),
        repo_tags=tuple(str(t) for t in entry.get("RepoTags") or []),
        config=config,
        layers=build_layers(config, blobs, reference),
    )


def cleanup(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
