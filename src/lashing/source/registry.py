"""Images pulled from a registry over the Distribution API v2, no daemon.

The manifest named by the reference is fetched (an image index selects the
`--platform`), then the config blob; each layer is downloaded into the blob
cache when the filesystem stage first opens it, and read from the cache
after that. source/distribution.py speaks the protocol and verifies every
digest: the manifest against the reference's digest and the
`Docker-Content-Digest` header, the platform manifest against its index
entry, config and layers against their descriptors.

`manifest_digest` is the digest of the platform's image manifest (what the
config and layers belong to); `repo_digests` holds the digest the registry
serves for the reference, which for a multi-platform image is the index's,
as in Docker's RepoDigests. `repo_tags` use the normalised name
(`docker.io/library/alpine:3.20`).
"""

from __future__ import annotations

from functools import partial
from typing import IO, Any

from lashing.cache import BlobCache
from lashing.errors import DigestMismatchError, InputError
from lashing.http import HttpClient
from lashing.options import SourceOptions
from lashing.progress import Progress
from lashing.source.distribution import RegistryClient, schema1_error
from lashing.source.image import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    MEDIA_DOCKER_CONFIG,
    MEDIA_OCI_CONFIG,
    Image,
    Opener,
    build_layers,
    parse_config,
)
from lashing.source.manifest import Descriptor, descriptor, select_platform
from lashing.source.reference import Reference, parse_reference

CONFIG_TYPES = (MEDIA_OCI_CONFIG, MEDIA_DOCKER_CONFIG)


def make_http_client(options: SourceOptions) -> HttpClient:
    return HttpClient(
        timeout=options.timeout,
        retries=options.retries,
        ca_file=options.ca_file,
        insecure_hosts=options.insecure_registries,
    )


def open_registry_image(
    text: str, options: SourceOptions, progress: Progress, *, http: HttpClient | None = None
) -> Image:
    """The image named by `text` (`REF` or `docker://REF`): manifest and config
    are fetched now, layers when opened. `http` replaces the client built from
    `options` (tests use it for short backoffs and their own certs.d)."""
    ref = parse_reference(text)
    client = http if http is not None else make_http_client(options)
    cache = BlobCache(options.cache_dir, options.cache_max_bytes)
    return _Puller(ref, options, RegistryClient(ref, options, client, cache)).pull(text, progress)


class _Puller:
    def __init__(self, ref: Reference, options: SourceOptions, client: RegistryClient) -> None:
        self.ref = ref
        self.options = options
        self.client = client

    def pull(self, text: str, progress: Progress) -> Image:
        ref = self.ref
        what = str(ref)
        body, top_digest, doc = self.client.manifest(ref.reference, ref.digest, what)
        manifest_digest = top_digest
        if _kind(doc, what) == "index":
            desc = self._select_platform(doc, what)
            what = f"{ref.repository_name}@{desc.digest} ({what})"
            body, manifest_digest, doc = self.client.manifest(desc.digest, desc.digest, what)
            if len(body) != desc.size:
                raise DigestMismatchError(
                    f"{what}: manifest is {len(body)} bytes, the index says {desc.size}"
                )
            if _kind(doc, what) == "index":
                raise InputError(f"{what}: nested image indexes are not supported")
        config_desc = descriptor(doc.get("config"), what)
        if config_desc.media_type and config_desc.media_type not in CONFIG_TYPES:
            raise InputError(
                f"{what}: not a container image (config media type {config_desc.media_type})"
            )
        config_bytes = self.client.json_blob(config_desc, f"{what}: config")
        config = parse_config(config_bytes, f"{what}: config {config_desc.digest}")
        raw_layers = doc.get("layers")
        if not isinstance(raw_layers, list):
            raise InputError(f"{what}: manifest has no layers list")
        blobs: list[tuple[str | None, str, int | None, Opener]] = []
        for item in raw_layers:
            d = descriptor(item, what)
            blobs.append((d.digest, d.media_type, d.size, partial(self._open_layer, d, progress)))
        layers = build_layers(config, blobs, what)
        return Image(
            reference=text,
            image_id=config_desc.digest,
            manifest_digest=manifest_digest,
            repo_digests=(f"{ref.repository_name}@{top_digest}",),
            repo_tags=(f"{ref.repository_name}:{ref.tag}",) if ref.tag else (),
            config=config,
            layers=layers,
        )

    def _select_platform(self, doc: dict[str, Any], what: str) -> Descriptor:
        entry = select_platform(doc, self.options.platform, what, self.options.platform_explicit)
        return descriptor(entry, what)

    def _open_layer(self, desc: Descriptor, progress: Progress) -> IO[bytes]:
        return self.client.open_blob(desc, f"{self.ref}: layer {desc.digest}", progress)


def _kind(doc: dict[str, Any], what: str) -> str:
    """'index' or 'manifest'; anything else is refused."""
    if doc.get("schemaVersion") == 1:
        raise schema1_error(what)
    media = doc.get("mediaType")
    if media in INDEX_TYPES:
        return "index"
    if media in MANIFEST_TYPES:
        return "manifest"
    if media is None and isinstance(doc.get("manifests"), list):
        return "index"
    if media is None and "config" in doc and "layers" in doc:
        return "manifest"
    raise InputError(f"{what}: not a container image manifest (media type {media!r})")
