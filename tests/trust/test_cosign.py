"""Keys, payloads and the signature decision, without a registry."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from lashing.errors import DigestMismatchError, InputError
from lashing.source.manifest import Descriptor
from lashing.trust.cosign import (
    SIGNATURE_ANNOTATION,
    SIMPLESIGNING_TYPE,
    decode_signature,
    load_key,
    make_payload,
    parse_payload,
    signature_tag,
    verify_with,
)
from lashing.trust.signatures import SignatureStatus, evaluate_signatures
from trust.cosign_signer import KINDS, new_signer

DIGEST = "sha256:" + "ab" * 32
REPO = "registry.example.com/team/app"


def sha(data: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_signature_tag() -> None:
    assert signature_tag(DIGEST) == "sha256-" + "ab" * 32 + ".sig"


@pytest.mark.parametrize("kind", KINDS)
def test_each_key_type_round_trips(tmp_path: Path, kind: str) -> None:
    signer = new_signer(kind)
    key = load_key(signer.write_public(tmp_path / "k.pub"))
    payload = make_payload(DIGEST, REPO)
    signature = signer.sign(payload)
    assert verify_with(key, signature, payload)
    assert not verify_with(key, signature, payload + b" ")
    assert not verify_with(key, b"\x30\x00", payload)
    other = load_key(new_signer(kind).write_public(tmp_path / "o.pub"))
    assert not verify_with(other, signature, payload)


def test_p384_accepts_sha256_signatures(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import hashes

    private = ec.generate_private_key(ec.SECP384R1())
    path = tmp_path / "p384.pub"
    path.write_bytes(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    payload = make_payload(DIGEST, REPO)
    assert verify_with(load_key(path), private.sign(payload, ec.ECDSA(hashes.SHA256())), payload)


def test_bad_key_files(tmp_path: Path) -> None:
    signer = new_signer()
    private = tmp_path / "cosign.key"
    private.write_bytes(signer.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(InputError, match="private key"):
        load_key(private)
    junk = tmp_path / "junk.pub"
    junk.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    with pytest.raises(InputError, match="not a PEM public key"):
        load_key(junk)
    small = tmp_path / "small.pub"
    weak = rsa.generate_private_key(65537, 1024)  # noqa: S505
    small.write_bytes(weak.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(InputError, match="too small"):
        load_key(small)
    with pytest.raises(InputError, match="no such file"):
        load_key(tmp_path / "absent.pub")


def test_decode_signature() -> None:
    assert decode_signature(base64.b64encode(b"sig").decode()) == b"sig"
    for bad in (None, "", "***", 7, "A" * 20000):
        with pytest.raises(ValueError):
            decode_signature(bad)


def test_parse_payload() -> None:
    claims = parse_payload(make_payload(DIGEST, REPO))
    assert claims.manifest_digest == DIGEST and claims.docker_reference == REPO
    for bad in (b"[]", b"{}", b'{"critical": {}}', b"\xff", b'{"critical": {"image": 1}}'):
        with pytest.raises(ValueError):
            parse_payload(bad)


def manifest(*layers: tuple[bytes, object, str]) -> dict[str, object]:
    out = []
    for payload, signature, media in layers:
        d: dict[str, object] = {"mediaType": media, "digest": sha(payload), "size": len(payload)}
        if signature is not None:
            d["annotations"] = {SIGNATURE_ANNOTATION: signature}
        out.append(d)
    return {"schemaVersion": 2, "layers": out}


def decide(doc: object, blobs: dict[str, bytes], tmp_path: Path, **kw: object) -> SignatureStatus:
    signer = kw.pop("signer")
    key = load_key(signer.write_public(tmp_path / "k.pub"))  # type: ignore[attr-defined]

    def fetch(desc: Descriptor) -> bytes:
        if desc.digest not in blobs:
            raise DigestMismatchError(f"{desc.digest}: wrong")
        return blobs[desc.digest]

    return evaluate_signatures(doc, fetch, [key], DIGEST, REPO, signature_ref="x:y",
                               **kw).status  # type: ignore[arg-type]


def test_evaluate_signatures_never_raises_on_bad_material(tmp_path: Path) -> None:
    signer = new_signer()
    payload = make_payload(DIGEST, REPO)
    good = signer.sign_b64(payload)
    blobs = {sha(payload): payload}
    ok = manifest((payload, good, SIMPLESIGNING_TYPE))
    assert decide(ok, blobs, tmp_path, signer=signer) is SignatureStatus.VERIFIED
    malformed = SignatureStatus.MALFORMED
    docs: list[object] = [[], {"layers": []}, {"layers": "x"}, {"layers": [1]},
                          {"layers": [{"digest": "sha256:zz", "size": 1}]}]
    for doc in docs:
        assert decide(doc, blobs, tmp_path, signer=signer) is malformed
    assert decide(ok, {}, tmp_path, signer=signer) is malformed  # blob fails its digest
    many = manifest(*[(payload, good, SIMPLESIGNING_TYPE)] * 3)
    assert decide(many, blobs, tmp_path, signer=signer, max_layers=2) is malformed
    assert decide(ok, blobs, tmp_path, signer=signer, max_payload_bytes=10) is malformed
    bad = manifest((payload, base64.b64encode(b"x" * 64).decode(), SIMPLESIGNING_TYPE))
    assert decide(bad, blobs, tmp_path, signer=signer) is SignatureStatus.INVALID
    # The worst failure is reported: a validly signed payload for another digest.
    other = make_payload("sha256:" + "cd" * 32, REPO)
    mixed = manifest((payload, None, SIMPLESIGNING_TYPE),
                     (other, signer.sign_b64(other), SIMPLESIGNING_TYPE))
    blobs[sha(other)] = other
    assert decide(mixed, blobs, tmp_path, signer=signer) is SignatureStatus.DIGEST_MISMATCH
    elsewhere = make_payload(DIGEST, "ghcr.io/else/app")
    blobs[sha(elsewhere)] = elsewhere
    signed_elsewhere = manifest((elsewhere, signer.sign_b64(elsewhere), SIMPLESIGNING_TYPE))
    assert decide(signed_elsewhere, blobs, tmp_path, signer=signer) is SignatureStatus.VERIFIED
    assert decide(signed_elsewhere, blobs, tmp_path, signer=signer,
                  check_docker_reference=True) is SignatureStatus.IDENTITY_MISMATCH
    assert json.loads(payload)["critical"]["type"] == "cosign container image signature"
