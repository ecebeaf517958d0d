"""Finding cosign signatures in a registry.

The signature of manifest `sha256:<hex>` is the manifest tagged
`sha256-<hex>.sig` in the image's repository, or in the signature repository
the policy or `--signature-repository` names (cosign's `COSIGN_REPOSITORY`);
see https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md.

Only the tag scheme is searched. OCI 1.1 referrers (the `/referrers` API and
its `sha256-<hex>` referrers tag fallback) and Sigstore bundles are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lashing.cache import BlobCache
from lashing.errors import InputError, ManifestUnknownError
from lashing.http import HttpClient
from lashing.options import SourceOptions
from lashing.source.distribution import RegistryClient
from lashing.source.manifest import Descriptor
from lashing.source.reference import Reference, parse_reference
from lashing.trust.cosign import signature_tag


@dataclass(frozen=True)
class SignatureManifest:
    ref: str  # REPO:sha256-<hex>.sig
    doc: Any | None  # parsed manifest; None when it could not be read
    error: str | None = None  # why it could not be read (malformed, over a limit)


class SignatureSource:
    """Signature manifests and payload blobs of one signature repository."""

    def __init__(self, repository_name: str, options: SourceOptions, http: HttpClient,
                 cache: BlobCache) -> None:
        base = parse_reference(repository_name)
        self.repository = Reference(base.registry, base.repository)
        self.client = RegistryClient(self.repository, options, http, cache)

    def find(self, digest: str) -> SignatureManifest | None:
        """The signature manifest for `digest`; None when there is none (unsigned).

        Registry failures other than "manifest unknown" propagate (exit 3): an
        unreachable registry never reads as "unsigned"."""
        tag = signature_tag(digest)
        where = f"{self.repository.repository_name}:{tag}"
        try:
            _, _, doc = self.client.manifest(tag, None, f"signature {where}")
        except ManifestUnknownError:
            return None
        except InputError as exc:  # not JSON, over the JSON limit, schema 1
            return SignatureManifest(where, None, exc.message)
        return SignatureManifest(where, doc)

    def fetch(self, desc: Descriptor) -> bytes:
        """A payload blob, verified against its digest and size."""
        return self.client.json_blob(desc, f"signature payload {desc.digest}")

