"""Sigstore bundles and keyless verification, offline, against a private
Fulcio CA and Rekor key built in tests/trust/sigstore_signer.py."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from lashing.errors import InputError
from lashing.trust.cosign import TrustedKey, load_key, make_payload
from lashing.trust.identity import KeylessIdentity
from lashing.trust.merkle import leaf_hash, node_hash, root_from_inclusion_proof, verify_inclusion
from lashing.trust.signatures import SignatureStatus, evaluate_signatures
from lashing.trust.sigstore import Verifier, evaluate_bundle, keyless_layer_check
from lashing.trust.trusted_root import load_trusted_root, parse_trusted_root
from trust.cosign_signer import new_signer
from trust.sigstore_signer import (
    BUNDLE_V01,
    BUNDLE_V02,
    BUNDLE_V03,
    GITHUB_ISSUER,
    LOG_ORIGIN,
    T0,
    WORKFLOW,
    Fulcio,
    Rekor,
    Sigstore,
    audit_path,
    b64,
    signed_checkpoint,
    tree_leaf,
    tree_root,
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


# -- inclusion proofs and checkpoints ---------------------------------------------------


def entry_of(doc: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = doc["verificationMaterial"]["tlogEntries"][0]
    return entry


def with_proof(s: Sigstore, edit: Callable[[dict[str, Any]], None], *,
               media_type: str = BUNDLE_V03) -> bytes:
    """A bundle whose inclusion proof `edit` changes."""
    doc = json.loads(s.bundle(DIGEST, media_type=media_type))
    edit(entry_of(doc)["inclusionProof"])
    return json.dumps(doc).encode()


def flip(value: str, index: int = 0) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[index] ^= 0x01
    return b64(bytes(raw))


def proof_root(proof: dict[str, Any]) -> tuple[int, bytes]:
    return int(proof["treeSize"]), base64.b64decode(proof["rootHash"])


@pytest.mark.parametrize("media_type", [BUNDLE_V03, BUNDLE_V02, BUNDLE_V01])
def test_inclusion_proof_verifies(sigstore: Sigstore, media_type: str) -> None:
    s = Sigstore(fulcio=sigstore.fulcio, rekor=Rekor())  # a tree of 37 leaves so far
    data = s.bundle(DIGEST, media_type=media_type)
    proof = entry_of(json.loads(data))["inclusionProof"]
    assert (proof["logIndex"], proof["treeSize"], len(proof["hashes"])) == ("37", "40", 4)
    assert entry_of(json.loads(data))["logIndex"] == "1001"
    status, detail = check(data, verifier(s))
    assert status is SignatureStatus.VERIFIED, detail


@pytest.mark.parametrize("media_type", [BUNDLE_V03, BUNDLE_V02])
def test_bundle_v02_and_later_without_inclusion_proof_fails(sigstore: Sigstore,
                                                            media_type: str) -> None:
    status, detail = check(sigstore.bundle(DIGEST, media_type=media_type, proof=False),
                           verifier(sigstore))
    assert status is SignatureStatus.TLOG_INVALID
    assert "has no inclusion proof" in detail and "version 0.2 or later" in detail


def test_bundle_v01_with_the_set_alone_verifies(sigstore: Sigstore) -> None:
    """As cosign accepts: a v0.1 bundle's SET is its proof of logging."""
    data = sigstore.bundle(DIGEST, media_type=BUNDLE_V01, proof=False)
    assert "inclusionProof" not in entry_of(json.loads(data))
    assert check(data, verifier(sigstore))[0] is SignatureStatus.VERIFIED


def test_bundle_v01_with_a_bad_inclusion_proof_fails(sigstore: Sigstore) -> None:
    data = with_proof(sigstore, lambda p: p["hashes"].__setitem__(0, flip(p["hashes"][0])),
                      media_type=BUNDLE_V01)
    status, detail = check(data, verifier(sigstore))
    assert status is SignatureStatus.TLOG_INVALID and "inclusion proof" in detail


