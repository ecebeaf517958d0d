"""lashing's keyless verdicts against sigstore-python's, the reference verifier.

The real staging bundle of tests/trust/data (README.md there) and a family of
mutations of it are judged twice, offline: by lashing's `evaluate_bundle` and
by sigstore-python's `Verifier.verify_artifact` with a SHA-256 `Hashed` input
and an `Identity` policy. Each case asserts the two verdicts (pass / fail) are
equal. Where the two are known to differ, the case says why and asserts that
very difference, so a change on either side is noticed. A private Sigstore
(Fulcio CA, CT log and Rekor of our own, at the end of this file) adds what the
real material cannot: DSSE bundles, valid SETs at any time, other certificates.

Both verifiers check the bundle's inclusion proof (with its signed
checkpoint): `INCLUSION_PROOF` below is the published one (sigstore-python
`test/assets/bundle_v3_alt.txt.sigstore`, commit
a966b3ef100331071c295764c3c9ce99055cc05f), which the copy in tests/trust/data
must hold unchanged. Each recomputes the Merkle root from the entry body and
checks the checkpoint signature, so the proof cannot belong to any other entry.
sigstore-python needs one thing lashing does not use, real and public:

- the certificate transparency log keys (to check the leaf's SCT), which the
  trusted root in tests/trust/data leaves out: they are taken from the staging
  trusted root sigstore-python ships. Fulcio CAs and Rekor keys stay the ones in
  tests/trust/data, so both verifiers trust exactly the same anchors.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sigstore.verify", reason="sigstore-python (the reference verifier) "
                    "is not installed; it comes with the dev extra")

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import ExtensionOID, NameOID
from sigstore import dsse
from sigstore.errors import Error as SigstoreError
from sigstore.hashes import Hashed
from sigstore.models import Bundle as ReferenceBundle
from sigstore.models import TrustedRoot as ReferenceRoot
from sigstore.verify import Verifier as ReferenceVerifier
from sigstore.verify.policy import Identity
from sigstore_models.common.v1 import HashAlgorithm

from lashing.trust.fulcio import certificate_identity
from lashing.trust.identity import KeylessIdentity
from lashing.trust.signatures import SignatureStatus
from lashing.trust.sigstore import Verifier, evaluate_bundle
from lashing.trust.trusted_root import parse_trusted_root

DATA = Path(__file__).parent / "data"
ARTIFACT = "4191e6b4e2b0260e6e297d4797d2a873584965afef021bf22f2bb7bec41102d0"
OTHER_ARTIFACT = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
SUBJECT = "william@yossarian.net"
ISSUER = "https://github.com/login/oauth"
STAGING_STORE = "https%3A%2F%2Ftuf-repo-cdn.sigstage.dev"
PRODUCTION_STORE = "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"

INCLUSION_PROOF: dict[str, Any] = {
    "logIndex": "25901178",
    "rootHash": "q0g3yMEVgKep9vgSfpTBZYld9mlsniTqXHzBAorxMtE=",
    "treeSize": "25901179",
    "hashes": [
        "6HxJ5B0YCXus8f+tO/yVTLFaLZfwjiaOnBOmhSzIo8k=",
        "Oa+3NjADjkBP1F7UrrJ8l7melp/y6mIlgHuEEGdSDrI=",
        "B4/zyNNgeuMr+zPZ/+mSVl//HFmVSxVWsNL1dHh4hw0=",
        "NzOg27Ucfb8sHqU9tZnKC5VZFuIsRpDYoqmBAPzB42g=",
        "SxC6nr0zP+a6kWb6nO2fmEtz8BYAbqEXc+dsqGLdRPM=",
        "sppZRSz/vdeLlavgvICrXHLeReMTJw98bs9HJ0I8WnE=",
        "c8lCSuBS6MzrRnt6OiyYjqhTyxUI/22gpVB7dblfDis=",
        "eJk64J6cMpIljPSX/72kH0kiIeElyypQm5vJ2gMMyHw=",
        "hbIK+jmAwQjU7Yi3iKvnfR1u7GNippk7QsRwJXIuRaw=",
        "tpHWIEB2vNU5ZmC68dj1Hh9cwQK083ozogA6zJ3cJ8A=",
        "arvuzAipUJ14nDj14OBlvkMSicjdsE9Eus3hq9Jpqdk=",
        "Edul4W41O3EfxKEEMlX2nW0+GTgCv00nGmcpwhALgVA=",
        "rBWB37+HwkTZgDv0rMtGBUoDI0UZqcgDZp48M6CaUlA=",
    ],
    "checkpoint": {
        "envelope": "rekor.sigstage.dev - 8050909264565447525\n25901179\n"
                    "q0g3yMEVgKep9vgSfpTBZYld9mlsniTqXHzBAorxMtE=\n\n"
                    "\u2014 rekor.sigstage.dev 0y8wozBFAiAt/kYsQHQLeEo7R5UmNw7n7Mhn07ihpmFD"
                    "C0zF1OfHSAIhAPCVUCdlUxnW7tz9Ob3IsX7e3St7pMwz32414GQZ6woa\n",
    },
}

Doc = dict[str, Any]


# -- material ---------------------------------------------------------------------------


def published_bundle() -> Doc:
    """The staging bundle as published, with its inclusion proof."""
    doc: Doc = json.loads((DATA / "staging_bundle_v3_alt.txt.sigstore").read_bytes())
    entry = doc["verificationMaterial"]["tlogEntries"][0]
    assert entry["inclusionProof"] == INCLUSION_PROOF
    return doc


def shipped_root(store: str) -> Doc:
    """A trusted root sigstore-python ships (it updates them over TUF when online)."""
    path = resources.files("sigstore._store").joinpath(store, "trusted_root.json")
    if not path.is_file():
        pytest.skip(f"sigstore-python ships no {store}/trusted_root.json in this version")
    doc: Doc = json.loads(path.read_text())
    return doc


def staging_root() -> Doc:
    doc: Doc = json.loads((DATA / "staging_trusted_root.json").read_bytes())
    return doc


def other_cosign_certificate() -> x509.Certificate:
    """The real staging Fulcio certificate of staging_offline-rekor.txt (another key)."""
    text = (DATA / "staging_offline-rekor.txt.bundle").read_text()
    body = json.loads(base64.b64decode(json.loads(text)["Payload"]["body"]))
    pem = base64.b64decode(body["spec"]["signature"]["publicKey"]["content"])
    return x509.load_pem_x509_certificate(pem)


def leaf_of(doc: Doc) -> x509.Certificate:
    raw = base64.b64decode(doc["verificationMaterial"]["certificate"]["rawBytes"])
    return x509.load_der_x509_certificate(raw)


def b64der(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def lookalike(leaf: x509.Certificate) -> x509.Certificate:
    """The leaf re-issued, same key, names, validity and identity extensions, by a
    CA of our own with the name of the staging Fulcio intermediate."""
    ca_key = ec.generate_private_key(ec.SECP384R1())
    builder = (x509.CertificateBuilder()
               .subject_name(leaf.subject).issuer_name(leaf.issuer)
               .public_key(leaf.public_key()).serial_number(leaf.serial_number)
               .not_valid_before(leaf.not_valid_before_utc)
               .not_valid_after(leaf.not_valid_after_utc))
    for ext in leaf.extensions:  # all but the SCTs, which name the real issuer's key
        if ext.oid != ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS:
            builder = builder.add_extension(ext.value, ext.critical)
    assert leaf.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "sigstore-intermediate")
    return builder.sign(ca_key, hashes.SHA384())


# -- the two verdicts -------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    passed: bool
    why: str


def lashing_verdict(bundle: bytes, root: Doc, digest: str, subject: str,
                    issuer: str) -> Verdict:
    verifier = Verifier(identities=(KeylessIdentity(issuer=issuer, subject=subject),),
                        root=parse_trusted_root(root, "trusted_root.json"))
    out = evaluate_bundle(bundle, f"sha256:{digest}", verifier, signature_ref="oracle")
    return Verdict(out.status is SignatureStatus.VERIFIED, f"{out.status.name}: {out.detail}")


def reference_verdict(bundle: bytes, root: Doc, digest: str, subject: str, issuer: str,
                      ctlogs: list[Any], tmp: Path) -> Verdict:
    path = tmp / "reference_trusted_root.json"
    path.write_text(json.dumps({**root, "ctlogs": ctlogs}))
    try:
        verifier = ReferenceVerifier(trusted_root=ReferenceRoot.from_file(str(path)))
        verifier.verify_artifact(
            Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(digest)),
            ReferenceBundle.from_json(bundle),
            Identity(identity=subject, issuer=issuer))
    except (SigstoreError, ValueError) as exc:  # VerificationError, InvalidBundle, pydantic
        return Verdict(False, f"{type(exc).__name__}: {exc}")
    return Verdict(True, "verified")


# -- the cases --------------------------------------------------------------------------

Mutation = Callable[[Doc], None]


def entry_of(doc: Doc) -> Doc:
    entry: Doc = doc["verificationMaterial"]["tlogEntries"][0]
    return entry


def body_edit(edit: Callable[[Doc], None]) -> Mutation:
    def mutate(doc: Doc) -> None:
        entry = entry_of(doc)
        body = json.loads(base64.b64decode(entry["canonicalizedBody"]))
        edit(body)
        entry["canonicalizedBody"] = base64.b64encode(
            json.dumps(body, separators=(",", ":")).encode()).decode()
    return mutate


def flip_b64(value: str, index: int) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def nothing(doc: Doc) -> None:
    return None


def media_type(value: str) -> Mutation:
    def mutate(doc: Doc) -> None:
        doc["mediaType"] = value
    return mutate


def as_chain(version: str) -> Mutation:
    """The same bundle in the 0.1/0.2 form: the leaf in x509CertificateChain."""
    def mutate(doc: Doc) -> None:
        material = doc["verificationMaterial"]
        material["x509CertificateChain"] = {"certificates": [material.pop("certificate")]}
        doc["mediaType"] = f"application/vnd.dev.sigstore.bundle+json;version={version}"
    return mutate


def fulcio_chain() -> list[Doc]:
    chain: list[Doc] = staging_root()["certificateAuthorities"][0]["certChain"]["certificates"]
    return chain


def chain_with_the_cas(leaf_first: bool) -> Mutation:
    """A 0.2 bundle whose chain also holds the Fulcio intermediate and root."""
    def mutate(doc: Doc) -> None:
        as_chain("0.2")(doc)
        certificates = doc["verificationMaterial"]["x509CertificateChain"]["certificates"]
        certificates.extend(fulcio_chain())
        if not leaf_first:
            certificates.reverse()
    return mutate


def flip_signature(index: int) -> Mutation:
    def mutate(doc: Doc) -> None:
        ms = doc["messageSignature"]
        ms["signature"] = flip_b64(ms["signature"], index)
    return mutate


def other_signature(doc: Doc) -> None:
    """A real signature by another staging key (staging_offline-rekor.txt's)."""
    text = (DATA / "staging_offline-rekor.txt.bundle").read_text()
    body = json.loads(base64.b64decode(json.loads(text)["Payload"]["body"]))
    doc["messageSignature"]["signature"] = body["spec"]["signature"]["content"]


def message_digest(hex_digest: str, algorithm: str = "SHA2_256") -> Mutation:
    def mutate(doc: Doc) -> None:
        doc["messageSignature"]["messageDigest"] = {
            "algorithm": algorithm,
            "digest": base64.b64encode(bytes.fromhex(hex_digest)).decode()}
    return mutate


def digest_algorithm(algorithm: str) -> Mutation:
    def mutate(doc: Doc) -> None:
        doc["messageSignature"]["messageDigest"]["algorithm"] = algorithm
    return mutate


def no_message_digest(doc: Doc) -> None:
    del doc["messageSignature"]["messageDigest"]


def swap_certificate(make: Callable[[x509.Certificate], x509.Certificate]) -> Mutation:
    def mutate(doc: Doc) -> None:
        doc["verificationMaterial"]["certificate"]["rawBytes"] = b64der(make(leaf_of(doc)))
    return mutate


def swap_logged_certificate(doc: Doc) -> None:
    pem = other_cosign_certificate().public_bytes(serialization.Encoding.PEM)
    body_edit(lambda b: b["spec"]["signature"]["publicKey"].__setitem__(
        "content", base64.b64encode(pem).decode()))(doc)


def integrated_time(delta: timedelta) -> Mutation:
    def mutate(doc: Doc) -> None:
        entry = entry_of(doc)
        entry["integratedTime"] = str(int(entry["integratedTime"])
                                      + int(delta.total_seconds()))
    return mutate


def entry_field(key: str, value: Any) -> Mutation:
    def mutate(doc: Doc) -> None:
        if value is None:
            del entry_of(doc)[key]
        else:
            entry_of(doc)[key] = value
    return mutate


def flip_set(doc: Doc) -> None:
    promise = entry_of(doc)["inclusionPromise"]
    promise["signedEntryTimestamp"] = flip_b64(promise["signedEntryTimestamp"], 40)


def numbers_as_json_numbers(doc: Doc) -> None:
    entry = entry_of(doc)
    entry["logIndex"] = int(entry["logIndex"])
    entry["integratedTime"] = int(entry["integratedTime"])


def log_index(delta: int) -> Mutation:
    def mutate(doc: Doc) -> None:
        entry_of(doc)["logIndex"] = str(int(entry_of(doc)["logIndex"]) + delta)
    return mutate


def no_entries(doc: Doc) -> None:
    doc["verificationMaterial"]["tlogEntries"] = []


def two_entries(doc: Doc) -> None:
    entries = doc["verificationMaterial"]["tlogEntries"]
    entries.append(copy.deepcopy(entries[0]))


def proof_hash_flipped(doc: Doc) -> None:
    hashes_ = entry_of(doc)["inclusionProof"]["hashes"]
    hashes_[3] = flip_b64(hashes_[3], 0)


def checkpoint_signature_flipped(doc: Doc) -> None:
    checkpoint = entry_of(doc)["inclusionProof"]["checkpoint"]
    text = checkpoint["envelope"]
    checkpoint["envelope"] = text.replace("0y8wozBFAiAt", "0y8wozBFAiAu")
    assert checkpoint["envelope"] != text


def kind_version(kind: str, version: str) -> Mutation:
    def mutate(doc: Doc) -> None:
        entry_of(doc)["kindVersion"] = {"kind": kind, "version": version}
    return mutate


RootMutation = Callable[[Doc], None]


def production_authorities(root: Doc) -> None:
    root["certificateAuthorities"] = shipped_root(PRODUCTION_STORE)["certificateAuthorities"]


def production_log(root: Doc) -> None:
    root["tlogs"] = shipped_root(PRODUCTION_STORE)["tlogs"][:1]


def validity_end(section: str, end: str) -> RootMutation:
    def mutate(root: Doc) -> None:
        for item in root[section]:
            holder = item["publicKey"] if section == "tlogs" else item
            holder["validFor"]["end"] = end
    return mutate


@dataclass(frozen=True)
class Case:
    mutate: Mutation = nothing
    root: RootMutation = nothing
    digest: str = ARTIFACT
    subject: str = SUBJECT
    issuer: str = ISSUER


AGREE: dict[str, tuple[Case, bool]] = {
    # the material as published, and the same in the other bundle forms
    "as-published": (Case(), True),
    "media-type-v0.3-alternate": (
        Case(media_type("application/vnd.dev.sigstore.bundle.v0.3+json")), True),
    "v0.2-certificate-chain": (Case(as_chain("0.2")), True),
    "v0.1-certificate-chain": (Case(as_chain("0.1")), True),
    "v0.2-chain-with-the-fulcio-certificates": (Case(chain_with_the_cas(True)), True),
    "v0.2-chain-with-the-leaf-last": (Case(chain_with_the_cas(False)), False),
    # the signature
    "signature-byte-flipped-in-r": (Case(flip_signature(10)), False),
    "signature-last-byte-flipped": (Case(flip_signature(-1)), False),
    "signature-by-another-key": (Case(other_signature), False),
    # what was signed
    "verified-against-another-digest": (Case(digest=OTHER_ARTIFACT), False),
    "message-digest-replaced": (
        Case(message_digest(OTHER_ARTIFACT), digest=OTHER_ARTIFACT), False),
    "message-digest-algorithm-unknown": (Case(digest_algorithm("MD5")), False),
    "message-digest-left-out": (Case(no_message_digest), True),
    # the policy
    "identity-not-the-signer": (Case(subject="someone@example.com"), False),
    "identity-in-another-case": (Case(subject="William@yossarian.net"), False),
    "issuer-not-the-signers": (Case(issuer="https://accounts.google.com"), False),
    "issuer-with-a-trailing-slash": (Case(issuer=ISSUER + "/"), False),
    # the certificate
    "certificate-of-another-signer": (
        Case(swap_certificate(lambda _: other_cosign_certificate())), False),
    "certificate-reissued-by-a-lookalike-ca": (Case(swap_certificate(lookalike)), False),
    # the transparency log entry
    "logged-digest-altered": (
        Case(body_edit(lambda b: b["spec"]["data"]["hash"].__setitem__(
            "value", OTHER_ARTIFACT))), False),
    "logged-signature-altered": (
        Case(body_edit(lambda b: b["spec"]["signature"].__setitem__(
            "content", flip_b64(b["spec"]["signature"]["content"], 10)))), False),
    "logged-certificate-of-another-signer": (Case(swap_logged_certificate), False),
    "integrated-time-after-the-certificate-expired": (
        Case(integrated_time(timedelta(hours=1))), False),
    "integrated-time-before-the-certificate-was-issued": (
        Case(integrated_time(-timedelta(hours=1))), False),
    "integrated-time-one-second-later": (Case(integrated_time(timedelta(seconds=1))), False),
    "log-index-changed": (Case(log_index(1)), False),
    "log-id-of-another-log": (
        Case(entry_field("logId", {"keyId": "wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="})),
        False),
    "signed-entry-timestamp-removed": (Case(entry_field("inclusionPromise", None)), False),
    "signed-entry-timestamp-flipped": (Case(flip_set), False),
    "inclusion-proof-removed": (Case(entry_field("inclusionProof", None)), False),
    "inclusion-proof-hash-altered": (Case(proof_hash_flipped), False),
    "checkpoint-signature-altered": (Case(checkpoint_signature_flipped), False),
    "no-tlog-entry": (Case(no_entries), False),
    # the trusted root
    "root-with-the-production-fulcio": (Case(root=production_authorities), False),
    "root-with-the-production-rekor": (Case(root=production_log), False),
}


@dataclass(frozen=True)
class Divergence:
    case: Case
    lashing: bool
    reference: bool
    why: str


DIVERGE: dict[str, Divergence] = {
    "two-copies-of-the-tlog-entry": Divergence(
        Case(two_entries), lashing=True, reference=False,
        why="sigstore-python accepts exactly one log entry per bundle; lashing accepts "
            "any entry about this signature with a verifying SET"),
    "kind-version-says-dsse": Divergence(
        Case(kind_version("dsse", "0.0.1")), lashing=True, reference=False,
        why="lashing reads the entry kind from the SET-signed body, not from the "
            "unsigned kindVersion label"),
    "message-digest-labelled-sha2-384": Divergence(
        Case(digest_algorithm("SHA2_384")), lashing=False, reference=True,
        why="lashing refuses a messageDigest algorithm other than SHA2_256; "
            "sigstore-python compares only the digest bytes with the SHA-256 input"),
    "log-numbers-as-json-numbers": Divergence(
        Case(numbers_as_json_numbers), lashing=True, reference=False,
        why="the protobuf JSON mapping lets a 64-bit integer be a number or a string and "
            "lashing reads both; sigstore-python accepts only strings"),
    "rekor-key-validity-ended-before-signing": Divergence(
        Case(root=validity_end("tlogs", "2023-01-01T00:00:00Z")), lashing=False,
        reference=True,
        why="lashing requires the Rekor key to be valid at integratedTime; "
            "sigstore-python only checks that the key's validity has started"),
    "fulcio-ca-validity-ended-before-signing": Divergence(
        Case(root=validity_end("certificateAuthorities", "2023-01-01T00:00:00Z")),
        lashing=False, reference=True,
        why="lashing requires the Fulcio CA's validFor to cover the signing time; "
            "sigstore-python only checks that it has started (and the certificates' "
            "own validity)"),
}


@pytest.fixture(scope="module")
def ctlogs() -> list[Any]:
    """The staging CT log keys; the Fulcio and Rekor anchors must be the data's own."""
    shipped = shipped_root(STAGING_STORE)
    ours = staging_root()
    fulcio = [[c["rawBytes"] for c in ca["certChain"]["certificates"]]
              for ca in ours["certificateAuthorities"]]
    assert fulcio == [[c["rawBytes"] for c in ca["certChain"]["certificates"]]
                      for ca in shipped["certificateAuthorities"]]
    shipped_logs = {t["logId"]["keyId"]: t["publicKey"]["rawBytes"] for t in shipped["tlogs"]}
    assert all(shipped_logs[t["logId"]["keyId"]] == t["publicKey"]["rawBytes"]
               for t in ours["tlogs"])
    logs: list[Any] = shipped["ctlogs"]
    return logs


def verdicts(case: Case, ctlogs: list[Any], tmp: Path) -> tuple[Verdict, Verdict]:
    doc = published_bundle()
    before = json.dumps(doc, sort_keys=True)
    case.mutate(doc)
    if case.mutate is not nothing:
        assert json.dumps(doc, sort_keys=True) != before, "the mutation changed nothing"
    root = staging_root()
    case.root(root)
    data = json.dumps(doc).encode()
    return (lashing_verdict(data, root, case.digest, case.subject, case.issuer),
            reference_verdict(data, root, case.digest, case.subject, case.issuer,
                              ctlogs, tmp))


@pytest.mark.parametrize("name", list(AGREE))
def test_lashing_agrees_with_sigstore_python(name: str, ctlogs: list[Any],
                                             tmp_path: Path) -> None:
    case, expected = AGREE[name]
    ours, reference = verdicts(case, ctlogs, tmp_path)
    assert ours.passed == reference.passed, (
        f"lashing {ours.why!r} but sigstore-python {reference.why!r}")
    assert reference.passed is expected, reference.why


@pytest.mark.parametrize("name", list(DIVERGE))
def test_known_divergence_from_sigstore_python(name: str, ctlogs: list[Any],
                                               tmp_path: Path) -> None:
    d = DIVERGE[name]
    ours, reference = verdicts(d.case, ctlogs, tmp_path)
    assert (ours.passed, reference.passed) == (d.lashing, d.reference), (
        f"{d.why}; now lashing {ours.why!r}, sigstore-python {reference.why!r}")


def test_the_data_bundle_without_its_inclusion_proof_is_refused_by_the_reference(
        ctlogs: list[Any], tmp_path: Path) -> None:
    """Why the published proof is kept: without it the bundle cannot be judged."""
    doc = published_bundle()
    del entry_of(doc)["inclusionProof"]
    data = json.dumps(doc).encode()
    verdict = reference_verdict(data, staging_root(), ARTIFACT, SUBJECT, ISSUER, ctlogs,
                                tmp_path)
    assert not verdict.passed and "inclusionProof" in verdict.why


def test_the_reference_needs_the_ct_log_keys(tmp_path: Path) -> None:
    """Why the CT log keys are added: without them the SCT cannot be checked."""
    data = json.dumps(published_bundle()).encode()
    verdict = reference_verdict(data, staging_root(), ARTIFACT, SUBJECT, ISSUER, [], tmp_path)
    assert not verdict.passed and "CTFE" in verdict.why


def cosign_as_bundle() -> tuple[bytes, str]:
    """cosign's keyless signature of staging_offline-rekor.txt (certificate and
    `dev.sigstore.cosign/bundle` Rekor entry) as a v0.1 bundle, and its digest."""
    text = (DATA / "staging_offline-rekor.txt.bundle").read_text()
    rekor = json.loads(text)
    payload = rekor["Payload"]
    body = json.loads(base64.b64decode(payload["body"]))
    pem = base64.b64decode(body["spec"]["signature"]["publicKey"]["content"])
    digest = hashlib.sha256((DATA / "staging_offline-rekor.txt").read_bytes()).hexdigest()
    doc = {
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "verificationMaterial": {
            "x509CertificateChain": {"certificates": [
                {"rawBytes": b64der(x509.load_pem_x509_certificate(pem))}]},
            "tlogEntries": [{
                "logIndex": str(payload["logIndex"]),
                "logId": {"keyId": base64.b64encode(bytes.fromhex(payload["logID"])).decode()},
                "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
                "integratedTime": str(payload["integratedTime"]),
                "inclusionPromise": {"signedEntryTimestamp": rekor["SignedEntryTimestamp"]},
                "canonicalizedBody": payload["body"]}]},
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256",
                              "digest": base64.b64encode(bytes.fromhex(digest)).decode()},
            "signature": body["spec"]["signature"]["content"]}}
    return json.dumps(doc).encode(), digest


