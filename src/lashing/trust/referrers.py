"""OCI 1.1 referrers: the signatures and attestations that point at a digest.

A signature pushed as a referrer is a manifest whose `subject` names the
signed manifest and whose `artifactType` says what it is: a Sigstore bundle
(`application/vnd.dev.sigstore.bundle.v0.3+json`, the bundle is its one
layer) or a cosign signature (`application/vnd.dev.cosign.artifact.sig.v1+json`,
simple-signing layers as in the `.sig` tag scheme). They are listed by

- the referrers API, `GET /v2/<name>/referrers/<digest>[?artifactType=...]`,
  which answers an image index of descriptors (the filter may be ignored by
  the registry, so the list is filtered here too; `Link` pages are followed on
  the same registry); or, when the registry does
  not serve it (404, or an answer that is not an image index),
- the referrers tag schema: the index tagged `sha256-<hex>` in the repository,
  kept up to date by the client that pushed the referrer.

(https://github.com/opencontainers/distribution-spec/blob/main/spec.md,
"Listing Referrers" and "Referrers Tag Schema".) Registry failures other than
"not found" propagate: an unreachable registry never reads as "unsigned".
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin

from lashing.errors import InputError, LimitExceededError, ManifestUnknownError
from lashing.source.distribution import RegistryClient
from lashing.source.image import MEDIA_OCI_INDEX, check_digest_syntax
from lashing.trust.bundle import BUNDLE_TYPES

COSIGN_SIGNATURE_ARTIFACT = "application/vnd.dev.cosign.artifact.sig.v1+json"
SIGNATURE_ARTIFACT_TYPES = (*BUNDLE_TYPES, COSIGN_SIGNATURE_ARTIFACT)
MAX_REFERRERS = 64  # signature referrers checked per digest
MAX_LISTED = 1024  # referrers of any type listed per digest
MAX_PAGES = 8  # referrers API pages followed
VIA_API = "the referrers API"


@dataclass(frozen=True)
class Referrer:
    digest: str
    media_type: str
    artifact_type: str
    size: int


@dataclass(frozen=True)
class Referrers:
    via: str  # VIA_API, or "referrers tag REPO:sha256-<hex>"
    items: tuple[Referrer, ...] = ()
    error: str | None = None  # the list could not be read (malformed, over a limit)


def referrers_tag(digest: str) -> str:
    """`sha256:<hex>` -> `sha256-<hex>` (the referrers tag schema)."""
    algorithm, _, hexpart = digest.partition(":")
    return f"{algorithm}-{hexpart}"


class ReferrersClient(RegistryClient):
    """A repository's referrers, through the API or the tag schema fallback."""

    def referrers(self, digest: str, artifact_types: Collection[str] = ()) -> Referrers:
        check_digest_syntax(digest, "referrers")
        found = self._from_api(digest, artifact_types)
        if found is not None:
            return found
        tag = referrers_tag(digest)
        via = f"referrers tag {self.ref.repository_name}:{tag}"
        try:
            _, _, doc = self.manifest(tag, None, via)
        except ManifestUnknownError:
            return Referrers(via)
        except InputError as exc:  # not JSON, over the JSON limit
            return Referrers(via, error=exc.message)
        manifests = doc.get("manifests")
        if not isinstance(manifests, list):
            return Referrers(via, error=f"{via} is not an image index")
        return _referrers(manifests, via, artifact_types)

    def _from_api(self, digest: str, artifact_types: Collection[str]) -> Referrers | None:
        """The referrers the API lists (following `Link: <...>; rel="next"` pages on
        the same registry); None when the registry does not serve the API."""
        url = f"{self.base}{self.ref.repository}/referrers/{digest}"
        if len(artifact_types) == 1:
            url += "?artifactType=" + quote(next(iter(artifact_types)), safe="")
        what = f"referrers of {self.ref.repository_name}@{digest}"
        entries: list[Any] = []
        for page in range(MAX_PAGES):
            with self._request(url, what, MEDIA_OCI_INDEX) as response:
                if response.status == 404 and page == 0:
                    return None
                if response.status != 200:
                    raise self._status_error(response, what)
                content_type = response.headers.get("content-type", "").split(";")[0].strip()
                try:
                    body = response.read(self.max_json) if content_type == MEDIA_OCI_INDEX else b""
                except LimitExceededError:
                    return Referrers(VIA_API, error=f"{what}: over the {self.max_json}-byte "
                                                    "limit for JSON")
                link = response.headers.get("link")
            manifests = _manifests(body)
            if manifests is None:
                if page == 0:
                    return None  # not the referrers API: some other answer
                return Referrers(VIA_API, error=f"{what}: page {page + 1} is not an image index")
            entries.extend(manifests)
            if len(entries) > MAX_LISTED:
                return Referrers(VIA_API, error=f"{what}: more than {MAX_LISTED} referrers")
            next_url = _next_page(link, url, self.base)
            if next_url is None:
                break
            url = next_url
        return _referrers(entries, VIA_API, artifact_types)


def _manifests(body: bytes) -> list[Any] | None:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    manifests = doc.get("manifests") if isinstance(doc, dict) else None
    return manifests if isinstance(manifests, list) else None


def _next_page(link: str | None, url: str, base: str) -> str | None:
    """The `rel="next"` target of a Link header, only on the same registry (the
    request carries credentials)."""
    if not link:
        return None
    for part in link.split(","):
        target, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            candidate = urljoin(url, target.strip().strip("<>"))
            if candidate.startswith(base):
                return candidate
    return None


def _referrers(manifests: list[Any], via: str, artifact_types: Collection[str]) -> Referrers:
    """The descriptors of the wanted artifact types (at most MAX_REFERRERS)."""
    if len(manifests) > MAX_LISTED:
        return Referrers(via, error=f"{via} lists {len(manifests)} referrers "
                                    f"(limit {MAX_LISTED})")
    items: list[Referrer] = []
    for entry in manifests:
        if not isinstance(entry, dict):
            continue
        artifact = entry.get("artifactType")
        digest, size = entry.get("digest"), entry.get("size")
        if not isinstance(artifact, str) or (artifact_types and artifact not in artifact_types):
            continue
        if not isinstance(digest, str) or not isinstance(size, int) or isinstance(size, bool):
            continue
        try:
            check_digest_syntax(digest, via)
        except InputError:
            continue
        items.append(Referrer(digest, str(entry.get("mediaType", "")), artifact, size))
        if len(items) >= MAX_REFERRERS:
            break
    return Referrers(via, tuple(items))
