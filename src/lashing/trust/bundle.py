"""Sigstore bundles: one signature with everything needed to verify it offline.

Media types `application/vnd.dev.sigstore.bundle+json;version=0.1`, `0.2` and
`0.3`, and `application/vnd.dev.sigstore.bundle.v0.3+json`
(https://github.com/sigstore/protobuf-specs, `sigstore_bundle.proto`):

    {"mediaType": "...",
     "verificationMaterial": {
         "publicKey": {"hint": "..."}                          # a key the verifier knows, or
         "x509CertificateChain": {"certificates": [{"rawBytes": "<DER>"}, ...]}  # 0.1, 0.2, or
         "certificate": {"rawBytes": "<DER>"},                 # 0.3: the leaf alone
         "tlogEntries": [{"logIndex": "1", "logId": {"keyId": "<base64>"},
                          "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
                          "integratedTime": "1700000000",
                          "inclusionPromise": {"signedEntryTimestamp": "<base64>"},
                          "inclusionProof": {"logIndex": "0", "treeSize": "1",
                                             "rootHash": "<base64>", "hashes": ["<base64>"],
                                             "checkpoint": {"envelope": "<signed note>"}},
                          "canonicalizedBody": "<base64 Rekor entry>"}]},
     "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": "<base64>"},
                          "signature": "<base64>"}                # or
     "dsseEnvelope": {"payload": "<base64>", "payloadType": "application/vnd.in-toto+json",
                      "signatures": [{"sig": "<base64>", "keyid": ""}]}}

Protobuf JSON writes 64-bit integers as strings; both forms are read. It
leaves out fields holding their default value, so an inclusion proof without
`logIndex` is of leaf 0 and one without `hashes` has an empty audit path.
`messageDigest` is optional: without it the signature is over the digest of
the artifact being verified.
`parse_bundle` only parses: nothing here is trusted yet.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from cryptography import x509

BUNDLE_TYPES = (
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
)
INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
MAX_BUNDLE_BYTES = 1024 * 1024
MAX_CERTIFICATES = 8
MAX_TLOG_ENTRIES = 8
MAX_DSSE_SIGNATURES = 8
MAX_PROOF_HASHES = 64
MAX_CHECKPOINT_CHARS = 16 * 1024
SHA256_SIZE = 32


class BundleError(ValueError):
    """The bundle cannot be read; the message says why."""


@dataclass(frozen=True)
class MessageSignature:
    algorithm: str | None  # SHA2_256, SHA2_384, SHA2_512; None without a messageDigest
    digest: bytes | None
    signature: bytes


@dataclass(frozen=True)
class Envelope:
    """A DSSE envelope (https://github.com/secure-systems-lab/dsse)."""

    payload: bytes
    payload_type: str
    signatures: tuple[bytes, ...]

    def pae(self) -> bytes:
        """The pre-authentication encoding the signatures are over."""
        kind = self.payload_type.encode()
        return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(self.payload), self.payload)


@dataclass(frozen=True)
class InclusionProof:
    """The entry's audit path to a tree head the log signed (its checkpoint)."""

    log_index: int  # the leaf's index in this tree (a log shard), not the entry's
    tree_size: int
    root_hash: bytes
    hashes: tuple[bytes, ...]
    checkpoint: str  # the signed note, as given


@dataclass(frozen=True)
class TlogEntry:
    log_index: int
    log_id: bytes
    integrated_time: int  # seconds since the epoch
    body: bytes  # the canonicalized Rekor entry (JSON)
    kind: str
    version: str
    signed_entry_timestamp: bytes | None
    inclusion_proof: InclusionProof | None = None


@dataclass(frozen=True)
class Bundle:
    media_type: str
    content: MessageSignature | Envelope
    certificates: tuple[x509.Certificate, ...]  # leaf first; empty with a public key hint
    key_hint: str | None
    tlog_entries: tuple[TlogEntry, ...]

    @property
    def version(self) -> str:
        """The bundle format version: 0.1, 0.2 or 0.3."""
        if self.media_type.endswith(".v0.3+json"):
            return "0.3"
        return self.media_type.rpartition("version=")[2]