def test_cosign_rekor_bundle_annotation(ctlogs: list[Any], tmp_path: Path) -> None:
    data, digest = cosign_as_bundle()
    leaf = x509.load_der_x509_certificate(base64.b64decode(
        json.loads(data)["verificationMaterial"]["x509CertificateChain"]["certificates"][0]
        ["rawBytes"]))
    subject, issuer = certificate_identity(leaf).subject, certificate_identity(leaf).issuer
    assert issuer is not None
    ours = lashing_verdict(data, staging_root(), digest, subject, issuer)
    assert ours.passed, ours.why
    reference = reference_verdict(data, staging_root(), digest, subject, issuer, ctlogs,
                                  tmp_path)
    if not reference.passed and "inclusionProof" in reference.why:
        pytest.skip("cosign's dev.sigstore.cosign/bundle Rekor entry carries a SET but no "
                    "inclusion proof, and sigstore-python refuses every log entry without "
                    "an inclusion proof with a checkpoint: it cannot judge this offline")
    assert ours.passed == reference.passed, reference.why


def test_the_time_mutations_step_outside_the_certificate() -> None:
    """The integrated-time mutations leave the 10-minute certificate's validity."""
    doc = published_bundle()
    leaf = leaf_of(doc)
    logged = datetime.fromtimestamp(int(entry_of(doc)["integratedTime"]), UTC)
    assert leaf.not_valid_before_utc <= logged <= leaf.not_valid_after_utc
    assert logged + timedelta(hours=1) > leaf.not_valid_after_utc
    assert logged - timedelta(hours=1) < leaf.not_valid_before_utc


