"""Rekor transparency-log entries, checked offline.

- The signed entry timestamp (SET) is the log's signature over the canonical
  JSON (keys sorted, no whitespace) of
  `{"body": <base64 entry>, "integratedTime": <int>, "logID": <hex>, "logIndex": <int>}`
  made with the log's key; it promises the entry was logged at integratedTime.
  The key is found in the trusted root by log id and must have been valid then.
- The entry's body must be about this very signature: a `hashedrekord`
  (0.0.1) names the signed digest, the signature and the certificate; a `dsse`
  (0.0.1) the payload hash, the signatures and their verifiers. Otherwise any
  logged entry could lend its time to an unrelated signature.

Merkle inclusion proofs and checkpoints are not checked (the SET is).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from cryptography import x509

from lashing.trust.bundle import TlogEntry
from lashing.trust.cosign import TrustedKey, verify_with
from lashing.trust.trusted_root import TrustedRoot


def set_payload(entry: TlogEntry) -> bytes:
    doc = {
        "body": base64.b64encode(entry.body).decode(),
        "integratedTime": entry.integrated_time,
        "logID": entry.log_id.hex(),
        "logIndex": entry.log_index,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def integrated_at(entry: TlogEntry) -> datetime:
    return datetime.fromtimestamp(entry.integrated_time, UTC)


def check_set(entry: TlogEntry, root: TrustedRoot) -> str | None:
    """None when the SET verifies with a trusted log key valid at integratedTime;
    else why not."""
    what = f"Rekor entry {entry.log_index}"
    if entry.signed_entry_timestamp is None:
        return f"{what} has no signed entry timestamp (inclusionPromise)"
    log = root.log(entry.log_id)
    if log is None:
        return f"{what}: log {entry.log_id.hex()[:16]}... is not in the trusted root {root.source}"
    try:
        when = integrated_at(entry)
    except (OverflowError, OSError, ValueError):
        return f"{what}: integratedTime {entry.integrated_time} is not a time"
    if not log.validity.contains(when):
        return f"{what}: the log key was not valid at {when.isoformat()}"
    if not verify_with(TrustedKey(log.base_url or "rekor", log.key),
                       entry.signed_entry_timestamp, set_payload(entry)):
        return f"{what}: the signed entry timestamp does not verify with the log's key"
    return None


def _body(entry: TlogEntry) -> dict[str, Any] | None:
    try:
        doc = json.loads(entry.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("spec"), dict) else None


def _field(doc: dict[str, Any], key: str) -> dict[str, Any]:
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def _decode(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _same_certificate(pem_b64: Any, cert: x509.Certificate | None) -> bool:
    if cert is None:
        return True
    pem = _decode(pem_b64)
    if pem is None:
        return False
    try:
        logged = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return False
    return logged == cert


def check_hashedrekord(entry: TlogEntry, signature: bytes, digest_hex: str,
                       cert: x509.Certificate | None) -> str | None:
    """The entry logs `signature` over the SHA-256 `digest_hex`, made by `cert`."""
    what = f"Rekor entry {entry.log_index}"
    body = _body(entry)
    if body is None or body.get("kind") != "hashedrekord":
        return f"{what} is not a hashedrekord entry"
    spec = body["spec"]
    hashed = _field(_field(spec, "data"), "hash")
    sig = _field(spec, "signature")
    key = _field(sig, "publicKey")
    if hashed.get("algorithm") != "sha256" or hashed.get("value") != digest_hex:
        return f"{what} logs another artifact digest, not sha256:{digest_hex}"
    if _decode(sig.get("content")) != signature:
        return f"{what} logs another signature"
    if not _same_certificate(key.get("content"), cert):
        return f"{what} logs another certificate"
    return None


def check_dsse(entry: TlogEntry, payload: bytes, signatures: tuple[bytes, ...],
               cert: x509.Certificate | None) -> str | None:
    """The entry logs this DSSE payload and one of its signatures, made by `cert`."""
    what = f"Rekor entry {entry.log_index}"
    body = _body(entry)
    if body is None or body.get("kind") != "dsse":
        return f"{what} is not a dsse entry"
    spec = body["spec"]
    payload_hash = _field(spec, "payloadHash")
    if (payload_hash.get("algorithm") != "sha256"
            or payload_hash.get("value") != hashlib.sha256(payload).hexdigest()):
        return f"{what} logs another DSSE payload"
    logged = spec.get("signatures") if isinstance(spec.get("signatures"), list) else []
    for item in logged:
        if (isinstance(item, dict) and _decode(item.get("signature")) in signatures
                and _same_certificate(item.get("verifier"), cert)):
            return None
    return f"{what} logs other DSSE signatures or another certificate"
