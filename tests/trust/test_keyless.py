"""Sigstore bundles and keyless verification, offline, against a private
Fulcio CA and Rekor key built in tests/trust/sigstore_signer.py."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from lashing.errors import InputError
from lashing.trust.cosign import TrustedKey, load_key, make_payload
from lashing.trust.identity import KeylessIdentity
from lashing.trust.signatures import SignatureStatus, evaluate_signatures
from lashing.trust.sigstore import Verifier, evaluate_bundle, keyless_layer_check
from lashing.trust.trusted_root import load_trusted_root, parse_trusted_root
from trust.cosign_signer import new_signer
from trust.sigstore_signer import (
    BUNDLE_V01,
    GITHUB_ISSUER,
    T0,
    WORKFLOW,
    Fulcio,
    Rekor,
    Sigstore,
    b64,
    trusted_root,
)

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32
MAIN = KeylessIdentity(issuer=GITHUB_ISSUER,
                       subject="https://github.com/org/repo/.github/workflows/*@refs/heads/main")


@pytest.fixture(scope="module")
def sigstore() -> Sigstore:
    return Sigstore()


def verifier(s: Sigstore, *identities: KeylessIdentity) -> Verifier:
    root = parse_trusted_root(trusted_root(s.fulcio, s.rekor), "trusted_root.json")
    return Verifier(identities=identities or (MAIN,), root=root)


def check(data: bytes, v: Verifier, digest: str = DIGEST) -> tuple[SignatureStatus, str]:
    out = evaluate_bundle(data, digest, v, signature_ref="repo@sha256:x")
    return out.status, out.detail


@pytest.mark.parametrize("dsse", [False, True], ids=["message-signature", "dsse"])
def test_right_identity_verifies(sigstore: Sigstore, dsse: bool) -> None:
    status, detail = check(sigstore.bundle(DIGEST, dsse=dsse), verifier(sigstore))
    assert status is SignatureStatus.VERIFIED, detail
    assert WORKFLOW in detail and GITHUB_ISSUER in detail
    assert ("in-toto statement" if dsse else "message signature") in detail


def test_bundle_v01_chain_legacy_issuer_and_email(sigstore: Sigstore) -> None:
    data = sigstore.bundle(DIGEST, media_type=BUNDLE_V01, legacy_issuer=True)
    assert check(data, verifier(sigstore))[0] is SignatureStatus.VERIFIED
    data = sigstore.bundle(DIGEST, subject="dev@example.com", email=True,
                           issuer="https://accounts.example.com")
    who = KeylessIdentity(issuer="https://accounts.example.com", subject="dev@example.com")
    assert check(data, verifier(sigstore, who))[0] is SignatureStatus.VERIFIED


def test_subject_and_issuer_regex(sigstore: Sigstore) -> None:
    data = sigstore.bundle(DIGEST)
    good = KeylessIdentity(issuer_regex=r"https://token\.actions\..*",
                           subject_regex=r"https://github\.com/org/.*@refs/heads/main")
    assert check(data, verifier(sigstore, good))[0] is SignatureStatus.VERIFIED
    bad = KeylessIdentity(issuer_regex=".*", subject_regex=r".*@refs/tags/v.*")
    assert check(data, verifier(sigstore, bad))[0] is SignatureStatus.UNTRUSTED_IDENTITY


def test_wrong_subject(sigstore: Sigstore) -> None:
    data = sigstore.bundle(
        DIGEST, subject="https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main")
    status, detail = check(data, verifier(sigstore))
    assert status is SignatureStatus.UNTRUSTED_IDENTITY
    assert "github.com/evil/repo" in detail and "matches no trusted identity" in detail


def test_glob_star_stays_within_a_segment(sigstore: Sigstore) -> None:
    data = sigstore.bundle(
        DIGEST, subject="https://github.com/org/repo/.github/workflows/a/b.yml@refs/heads/main")
    assert check(data, verifier(sigstore))[0] is SignatureStatus.UNTRUSTED_IDENTITY


def test_wrong_branch(sigstore: Sigstore) -> None:
    data = sigstore.bundle(DIGEST, subject=WORKFLOW.replace("heads/main", "heads/feature"))
    assert check(data, verifier(sigstore))[0] is SignatureStatus.UNTRUSTED_IDENTITY


def test_wrong_issuer(sigstore: Sigstore) -> None:
    data = sigstore.bundle(DIGEST, issuer="https://issuer.evil.example")
    status, detail = check(data, verifier(sigstore))
    assert status is SignatureStatus.UNTRUSTED_IDENTITY
    assert "issuer.evil.example" in detail


def test_no_issuer_extension(sigstore: Sigstore) -> None:
    status, detail = check(sigstore.bundle(DIGEST, issuer=None), verifier(sigstore))
    assert status is SignatureStatus.UNTRUSTED_IDENTITY and "no OIDC issuer" in detail


def test_certificate_outside_its_validity_at_integration_time(sigstore: Sigstore) -> None:
    data = sigstore.bundle(DIGEST, integrated=T0 + timedelta(minutes=30))
    status, detail = check(data, verifier(sigstore))
    assert status is SignatureStatus.INVALID
    assert "not at the log's integrated time" in detail
    data = sigstore.bundle(DIGEST, integrated=T0 - timedelta(minutes=1))
    assert check(data, verifier(sigstore))[0] is SignatureStatus.INVALID


def test_expired_certificate_logged_in_time_verifies_now(sigstore: Sigstore) -> None:
    """The leaf expired long ago (T0 + 10 minutes); what counts is the log time."""
    status, _ = check(sigstore.bundle(DIGEST, integrated=T0 + timedelta(minutes=9)),
                      verifier(sigstore))
    assert status is SignatureStatus.VERIFIED


def test_bad_signed_entry_timestamp(sigstore: Sigstore) -> None:
    status, detail = check(sigstore.bundle(DIGEST, tamper_set=True), verifier(sigstore))
    assert status is SignatureStatus.TLOG_INVALID
    assert "signed entry timestamp does not verify" in detail


def test_entry_from_an_unknown_log(sigstore: Sigstore) -> None:
    stranger = Sigstore(fulcio=sigstore.fulcio, rekor=Rekor())
    status, detail = check(stranger.bundle(DIGEST), verifier(sigstore))
    assert status is SignatureStatus.TLOG_INVALID and "not in the trusted root" in detail


def test_no_tlog_entry(sigstore: Sigstore) -> None:
    status, detail = check(sigstore.bundle(DIGEST, tlog=False), verifier(sigstore))
    assert status is SignatureStatus.TLOG_INVALID and "no transparency log entry" in detail


def test_entry_about_another_signature_is_refused(sigstore: Sigstore) -> None:
    """A valid SET borrowed from another entry does not vouch for this signature."""
    mine = json.loads(sigstore.bundle(DIGEST))
    other = json.loads(sigstore.bundle(DIGEST))
    mine["verificationMaterial"]["tlogEntries"] = other["verificationMaterial"]["tlogEntries"]
    status, detail = check(json.dumps(mine).encode(), verifier(sigstore))
    assert status is SignatureStatus.TLOG_INVALID and "logs another" in detail


def test_untrusted_ca(sigstore: Sigstore) -> None:
    data = sigstore.bundle(DIGEST, signer_fulcio=Fulcio(name="rogue"))
    status, detail = check(data, verifier(sigstore))
    assert status is SignatureStatus.INVALID
    assert "not issued by a certificate authority in the trusted root" in detail


def test_signed_for_another_digest(sigstore: Sigstore) -> None:
    for dsse in (False, True):
        status, detail = check(sigstore.bundle(DIGEST, dsse=dsse, subject_digest=OTHER),
                               verifier(sigstore))
        assert status is SignatureStatus.DIGEST_MISMATCH, detail
        assert OTHER in detail and DIGEST in detail


def test_tampered_message_signature_is_invalid(sigstore: Sigstore) -> None:
    doc = json.loads(sigstore.bundle(DIGEST))
    doc["messageSignature"]["signature"] = b64(b"\x30\x06\x02\x01\x01\x02\x01\x01")
    status, _ = check(json.dumps(doc).encode(), verifier(sigstore))
    assert status is SignatureStatus.INVALID


def test_keyless_bundle_without_keyless_policy(sigstore: Sigstore, tmp_path: Path) -> None:
    key = load_key(new_signer().write_public(tmp_path / "k.pub"))
    status, detail = check(sigstore.bundle(DIGEST), Verifier(keys=(key,)))
    assert status is SignatureStatus.INVALID and "names no keyless identity" in detail


def test_key_signed_bundle(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    raw = bytes.fromhex(DIGEST.split(":")[1])
    sig = key.sign(raw, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    doc = {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
           "verificationMaterial": {"publicKey": {"hint": "release"}, "tlogEntries": []},
           "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": b64(raw)},
                                "signature": b64(sig)}}
    trusted = TrustedKey("release.pub", key.public_key())
    status, detail = check(json.dumps(doc).encode(), Verifier(keys=(trusted,)))
    assert status is SignatureStatus.VERIFIED and "release.pub" in detail
    stranger = TrustedKey("other.pub", ec.generate_private_key(ec.SECP256R1()).public_key())
    assert check(json.dumps(doc).encode(), Verifier(keys=(stranger,)))[0] is (
        SignatureStatus.INVALID)


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: b"not json", "not JSON"),
        (lambda d: json.dumps({**d, "mediaType": "text/plain"}).encode(), "not a Sigstore"),
        (lambda d: json.dumps({k: v for k, v in d.items() if k != "messageSignature"}).encode(),
         "exactly one of"),
        (lambda d: json.dumps({**d, "verificationMaterial": {"certificate": {
            "rawBytes": b64(b"junk")}}}).encode(), "not a DER X.509"),
        (lambda d: json.dumps({**d, "messageSignature": {"messageDigest": {
            "algorithm": "SHA2_256", "digest": "%%%"}, "signature": "AA=="}}).encode(),
         "not base64"),
        (lambda d: json.dumps({**d, "messageSignature": {**d["messageSignature"],
                                                         "messageDigest": {
            "algorithm": "MD5", "digest": "AA=="}}}).encode(), "is not SHA2_256"),
        (lambda d: b" " * (1024 * 1024 + 1), "limit"),
    ],
)
def test_malformed_bundles(sigstore: Sigstore, mutate: object, needle: str) -> None:
    doc = json.loads(sigstore.bundle(DIGEST))
    status, detail = check(mutate(doc), verifier(sigstore))  # type: ignore[operator]
    assert status is SignatureStatus.MALFORMED
    assert needle in detail, detail


# -- cosign's keyless `.sig` layers -----------------------------------------------------


def layer_doc(payload: bytes,
              annotations: dict[str, str]) -> tuple[dict[str, object], dict[str, bytes]]:
    from registry import sha256

    desc = {"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "size": len(payload), "digest": sha256(payload), "annotations": annotations}
    return {"layers": [desc]}, {sha256(payload): payload}


def evaluate_layer(sigstore: Sigstore, v: Verifier, **leaf: object) -> tuple[SignatureStatus,
                                                                           str]:
    payload = make_payload(DIGEST, "registry.example.com/app")
    doc, blobs = layer_doc(payload, sigstore.cosign_layer_annotations(payload, **leaf))
    out = evaluate_signatures(doc, lambda d: blobs[d.digest], [], DIGEST,
                              "registry.example.com/app", signature_ref="x:y",
                              keyless=keyless_layer_check(v))
    return out.status, out.detail


def test_cosign_keyless_layer(sigstore: Sigstore) -> None:
    status, detail = evaluate_layer(sigstore, verifier(sigstore))
    assert status is SignatureStatus.VERIFIED, detail
    assert "keyless" in detail
    status, _ = evaluate_layer(sigstore, verifier(sigstore), issuer="https://other.example")
    assert status is SignatureStatus.UNTRUSTED_IDENTITY


def test_cosign_keyless_layer_with_tampered_rekor_bundle(sigstore: Sigstore) -> None:
    payload = make_payload(DIGEST, "registry.example.com/app")
    annotations = sigstore.cosign_layer_annotations(payload)
    bundle = json.loads(annotations["dev.sigstore.cosign/bundle"])
    bundle["Payload"]["integratedTime"] += 1
    annotations["dev.sigstore.cosign/bundle"] = json.dumps(bundle)
    doc, blobs = layer_doc(payload, annotations)
    out = evaluate_signatures(doc, lambda d: blobs[d.digest], [], DIGEST,
                              "registry.example.com/app", signature_ref="x:y",
                              keyless=keyless_layer_check(verifier(sigstore)))
    assert out.status is SignatureStatus.TLOG_INVALID
    del annotations["dev.sigstore.cosign/bundle"]
    doc, blobs = layer_doc(payload, annotations)
    out = evaluate_signatures(doc, lambda d: blobs[d.digest], [], DIGEST,
                              "registry.example.com/app", signature_ref="x:y",
                              keyless=keyless_layer_check(verifier(sigstore)))
    assert out.status is SignatureStatus.TLOG_INVALID


# -- the trusted root -------------------------------------------------------------------


def test_trusted_root_file(sigstore: Sigstore, tmp_path: Path) -> None:
    root = load_trusted_root(sigstore.root_file(tmp_path / "trusted_root.json"))
    assert len(root.tlogs) == 1 and len(root.authorities) == 1
    assert root.log(sigstore.rekor.log_id) is not None


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (b"{", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"mediaType": "x"}', "is not a trusted root"),
        (json.dumps({"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
                     "tlogs": [], "certificateAuthorities": []}).encode(), "at least one"),
        (json.dumps({"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
                     "tlogs": [{"publicKey": {"rawBytes": "AAAA"}}],
                     "certificateAuthorities": []}).encode(), "not a DER public key"),
    ],
)
def test_bad_trusted_root_is_an_input_error(tmp_path: Path, text: bytes, needle: str) -> None:
    path = tmp_path / "trusted_root.json"
    path.write_bytes(text)
    with pytest.raises(InputError) as exc:
        load_trusted_root(path)
    assert needle in exc.value.message and str(path) in exc.value.message


def test_bad_validity_time_in_trusted_root(sigstore: Sigstore, tmp_path: Path) -> None:
    doc = trusted_root(sigstore.fulcio, sigstore.rekor)
    doc["certificateAuthorities"][0]["validFor"] = {"start": "yesterday"}
    with pytest.raises(InputError, match="not an RFC 3339 time"):
        parse_trusted_root(doc, "root.json")


def test_ca_outside_its_trusted_root_window(sigstore: Sigstore) -> None:
    doc = trusted_root(sigstore.fulcio, sigstore.rekor)
    doc["certificateAuthorities"][0]["validFor"] = {"start": "2020-01-01T00:00:00Z",
                                                    "end": "2025-01-01T00:00:00Z"}
    v = Verifier(identities=(MAIN,), root=parse_trusted_root(doc, "root.json"))
    status, detail = check(sigstore.bundle(DIGEST), v)
    assert status is SignatureStatus.INVALID and "was not valid" in detail


def test_log_key_outside_its_window(sigstore: Sigstore) -> None:
    doc = trusted_root(sigstore.fulcio, sigstore.rekor)
    doc["tlogs"][0]["publicKey"]["validFor"] = {"start": "2027-01-01T00:00:00Z"}
    v = Verifier(identities=(MAIN,), root=parse_trusted_root(doc, "root.json"))
    status, detail = check(sigstore.bundle(DIGEST), v)
    assert status is SignatureStatus.TLOG_INVALID and "log key was not valid" in detail


def test_keyid_only_match_uses_spki_hash(sigstore: Sigstore) -> None:
    """A trusted root whose logId is not the SPKI hash still finds the key by hash."""
    doc = trusted_root(sigstore.fulcio, sigstore.rekor)
    doc["tlogs"][0]["logId"] = {"keyId": base64.b64encode(b"opaque").decode()}
    v = Verifier(identities=(MAIN,), root=parse_trusted_root(doc, "root.json"))
    assert check(sigstore.bundle(DIGEST), v)[0] is SignatureStatus.VERIFIED


def test_long_issuer_and_double_star_subject(sigstore: Sigstore) -> None:
    issuer = "https://issuer.example/" + "x" * 300
    data = sigstore.bundle(DIGEST, issuer=issuer,
                           subject="https://github.com/org/repo/.github/workflows/a/b.yml@x")
    who = KeylessIdentity(issuer=issuer, subject="https://github.com/org/**")
    assert check(data, verifier(sigstore, who))[0] is SignatureStatus.VERIFIED
    single = KeylessIdentity(issuer=issuer, subject="https://github.com/org/*")
    assert check(data, verifier(sigstore, single))[0] is SignatureStatus.UNTRUSTED_IDENTITY