# -- a Sigstore of our own --------------------------------------------------------------
#
# The real material fixes its times and its one signature. A private instance
# signs what the real one cannot give: a DSSE in-toto bundle, a valid SET for any
# integrated time, certificates with other identity extensions. It is complete
# enough for sigstore-python: the leaf carries an embedded SCT from a CT log of
# its own, and every entry has an inclusion proof with a signed checkpoint.

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WORKFLOW = "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main"
ACTIONS = "https://token.actions.githubusercontent.com"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
OID_ISSUER_V1 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
OID_ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
OID_SCT_LIST = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def der_octets(data: bytes) -> bytes:
    """A DER OCTET STRING."""
    if len(data) < 0x80:
        return bytes([0x04, len(data)]) + data
    size = len(data).to_bytes((len(data).bit_length() + 7) // 8, "big")
    return bytes([0x04, 0x80 | len(size)]) + size + data


def der_utf8(text: str) -> bytes:
    raw = text.encode()
    assert len(raw) < 0x80
    return bytes([0x0C, len(raw)]) + raw


@dataclass(frozen=True)
class Leaf:
    """What the private Fulcio puts in a signing certificate."""

    subject: str = WORKFLOW
    issuer_v1: str | None = ACTIONS
    issuer_v2: str | None = ACTIONS
    code_signing: bool = True
    minutes: int = 10


class PrivateSigstore:
    def __init__(self) -> None:
        self.root_key = ec.generate_private_key(ec.SECP384R1())
        self.inter_key = ec.generate_private_key(ec.SECP384R1())
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        self.rekor_key = ec.generate_private_key(ec.SECP256R1())
        self.root = self._ca("oracle-root", self.root_key, None)
        self.intermediate = self._ca("oracle-intermediate", self.inter_key, self.root)
        self.rekor_id = hashlib.sha256(spki(self.rekor_key.public_key())).digest()
        self.index = 1000

    def _ca(self, name: str, key: ec.EllipticCurvePrivateKey,
            parent: x509.Certificate | None) -> x509.Certificate:
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lashing-test"),
                             x509.NameAttribute(NameOID.COMMON_NAME, name)])
        signer = self.root_key if parent is not None else key
        builder = (x509.CertificateBuilder().subject_name(subject)
                   .issuer_name(parent.subject if parent is not None else subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(T0 - timedelta(days=365))
                   .not_valid_after(T0 + timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None
                                                        if parent is None else 0), True)
                   .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                                False, False), True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                  False))
        if parent is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.root_key.public_key()),
                False)
        return builder.sign(signer, hashes.SHA384())

    def trusted_root(self) -> Doc:
        ct_spki = spki(self.ct_key.public_key())
        start = {"start": "2020-01-01T00:00:00Z"}
        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [{"baseUrl": "https://rekor.test", "hashAlgorithm": "SHA2_256",
                       "publicKey": {"rawBytes": b64(spki(self.rekor_key.public_key())),
                                     "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                     "validFor": start},
                       "logId": {"keyId": b64(self.rekor_id)}}],
            "certificateAuthorities": [{
                "subject": {"organization": "lashing-test", "commonName": "oracle"},
                "uri": "https://fulcio.test",
                "certChain": {"certificates": [{"rawBytes": b64der(self.intermediate)},
                                               {"rawBytes": b64der(self.root)}]},
                "validFor": start}],
            "timestampAuthorities": [],
            "ctlogs": [{"baseUrl": "https://ct.test", "hashAlgorithm": "SHA2_256",
                        "publicKey": {"rawBytes": b64(ct_spki),
                                      "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                      "validFor": start},
                        "logId": {"keyId": b64(hashlib.sha256(ct_spki).digest())}}],
        }

    def leaf(self, key: ec.EllipticCurvePrivateKey, leaf: Leaf) -> x509.Certificate:
        """A leaf with one embedded SCT over its precertificate (RFC 6962)."""
        builder = (x509.CertificateBuilder().subject_name(x509.Name([]))
                   .issuer_name(self.intermediate.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(T0).not_valid_after(T0 + timedelta(minutes=leaf.minutes))
                   .add_extension(x509.KeyUsage(True, False, False, False, False, False, False,
                                                False, False), True)
                   .add_extension(x509.ExtendedKeyUsage(
                       [x509.oid.ExtendedKeyUsageOID.CODE_SIGNING if leaf.code_signing
                        else x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), False)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                  False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       self.inter_key.public_key()), False)
                   .add_extension(x509.SubjectAlternativeName(
                       [x509.UniformResourceIdentifier(leaf.subject)]), True))
        if leaf.issuer_v1 is not None:
            builder = builder.add_extension(x509.UnrecognizedExtension(
                OID_ISSUER_V1, leaf.issuer_v1.encode()), False)
        if leaf.issuer_v2 is not None:
            builder = builder.add_extension(x509.UnrecognizedExtension(
                OID_ISSUER_V2, der_utf8(leaf.issuer_v2)), False)
        tbs = builder.sign(self.inter_key, hashes.SHA384()).tbs_certificate_bytes
        ct_id = hashlib.sha256(spki(self.ct_key.public_key())).digest()
        issuer_hash = hashlib.sha256(spki(self.inter_key.public_key())).digest()
        millis = int(T0.timestamp() * 1000)
        signed = (struct.pack("!BBQH", 0, 0, millis, 1) + issuer_hash
                  + len(tbs).to_bytes(3, "big") + tbs + struct.pack("!H", 0))
        signature = self.ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        sct = (bytes([0]) + ct_id + struct.pack("!QH", millis, 0) + bytes([4, 3])
               + struct.pack("!H", len(signature)) + signature)
        listed = struct.pack("!H", len(sct)) + sct
        scts = x509.UnrecognizedExtension(
            OID_SCT_LIST, der_octets(struct.pack("!H", len(listed)) + listed))
        return builder.add_extension(scts, False).sign(self.inter_key, hashes.SHA384())

    def entry(self, body: Doc, integrated: datetime) -> Doc:
        """A tlogEntry with a SET and an inclusion proof in a one-entry tree."""
        self.index += 1
        raw = json.dumps(body, separators=(",", ":")).encode()
        when = int(integrated.timestamp())
        canonical = json.dumps({"body": b64(raw), "integratedTime": when,
                                "logID": self.rekor_id.hex(), "logIndex": self.index},
                               sort_keys=True, separators=(",", ":")).encode()
        promise = self.rekor_key.sign(canonical, ec.ECDSA(hashes.SHA256()))
        root_hash = hashlib.sha256(b"\x00" + raw).digest()
        note = f"rekor.test - 1\n1\n{b64(root_hash)}\n"
        note_sig = self.rekor_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        return {"logIndex": str(self.index), "logId": {"keyId": b64(self.rekor_id)},
                "kindVersion": {"kind": body["kind"], "version": "0.0.1"},
                "integratedTime": str(when),
                "inclusionPromise": {"signedEntryTimestamp": b64(promise)},
                "inclusionProof": {
                    "logIndex": "0", "rootHash": b64(root_hash), "treeSize": "1",
                    "hashes": [],
                    "checkpoint": {"envelope": f"{note}\n\u2014 rekor.test "
                                               f"{b64(self.rekor_id[:4] + note_sig)}\n"}},
                "canonicalizedBody": b64(raw)}


@dataclass(frozen=True)
class Signing:
    """One keyless signature by the private instance, and the policy judging it."""

    leaf: Leaf = Leaf()
    dsse: bool = False
    logged_after: timedelta = timedelta(minutes=1)  # integratedTime - notBefore
    statement_type: str = STATEMENT_V1
    payload_type: str = "application/vnd.in-toto+json"
    subject_digest: str = ARTIFACT
    extra_signature: bool = False
    tamper: Mutation = nothing
    policy_subject: str = WORKFLOW
    policy_issuer: str = ACTIONS


def sign(sigstore: PrivateSigstore, s: Signing) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = sigstore.leaf(key, s.leaf)
    pem = b64(cert.public_bytes(serialization.Encoding.PEM))
    doc: Doc = {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}
    if s.dsse:
        payload = json.dumps({"_type": s.statement_type, "predicateType": "https://slsa.dev/"
                              "provenance/v1", "predicate": {},
                              "subject": [{"name": "image",
                                           "digest": {"sha256": s.subject_digest}}]}).encode()
        kind = s.payload_type.encode()
        pae = b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)
        sigs = [key.sign(pae, ec.ECDSA(hashes.SHA256()))]
        if s.extra_signature:
            sigs.append(key.sign(pae, ec.ECDSA(hashes.SHA256())))
        envelope = {"payload": b64(payload), "payloadType": s.payload_type,
                    "signatures": [{"sig": b64(sig), "keyid": ""} for sig in sigs]}
        doc["dsseEnvelope"] = envelope
        body: Doc = {"apiVersion": "0.0.1", "kind": "dsse", "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(
                json.dumps(envelope).encode()).hexdigest()},
            "payloadHash": {"algorithm": "sha256",
                            "value": hashlib.sha256(payload).hexdigest()},
            "signatures": [{"signature": b64(sig), "verifier": pem} for sig in sigs]}}
    else:
        digest = bytes.fromhex(s.subject_digest)
        signature = key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        doc["messageSignature"] = {"messageDigest": {"algorithm": "SHA2_256",
                                                     "digest": b64(digest)},
                                   "signature": b64(signature)}
        body = {"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
            "signature": {"content": b64(signature), "publicKey": {"content": pem}}}}
    entry = sigstore.entry(body, cert.not_valid_before_utc + s.logged_after)
    doc["verificationMaterial"] = {"certificate": {"rawBytes": b64der(cert)},
                                   "tlogEntries": [entry]}
    s.tamper(doc)
    return json.dumps(doc).encode()


