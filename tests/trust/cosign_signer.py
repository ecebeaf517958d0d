"""Cosign-format signatures made in tests: keys from `cryptography`, the
simple-signing payload, and the `sha256-<hex>.sig` manifest pushed to a
registry with tests/registry.py's Pusher."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from lashing.trust.cosign import (
    SIGNATURE_ANNOTATION,
    SIMPLESIGNING_TYPE,
    make_payload,
    signature_tag,
)

from registry import MEDIA_OCI_MANIFEST, Pusher, sha256

KINDS = ("ecdsa-p256", "ecdsa-p384", "rsa-2048", "ed25519")
MEDIA_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


@dataclass
class Signer:
    kind: str
    key: PrivateKey

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def write_public(self, path: Path) -> Path:
        path.write_bytes(self.public_pem())
        return path

    def sign(self, payload: bytes) -> bytes:
        k = self.key
        if isinstance(k, ec.EllipticCurvePrivateKey):
            algorithm = hashes.SHA384() if isinstance(k.curve, ec.SECP384R1) else hashes.SHA256()
            return k.sign(payload, ec.ECDSA(algorithm))
        if isinstance(k, rsa.RSAPrivateKey):
            return k.sign(payload, padding.PKCS1v15(), hashes.SHA256())
        return k.sign(payload)

    def sign_b64(self, payload: bytes) -> str:
        return base64.b64encode(self.sign(payload)).decode()


def new_signer(kind: str = "ecdsa-p256") -> Signer:
    if kind == "ecdsa-p256":
        return Signer(kind, ec.generate_private_key(ec.SECP256R1()))
    if kind == "ecdsa-p384":
        return Signer(kind, ec.generate_private_key(ec.SECP384R1()))
    if kind == "rsa-2048":
        return Signer(kind, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    if kind == "ed25519":
        return Signer(kind, ed25519.Ed25519PrivateKey.generate())
    raise ValueError(kind)


@dataclass
class Layer:
    payload: bytes
    signature: str | None  # base64 (or anything, for malformed cases); None: no annotation
    media_type: str = SIMPLESIGNING_TYPE
    size: int | None = None  # the descriptor's size; None: the payload's


def signature_config(payload_digests: list[str]) -> bytes:
    """The config cosign writes for a signature image."""
    doc = {"architecture": "", "created": "0001-01-01T00:00:00Z",
           "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
           "rootfs": {"type": "layers", "diff_ids": payload_digests}, "config": {}}
    return json.dumps(doc).encode()


def push_signature_manifest(pusher: Pusher, repo: str, digest: str, layers: list[Layer],
                            tag: str | None = None) -> str:
    """Push payload blobs, config and the signature manifest tagged for `digest`."""
    descriptors = []
    for layer in layers:
        pusher.blob(repo, layer.payload)
        d: dict[str, object] = {"mediaType": layer.media_type,
                                "size": len(layer.payload) if layer.size is None else layer.size,
                                "digest": sha256(layer.payload)}
        if layer.signature is not None:
            d["annotations"] = {SIGNATURE_ANNOTATION: layer.signature}
        descriptors.append(d)
    config = signature_config([sha256(layer.payload) for layer in layers])
    pusher.blob(repo, config)
    manifest = {"schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST,
                "config": {"mediaType": MEDIA_OCI_CONFIG, "size": len(config),
                           "digest": sha256(config)},
                "layers": descriptors}
    body = json.dumps(manifest).encode()
    return pusher.manifest(repo, tag or signature_tag(digest), body, MEDIA_OCI_MANIFEST)


def sign_image(pusher: Pusher, repo: str, digest: str, signer: Signer, *,
               docker_reference: str, signed_digest: str | None = None,
               sig_repo: str | None = None) -> bytes:
    """Sign `digest` the way `cosign sign --key` does; returns the payload.
    `signed_digest` puts another digest in the payload (a copied signature)."""
    payload = make_payload(signed_digest or digest, docker_reference)
    push_signature_manifest(pusher, sig_repo or repo, digest,
                            [Layer(payload, signer.sign_b64(payload))])
    return payload
