"""A real keyless bundle from the Sigstore staging instance, verified offline
against the real staging trusted root (tests/trust/data/README.md)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lashing.trust.cosign import CERTIFICATE_ANNOTATION
from lashing.trust.identity import KeylessIdentity
from lashing.trust.rekor import key_hint, parse_checkpoint
from lashing.trust.signatures import SignatureStatus
from lashing.trust.sigstore import (
    REKOR_BUNDLE_ANNOTATION,
    Verifier,
    evaluate_bundle,
    keyless_layer_check,
)
from lashing.trust.trusted_root import load_trusted_root, parse_trusted_root
from trust.sigstore_signer import Sigstore, trusted_root

DATA = Path(__file__).parent / "data"
ARTIFACT = "sha256:4191e6b4e2b0260e6e297d4797d2a873584965afef021bf22f2bb7bec41102d0"
SIGNER = KeylessIdentity(issuer="https://github.com/login/oauth",
                         subject="william@yossarian.net")


@pytest.fixture(scope="module")
def staging() -> Verifier:
    return Verifier(identities=(SIGNER,),
                    root=load_trusted_root(DATA / "staging_trusted_root.json"))


def bundle() -> bytes:
    return (DATA / "staging_bundle_v3_alt.txt.sigstore").read_bytes()


def check(data: bytes, v: Verifier, digest: str = ARTIFACT) -> tuple[SignatureStatus, str]:
    out = evaluate_bundle(data, digest, v, signature_ref="staging")
    return out.status, out.detail


def test_real_staging_bundle_verifies(staging: Verifier) -> None:
    status, detail = check(bundle(), staging)
    assert status is SignatureStatus.VERIFIED, detail
    assert "william@yossarian.net (https://github.com/login/oauth)" in detail
    assert "2024-04-02T19:20:16+00:00" in detail


def test_real_bundle_other_identity_or_digest(staging: Verifier) -> None:
    other = Verifier(identities=(KeylessIdentity(issuer="https://github.com/login/oauth",
                                                 subject="someone@example.com"),),
                     root=staging.root)
    assert check(bundle(), other)[0] is SignatureStatus.UNTRUSTED_IDENTITY
    assert check(bundle(), staging, "sha256:" + "0" * 64)[0] is (
        SignatureStatus.DIGEST_MISMATCH)


def test_real_bundle_with_a_changed_integrated_time(staging: Verifier) -> None:
    doc = json.loads(bundle())
    entry = doc["verificationMaterial"]["tlogEntries"][0]
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 1)
    status, detail = check(json.dumps(doc).encode(), staging)
    assert status is SignatureStatus.TLOG_INVALID
    assert "signed entry timestamp does not verify" in detail


def test_real_bundle_with_a_changed_body(staging: Verifier) -> None:
    doc = json.loads(bundle())
    entry = doc["verificationMaterial"]["tlogEntries"][0]
    body = json.loads(base64.b64decode(entry["canonicalizedBody"]))
    body["spec"]["data"]["hash"]["value"] = "0" * 64
    entry["canonicalizedBody"] = base64.b64encode(json.dumps(body).encode()).decode()
    assert check(json.dumps(doc).encode(), staging)[0] is SignatureStatus.TLOG_INVALID


def test_real_bundle_against_another_trusted_root() -> None:
    s = Sigstore()
    mine = Verifier(identities=(SIGNER,),
                    root=parse_trusted_root(trusted_root(s.fulcio, s.rekor), "mine.json"))
    status, detail = check(bundle(), mine)
    assert status is SignatureStatus.TLOG_INVALID and "not in the trusted root" in detail


def test_real_cosign_rekor_bundle_annotation(staging: Verifier) -> None:
    """cosign's classic keyless layer: certificate and Rekor bundle annotations."""
    text = (DATA / "staging_offline-rekor.txt.bundle").read_text()
    body = json.loads(base64.b64decode(json.loads(text)["Payload"]["body"]))
    pem = base64.b64decode(body["spec"]["signature"]["publicKey"]["content"]).decode()
    signature = base64.b64decode(body["spec"]["signature"]["content"])
    payload = (DATA / "staging_offline-rekor.txt").read_bytes()
    check = keyless_layer_check(staging)
    assert check is not None
    annotations = {CERTIFICATE_ANNOTATION: pem, REKOR_BUNDLE_ANNOTATION: text}
    result = check(annotations, payload, signature)
    assert result is not None and result[0] is SignatureStatus.VERIFIED, result
    assert "logged 2022-10-13T19:48:34+00:00" in result[1]
    tampered = check(annotations, payload + b"\n", signature)
    assert tampered is not None and tampered[0] is SignatureStatus.INVALID


