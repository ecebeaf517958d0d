"""Provenance rules (NIST SP 800-190 4.1.5 untrusted images, 4.2.1 insecure
registry connections, 4.2.2 stale images): signatures and the image policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from lashing.model import FindingKind, Severity
from lashing.rules.framework import Example, NotApplicable, NotCheckable, Rule, Violation, rule
from lashing.rules.trust.subject import TrustSubject, parse_created
from lashing.trust.cosign import SPEC_URL
from lashing.trust.policy import glob_matches
from lashing.trust.signatures import SignatureOutcome, SignatureStatus

NIST_800_190 = "https://doi.org/10.6028/NIST.SP.800-190"
COSIGN_DOCS = "https://docs.sigstore.dev/cosign/verifying/verify/"
SIGSTORE_BUNDLE = "https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_bundle.proto"
SIGNED = {"ref": "registry.example.com/app@sha256:" + "a" * 64}


def _signature(s: TrustSubject, status: SignatureStatus) -> Iterator[Violation]:
    sig = s.signature
    if sig is None:
        raise NotCheckable("signatures were not checked")
    if sig.status is SignatureStatus.NOT_REQUIRED:
        raise NotApplicable("the policy names no keys or keyless identities for this image")
    if sig.status is status:
        yield Violation(_message(s, sig), s.where(), f"signature:{sig.digest or ''}")


def _message(s: TrustSubject, sig: SignatureOutcome) -> str:
    what = {
        SignatureStatus.UNSIGNED: "has no signature",
        SignatureStatus.INVALID: "has a signature that does not verify with any trusted key",
        SignatureStatus.DIGEST_MISMATCH: "has a valid signature, but for another digest",
        SignatureStatus.IDENTITY_MISMATCH:
            "has a valid signature, but for another repository (docker-reference)",
        SignatureStatus.MALFORMED: "has a malformed signature",
        SignatureStatus.UNTRUSTED_IDENTITY:
            "has a valid keyless signature, but by a signer the policy does not trust",
        SignatureStatus.TLOG_INVALID:
            "has a keyless signature without a verifiable transparency log entry",
    }.get(sig.status, sig.status.value)
    text = f"{s.reference} ({sig.digest}) {what}"
    if sig.signature_ref:
        text += f" at {sig.signature_ref}"
    if sig.detail:
        text += f": {sig.detail}"
    if not s.policy.enforced:
        text += " [policy mode warn: reported, not enforced]"
    return text


def _sig_example(status: str) -> tuple[Example, ...]:
    return (Example({**SIGNED, "signature": status}, True, status),
            Example({**SIGNED, "signature": "verified"}, False, "verified"))


@rule(id="LSH-TRUST-001", title="Image is not signed", severity=Severity.HIGH,
      kind=FindingKind.PROVENANCE, nist=("4.1.5",),
      remediation="Sign the image by digest (cosign sign --key cosign.key IMAGE@DIGEST) in "
                  "the pipeline that builds it, and verify before deploying.",
      references=(SPEC_URL, COSIGN_DOCS, NIST_800_190),
      examples=_sig_example("unsigned"))
def unsigned(s: TrustSubject) -> Iterator[Violation]:
    """The policy requires a signature (a trusted key or keyless identity), and
    there is none for the image's manifest digest: no `sha256-<digest>.sig`
    signature and no signature or Sigstore bundle among its OCI referrers."""
    yield from _signature(s, SignatureStatus.UNSIGNED)


@rule(id="LSH-TRUST-002", title="Image signature does not verify", severity=Severity.CRITICAL,
      kind=FindingKind.PROVENANCE, nist=("4.1.5",),
      remediation="Do not run the image. Find out who pushed the signature; re-sign with a "
                  "trusted key or fix the policy's key list.",
      references=(SPEC_URL, NIST_800_190),
      examples=_sig_example("invalid-signature"))
def invalid_signature(s: TrustSubject) -> Iterator[Violation]:
    """A signature exists, but it was not made by any trusted key over the
    exact payload bytes: a wrong key, or a tampered payload or signature."""
    yield from _signature(s, SignatureStatus.INVALID)


@rule(id="LSH-TRUST-003", title="Image signature is for another digest",
      severity=Severity.CRITICAL, kind=FindingKind.PROVENANCE, nist=("4.1.5",),
      remediation="Do not run the image: a valid signature was copied onto another image's "
                  "signature tag. Sign the image's own digest.",
      references=(SPEC_URL, NIST_800_190),
      examples=_sig_example("digest-mismatch"))
def digest_mismatch(s: TrustSubject) -> Iterator[Violation]:
    """The signature verifies, but its payload's
    `critical.image.docker-manifest-digest` names another manifest."""
    yield from _signature(s, SignatureStatus.DIGEST_MISMATCH)


@rule(id="LSH-TRUST-004", title="Image signature is malformed", severity=Severity.HIGH,
      kind=FindingKind.PROVENANCE, nist=("4.1.5",),
      remediation="Re-sign the image with cosign; remove the broken signature manifest.",
      references=(SPEC_URL,),
      examples=_sig_example("malformed-signature"))
def malformed_signature(s: TrustSubject) -> Iterator[Violation]:
    """The signature manifest exists but cannot be checked: no simple-signing
    layers, a signature that is not base64, an oversized or unreadable
    payload, or a payload that is not a cosign container image signature."""
    yield from _signature(s, SignatureStatus.MALFORMED)


@rule(id="LSH-TRUST-005", title="Image signature names another repository",
      severity=Severity.HIGH, kind=FindingKind.PROVENANCE, nist=("4.1.5",),
      remediation="Sign the image for the repository it is deployed from, or turn off "
                  "check_docker_reference for images that are mirrored.",
      references=(SPEC_URL,),
      examples=_sig_example("identity-mismatch"))
def identity_mismatch(s: TrustSubject) -> Iterator[Violation]:
    """The policy sets `check_docker_reference`, and the signed payload's
    `critical.identity.docker-reference` names another repository."""
    yield from _signature(s, SignatureStatus.IDENTITY_MISMATCH)


@rule(id="LSH-TRUST-006", title="Image comes from a registry the policy does not allow",
      severity=Severity.HIGH, kind=FindingKind.PROVENANCE, nist=("4.1.5",),
      aliases=("kyverno:restrict-image-registries",),
      remediation="Pull the image from an allowed registry (mirror it there), or change "
                  "allowed_registries / forbidden_registries in the policy.",
      references=(NIST_800_190,),
      examples=(
          Example({"ref": "quay.io/x/app:1", "policy": {"allowed_registries": ["ghcr.io"]}},
                  True, "not allowed"),
          Example({"ref": "nginx:1", "policy": {"forbidden_registries": ["docker.io"]}},
                  True, "forbidden"),
          Example({"ref": "ghcr.io/x/app:1", "policy": {"allowed_registries": ["ghcr.io"]}},
                  False, "allowed"),
      ))
def registry_not_allowed(s: TrustSubject) -> Iterator[Violation]:
    """The image's registry is in `forbidden_registries`, or not in a
    non-empty `allowed_registries`."""
    p = s.policy
    if not p.allowed_registries and not p.forbidden_registries:
        raise NotApplicable("the policy restricts no registries")
    registry = s.ref.registry
    if registry in p.forbidden_registries:
        yield Violation(f"{s.reference}: registry {registry} is forbidden by the policy",
                        s.where(), f"registry:{registry}")
    elif p.allowed_registries and registry not in p.allowed_registries:
        yield Violation(f"{s.reference}: registry {registry} is not one of the allowed "
                        f"registries ({', '.join(p.allowed_registries)})",
                        s.where(), f"registry:{registry}")


@rule(id="LSH-TRUST-007", title="Image repository is not allowed by the policy",
      severity=Severity.HIGH, kind=FindingKind.PROVENANCE, nist=("4.1.5",),
      remediation="Use an image from an allowed repository, or change allowed_repositories "
                  "/ forbidden_repositories in the policy.",
      references=(NIST_800_190,),
      examples=(
          Example({"ref": "ghcr.io/evil/app:1",
                   "policy": {"allowed_repositories": ["ghcr.io/good/**"]}}, True, "outside"),
          Example({"ref": "ghcr.io/good/old/app:1",
                   "policy": {"forbidden_repositories": ["ghcr.io/good/old/*"]}},
                  True, "forbidden"),
          Example({"ref": "ghcr.io/good/a/b:1",
                   "policy": {"allowed_repositories": ["ghcr.io/good/**"]}}, False, "inside"),
      ))
def repository_not_allowed(s: TrustSubject) -> Iterator[Violation]:
    """The image's normalised repository matches a `forbidden_repositories`
    glob, or no glob of a non-empty `allowed_repositories`."""
    p = s.policy
    if not p.allowed_repositories and not p.forbidden_repositories:
        raise NotApplicable("the policy restricts no repositories")
    name = s.ref.repository_name
    bad = next((g for g in p.forbidden_repositories if glob_matches(g, name)), None)
    if bad is not None:
        yield Violation(f"{s.reference}: repository {name} is forbidden by the policy ({bad})",
                        s.where(), f"repository:{name}")
    elif p.allowed_repositories and not any(glob_matches(g, name)
                                            for g in p.allowed_repositories):
        yield Violation(f"{s.reference}: repository {name} matches none of the allowed "
                        f"repositories ({', '.join(p.allowed_repositories)})",
                        s.where(), f"repository:{name}")


@rule(id="LSH-TRUST-008", title="Image reference is not pinned by digest",
      severity=Severity.MEDIUM, kind=FindingKind.PROVENANCE, nist=("4.1.5",),
      aliases=("kube-score:container-image-tag",),
      remediation="Refer to the image as NAME@sha256:DIGEST (a tag may be kept for "
                  "readability: NAME:TAG@sha256:DIGEST).",
      references=(NIST_800_190,),
      examples=(
          Example({"ref": "ghcr.io/x/app:1.2", "policy": {"require_digest": True}}, True),
          Example({"ref": "ghcr.io/x/app:1.2@sha256:" + "b" * 64,
                   "policy": {"require_digest": True}}, False),
      ))
def not_pinned(s: TrustSubject) -> Iterator[Violation]:
    """The policy sets `require_digest`, and the reference names only a tag,
    which can be moved to other content at any time."""
    if not s.policy.require_digest:
        raise NotApplicable("the policy does not require digests")
    ref = s.ref
    if ref.digest is None:
        yield Violation(f"{s.reference}: the reference is not pinned by digest "
                        f"(tag {ref.tag})", s.where(), f"pin:{ref.repository_name}")


@rule(id="LSH-TRUST-009", title="Image reference uses the latest tag",
      severity=Severity.LOW, kind=FindingKind.PROVENANCE, nist=("4.1.5",),
      aliases=("kube-linter:latest-tag",),
      remediation="Name a specific version tag, better a digest.",
      references=(NIST_800_190,),
      examples=(
          Example({"ref": "ghcr.io/x/app", "policy": {"allow_latest": False}}, True, "untagged"),
          Example({"ref": "ghcr.io/x/app:latest", "policy": {"allow_latest": False}}, True),
          Example({"ref": "ghcr.io/x/app:1", "policy": {"allow_latest": False}}, False),
          Example({"ref": "ghcr.io/x/app:latest@sha256:" + "c" * 64,
                   "policy": {"allow_latest": False}}, False, "pinned"),
      ))
def latest_tag(s: TrustSubject) -> Iterator[Violation]:
    """The policy sets `allow_latest = false`, and the reference is `:latest`
    (or untagged) without a digest: what runs changes with every push."""
    if s.policy.allow_latest:
        raise NotApplicable("the policy allows latest")
    ref = s.ref
    if ref.digest is None and ref.tag == "latest":
        yield Violation(f"{s.reference}: the reference uses the latest tag", s.where(),
                        f"latest:{ref.repository_name}")


@rule(id="LSH-TRUST-010", title="Image is older than the policy's maximum age",
      severity=Severity.MEDIUM, kind=FindingKind.PROVENANCE, nist=("4.2.2",),
      remediation="Rebuild the image from an updated base and redeploy; prune stale images "
                  "from the registry.",
      references=(NIST_800_190,),
      examples=(
          Example({"ref": "ghcr.io/x/app:1", "policy": {"max_age_days": 30},
                   "created": "2024-01-01T00:00:00Z", "now": "2024-03-01T00:00:00+00:00"}, True),
          Example({"ref": "ghcr.io/x/app:1", "policy": {"max_age_days": 30},
                   "created": "2024-02-20T00:00:00.123456789Z",
                   "now": "2024-03-01T00:00:00+00:00"}, False),
      ))
def too_old(s: TrustSubject) -> Iterator[Violation]:
    """The policy sets `max_age_days`, and the image configuration's `created`
    time is further in the past (stale images miss security fixes)."""
    limit = s.policy.max_age_days
    if limit is None:
        raise NotApplicable("the policy sets no max_age_days")
    if s.created is None:
        raise NotCheckable("the image's creation time is not known")
    created = parse_created(s.created)
    if created is None:
        raise NotCheckable(f"the image's creation time {s.created[:40]!r} is not a time")
    now = s.now or datetime.now(UTC)
    age = now - created
    if age > timedelta(days=limit):
        yield Violation(f"{s.reference}: created {created.date().isoformat()}, "
                        f"{age.days} days ago (limit {limit})", s.where(),
                        f"age:{s.ref.repository_name}")


@rule(id="LSH-TRUST-011", title="Registry was reached over plain HTTP",
      severity=Severity.MEDIUM, kind=FindingKind.PROVENANCE, nist=("4.2.1",),
      remediation="Serve the registry over TLS and drop --insecure-registry; images and "
                  "signatures over plain HTTP can be swapped in transit.",
      references=(NIST_800_190,),
      examples=(
          Example({"ref": "registry.lan:5000/app:1", "insecure": True}, True),
          Example({"ref": "registry.lan:5000/app:1"}, False),
      ))
def insecure_transport(s: TrustSubject) -> Iterator[Violation]:
    """The image (and its signature) were fetched from a registry spoken to
    over plain HTTP (`--insecure-registry`)."""
    if s.insecure_transport:
        registry = s.ref.registry
        yield Violation(f"{s.reference}: registry {registry} was reached over plain HTTP",
                        s.where(), f"insecure:{registry}")


@rule(id="LSH-TRUST-012", title="Keyless signature is by an untrusted identity",
      severity=Severity.HIGH, kind=FindingKind.PROVENANCE, nist=("4.1.5",),
      remediation="Do not run the image unless the signer should be trusted: then add its "
                  "certificate subject and OIDC issuer to the policy's keyless identities.",
      references=(COSIGN_DOCS, SIGSTORE_BUNDLE, NIST_800_190),
      examples=_sig_example("untrusted-identity"))
def untrusted_identity(s: TrustSubject) -> Iterator[Violation]:
    """A keyless signature verifies and chains to a trusted Fulcio CA, but its
    certificate's subject (workflow URI, e-mail) or OIDC issuer matches none
    of the policy's `keyless` identities: someone else signed it."""
    yield from _signature(s, SignatureStatus.UNTRUSTED_IDENTITY)


