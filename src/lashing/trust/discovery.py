"""Finding signatures in a registry.

Two places are searched, in the image's repository or in the signature
repository the policy or `--signature-repository` names (cosign's
`COSIGN_REPOSITORY`):

- the cosign tag scheme: the signature of manifest `sha256:<hex>` is the
  manifest tagged `sha256-<hex>.sig`
  (https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md);
- OCI 1.1 referrers of the digest (`lashing.trust.referrers`: the referrers
  API, or its `sha256-<hex>` referrers tag fallback) whose artifact type is a
  Sigstore bundle or a cosign signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lashing.cache import BlobCache
from lashing.errors import InputError, ManifestUnknownError
from lashing.http import HttpClient
from lashing.options import SourceOptions
from lashing.source.manifest import Descriptor
from lashing.source.reference import Reference, parse_reference
from lashing.trust.cosign import signature_tag
from lashing.trust.referrers import SIGNATURE_ARTIFACT_TYPES, Referrer, Referrers, ReferrersClient


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
        self.client = ReferrersClient(self.repository, options, http, cache)

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

    def referrers(self, digest: str) -> Referrers:
        """The signature and bundle referrers of `digest` (one unfiltered listing,
        filtered here to the signature artifact types)."""
        return self.client.referrers(digest, SIGNATURE_ARTIFACT_TYPES)

    def referrer_manifest(self, referrer: Referrer) -> Any:
        """A referrer's manifest, verified against its digest; InputError when
        it is not JSON or over the JSON limit."""
        where = f"{self.repository.repository_name}@{referrer.digest}"
        _, _, doc = self.client.manifest(referrer.digest, referrer.digest, f"referrer {where}")
        return doc