@pytest.mark.parametrize("index", [0, 2, -1])
def test_inclusion_proof_hash_flipped_fails(sigstore: Sigstore, index: int) -> None:
    data = with_proof(sigstore, lambda p: p["hashes"].__setitem__(
        index, flip(p["hashes"][index], 31)))
    status, detail = check(data, verifier(sigstore))
    assert status is SignatureStatus.TLOG_INVALID
    assert "does not lead from the entry to root hash" in detail


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda p: p.__setitem__("treeSize", str(int(p["treeSize"]) + 1)), "tree of"),
        (lambda p: p.__setitem__("treeSize", str(int(p["treeSize"]) - 1)), "tree of"),
        (lambda p: p.__setitem__("treeSize", p["logIndex"]), "audit path"),
        (lambda p: p.__setitem__("logIndex", str(int(p["logIndex"]) + 1)), "tree of"),
        (lambda p: p["hashes"].pop(), "audit path"),
        (lambda p: p["hashes"].append(p["hashes"][0]), "audit path"),
        (lambda p: p["hashes"].reverse(), "does not lead"),
        (lambda p: p.__setitem__("rootHash", flip(p["rootHash"])), "does not lead"),
    ],
    ids=["tree-size-plus-one", "tree-size-minus-one", "index-outside-the-tree",
         "other-leaf-index", "hash-missing", "hash-added", "hashes-reversed",
         "root-hash-flipped"],
)
def test_inclusion_proof_for_another_position_fails(sigstore: Sigstore,
                                                    edit: Callable[[dict[str, Any]], None],
                                                    needle: str) -> None:
    status, detail = check(with_proof(sigstore, edit), verifier(sigstore))
    assert status is SignatureStatus.TLOG_INVALID and needle in detail, detail


def test_inclusion_proof_of_another_entry_fails(sigstore: Sigstore) -> None:
    """A valid proof and checkpoint, but for another entry's leaf."""
    mine = json.loads(sigstore.bundle(DIGEST))
    other = json.loads(sigstore.bundle(DIGEST))
    entry_of(mine)["inclusionProof"] = entry_of(other)["inclusionProof"]
    status, detail = check(json.dumps(mine).encode(), verifier(sigstore))
    assert status is SignatureStatus.TLOG_INVALID and "does not lead" in detail


def test_checkpoint_signed_by_another_key_fails(sigstore: Sigstore) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())

    def resign(p: dict[str, Any]) -> None:
        size, root = proof_root(p)
        p["checkpoint"]["envelope"] = signed_checkpoint(stranger, size, root)

    status, detail = check(with_proof(sigstore, resign), verifier(sigstore))
    assert status is SignatureStatus.TLOG_INVALID
    assert "no signature by the log's key" in detail


def test_checkpoint_signature_with_the_logs_hint_but_another_key_fails(
        sigstore: Sigstore) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())

    def resign(p: dict[str, Any]) -> None:
        size, root = proof_root(p)
        note = signed_checkpoint(stranger, size, root)
        text, _, line = note.partition("\n\n")
        name, sig = line.removeprefix("\u2014 ").split(" ")
        forged = b64(sigstore.rekor.log_id[:4] + base64.b64decode(sig)[4:])
        p["checkpoint"]["envelope"] = f"{text}\n\n\u2014 {name} {forged}\n"

    status, detail = check(with_proof(sigstore, resign), verifier(sigstore))
    assert status is SignatureStatus.TLOG_INVALID
    assert "checkpoint's signature does not verify" in detail


def test_checkpoint_of_another_root_fails(sigstore: Sigstore) -> None:
    """A checkpoint the log really signed, but of another tree head."""
    def other_root(p: dict[str, Any]) -> None:
        size, root = proof_root(p)
        other = bytes(b ^ 0xFF for b in root)
        p["checkpoint"]["envelope"] = signed_checkpoint(sigstore.rekor.key, size, other)

    status, detail = check(with_proof(sigstore, other_root), verifier(sigstore))
    assert status is SignatureStatus.TLOG_INVALID
    assert "not the inclusion proof's tree" in detail


def test_checkpoint_of_another_tree_size_fails(sigstore: Sigstore) -> None:
    def other_size(p: dict[str, Any]) -> None:
        size, root = proof_root(p)
        p["checkpoint"]["envelope"] = signed_checkpoint(sigstore.rekor.key, size + 1, root)

    status, detail = check(with_proof(sigstore, other_size), verifier(sigstore))
    assert status is SignatureStatus.TLOG_INVALID
    assert "not the inclusion proof's tree" in detail


