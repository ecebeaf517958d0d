"""Signatures of the images a manifest names (`lashing scan --policy P --verify-images`).

Each image a Kubernetes manifest or compose file names (an `ImageUse`: the
reference and the file, line and resource naming it) whose policy requires a
signature is verified through its registry exactly as `lashing verify` does,
once per distinct reference. A failing image gives one provenance finding
per place that names it, at that place: the signature finding (LSH-TRUST-001
to 005, 012, 013) and, as the image configuration is now at hand, the
maximum-age finding (LSH-TRUST-010). The policy-only rules (registries,
repositories, digest pinning, latest) are reported by the offline check
(`lashing.trust.references`) and are not repeated.

A registry that cannot be reached, or an image that is not there, is an
error naming the manifest, the image and the reason (exit 3): an image that
could not be checked never passes as verified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from lashing.cache import BlobCache
from lashing.errors import LashingError
from lashing.model import Finding, Issue, Location
from lashing.options import SourceOptions
from lashing.rules.trust import SIGNATURE_RULES
from lashing.source.registry import make_http_client
from lashing.trust.cosign import TrustedKey
from lashing.trust.policy import Policy
from lashing.trust.trusted_root import TrustedRoot
from lashing.trust.verify import ImageVerification, VerifyOptions, verify_image

Result = tuple[list[Finding], list[Issue]]
_REPORTED = frozenset({*(r.id for r in SIGNATURE_RULES), "LSH-TRUST-010"})


@dataclass(frozen=True)
class ImageUse:
    reference: str  # as the manifest names it
    location: Location  # file, line and resource
    target: str  # the scan target the finding belongs to
    identity: str  # the target identity (the file), for fingerprints
    key: str  # what names the image (resource:role/container), for fingerprints


def _where(location: Location) -> str:
    text = location.path or "-"
    if location.line:
        text += f":{location.line}"
    if location.resource:
        text += f" ({location.resource})"
    return text


def verify_uses(uses: Sequence[ImageUse], policy: Policy, source: SourceOptions) -> Result:
    """Findings for every use of an image whose signature does not verify."""
    wanted = [u for u in uses if policy.for_reference(u.reference).requires_signature]
    out: Result = ([], [])
    if not wanted:
        return out
    results: dict[str, ImageVerification] = {}
    keys: dict[str, TrustedKey] = {}
    roots: dict[str, TrustedRoot] = {}
    options = VerifyOptions(source=source)
    with make_http_client(source) as http:
        cache = BlobCache(source.cache_dir, source.cache_max_bytes)
        for use in wanted:
            if use.reference not in results:
                try:
                    results[use.reference] = verify_image(use.reference, policy, options, http,
                                                          cache, keys, roots)
                except LashingError as exc:
                    exc.message = (f"{_where(use.location)}: image {use.reference}: "
                                   f"{exc.message}")
                    raise
            for f in results[use.reference].findings:
                if f.rule_id in _REPORTED:
                    out[0].append(replace(f, target=use.target, location=use.location,
                                          target_identity=use.identity,
                                          anchor=f"{use.key}:{f.anchor}"))
    return out
