"""Verifying one image: resolve its digest, check its signatures with the
policy's keys and keyless identities, apply the policy, and turn all of it
into findings.

Signatures are looked for in the cosign `.sig` tag and among the digest's
OCI 1.1 referrers (cosign signature manifests and Sigstore bundles); any one
that verifies is enough, otherwise the most telling failure is reported.

The digest checked is the one the registry serves for the reference: for a
multi-platform image that is the index digest (what `cosign sign` on a tag
signs). When the index itself carries no signature, the platform manifest's
signature is tried too (`cosign sign --recursive` signs each), and the
result says which digest was verified.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from lashing.cache import BlobCache
from lashing.errors import InputError
from lashing.http import HttpClient
from lashing.model import Check, Finding, Target, TargetKind
from lashing.options import SourceOptions
from lashing.progress import NullProgress
from lashing.rules.framework import evaluate
from lashing.rules.trust import POLICY_RULES, RULES, SIGNATURE_RULES, TrustSubject
from lashing.source.distribution import RegistryClient
from lashing.source.image import INDEX_TYPES
from lashing.source.manifest import descriptor, select_platform
from lashing.source.reference import Reference, parse_reference
from lashing.source.registry import open_registry_image
from lashing.trust.bundle import BUNDLE_TYPES, MAX_BUNDLE_BYTES
from lashing.trust.cosign import TrustedKey, load_key
from lashing.trust.discovery import SignatureSource
from lashing.trust.policy import ImagePolicy, Policy
from lashing.trust.referrers import COSIGN_SIGNATURE_ARTIFACT
from lashing.trust.signatures import (
    DEFAULT_MAX_PAYLOAD_BYTES,
    DEFAULT_MAX_SIGNATURE_LAYERS,
    SignatureOutcome,
    SignatureStatus,
    combine,
    evaluate_signatures,
)
from lashing.trust.sigstore import Verifier, evaluate_bundle, keyless_layer_check
from lashing.trust.trusted_root import TrustedRoot, load_trusted_root


class ImageStatus(StrEnum):
    VERIFIED = "verified"
    UNSIGNED = "unsigned"
    INVALID = "invalid-signature"
    DIGEST_MISMATCH = "digest-mismatch"
    IDENTITY_MISMATCH = "identity-mismatch"
    MALFORMED = "malformed-signature"
    UNTRUSTED_IDENTITY = "untrusted-identity"
    TLOG_INVALID = "tlog-invalid"
    POLICY_VIOLATION = "policy-violation"


@dataclass(frozen=True)
class VerifyOptions:
    source: SourceOptions = field(default_factory=SourceOptions)
    signature_repository: str | None = None  # overrides the policy's
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    max_signature_layers: int = DEFAULT_MAX_SIGNATURE_LAYERS
    now: datetime | None = None
    skip_rules: frozenset[str] = frozenset()  # rule ids or aliases not to evaluate


@dataclass(frozen=True)
class ImageVerification:
    reference: str
    status: ImageStatus
    digest: str | None  # the manifest digest the reference resolved to
    verified_digest: str | None  # the digest whose signature verified, if any
    key: str | None  # the key file that verified it
    signature: SignatureOutcome
    findings: tuple[Finding, ...]
    checks: tuple[Check, ...]
    target: Target
    warnings: tuple[str, ...] = ()  # signature failures in warn mode

    @property
    def ok(self) -> bool:
        return self.status is ImageStatus.VERIFIED

    def summary(self) -> str:
        if self.status is ImageStatus.VERIFIED:
            if self.key:
                return f"verified {self.verified_digest} with {self.key}"
            if self.warnings:
                return (f"passed in policy mode warn, signature {self.signature.status.value}: "
                        f"{self.signature.detail}")
            return "no signature required; policy satisfied"
        return f"{self.status.value}: {self.signature.detail or self.status.value}"


def verifier_for(pol: ImagePolicy, keys: dict[str, TrustedKey] | None = None,
                 roots: dict[str, TrustedRoot] | None = None) -> Verifier:
    """The keys and keyless identities `pol` trusts, loaded once into the caches
    `keys` and `roots` (shared across images). A bad key or trusted root is an
    InputError."""
    loaded = keys if keys is not None else {}
    for path in pol.keys:
        if str(path) not in loaded:
            loaded[str(path)] = load_key(path)
    root = None
    if pol.keyless and pol.trusted_root is not None:
        cached = roots if roots is not None else {}
        name = str(pol.trusted_root)
        if name not in cached:
            cached[name] = load_trusted_root(pol.trusted_root)
        root = cached[name]
    return Verifier(tuple(loaded[str(path)] for path in pol.keys), pol.keyless, root)


def verify_image(text: str, policy: Policy, options: VerifyOptions, http: HttpClient,
                 cache: BlobCache, keys: dict[str, TrustedKey] | None = None,
                 roots: dict[str, TrustedRoot] | None = None) -> ImageVerification:
    """Everything about one image. Bad signature material is a finding; a bad
    reference or policy is an InputError, an unreachable registry a RegistryError."""
    ref = parse_reference(text)
    pol = policy.for_repository(ref.repository_name)
    verifier = verifier_for(pol, keys, roots)
    client = RegistryClient(ref, options.source, http, cache)
    what = str(ref)
    _, digest, doc = client.manifest(ref.reference, ref.digest, what)
    outcome = SignatureOutcome(SignatureStatus.NOT_REQUIRED, digest)
    if pol.requires_signature:
        outcome = _check_signatures(ref, pol, digest, doc, verifier, options, http, cache)
    created = _created(text, options, http) if pol.max_age_days is not None else None
    insecure = http.is_insecure(ref.registry) or http.is_insecure(ref.api_host)
    subject = TrustSubject(reference=text.strip(), policy=pol, signature=outcome,
                           created=created, now=options.now, insecure_transport=insecure)
    target_name = text.strip()
    findings, checks = evaluate(RULES, subject, target_name, f"{ref.repository_name}@{digest}",
                               options.skip_rules)
    for i, c in enumerate(checks):
        if c.rule_id == "LSH-TRUST-001" and outcome.status is SignatureStatus.VERIFIED:
            checks[i] = replace(c, reason=outcome.detail)
    status, warnings = _status(findings, pol)
    verified = outcome.status is SignatureStatus.VERIFIED
    return ImageVerification(
        reference=target_name,
        status=status,
        digest=digest,
        verified_digest=outcome.digest if verified else None,
        key=outcome.key if verified else None,
        signature=outcome,
        findings=tuple(findings),
        checks=tuple(checks),
        target=Target(name=target_name, kind=TargetKind.IMAGE, image_id=_config_digest(doc),
                      manifest_digest=digest,
                      repo_digests=(f"{ref.repository_name}@{digest}",)),
        warnings=warnings,
    )


_SIGNATURE_IDS = {r.id for r in SIGNATURE_RULES}
_POLICY_IDS = {r.id for r in POLICY_RULES}
_STATUS_BY_RULE = {
    "LSH-TRUST-001": ImageStatus.UNSIGNED,
    "LSH-TRUST-002": ImageStatus.INVALID,
    "LSH-TRUST-003": ImageStatus.DIGEST_MISMATCH,
    "LSH-TRUST-004": ImageStatus.MALFORMED,
    "LSH-TRUST-005": ImageStatus.IDENTITY_MISMATCH,
    "LSH-TRUST-012": ImageStatus.UNTRUSTED_IDENTITY,
    "LSH-TRUST-013": ImageStatus.TLOG_INVALID,
}


def _status(findings: list[Finding], pol: ImagePolicy) -> tuple[ImageStatus, tuple[str, ...]]:
    """Signature findings decide first (unless the policy only warns), then any
    policy finding is a policy violation. Transport findings (plain HTTP) are
    reported but do not decide."""
    live = [f for f in findings if f.suppression is None]
    signature = [f for f in live if f.rule_id in _SIGNATURE_IDS]
    if signature and pol.enforced:
        return _STATUS_BY_RULE[signature[0].rule_id], ()
    warnings = tuple(f.message for f in signature)
    if any(f.rule_id in _POLICY_IDS for f in live):
        return ImageStatus.POLICY_VIOLATION, warnings
    return ImageStatus.VERIFIED, warnings


def _check_signatures(ref: Reference, pol: ImagePolicy, digest: str, doc: dict[str, Any],
                      verifier: Verifier, options: VerifyOptions, http: HttpClient,
                      cache: BlobCache) -> SignatureOutcome:
    repo = options.signature_repository or pol.signature_repository or ref.repository_name
    source = SignatureSource(repo, options.source, http, cache)
    first = _outcome(source, digest, ref, pol, verifier, options)
    if first.status is not SignatureStatus.UNSIGNED or not _is_index(doc):
        return first
    # An unsigned index: the platform manifest may be signed on its own.
    try:
        entry = select_platform(doc, options.source.platform, str(ref),
                                options.source.platform_explicit)
        platform_digest = descriptor(entry, str(ref)).digest
    except InputError:
        return first
    second = _outcome(source, platform_digest, ref, pol, verifier, options)
    if second.status is SignatureStatus.UNSIGNED:
        return replace(first, detail=f"neither the index {digest} nor the platform manifest "
                                     f"{platform_digest} is signed")
    return second


def _outcome(source: SignatureSource, digest: str, ref: Reference, pol: ImagePolicy,
             verifier: Verifier, options: VerifyOptions) -> SignatureOutcome:
    """The `.sig` tag and the referrers of `digest`, combined."""
    return combine([_tag_outcome(source, digest, ref, pol, verifier, options),
                    *_referrer_outcomes(source, digest, ref, pol, verifier, options)])


def _tag_outcome(source: SignatureSource, digest: str, ref: Reference, pol: ImagePolicy,
                 verifier: Verifier, options: VerifyOptions) -> SignatureOutcome:
    found = source.find(digest)
    if found is None:
        tag = f"{source.repository.repository_name}:sha256-{digest.partition(':')[2]}.sig"
        return SignatureOutcome(SignatureStatus.UNSIGNED, digest, tag,
                                detail=f"no signature manifest {tag}")
    if found.doc is None:
        return SignatureOutcome(SignatureStatus.MALFORMED, digest, found.ref,
                                detail=found.error or "unreadable signature manifest")
    return _simple_signing(found.doc, source, digest, ref, pol, verifier, options, found.ref)


def _simple_signing(doc: Any, source: SignatureSource, digest: str, ref: Reference,
                    pol: ImagePolicy, verifier: Verifier, options: VerifyOptions,
                    where: str) -> SignatureOutcome:
    return evaluate_signatures(doc, source.fetch, verifier.keys, digest, ref.repository_name,
                               signature_ref=where,
                               check_docker_reference=pol.check_docker_reference,
                               max_payload_bytes=options.max_payload_bytes,
                               max_layers=options.max_signature_layers,
                               keyless=keyless_layer_check(verifier))


def _referrer_outcomes(source: SignatureSource, digest: str, ref: Reference,
                       pol: ImagePolicy, verifier: Verifier,
                       options: VerifyOptions) -> list[SignatureOutcome]:
    found = source.referrers(digest)
    if found.error is not None:
        return [SignatureOutcome(SignatureStatus.MALFORMED, digest, found.via,
                                 detail=found.error)]
    if not found.items:
        return [SignatureOutcome(SignatureStatus.UNSIGNED, digest, found.via,
                                 detail=f"no signature referrers ({found.via})")]
    outcomes = []
    for referrer in found.items:
        where = f"{source.repository.repository_name}@{referrer.digest} (via {found.via})"

        def bad(detail: str, where: str = where) -> SignatureOutcome:
            return SignatureOutcome(SignatureStatus.MALFORMED, digest, where, detail=detail)

        try:
            doc = source.referrer_manifest(referrer)
        except InputError as exc:
            outcomes.append(bad(exc.message))
            continue
        subject = doc.get("subject") if isinstance(doc, dict) else None
        named = subject.get("digest") if isinstance(subject, dict) else None
        if named != digest:
            outcomes.append(bad(f"the referrer's subject is {str(named)[:80]}, not {digest}"))
        elif referrer.artifact_type == COSIGN_SIGNATURE_ARTIFACT:
            outcomes.append(_simple_signing(doc, source, digest, ref, pol, verifier, options,
                                            where))
        else:
            outcomes.append(_bundle_outcome(doc, source, digest, verifier, where))
    return outcomes


def _bundle_outcome(doc: dict[str, Any], source: SignatureSource, digest: str,
                    verifier: Verifier, where: str) -> SignatureOutcome:
    layers = doc.get("layers")
    blobs = [entry for entry in layers if isinstance(entry, dict)
             and entry.get("mediaType") in BUNDLE_TYPES] if isinstance(layers, list) else []
    if len(blobs) != 1:
        return SignatureOutcome(SignatureStatus.MALFORMED, digest, where,
                                detail="a bundle referrer must have exactly one bundle layer")
    try:
        desc = descriptor(blobs[0], where)
        if desc.size > MAX_BUNDLE_BYTES:
            raise InputError(f"{desc.size} bytes is over the {MAX_BUNDLE_BYTES}-byte limit")
        data = source.fetch(desc)
    except InputError as exc:
        return SignatureOutcome(SignatureStatus.MALFORMED, digest, where,
                                detail=f"Sigstore bundle: {exc.message}")
    return evaluate_bundle(data, digest, verifier, signature_ref=where)


def _config_digest(doc: dict[str, Any]) -> str | None:
    """The image id (config digest) an image manifest names; None for an index."""
    config = doc.get("config")
    digest = config.get("digest") if isinstance(config, dict) else None
    return digest if isinstance(digest, str) and digest.startswith("sha256:") else None


def _is_index(doc: dict[str, Any]) -> bool:
    return doc.get("mediaType") in INDEX_TYPES or (
        doc.get("mediaType") is None and isinstance(doc.get("manifests"), list))


def _created(text: str, options: VerifyOptions, http: HttpClient) -> str | None:
    """The image configuration's `created` (the platform image's, for an index)."""
    image = open_registry_image(text, options.source, NullProgress(), http=http)
    return image.config.created