def reference_dsse_verdict(bundle: bytes, root: Doc, digest: str, subject: str,
                           issuer: str, tmp: Path) -> Verdict:
    """sigstore-python on a DSSE bundle, with the checks its own `verify` command
    makes on the result: an in-toto payload with a subject of this digest."""
    path = tmp / "reference_trusted_root.json"
    path.write_text(json.dumps(root))
    hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(digest))
    try:
        verifier = ReferenceVerifier(trusted_root=ReferenceRoot.from_file(str(path)))
        kind, payload = verifier.verify_dsse(ReferenceBundle.from_json(bundle),
                                             Identity(identity=subject, issuer=issuer))
        if kind != dsse.Envelope._TYPE:
            return Verdict(False, f"payload type {kind}")
        if not dsse.Statement(payload)._matches_digest(hashed):
            return Verdict(False, f"no in-toto subject for {digest}")
    except (SigstoreError, ValueError) as exc:
        return Verdict(False, f"{type(exc).__name__}: {exc}")
    return Verdict(True, "verified")


def private_verdicts(sigstore: PrivateSigstore, s: Signing,
                     tmp: Path) -> tuple[Verdict, Verdict]:
    data = sign(sigstore, s)
    root = sigstore.trusted_root()
    ours = lashing_verdict(data, root, ARTIFACT, s.policy_subject, s.policy_issuer)
    if s.dsse:
        return ours, reference_dsse_verdict(data, root, ARTIFACT, s.policy_subject,
                                            s.policy_issuer, tmp)
    return ours, reference_verdict(data, root, ARTIFACT, s.policy_subject, s.policy_issuer,
                                   root["ctlogs"], tmp)


