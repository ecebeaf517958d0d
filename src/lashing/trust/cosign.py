"""Cosign signatures: the simple-signing payload and its signature.

Follows the cosign signature specification
(https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md):

- a signature for the manifest `sha256:<hex>` of `REPO` lives in the image
  manifest tagged `sha256-<hex>.sig` in `REPO` (or the signature repository);
- each of its layers whose media type is
  `application/vnd.dev.cosign.simplesigning.v1+json` is a payload blob, and
  the layer's `dev.cosignproject.cosign/signature` annotation holds the
  base64 signature over the payload's exact bytes;
- the payload is the "simple signing" JSON document whose
  `critical.image.docker-manifest-digest` names the signed manifest,
  `critical.type` is `cosign container image signature` and
  `critical.identity.docker-reference` names the repository it was signed for.

The signature is checked over the exact payload bytes first; the payload's
claims are read only once it verifies. ECDSA signatures are ASN.1 DER over
SHA-256 (SHA-384 is accepted for P-384 keys), RSA signatures are PKCS #1 v1.5
with SHA-256, Ed25519 signatures are over the payload itself.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from lashing.errors import InputError

SIMPLESIGNING_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate"
PAYLOAD_TYPE = "cosign container image signature"
SPEC_URL = "https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md"
MAX_KEY_BYTES = 64 * 1024
MAX_SIGNATURE_CHARS = 16 * 1024  # base64; RSA-8192 is about 1.4 KiB

PublicKey = (
    ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey
)


@dataclass(frozen=True)
class TrustedKey:
    name: str  # the file, as named in messages
    key: PublicKey

    @property
    def algorithm(self) -> str:
        if isinstance(self.key, ec.EllipticCurvePublicKey):
            return f"ECDSA {self.key.curve.name}"
        if isinstance(self.key, rsa.RSAPublicKey):
            return f"RSA-{self.key.key_size}"
        return "Ed25519"


def signature_tag(digest: str) -> str:
    """`sha256:<hex>` -> `sha256-<hex>.sig` (the spec's tag convention)."""
    algorithm, _, hexpart = digest.partition(":")
    return f"{algorithm}-{hexpart}.sig"


def load_key(path: Path) -> TrustedKey:
    """A PEM public key (PKIX `PUBLIC KEY`, or an RSA `RSA PUBLIC KEY`) file."""
    try:
        if path.stat().st_size > MAX_KEY_BYTES:
            raise InputError(f"key file {path}: too large for a public key")
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"key file {path}: no such file") from None
    except OSError as exc:
        raise InputError(f"key file {path}: cannot read ({exc.strerror})") from None
    if b"PRIVATE KEY" in data:
        raise InputError(f"key file {path}: this is a private key",
                         "give the public key (cosign.pub), never the private one")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InputError(f"key file {path}: not a PEM public key ({exc})",
                         "expected -----BEGIN PUBLIC KEY----- (cosign.pub)") from None
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1 | ec.SECP384R1 | ec.SECP521R1):
            raise InputError(f"key file {path}: unsupported curve {key.curve.name}")
        return TrustedKey(str(path), key)
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise InputError(f"key file {path}: RSA-{key.key_size} is too small (min 2048)")
        return TrustedKey(str(path), key)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return TrustedKey(str(path), key)
    raise InputError(f"key file {path}: unsupported key type {type(key).__name__}",
                     "use ECDSA P-256/P-384, RSA or Ed25519")


def decode_signature(text: object) -> bytes:
    """The annotation's base64 signature; ValueError says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"no {SIGNATURE_ANNOTATION} annotation")
    if len(text) > MAX_SIGNATURE_CHARS:
        raise ValueError(f"the signature annotation is over {MAX_SIGNATURE_CHARS} characters")
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the signature annotation is not base64") from None
    if not raw:
        raise ValueError("the signature annotation is empty")
    return raw


def verify_with(key: TrustedKey, signature: bytes, payload: bytes) -> bool:
    """True when `signature` over exactly `payload` verifies with `key`."""
    k = key.key
    try:
        if isinstance(k, ec.EllipticCurvePublicKey):
            algorithms: list[hashes.HashAlgorithm] = [hashes.SHA256()]
            if isinstance(k.curve, ec.SECP384R1):
                algorithms.insert(0, hashes.SHA384())
            elif isinstance(k.curve, ec.SECP521R1):
                algorithms.insert(0, hashes.SHA512())
            for algorithm in algorithms:
                try:
                    k.verify(signature, payload, ec.ECDSA(algorithm))
                    return True
                except InvalidSignature:
                    continue
            return False
        if isinstance(k, rsa.RSAPublicKey):
            k.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
            return True
        k.verify(signature, payload)
        return True
    except (InvalidSignature, ValueError):
        return False


@dataclass(frozen=True)
class Payload:
    manifest_digest: str
    docker_reference: str | None
    payload_type: str


def parse_payload(data: bytes) -> Payload:
    """The claims of a verified simple-signing payload; ValueError when malformed."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("the payload is not JSON") from None
    critical = doc.get("critical") if isinstance(doc, dict) else None
    if not isinstance(critical, dict):
        raise ValueError("the payload has no 'critical' object")
    image = critical.get("image")
    digest = image.get("docker-manifest-digest") if isinstance(image, dict) else None
    if not isinstance(digest, str):
        raise ValueError("the payload has no critical.image.docker-manifest-digest")
    identity = critical.get("identity")
    reference = identity.get("docker-reference") if isinstance(identity, dict) else None
    kind = critical.get("type")
    return Payload(
        manifest_digest=digest,
        docker_reference=reference if isinstance(reference, str) else None,
        payload_type=kind if isinstance(kind, str) else "",
    )


def make_payload(manifest_digest: str, docker_reference: str) -> bytes:
    """A simple-signing payload as cosign writes it (used by tests and examples)."""
    doc = {
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": manifest_digest},
            "type": PAYLOAD_TYPE,
        },
        "optional": None,
    }
    return json.dumps(doc, separators=(",", ":")).encode()
