"""Deciding what a cosign signature manifest proves about one digest.

`evaluate_signatures` is pure: it gets the signature manifest, a function
that fetches a payload blob, the trusted keys and the digest that must be
signed, and returns one `SignatureOutcome`. Any one layer that verifies with
a trusted key and signs this digest makes the image verified; otherwise the
most telling failure is reported (a validly signed payload for another
digest, then a payload naming another repository, then a signature that
does not verify, then a malformed layer). Nothing here raises for bad
signature material: it all becomes an outcome, and so a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from lashing.errors import InputError
from lashing.source.manifest import Descriptor, descriptor
from lashing.source.reference import parse_reference
from lashing.trust.cosign import (
    PAYLOAD_TYPE,
    SIGNATURE_ANNOTATION,
    SIMPLESIGNING_TYPE,
    TrustedKey,
    decode_signature,
    parse_payload,
    verify_with,
)

DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024
DEFAULT_MAX_SIGNATURE_LAYERS = 64


class SignatureStatus(StrEnum):
    VERIFIED = "verified"
    UNSIGNED = "unsigned"
    INVALID = "invalid-signature"
    DIGEST_MISMATCH = "digest-mismatch"
    IDENTITY_MISMATCH = "identity-mismatch"
    MALFORMED = "malformed-signature"
    UNTRUSTED_IDENTITY = "untrusted-identity"  # keyless: a signer the policy does not trust
    TLOG_INVALID = "tlog-invalid"  # keyless: no verifiable transparency log entry
    NOT_REQUIRED = "not-required"  # the policy names no keys for this image


# Worst first: what to report when no layer (or signature source) verifies.
_RANK = (
    SignatureStatus.DIGEST_MISMATCH,
    SignatureStatus.IDENTITY_MISMATCH,
    SignatureStatus.UNTRUSTED_IDENTITY,
    SignatureStatus.INVALID,
    SignatureStatus.TLOG_INVALID,
    SignatureStatus.MALFORMED,
)


@dataclass(frozen=True)
class SignatureOutcome:
    status: SignatureStatus
    digest: str | None = None  # the manifest digest whose signature was checked
    signature_ref: str | None = None  # REPO:sha256-<hex>.sig
    key: str | None = None  # the key file that verified it
    detail: str = ""


Fetch = Callable[[Descriptor], bytes]
# Keyless layers (cosign's certificate annotations): (layer annotations, payload,
# signature) -> (status, detail, signer); None when the layer carries no certificate.
KeylessCheck = Callable[[dict[str, Any], bytes, bytes],
                        tuple[SignatureStatus, str, str | None] | None]


def evaluate_signatures(
    doc: Any,
    fetch: Fetch,
    keys: Sequence[TrustedKey],
    digest: str,
    repository_name: str,
    *,
    signature_ref: str,
    check_docker_reference: bool = False,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    max_layers: int = DEFAULT_MAX_SIGNATURE_LAYERS,
    keyless: KeylessCheck | None = None,
) -> SignatureOutcome:
    def out(status: SignatureStatus, detail: str, key: str | None = None) -> SignatureOutcome:
        return SignatureOutcome(status, digest, signature_ref, key, detail)

    if not isinstance(doc, dict):
        return out(SignatureStatus.MALFORMED, "the signature manifest is not a JSON object")
    layers = doc.get("layers")
    if not isinstance(layers, list) or not layers:
        return out(SignatureStatus.MALFORMED, "the signature manifest has no layers")
    if len(layers) > max_layers:
        return out(SignatureStatus.MALFORMED,
                   f"the signature manifest has {len(layers)} layers (limit {max_layers})")
    failures: list[tuple[SignatureStatus, str]] = []
    for n, layer in enumerate(layers, 1):
        status, detail, key = _layer(layer, n, fetch, keys, digest, repository_name,
                                     check_docker_reference, max_payload_bytes, keyless)
        if status is SignatureStatus.VERIFIED:
            return out(status, detail, key)
        failures.append((status, detail))
    worst = min(failures, key=lambda f: _RANK.index(f[0]))
    details = "; ".join(d for s, d in failures if s is worst[0])
    return out(worst[0], details)


def _layer(
    layer: Any,
    n: int,
    fetch: Fetch,
    keys: Sequence[TrustedKey],
    digest: str,
    repository_name: str,
    check_docker_reference: bool,
    max_payload_bytes: int,
    keyless: KeylessCheck | None = None,
) -> tuple[SignatureStatus, str, str | None]:
    where = f"layer {n}"
    try:
        desc = descriptor(layer, where)
    except InputError as exc:
        return SignatureStatus.MALFORMED, exc.message, None
    if desc.media_type != SIMPLESIGNING_TYPE:
        return (SignatureStatus.MALFORMED,
                f"{where}: media type {desc.media_type!r} is not {SIMPLESIGNING_TYPE}", None)
    annotations = layer.get("annotations") if isinstance(layer, dict) else None
    try:
        signature = decode_signature(
            annotations.get(SIGNATURE_ANNOTATION) if isinstance(annotations, dict) else None)
    except ValueError as exc:
        return SignatureStatus.MALFORMED, f"{where}: {exc}", None
    if desc.size > max_payload_bytes:
        return (SignatureStatus.MALFORMED,
                f"{where}: payload of {desc.size} bytes is over the {max_payload_bytes}-byte "
                "limit", None)
    try:
        payload = fetch(desc)
    except InputError as exc:  # wrong digest or size, over a limit
        return SignatureStatus.MALFORMED, f"{where}: payload {desc.digest}: {exc.message}", None
    if len(payload) > max_payload_bytes:
        return (SignatureStatus.MALFORMED,
                f"{where}: payload is over the {max_payload_bytes}-byte limit", None)
    key = next((k for k in keys if verify_with(k, signature, payload)), None)
    signer = key.name if key is not None else None
    algorithm = key.algorithm if key is not None else "keyless"
    if key is None and keyless is not None:
        result = keyless(annotations if isinstance(annotations, dict) else {}, payload,
                         signature)
        if result is not None:
            status, detail, signer = result
            if status is not SignatureStatus.VERIFIED:
                return status, f"{where}: {detail}", None
    if signer is None:
        names = ", ".join(k.name for k in keys) or "no key (the policy names none)"
        return (SignatureStatus.INVALID,
                f"{where}: the signature does not verify with {names}", None)
    # Only a verified payload's claims are read.
    try:
        claims = parse_payload(payload)
    except ValueError as exc:
        return SignatureStatus.MALFORMED, f"{where}: {exc}", None
    if claims.payload_type != PAYLOAD_TYPE:
        return (SignatureStatus.MALFORMED,
                f"{where}: payload type {claims.payload_type!r} is not {PAYLOAD_TYPE!r}", None)
    if claims.manifest_digest != digest:
        return (SignatureStatus.DIGEST_MISMATCH,
                f"{where}: signed by {signer} for {claims.manifest_digest[:80]}, "
                f"not for {digest}", None)
    if check_docker_reference:
        signed_for = _repository(claims.docker_reference)
        if signed_for != repository_name:
            return (SignatureStatus.IDENTITY_MISMATCH,
                    f"{where}: signed by {signer} for docker-reference "
                    f"{(claims.docker_reference or 'none')[:200]!r}, not {repository_name}", None)
    return (SignatureStatus.VERIFIED,
            f"signature by {signer} ({algorithm}) over {digest}", signer)


def _repository(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return parse_reference(text).repository_name
    except InputError:
        return None


def combine(outcomes: Sequence[SignatureOutcome]) -> SignatureOutcome:
    """One outcome from several signature sources (the `.sig` tag, referrers):
    any verified one wins; else the most telling failure; unsigned only when
    no source holds anything."""
    verified = next((o for o in outcomes if o.status is SignatureStatus.VERIFIED), None)
    if verified is not None:
        return verified
    failures = [o for o in outcomes if o.status in _RANK]
    if not failures:
        first = outcomes[0]
        return replace(first, detail="; ".join(o.detail for o in outcomes if o.detail))
    worst = min(failures, key=lambda o: _RANK.index(o.status))
    same = [o for o in failures if o.status is worst.status]
    if len(same) == 1:
        return worst
    return replace(worst, detail="; ".join(
        f"{o.signature_ref}: {o.detail}" if o.signature_ref else o.detail for o in same))
