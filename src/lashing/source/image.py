"""Image, ImageConfig and Layer: what every source produces.

Nothing downstream knows where an image came from: a layer is opened through
its `opener`, which returns the raw (possibly compressed) blob stream; the
filesystem stage detects the compression and verifies both digests while it
streams.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from lashing.errors import InputError

MEDIA_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MEDIA_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
MEDIA_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MEDIA_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MEDIA_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"

MANIFEST_TYPES = (MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST)
INDEX_TYPES = (MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST)

# Limit on JSON documents (manifests, configs, indexes) read from untrusted input.
DEFAULT_MAX_JSON_BYTES = 8 * 1024 * 1024

Opener = Callable[[], IO[bytes]]


@dataclass(frozen=True)
class Platform:
    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise InputError(
                f"--platform {text!r}: expected OS/ARCH[/VARIANT]", "for example linux/arm64/v8"
            )
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def matches(self, other: Platform) -> bool:
        """True when `other` (an image's platform) satisfies this request.

        A request without a variant accepts any variant; arm64 images commonly
        declare v8 while users ask for linux/arm64.
        """
        if (self.os, self.architecture) != (other.os, other.architecture):
            return False
        return self.variant is None or self.variant == (other.variant or _default_variant(other))


def _default_variant(p: Platform) -> str | None:
    return {"arm64": "v8"}.get(p.architecture)


@dataclass(frozen=True)
class HistoryEntry:
    created: str | None = None
    created_by: str = ""
    comment: str = ""
    empty_layer: bool = False


@dataclass(frozen=True)
class Healthcheck:
    test: tuple[str, ...] = ()
    interval: int | None = None
    timeout: int | None = None
    retries: int | None = None


@dataclass(frozen=True)
class ImageConfig:
    """The image configuration (the blob named by image_id), parsed."""

    user: str = ""
    env: tuple[str, ...] = ()
    exposed_ports: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    working_dir: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    volumes: tuple[str, ...] = ()
    stop_signal: str = ""
    healthcheck: Healthcheck | None = None
    history: tuple[HistoryEntry, ...] = ()
    diff_ids: tuple[str, ...] = ()
    platform: Platform = field(default_factory=Platform)
    created: str | None = None
    author: str = ""

    @property
    def label_map(self) -> Mapping[str, str]:
        return dict(self.labels)


@dataclass(frozen=True)
class Layer:
    diff_id: str  # sha256 of the uncompressed tar
    digest: str | None  # sha256 of the blob as stored; None when unknown
    media_type: str
    size: int | None
    opener: Opener = field(compare=False, repr=False)
    created_by: str = ""


@dataclass(frozen=True)
class Image:
    reference: str  # what the user named
    image_id: str  # config digest
    manifest_digest: str | None  # None for docker-archive (no manifest kept)
    repo_digests: tuple[str, ...]
    repo_tags: tuple[str, ...]
    config: ImageConfig
    layers: tuple[Layer, ...]

    @property
    def platform(self) -> Platform:
        return self.config.platform


def load_json(data: bytes, what: str, max_bytes: int = DEFAULT_MAX_JSON_BYTES) -> Any:
    """Parse untrusted JSON with a size limit; errors name `what`."""
    if len(data) > max_bytes:
        raise InputError(f"{what}: {len(data)} bytes is over the {max_bytes}-byte limit for JSON")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{what}: not valid JSON ({exc})") from None


def _strings(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def parse_config(data: bytes, what: str) -> ImageConfig:
    """Parse an image configuration blob (OCI and Docker forms are the same)."""
    doc = load_json(data, what)
    if not isinstance(doc, dict):
        raise InputError(f"{what}: image configuration is not a JSON object")
    cfg = doc.get("config") or doc.get("container_config") or {}
    if not isinstance(cfg, dict):
        raise InputError(f"{what}: 'config' is not an object")
    rootfs = doc.get("rootfs") or {}
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
        raise InputError(f"{what}: image configuration has no rootfs.diff_ids list")
    history = []
    for h in doc.get("history") or []:
        if isinstance(h, dict):
            history.append(
                HistoryEntry(
                    created=h.get("created"),
                    created_by=str(h.get("created_by") or ""),
                    comment=str(h.get("comment") or ""),
                    empty_layer=bool(h.get("empty_layer", False)),
                )
            )
    hc = cfg.get("Healthcheck")
    healthcheck = None
    if isinstance(hc, dict):
        healthcheck = Healthcheck(
            test=_strings(hc.get("Test")) or (),
            interval=hc.get("Interval"),
            timeout=hc.get("Timeout"),
            retries=hc.get("Retries"),
        )
    labels = cfg.get("Labels") or {}
    return ImageConfig(
        user=str(cfg.get("User") or ""),
        env=_strings(cfg.get("Env")) or (),
        exposed_ports=tuple(sorted((cfg.get("ExposedPorts") or {}).keys())),
        entrypoint=_strings(cfg.get("Entrypoint")),
        cmd=_strings(cfg.get("Cmd")),
        working_dir=str(cfg.get("WorkingDir") or ""),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items()))
        if isinstance(labels, dict)
        else (),
        volumes=tuple(sorted((cfg.get("Volumes") or {}).keys())),
        stop_signal=str(cfg.get("StopSignal") or ""),
        healthcheck=healthcheck,
        history=tuple(history),
        diff_ids=tuple(diff_ids),
        platform=Platform(
            str(doc.get("os") or "linux"),
            str(doc.get("architecture") or "amd64"),
            doc.get("variant"),
        ),
        created=doc.get("created"),
        author=str(doc.get("author") or ""),
    )


def layer_created_by(config: ImageConfig) -> list[str]:
    """The `created_by` of each non-empty history entry, in layer order."""
    return [h.created_by for h in config.history if not h.empty_layer]


def build_layers(
    config: ImageConfig,
    blobs: Sequence[tuple[str | None, str, int | None, Opener]],
    what: str,
) -> tuple[Layer, ...]:
    """Pair the config's diff_ids with (digest, media type, size, opener) tuples."""
    if len(blobs) != len(config.diff_ids):
        raise InputError(
            f"{what}: the manifest lists {len(blobs)} layers but the configuration "
            f"has {len(config.diff_ids)} diff_ids"
        )
    created = layer_created_by(config)
    if len(created) != len(blobs):
        created = [""] * len(blobs)
    return tuple(
        Layer(diff_id=d, digest=dg, media_type=mt, size=sz, opener=op, created_by=cb)
        for d, (dg, mt, sz, op), cb in zip(config.diff_ids, blobs, created, strict=True)
    )


def check_digest_syntax(digest: str, what: str) -> str:
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise InputError(f"{what}: {digest!r} is not a sha256 digest")
    return digest
