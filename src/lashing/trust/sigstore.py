"""Deciding what one Sigstore bundle proves about one image digest.

`evaluate_bundle` is pure (no network) and never raises for bad signature
material: everything becomes a `SignatureOutcome`. A bundle proves the image
when, in this order:

1. its signature verifies: with a policy key (a `publicKey` bundle), or with
   the Fulcio leaf certificate's key (a keyless bundle);
2. keyless only: a transparency-log entry about this very signature carries a
   signed entry timestamp that verifies with a Rekor key of the trusted root
   (the SET is what proves the signing time), and an inclusion proof with a
   checkpoint signed by that log. Bundles of version 0.2 and later must carry
   the proof (the bundle format requires it); version 0.1 bundles and cosign's
   `dev.sigstore.cosign/bundle` annotations may rely on the SET alone, as
   cosign accepts them, but a proof they carry must verify too;
3. keyless only: at that entry's integratedTime the leaf chains to a Fulcio CA
   of the trusted root and every certificate is valid;
4. keyless only: the certificate's subject and OIDC issuer match a policy identity;
5. what was signed is this image: a `messageSignature` whose SHA-256 message
   digest is the manifest digest, or a DSSE in-toto statement with a subject
   whose `sha256` digest is the manifest digest. A `messageSignature` without
   a `messageDigest` is checked as a signature over the manifest digest.

Key-signed bundles need no transparency log (offline verification with a key
must work without any Sigstore trust material).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from lashing.trust.bundle import (
    INTOTO_PAYLOAD_TYPE,
    MAX_BUNDLE_BYTES,
    Bundle,
    BundleError,
    Envelope,
    MessageSignature,
    TlogEntry,
    parse_bundle,
)
from lashing.trust.cosign import CERTIFICATE_ANNOTATION, PublicKey, TrustedKey, verify_with
from lashing.trust.fulcio import certificate_identity, check_leaf
from lashing.trust.identity import KeylessIdentity
from lashing.trust.rekor import (
    check_dsse,
    check_hashedrekord,
    check_inclusion,
    check_set,
    integrated_at,
)
from lashing.trust.signatures import KeylessCheck, SignatureOutcome, SignatureStatus
from lashing.trust.trusted_root import TrustedRoot

REKOR_BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle"
MAX_PEM_BYTES = 64 * 1024


@dataclass(frozen=True)
class Verifier:
    """What the policy trusts for one image."""

    keys: tuple[TrustedKey, ...] = ()
    identities: tuple[KeylessIdentity, ...] = ()
    root: TrustedRoot | None = None


def verify_prehashed(key: PublicKey, signature: bytes, digest: bytes) -> bool:
    """A signature over a SHA-256 message digest (Sigstore `messageSignature`)."""
    algorithm = utils.Prehashed(hashes.SHA256())
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, digest, ec.ECDSA(algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, digest, padding.PKCS1v15(), algorithm)
        else:
            return False  # Ed25519 signs messages, never digests
    except (InvalidSignature, ValueError):
        return False
    return True


def _verifies(key: TrustedKey, content: MessageSignature | Envelope) -> bool:
    if isinstance(content, MessageSignature):
        return (content.digest is not None
                and verify_prehashed(key.key, content.signature, content.digest))
    pae = content.pae()
    return any(verify_with(key, sig, pae) for sig in content.signatures)


def _signed_digests(content: MessageSignature | Envelope) -> tuple[list[str], str | None]:
    """The sha256 digests the verified content names; or why it names none."""
    if isinstance(content, MessageSignature):
        return ([f"sha256:{content.digest.hex()}"] if content.digest is not None else []), None
    if content.payload_type != INTOTO_PAYLOAD_TYPE:
        return [], f"DSSE payload type {content.payload_type[:100]!r} is not {INTOTO_PAYLOAD_TYPE}"
    try:
        statement = json.loads(content.payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return [], "the DSSE payload is not JSON"
    subjects = statement.get("subject") if isinstance(statement, dict) else None
    if not isinstance(subjects, list):
        return [], "the in-toto statement has no subject list"
    found = []
    for s in subjects:
        digests = s.get("digest") if isinstance(s, dict) else None
        value = digests.get("sha256") if isinstance(digests, dict) else None
        if isinstance(value, str):
            found.append(f"sha256:{value.lower()}")
    return found, None


def evaluate_bundle(data: bytes, digest: str, verifier: Verifier, *,
                    signature_ref: str) -> SignatureOutcome:
    def out(status: SignatureStatus, detail: str, key: str | None = None) -> SignatureOutcome:
        return SignatureOutcome(status, digest, signature_ref, key, detail)

    try:
        bundle = parse_bundle(data)
    except BundleError as exc:
        return out(SignatureStatus.MALFORMED, f"Sigstore bundle: {exc}")
    content = bundle.content
    if isinstance(content, MessageSignature) and content.digest is None:
        expected = _sha256(digest)
        if expected is None:
            return out(SignatureStatus.DIGEST_MISMATCH, f"a Sigstore bundle without a "
                       f"messageDigest, and {digest[:80]} is not a sha256 digest to check "
                       "it against")
        content = replace(content, algorithm="SHA2_256", digest=expected)
        bundle = replace(bundle, content=content)
    if isinstance(content, MessageSignature) and content.algorithm != "SHA2_256":
        return out(SignatureStatus.MALFORMED,
                   f"message digest algorithm {str(content.algorithm)[:40]!r} is not SHA2_256")
    if bundle.certificates:
        status, detail, signer = _keyless(bundle, verifier)
    else:
        status, detail, signer = _keyed(bundle, verifier.keys)
    if status is not SignatureStatus.VERIFIED:
        return out(status, detail)
    digests, problem = _signed_digests(content)
    if problem is not None:
        return out(SignatureStatus.MALFORMED, f"{detail}, but {problem}")
    if digest not in digests:
        named = ", ".join(d[:80] for d in digests[:4]) or "no sha256 digest"
        return out(SignatureStatus.DIGEST_MISMATCH,
                   f"a Sigstore bundle signed by {signer} for {named}, not for {digest}")
    kind = "message signature" if isinstance(content, MessageSignature) else "in-toto statement"
    return out(SignatureStatus.VERIFIED, f"Sigstore bundle ({kind}) over {digest}: {detail}",
               signer)


def _sha256(digest: str) -> bytes | None:
    """The bytes of a `sha256:<hex>` digest; None for any other form."""
    algorithm, _, hexpart = digest.partition(":")
    if algorithm != "sha256" or len(hexpart) != 64 or not hexpart.isalnum():
        return None
    try:
        return bytes.fromhex(hexpart)
    except ValueError:
        return None


def _keyed(bundle: Bundle, keys: Sequence[TrustedKey]
           ) -> tuple[SignatureStatus, str, str | None]:
    if not keys:
        return (SignatureStatus.INVALID,
                "a key-signed Sigstore bundle, but the policy names no keys", None)
    key = next((k for k in keys if _verifies(k, bundle.content)), None)
    if key is None:
        names = ", ".join(k.name for k in keys)
        return SignatureStatus.INVALID, f"the bundle's signature does not verify with {names}", None
    return SignatureStatus.VERIFIED, f"signed by {key.name}", key.name


def _keyless(bundle: Bundle, verifier: Verifier) -> tuple[SignatureStatus, str, str | None]:
    content = bundle.content

    def binds(entry: TlogEntry, leaf: x509.Certificate) -> str | None:
        if isinstance(content, MessageSignature):
            return check_hashedrekord(entry, content.signature, (content.digest or b"").hex(),
                                      leaf)
        return check_dsse(entry, content.payload, content.signatures, leaf)

    return check_keyless(bundle.certificates[0], verifier,
                         lambda key: _verifies(key, content), binds, bundle.tlog_entries,
                         proof_required=bundle.version != "0.1")


def check_keyless(leaf: x509.Certificate, verifier: Verifier,
                  verifies: Callable[[TrustedKey], bool],
                  binds: Callable[[TlogEntry, x509.Certificate], str | None],
                  entries: Sequence[TlogEntry], *,
                  proof_required: bool) -> tuple[SignatureStatus, str, str | None]:
    """Steps 1 to 4 for a signature made with `leaf`'s key: `verifies` checks the
    signature with a key, `binds` whether a log entry is about this signature;
    `proof_required` whether a log entry without an inclusion proof is refused."""
    if not verifier.identities or verifier.root is None:
        return (SignatureStatus.INVALID, "a keyless (certificate) signature, but the "
                "policy names no keyless identity", None)
    try:
        identity = certificate_identity(leaf)
        public = leaf.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        return SignatureStatus.MALFORMED, f"the signing certificate: {exc}", None
    if not isinstance(public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey
                      | ed25519.Ed25519PublicKey):
        return (SignatureStatus.MALFORMED,
                f"the certificate's key type {type(public).__name__} is not supported", None)
    who = f"{identity.subject} ({identity.issuer or 'no OIDC issuer'})"
    if not verifies(TrustedKey(who, public)):
        return (SignatureStatus.INVALID,
                f"the signature does not verify with its certificate ({who})", None)
    logged, problem = _logged(entries, leaf, binds, verifier.root, proof_required)
    if logged is None:
        return SignatureStatus.TLOG_INVALID, problem, None
    chain_problem = check_leaf(leaf, verifier.root, logged)
    if chain_problem is not None:
        return SignatureStatus.INVALID, f"certificate of {who}: {chain_problem}", None
    if not any(i.matches(identity.subject, identity.issuer) for i in verifier.identities):
        trusted = "; ".join(i.describe() for i in verifier.identities)
        return (SignatureStatus.UNTRUSTED_IDENTITY,
                f"signed by {who}, which matches no trusted identity ({trusted})", None)
    return (SignatureStatus.VERIFIED, f"keyless {who}, logged {logged.isoformat()}",
            f"keyless {who}")


def _logged(entries: Sequence[TlogEntry], leaf: x509.Certificate,
            binds: Callable[[TlogEntry, x509.Certificate], str | None],
            root: TrustedRoot, proof_required: bool) -> tuple[datetime | None, str]:
    """(integrated time, "") of the first entry about this signature whose SET
    and inclusion proof verify; (None, why not) when there is none."""
    if not entries:
        return None, "the keyless signature has no transparency log entry"
    problems = []
    for entry in entries:
        problem = binds(entry, leaf) or check_set(entry, root)
        if problem is None and entry.inclusion_proof is None and proof_required:
            problem = (f"Rekor entry {entry.log_index} has no inclusion proof, which a "
                       "Sigstore bundle of version 0.2 or later must carry")
        elif problem is None and entry.inclusion_proof is not None:
            problem = check_inclusion(entry, root)
        if problem is None:
            return integrated_at(entry), ""
        problems.append(problem)
    return None, "; ".join(problems)


# -- cosign's keyless `.sig` layers --------------------------------------------------


def keyless_layer_check(verifier: Verifier) -> KeylessCheck | None:
    """Keyless checks for cosign simple-signing layers: the Fulcio certificate in
    the `dev.sigstore.cosign/certificate` annotation (PEM) and the Rekor entry in
    `dev.sigstore.cosign/bundle` (`{"SignedEntryTimestamp": ..., "Payload":
    {"body", "integratedTime", "logIndex", "logID"}}`). None without identities."""
    if not verifier.identities:
        return None

    def check(annotations: dict[str, Any], payload: bytes,
              signature: bytes) -> tuple[SignatureStatus, str, str | None] | None:
        pem = annotations.get(CERTIFICATE_ANNOTATION)
        if not isinstance(pem, str):
            return None
        try:
            leaf = x509.load_pem_x509_certificate(pem.encode()[:MAX_PEM_BYTES])
        except ValueError:
            return (SignatureStatus.MALFORMED,
                    f"{CERTIFICATE_ANNOTATION} is not a PEM certificate", None)
        try:
            entries = _rekor_bundle(annotations.get(REKOR_BUNDLE_ANNOTATION))
        except BundleError as exc:
            return SignatureStatus.TLOG_INVALID, f"{REKOR_BUNDLE_ANNOTATION}: {exc}", None
        digest_hex = hashlib.sha256(payload).hexdigest()
        return check_keyless(
            leaf, verifier, lambda key: verify_with(key, signature, payload),
            lambda entry, cert: check_hashedrekord(entry, signature, digest_hex, cert),
            entries, proof_required=False)

    return check


def _rekor_bundle(text: Any) -> tuple[TlogEntry, ...]:
    if text is None:
        return ()
    if not isinstance(text, str) or len(text) > MAX_BUNDLE_BYTES:
        raise BundleError("expected a JSON text")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        raise BundleError("not JSON") from None
    payload = doc.get("Payload") if isinstance(doc, dict) else None
    if not isinstance(payload, dict):
        raise BundleError("no Payload object")
    try:
        log_id = bytes.fromhex(str(payload.get("logID", "")))
        body = base64.b64decode(str(payload.get("body", "")), validate=True)
        signed = base64.b64decode(str(doc.get("SignedEntryTimestamp", "")), validate=True)
    except (ValueError, binascii.Error):
        raise BundleError("logID, body or SignedEntryTimestamp is not encoded right") from None
    index, when = payload.get("logIndex"), payload.get("integratedTime")
    if not isinstance(index, int) or not isinstance(when, int):
        raise BundleError("logIndex and integratedTime must be integers")
    return (TlogEntry(index, log_id, when, body, "hashedrekord", "0.0.1", signed or None),)