@rule(id="LSH-TRUST-013", title="Keyless signature has no verifiable transparency log entry",
      severity=Severity.HIGH, kind=FindingKind.PROVENANCE, nist=("4.1.5",),
      remediation="Re-sign with the transparency log enabled (the default), and make sure "
                  "the policy's trusted_root holds the Rekor key that logged it.",
      references=(SIGSTORE_BUNDLE, COSIGN_DOCS),
      examples=_sig_example("tlog-invalid"))
def tlog_invalid(s: TrustSubject) -> Iterator[Violation]:
    """A keyless certificate lives for minutes; only a Rekor entry about this
    signature, whose signed entry timestamp verifies with a trusted log key,
    proves it was made while the certificate was valid. There is none."""
    yield from _signature(s, SignatureStatus.TLOG_INVALID)


SIGNATURE_RULES: tuple[Rule[TrustSubject], ...] = (
    unsigned, invalid_signature, digest_mismatch, malformed_signature, identity_mismatch,
    untrusted_identity, tlog_invalid,
)
POLICY_RULES: tuple[Rule[TrustSubject], ...] = (
    registry_not_allowed, repository_not_allowed, not_pinned, latest_tag, too_old,
)
TRANSPORT_RULES: tuple[Rule[TrustSubject], ...] = (insecure_transport,)
RULES: tuple[Rule[TrustSubject], ...] = SIGNATURE_RULES + POLICY_RULES + TRANSPORT_RULES