@pytest.fixture(scope="module")
def private() -> PrivateSigstore:
    return PrivateSigstore()


def dsse_sig_flipped(doc: Doc) -> None:
    sig = doc["dsseEnvelope"]["signatures"][0]
    sig["sig"] = flip_b64(sig["sig"], 12)


def dsse_payload_altered(doc: Doc) -> None:
    env = doc["dsseEnvelope"]
    env["payload"] = b64(base64.b64decode(env["payload"]).replace(b"image", b"imagf"))


def dsse_logged_payload_hash_altered(doc: Doc) -> None:
    body_edit(lambda b: b["spec"]["payloadHash"].__setitem__("value", OTHER_ARTIFACT))(doc)


TEN_MINUTES = timedelta(minutes=10)

PRIVATE_AGREE: dict[str, tuple[Signing, bool]] = {
    "message-signature": (Signing(), True),
    "message-signature-over-another-digest": (Signing(subject_digest=OTHER_ARTIFACT), False),
    "logged-at-not-before": (Signing(logged_after=timedelta(0)), True),
    "logged-a-second-after-not-after": (
        Signing(logged_after=TEN_MINUTES + timedelta(seconds=1)), False),
    "logged-a-second-before-not-before": (Signing(logged_after=-timedelta(seconds=1)), False),
    "logged-a-day-later": (Signing(logged_after=timedelta(days=1)), False),
    "certificate-without-code-signing": (Signing(Leaf(code_signing=False)), False),
    "issuer-only-in-the-v1-extension": (Signing(Leaf(issuer_v2=None)), True),
    "policy-names-another-workflow": (
        Signing(policy_subject=WORKFLOW.replace("release", "build")), False),
    "policy-names-another-issuer": (Signing(policy_issuer="https://gitlab.com"), False),
    "dsse-statement": (Signing(dsse=True), True),
    "dsse-statement-about-another-digest": (
        Signing(dsse=True, subject_digest=OTHER_ARTIFACT), False),
    "dsse-payload-type-not-in-toto": (
        Signing(dsse=True, payload_type="application/json"), False),
    "dsse-signature-flipped": (Signing(dsse=True, tamper=dsse_sig_flipped), False),
    "dsse-payload-altered": (Signing(dsse=True, tamper=dsse_payload_altered), False),
    "dsse-logged-payload-hash-altered": (
        Signing(dsse=True, tamper=dsse_logged_payload_hash_altered), False),
    "dsse-policy-names-another-workflow": (
        Signing(dsse=True, policy_subject=WORKFLOW + "x"), False),
}