def test_checkpoint_text_altered_after_signing_fails(sigstore: Sigstore) -> None:
    def edit(p: dict[str, Any]) -> None:
        text = p["checkpoint"]["envelope"]
        p["checkpoint"]["envelope"] = text.replace(LOG_ORIGIN, LOG_ORIGIN + "0", 1)

    status, detail = check(with_proof(sigstore, edit), verifier(sigstore))
    assert status is SignatureStatus.TLOG_INVALID
    assert "checkpoint's signature does not verify" in detail


def test_checkpoint_with_extra_lines_and_a_witness_signature_verifies(
        sigstore: Sigstore) -> None:
    """Further note lines are signed too; a witness's cosignature is ignored."""
    witness = ec.generate_private_key(ec.SECP256R1())

    def cosigned(p: dict[str, Any]) -> None:
        size, root = proof_root(p)
        note = signed_checkpoint(sigstore.rekor.key, size, root,
                                 extra=("Timestamp: 1772366400000000000",))
        by_witness = signed_checkpoint(witness, size, root, name="witness.test",
                                       extra=("Timestamp: 1772366400000000000",))
        p["checkpoint"]["envelope"] = note + by_witness.partition("\n\n")[2]

    data = with_proof(sigstore, cosigned)
    assert entry_of(json.loads(data))["inclusionProof"]["checkpoint"]["envelope"].count(
        "\u2014") == 2
    assert check(data, verifier(sigstore))[0] is SignatureStatus.VERIFIED


@pytest.mark.parametrize(
    ("note", "needle"),
    [
        (lambda n: n.replace("\n\n", "\n", 1), "no blank line"),
        (lambda n: n.replace("\n", "\r\n", 1), "control characters"),
        (lambda n: n.replace("\u2014 ", "- ", 1), "is not '\u2014 <name> <base64>'"),
        (lambda n: n.rstrip("\n"), "does not end with a newline"),
        (lambda n: n.replace(f"{LOG_ORIGIN}\n", "", 1), "tree size"),
        (lambda n: n.replace(f"{LOG_ORIGIN}\n", f"{LOG_ORIGIN}\n0", 1), "tree size"),
        (lambda n: n.replace(f"{LOG_ORIGIN}\n", f"{LOG_ORIGIN}\n\u0661", 1), "tree size"),
        (lambda n: n.replace("=\n\n", "\n\n", 1), "root hash"),
        (lambda n: n.partition("\n\n")[0] + "\n\n" + "\u2014 a AAAA\n" * 101,
         "more than 100"),
        (lambda n: n.partition("\n\n")[0] + "\n\n\u2014 rekor.test QUJD\n", "key hint"),
    ],
    ids=["no-blank-line", "carriage-return", "hyphen-not-em-dash", "no-final-newline",
         "origin-missing", "size-with-leading-zero", "size-in-arabic-indic-digits",
         "root-hash-truncated", "too-many-signatures", "signature-too-short"],
)
def test_malformed_checkpoint_fails_with_its_reason(sigstore: Sigstore,
                                                    note: Callable[[str], str],
                                                    needle: str) -> None:
    def edit(p: dict[str, Any]) -> None:
        before = p["checkpoint"]["envelope"]
        p["checkpoint"]["envelope"] = note(before)
        assert p["checkpoint"]["envelope"] != before

    status, detail = check(with_proof(sigstore, edit), verifier(sigstore))
    assert status is SignatureStatus.TLOG_INVALID
    assert "checkpoint" in detail and needle in detail, detail


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda p: p.__setitem__("hashes", [b64(b"short")]), "32-byte SHA-256"),
        (lambda p: p.__setitem__("hashes", [b64(bytes(32))] * 65), "at most 64"),
        (lambda p: p.__setitem__("rootHash", "%%%"), "not base64"),
        (lambda p: p.__setitem__("treeSize", "-1"), "expected an integer"),
        (lambda p: p.__delitem__("checkpoint"), "checkpoint: expected a JSON object"),
        (lambda p: p["checkpoint"].__setitem__("envelope", "x" * (16 * 1024 + 1)),
         "signed note of at most"),
    ],
    ids=["short-hash", "too-many-hashes", "root-not-base64", "negative-tree-size",
         "no-checkpoint", "huge-checkpoint"],
)
def test_malformed_inclusion_proof_is_refused(sigstore: Sigstore,
                                              edit: Callable[[dict[str, Any]], None],
                                              needle: str) -> None:
    status, detail = check(with_proof(sigstore, edit), verifier(sigstore))
    assert status is SignatureStatus.MALFORMED
    assert "inclusionProof" in detail and needle in detail, detail