def _b64(value: Any, where: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise BundleError(f"{where}: expected base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BundleError(f"{where}: not base64") from None


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise BundleError(f"{where}: expected an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 20:
        return int(value)
    raise BundleError(f"{where}: expected an integer")


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BundleError(f"{where}: expected a JSON object")
    return value


def parse_bundle(data: bytes) -> Bundle:
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError(f"the bundle is over the {MAX_BUNDLE_BYTES}-byte limit")
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BundleError("the bundle is not JSON") from None
    doc = _object(doc, "bundle")
    media = doc.get("mediaType")
    if media not in BUNDLE_TYPES:
        raise BundleError(f"mediaType {str(media)[:100]!r} is not a Sigstore bundle")
    material = _object(doc.get("verificationMaterial"), "verificationMaterial")
    certificates, hint = _material(material)
    entries_doc = material.get("tlogEntries", [])
    if not isinstance(entries_doc, list) or len(entries_doc) > MAX_TLOG_ENTRIES:
        raise BundleError(f"verificationMaterial.tlogEntries: expected a list of at most "
                          f"{MAX_TLOG_ENTRIES}")
    entries = tuple(_entry(e, f"tlogEntries[{i}]") for i, e in enumerate(entries_doc))
    if ("messageSignature" in doc) == ("dsseEnvelope" in doc):
        raise BundleError("the bundle must hold exactly one of messageSignature and "
                          "dsseEnvelope")
    content: MessageSignature | Envelope
    if "messageSignature" in doc:
        ms = _object(doc["messageSignature"], "messageSignature")
        algorithm, digest = None, None
        if "messageDigest" in ms:
            md = _object(ms["messageDigest"], "messageSignature.messageDigest")
            algorithm = str(md.get("algorithm", ""))
            digest = _b64(md.get("digest"), "messageDigest.digest")
        content = MessageSignature(algorithm, digest,
                                   _b64(ms.get("signature"), "messageSignature.signature"))
    else:
        env = _object(doc["dsseEnvelope"], "dsseEnvelope")
        sigs = env.get("signatures")
        if not isinstance(sigs, list) or not sigs or len(sigs) > MAX_DSSE_SIGNATURES:
            raise BundleError(f"dsseEnvelope.signatures: expected 1 to {MAX_DSSE_SIGNATURES}")
        content = Envelope(
            _b64(env.get("payload"), "dsseEnvelope.payload"),
            str(env.get("payloadType", "")),
            tuple(_b64(_object(s, "dsseEnvelope.signatures[]").get("sig"),
                       f"dsseEnvelope.signatures[{i}].sig") for i, s in enumerate(sigs)))
    return Bundle(str(media), content, certificates, hint, entries)


def _material(material: dict[str, Any]) -> tuple[tuple[x509.Certificate, ...], str | None]:
    raws: list[Any]
    if "certificate" in material:
        raws = [_object(material["certificate"], "verificationMaterial.certificate")]
    elif "x509CertificateChain" in material:
        chain = _object(material["x509CertificateChain"], "x509CertificateChain")
        raws = chain.get("certificates")  # type: ignore[assignment]
        if not isinstance(raws, list) or not raws or len(raws) > MAX_CERTIFICATES:
            raise BundleError(f"x509CertificateChain.certificates: expected 1 to "
                              f"{MAX_CERTIFICATES}")
    elif "publicKey" in material:
        pk = _object(material["publicKey"], "verificationMaterial.publicKey")
        hint = pk.get("hint")
        return (), hint if isinstance(hint, str) else None
    else:
        raise BundleError("verificationMaterial has no certificate, chain or public key")
    certs = []
    for i, raw in enumerate(raws):
        der = _b64(_object(raw, f"certificates[{i}]").get("rawBytes"),
                   f"certificates[{i}].rawBytes")
        try:
            certs.append(x509.load_der_x509_certificate(der))
        except ValueError:
            raise BundleError(f"certificates[{i}]: not a DER X.509 certificate") from None
    return tuple(certs), None


def _entry(value: Any, where: str) -> TlogEntry:
    e = _object(value, where)
    kv = e.get("kindVersion")
    kind = kv.get("kind") if isinstance(kv, dict) else None
    version = kv.get("version") if isinstance(kv, dict) else None
    log_id = _object(e.get("logId"), f"{where}.logId")
    promise = e.get("inclusionPromise")
    signed = None
    if isinstance(promise, dict) and "signedEntryTimestamp" in promise:
        signed = _b64(promise["signedEntryTimestamp"],
                      f"{where}.inclusionPromise.signedEntryTimestamp")
    return TlogEntry(
        log_index=_int(e.get("logIndex"), f"{where}.logIndex"),
        log_id=_b64(log_id.get("keyId"), f"{where}.logId.keyId"),
        integrated_time=_int(e.get("integratedTime"), f"{where}.integratedTime"),
        body=_b64(e.get("canonicalizedBody"), f"{where}.canonicalizedBody"),
        kind=kind if isinstance(kind, str) else "",
        version=version if isinstance(version, str) else "",
        signed_entry_timestamp=signed,
        inclusion_proof=(_proof(e["inclusionProof"], f"{where}.inclusionProof")
                         if "inclusionProof" in e else None),
    )


def _hash(value: Any, where: str) -> bytes:
    raw = _b64(value, where)
    if len(raw) != SHA256_SIZE:
        raise BundleError(f"{where}: expected a {SHA256_SIZE}-byte SHA-256 hash")
    return raw


def _proof(value: Any, where: str) -> InclusionProof:
    p = _object(value, where)
    hashes = p.get("hashes", [])
    if not isinstance(hashes, list) or len(hashes) > MAX_PROOF_HASHES:
        raise BundleError(f"{where}.hashes: expected a list of at most {MAX_PROOF_HASHES}")
    checkpoint = _object(p.get("checkpoint"), f"{where}.checkpoint").get("envelope")
    if not isinstance(checkpoint, str) or not 0 < len(checkpoint) <= MAX_CHECKPOINT_CHARS:
        raise BundleError(f"{where}.checkpoint.envelope: expected a signed note of at most "
                          f"{MAX_CHECKPOINT_CHARS} characters")
    return InclusionProof(
        log_index=_int(p.get("logIndex", 0), f"{where}.logIndex"),
        tree_size=_int(p.get("treeSize"), f"{where}.treeSize"),
        root_hash=_hash(p.get("rootHash"), f"{where}.rootHash"),
        hashes=tuple(_hash(h, f"{where}.hashes[{i}]") for i, h in enumerate(hashes)),
        checkpoint=checkpoint,
    )
