"""Manifests and indexes: validation and platform selection, shared by the
OCI layout and registry sources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lashing.errors import InputError
from lashing.source.image import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    Platform,
    check_digest_syntax,
)

MEDIA_DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)


def media_type(doc: Any, what: str, fallback: str | None = None) -> str:
    if not isinstance(doc, dict):
        raise InputError(f"{what}: manifest is not a JSON object")
    mt = doc.get("mediaType") or fallback
    if not mt:
        if doc.get("schemaVersion") == 1:
            mt = MEDIA_DOCKER_SCHEMA1[0]
        elif isinstance(doc.get("manifests"), list):
            mt = INDEX_TYPES[0]
        elif isinstance(doc.get("layers"), list):
            mt = MANIFEST_TYPES[0]
        else:
            raise InputError(f"{what}: neither an image manifest nor an index")
    if mt in MEDIA_DOCKER_SCHEMA1:
        raise InputError(f"{what}: Docker schema 1 manifests are not supported",
                         "re-push the image with a current client (schema 2 or OCI)")
    if mt not in MANIFEST_TYPES + INDEX_TYPES:
        raise InputError(f"{what}: unsupported manifest media type {mt!r}")
    return str(mt)


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int


def descriptor(value: Any, what: str) -> Descriptor:
    """A content descriptor, validated (digest syntax, size, media type)."""
    if not isinstance(value, dict):
        raise InputError(f"{what}: a descriptor is not a JSON object")
    digest, size, media = value.get("digest"), value.get("size"), value.get("mediaType", "")
    if not isinstance(digest, str):
        raise InputError(f"{what}: a descriptor has no digest")
    check_digest_syntax(digest, what)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InputError(f"{what}: descriptor {digest} has no valid size")
    if not isinstance(media, str):
        raise InputError(f"{what}: descriptor {digest} has a mediaType that is not a string")
    return Descriptor(media, digest, size)


def layer_descriptors(doc: dict[str, Any], what: str) -> tuple[Descriptor, ...]:
    config = doc.get("config")
    layers = doc.get("layers")
    if not isinstance(config, dict) or not isinstance(layers, list):
        raise InputError(f"{what}: image manifest without config or layers")
    return tuple(descriptor(d, what) for d in layers)


def platform_of(desc: dict[str, Any]) -> Platform | None:
    p = desc.get("platform")
    if not isinstance(p, dict):
        return None
    variant = p.get("variant")
    return Platform(str(p.get("os", "")), str(p.get("architecture", "")),
                    variant if isinstance(variant, str) and variant else None)


def select_platform(index: dict[str, Any], want: Platform, what: str,
                    explicit: bool = True) -> dict[str, Any]:
    """The manifest descriptor of an index that matches `want`.

    Attestation manifests (platform unknown/unknown) are never chosen. When
    the user named no platform and the index offers exactly one, it is taken.
    No match is an error listing the platforms the index offers.
    """
    manifests = index.get("manifests")
    if not isinstance(manifests, list):
        raise InputError(f"{what}: index without a manifests list")
    real: list[tuple[Platform, dict[str, Any]]] = []
    for desc in manifests:
        if not isinstance(desc, dict):
            continue
        plat = platform_of(desc)
        if plat is None or plat.os == "unknown":
            continue
        real.append((plat, desc))
    for plat, desc in real:
        if want.matches(plat):
            return desc
    if not explicit and len(real) == 1:
        return real[0][1]
    listing = ", ".join(sorted({str(p) for p, _ in real})) or "none"
    raise InputError(f"{what}: no image for platform {want}; available: {listing}",
                     "choose one with --platform OS/ARCH[/VARIANT]")