def test_inclusion_proof_with_protobuf_defaults_left_out(sigstore: Sigstore) -> None:
    """Protobuf JSON leaves out a zero logIndex and an empty hash list."""
    s = Sigstore(fulcio=sigstore.fulcio, rekor=Rekor(leaves=[]))
    s.rekor.inclusion_proof = lambda raw: {  # type: ignore[method-assign]
        "rootHash": b64(tree_leaf(raw)), "treeSize": "1",
        "checkpoint": {"envelope": signed_checkpoint(s.rekor.key, 1, tree_leaf(raw))}}
    assert check(s.bundle(DIGEST), verifier(s))[0] is SignatureStatus.VERIFIED


@pytest.mark.parametrize("size", range(1, 34))
def test_merkle_audit_paths_of_every_leaf(size: int) -> None:
    """RFC 9162 verification accepts the recursive PATH of every leaf of trees
    of 1 to 33 leaves, and nothing one step off."""
    leaves = [tree_leaf(b"%d" % i) for i in range(size)]
    root = tree_root(leaves)
    grown = tree_root([*leaves, tree_leaf(b"one more")])
    for m in range(size):
        path = audit_path(m, leaves)
        assert verify_inclusion(m, size, leaves[m], path, root)
        assert root_from_inclusion_proof(m, size, leaves[m], path) == root
        assert not verify_inclusion(m, size + 1, leaves[m], path, grown)
        assert not verify_inclusion(m, size, leaves[m], [*path, root], root)
        assert not verify_inclusion(size, size, leaves[m], path, root)
        if size > 1:
            assert not verify_inclusion((m + 1) % size, size, leaves[m], path, root)
            assert not verify_inclusion(m, size, leaves[m], path[:-1], root)
            assert not verify_inclusion(m, size, leaf_hash(b"%d" % m)[::-1], path, root)
    assert not verify_inclusion(0, 0, leaves[0], [], root)
    assert leaf_hash(b"0") == leaves[0] and node_hash(leaves[0], leaves[0]) != leaves[0]


# -- an absent messageDigest ------------------------------------------------------------


def without_message_digest(data: bytes) -> bytes:
    doc = json.loads(data)
    del doc["messageSignature"]["messageDigest"]
    return json.dumps(doc).encode()


def test_message_signature_without_message_digest(sigstore: Sigstore) -> None:
    """The format makes messageDigest optional: the signature is checked over
    the digest being verified."""
    data = without_message_digest(sigstore.bundle(DIGEST))
    status, detail = check(data, verifier(sigstore))
    assert status is SignatureStatus.VERIFIED, detail
    assert DIGEST in detail
    status, detail = check(data, verifier(sigstore), OTHER)
    assert status is SignatureStatus.INVALID and "does not verify" in detail


def test_key_signed_bundle_without_message_digest(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    sig = key.sign(bytes.fromhex(DIGEST.split(":")[1]),
                   ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    doc = {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
           "verificationMaterial": {"publicKey": {"hint": "release"}, "tlogEntries": []},
           "messageSignature": {"signature": b64(sig)}}
    trusted = Verifier(keys=(TrustedKey("release.pub", key.public_key()),))
    assert check(json.dumps(doc).encode(), trusted)[0] is SignatureStatus.VERIFIED
    assert check(json.dumps(doc).encode(), trusted, OTHER)[0] is SignatureStatus.INVALID


def test_no_message_digest_and_an_image_digest_not_sha256(sigstore: Sigstore) -> None:
    data = without_message_digest(sigstore.bundle(DIGEST))
    status, detail = check(data, verifier(sigstore), "sha512:" + "ab" * 64)
    assert status is SignatureStatus.DIGEST_MISMATCH
    assert "without a messageDigest" in detail
