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
- The inclusion proof shows the entry is in the log's Merkle tree: the audit
  path from the leaf SHA-256(0x00 || canonicalized body) must lead to the
  proof's root hash (lashing.trust.merkle), and a checkpoint signed by the
  log must name that very root and tree size. The proof's `logIndex` is the
  leaf's index in that tree (a shard of the log), not the entry's `logIndex`.
- A checkpoint is a signed note (https://c2sp.org/signed-note,
  https://c2sp.org/tlog-checkpoint): a text of the lines origin, tree size
  and base64 root hash (and optional further lines), each ending in a
  newline; a blank line; then one or more signature lines: U+2014 (em dash),
  a space, the key name, a space, base64(key hint || signature). Rekor's key
  hint is the first 4 bytes of the log id, SHA-256 of its DER public key; its
  signature is over the text's exact bytes. Signatures by other keys (witnesses) are
  ignored; every signature with the log's hint must verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lashing.trust.bundle import SHA256_SIZE, TlogEntry
from lashing.trust.cosign import PublicKey, TrustedKey, verify_with
from lashing.trust.merkle import leaf_hash, root_from_inclusion_proof
from lashing.trust.trusted_root import TrustedRoot

NOTE_SIGNATURE_PREFIX = "\u2014 "
MAX_NOTE_SIGNATURES = 100
KEY_HINT_SIZE = 4
MAX_TREE_SIZE_DIGITS = 20


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


# -- inclusion proofs and checkpoints ------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_hint: bytes
    signature: bytes


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    text: bytes  # the signed note text, up to and including its last newline
    signatures: tuple[NoteSignature, ...]


def parse_checkpoint(note: str) -> Checkpoint:
    """A checkpoint's fields and signatures, nothing verified; ValueError says
    what is wrong."""
    if any(c < " " and c != "\n" for c in note):
        raise ValueError("holds control characters")
    text, blank, signed = note.partition("\n\n")
    if not blank:
        raise ValueError("has no blank line between its text and its signatures")
    lines = text.split("\n")
    if len(lines) < 3 or not all(lines):
        raise ValueError("needs non-empty origin, tree size and root hash lines")
    origin, size, root = lines[:3]
    if (not (size.isascii() and size.isdigit()) or len(size) > MAX_TREE_SIZE_DIGITS
            or (size.startswith("0") and size != "0")):
        raise ValueError(f"tree size {size[:30]!r} is not a decimal number")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError):
        root_hash = b""
    if len(root_hash) != SHA256_SIZE:
        raise ValueError(f"root hash {root[:60]!r} is not a base64 SHA-256 hash")
    if not signed.endswith("\n"):
        raise ValueError("does not end with a newline")
    sig_lines = signed[:-1].split("\n")
    if len(sig_lines) > MAX_NOTE_SIGNATURES:
        raise ValueError(f"has more than {MAX_NOTE_SIGNATURES} signatures")
    return Checkpoint(origin, int(size), root_hash, (text + "\n").encode(),
                      tuple(_note_signature(line) for line in sig_lines))


def _note_signature(line: str) -> NoteSignature:
    parts = line.removeprefix(NOTE_SIGNATURE_PREFIX).split(" ")
    if not line.startswith(NOTE_SIGNATURE_PREFIX) or len(parts) != 2 or not parts[0]:
        raise ValueError(f"signature line {line[:60]!r} is not '\u2014 <name> <base64>'")
    try:
        raw = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) <= KEY_HINT_SIZE:
        raise ValueError(f"the signature of {parts[0][:60]!r} is not base64 key hint and "
                         "signature")
    return NoteSignature(parts[0], raw[:KEY_HINT_SIZE], raw[KEY_HINT_SIZE:])


def key_hint(key: PublicKey) -> bytes:
    """Rekor's checkpoint key hint: the first bytes of SHA-256 of the DER key."""
    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()[:KEY_HINT_SIZE]


def check_inclusion(entry: TlogEntry, root: TrustedRoot) -> str | None:
    """None when the entry's inclusion proof leads from its body to a root
    hash that a checkpoint signed by its log (a Rekor key of the trusted root)
    commits to; else why not."""
    what = f"Rekor entry {entry.log_index}"
    proof = entry.inclusion_proof
    if proof is None:
        return f"{what} has no inclusion proof"
    log = root.log(entry.log_id)
    if log is None:
        return f"{what}: log {entry.log_id.hex()[:16]}... is not in the trusted root {root.source}"
    computed = root_from_inclusion_proof(proof.log_index, proof.tree_size,
                                         leaf_hash(entry.body), proof.hashes)
    if computed is None:
        return (f"{what}: the inclusion proof's {len(proof.hashes)} hashes are not an audit "
                f"path for leaf {proof.log_index} of a tree of {proof.tree_size}")
    if computed != proof.root_hash:
        return (f"{what}: the inclusion proof does not lead from the entry to root hash "
                f"{proof.root_hash.hex()[:16]}... of a tree of {proof.tree_size}")
    try:
        checkpoint = parse_checkpoint(proof.checkpoint)
    except ValueError as exc:
        return f"{what}: the checkpoint {exc}"
    if (checkpoint.tree_size, checkpoint.root_hash) != (proof.tree_size, proof.root_hash):
        return (f"{what}: the checkpoint is of a tree of {checkpoint.tree_size} with root "
                f"{checkpoint.root_hash.hex()[:16]}..., not the inclusion proof's tree of "
                f"{proof.tree_size} with root {proof.root_hash.hex()[:16]}...")
    hint = key_hint(log.key)
    signatures = [s for s in checkpoint.signatures if s.key_hint == hint]
    if not signatures:
        return f"{what}: the checkpoint carries no signature by the log's key ({hint.hex()})"
    key = TrustedKey(log.base_url or "rekor", log.key)
    if not all(verify_with(key, s.signature, checkpoint.text) for s in signatures):
        return f"{what}: the checkpoint's signature does not verify with the log's key"
    return None