@pytest.mark.parametrize("name", list(PRIVATE_AGREE))
def test_private_instance_agrees_with_sigstore_python(name: str, private: PrivateSigstore,
                                                     tmp_path: Path) -> None:
    signing, expected = PRIVATE_AGREE[name]
    ours, reference = private_verdicts(private, signing, tmp_path)
    assert ours.passed == reference.passed, (
        f"lashing {ours.why!r} but sigstore-python {reference.why!r}")
    assert reference.passed is expected, reference.why


@dataclass(frozen=True)
class PrivateDivergence:
    signing: Signing
    lashing: bool
    reference: bool
    why: str


PRIVATE_DIVERGE: dict[str, PrivateDivergence] = {
    "logged-at-not-after": PrivateDivergence(
        Signing(logged_after=TEN_MINUTES), lashing=True, reference=False,
        why="RFC 5280 makes notAfter part of the validity period and lashing agrees; "
            "sigstore-python builds the chain with OpenSSL, whose time check treats "
            "notAfter itself as expired"),
    "issuer-only-in-the-v2-extension": PrivateDivergence(
        Signing(Leaf(issuer_v1=None)), lashing=True, reference=False,
        why="lashing reads the OIDC issuer from 1.3.6.1.4.1.57264.1.8 (then .1.1); "
            "sigstore-python's Identity policy reads only the deprecated .1.1"),
    "policy-names-the-v1-issuer-when-v2-differs": PrivateDivergence(
        Signing(Leaf(issuer_v1="https://accounts.google.com"),
                policy_issuer="https://accounts.google.com"), lashing=False, reference=True,
        why="lashing takes the issuer from the current extension (.1.8) when both are "
            "present; sigstore-python's Identity policy takes the deprecated one (.1.1)"),
    "dsse-statement-v0.1": PrivateDivergence(
        Signing(dsse=True, statement_type="https://in-toto.io/Statement/v0.1"),
        lashing=True, reference=False,
        why="lashing reads the subject of any in-toto statement version (cosign writes "
            "v0.1 statements); sigstore-python's Statement model accepts only v1"),
    "dsse-subject-digest-in-upper-case": PrivateDivergence(
        Signing(dsse=True, subject_digest=ARTIFACT.upper()), lashing=True, reference=False,
        why="lashing compares subject digests case-insensitively; sigstore-python "
            "compares the hex text as written"),
    "dsse-with-two-signatures": PrivateDivergence(
        Signing(dsse=True, extra_signature=True), lashing=True, reference=False,
        why="lashing accepts an envelope with any logged signature by the certificate; "
            "sigstore-python allows exactly one DSSE signature"),
}


@pytest.mark.parametrize("name", list(PRIVATE_DIVERGE))
def test_private_instance_known_divergence(name: str, private: PrivateSigstore,
                                           tmp_path: Path) -> None:
    d = PRIVATE_DIVERGE[name]
    ours, reference = private_verdicts(private, d.signing, tmp_path)
    assert (ours.passed, reference.passed) == (d.lashing, d.reference), (
        f"{d.why}; now lashing {ours.why!r}, sigstore-python {reference.why!r}")