# -- the published inclusion proof and checkpoint ---------------------------------------


def mutated(edit: Callable[[dict[str, Any]], None]) -> bytes:
    doc = json.loads(bundle())
    edit(doc["verificationMaterial"]["tlogEntries"][0])
    return json.dumps(doc).encode()


def flip(value: str, index: int = 0) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_real_checkpoint_is_signed_by_the_staging_rekor_key(staging: Verifier) -> None:
    entry = json.loads(bundle())["verificationMaterial"]["tlogEntries"][0]
    proof = entry["inclusionProof"]
    checkpoint = parse_checkpoint(proof["checkpoint"]["envelope"])
    assert checkpoint.origin == "rekor.sigstage.dev - 8050909264565447525"
    assert checkpoint.tree_size == int(proof["treeSize"]) == 25901179
    assert base64.b64encode(checkpoint.root_hash).decode() == proof["rootHash"]
    assert [s.name for s in checkpoint.signatures] == ["rekor.sigstage.dev"]
    assert staging.root is not None
    log = staging.root.log(base64.b64decode(entry["logId"]["keyId"]))
    assert log is not None and checkpoint.signatures[0].key_hint == key_hint(log.key)
    # the proof is of the leaf's place in its log shard, not of the entry's log index
    assert proof["logIndex"] != entry["logIndex"]


def test_real_bundle_without_its_inclusion_proof_fails(staging: Verifier) -> None:
    status, detail = check(mutated(lambda e: e.pop("inclusionProof")), staging)
    assert status is SignatureStatus.TLOG_INVALID
    assert "Rekor entry 25915997 has no inclusion proof" in detail


def test_real_bundle_as_v01_with_the_set_alone_verifies(staging: Verifier) -> None:
    doc = json.loads(bundle())
    doc["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1"
    doc["verificationMaterial"]["tlogEntries"][0].pop("inclusionProof")
    status, detail = check(json.dumps(doc).encode(), staging)
    assert status is SignatureStatus.VERIFIED, detail


@pytest.mark.parametrize("index", range(13))
def test_real_inclusion_proof_with_a_hash_flipped_fails(staging: Verifier,
                                                        index: int) -> None:
    def edit(entry: dict[str, Any]) -> None:
        hashes = entry["inclusionProof"]["hashes"]
        hashes[index] = flip(hashes[index], 7)

    status, detail = check(mutated(edit), staging)
    assert status is SignatureStatus.TLOG_INVALID
    assert "does not lead from the entry to root hash" in detail


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda p: p.__setitem__("treeSize", "25901180"), "audit path"),
        (lambda p: p.__setitem__("treeSize", "25901178"), "audit path"),
        (lambda p: p.__setitem__("logIndex", "25901177"), "audit path"),
        (lambda p: p.__setitem__("logIndex", "25915997"), "audit path"),
        (lambda p: p.__setitem__("rootHash", flip(p["rootHash"])), "does not lead"),
        (lambda p: p["checkpoint"].__setitem__("envelope", p["checkpoint"]["envelope"].replace(
            "0y8wozBFAiAt", "0y8wozBFAiAu")), "signature does not verify"),
        (lambda p: p["checkpoint"].__setitem__("envelope", p["checkpoint"]["envelope"].replace(
            "25901179\n", "25901180\n")), "not the inclusion proof's tree"),
        (lambda p: p["checkpoint"].__setitem__("envelope", p["checkpoint"]["envelope"].replace(
            "0y8wo", "1y8wo")), "no signature by the log's key"),
    ],
    ids=["tree-size-larger", "tree-size-smaller", "other-leaf", "entry-log-index-as-leaf",
         "root-hash-flipped", "checkpoint-signature-flipped", "checkpoint-of-another-size",
         "checkpoint-key-hint-of-another-key"],
)
def test_real_inclusion_proof_mutations_fail(staging: Verifier,
                                             edit: Callable[[dict[str, Any]], None],
                                             needle: str) -> None:
    status, detail = check(mutated(lambda e: edit(e["inclusionProof"])), staging)
    assert status is SignatureStatus.TLOG_INVALID
    assert needle in detail, detail


def test_real_bundle_without_its_message_digest(staging: Verifier) -> None:
    doc = json.loads(bundle())
    del doc["messageSignature"]["messageDigest"]
    data = json.dumps(doc).encode()
    status, detail = check(data, staging)
    assert status is SignatureStatus.VERIFIED, detail
    assert check(data, staging, "sha256:" + "0" * 64)[0] is SignatureStatus.INVALID
