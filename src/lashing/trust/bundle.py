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
                          "canonicalizedBody": "<base64 Rekor entry>"}]},
     "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": "<base64>"},
                          "signature": "<base64>"}                # or
     "dsseEnvelope": {"payload": "<base64>", "payloadType": "application/vnd.in-toto+json",
                      "signatures": [{"sig": "<base64>", "keyid": ""}]}}

Protobuf JSON writes 64-bit integers as strings; both forms are read.
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


class BundleError(ValueError):
    """The bundle cannot be read; the message says why."""


@dataclass(frozen=True)
class MessageSignature:
    algorithm: str  # SHA2_256, SHA2_384, SHA2_512
    digest: bytes
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
class TlogEntry:
    log_index: int
    log_id: bytes
    integrated_time: int  # seconds since the epoch
    body: bytes  # the canonicalized Rekor entry (JSON)
    kind: str
    version: str
    signed_entry_timestamp: bytes | None


@dataclass(frozen=True)
class Bundle:
    media_type: str
    content: MessageSignature | Envelope
    certificates: tuple[x509.Certificate, ...]  # leaf first; empty with a public key hint
    key_hint: str | None
    tlog_entries: tuple[TlogEntry, ...]


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
        md = _object(ms.get("messageDigest"), "messageSignature.messageDigest")
        content = MessageSignature(str(md.get("algorithm", "")),
                                   _b64(md.get("digest"), "messageDigest.digest"),
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
    )
