"""A Sigstore trusted root (`trusted_root.json`): the pinned trust material
keyless signatures are checked against, offline.

    {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
     "tlogs": [{"baseUrl": "...", "hashAlgorithm": "SHA2_256",
                "publicKey": {"rawBytes": "<base64 DER SubjectPublicKeyInfo>",
                              "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                              "validFor": {"start": "2021-01-12T11:53:27Z", "end": "..."}},
                "logId": {"keyId": "<base64 SHA-256 of the DER public key>"}}],
     "certificateAuthorities": [{"subject": {...}, "uri": "https://fulcio.sigstore.dev",
                                 "certChain": {"certificates": [{"rawBytes": "<base64 DER>"}]},
                                 "validFor": {"start": "...", "end": "..."}}],
     "ctlogs": [...], "timestampAuthorities": [...]}

The Fulcio chain is listed from the issuing (intermediate) certificate to the
root. Only `tlogs` (Rekor) and `certificateAuthorities` (Fulcio) are used;
certificate transparency (SCTs) and timestamp authorities are not checked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from lashing.errors import InputError
from lashing.trust.cosign import PublicKey

MEDIA_TYPES = (
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "application/vnd.dev.sigstore.trustedroot.v0.1+json",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
)
MAX_TRUSTED_ROOT_BYTES = 1024 * 1024
MAX_ENTRIES = 256
_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 time (up to nanoseconds, `Z` or an offset); None if not one."""
    try:
        when = datetime.fromisoformat(_FRACTION.sub(r"\1", text.strip()))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Validity:
    start: datetime | None
    end: datetime | None  # None: still valid

    def contains(self, when: datetime) -> bool:
        return (self.start is None or self.start <= when) and (self.end is None
                                                               or when <= self.end)


@dataclass(frozen=True)
class TransparencyLog:
    base_url: str
    key: PublicKey
    log_ids: frozenset[bytes]  # the keyId given, and SHA-256 of the DER public key
    validity: Validity


@dataclass(frozen=True)
class CertificateAuthority:
    uri: str
    chain: tuple[x509.Certificate, ...]  # issuing certificate first, root last
    validity: Validity


@dataclass(frozen=True)
class TrustedRoot:
    source: str
    tlogs: tuple[TransparencyLog, ...]
    authorities: tuple[CertificateAuthority, ...]

    def log(self, log_id: bytes) -> TransparencyLog | None:
        return next((t for t in self.tlogs if log_id in t.log_ids), None)


def load_trusted_root(path: Path) -> TrustedRoot:
    """Read and check a trusted_root.json; every problem is an InputError naming it."""
    try:
        if path.stat().st_size > MAX_TRUSTED_ROOT_BYTES:
            raise InputError(f"trusted root {path}: over the {MAX_TRUSTED_ROOT_BYTES}-byte limit")
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"trusted root {path}: no such file") from None
    except OSError as exc:
        raise InputError(f"trusted root {path}: cannot read ({exc.strerror})") from None
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"trusted root {path}: not JSON ({exc})") from None
    return parse_trusted_root(doc, str(path))


def parse_trusted_root(doc: Any, source: str) -> TrustedRoot:
    def bad(what: str) -> InputError:
        return InputError(f"trusted root {source}: {what}",
                          "expected a Sigstore trusted_root.json (tlogs, certificateAuthorities)")

    if not isinstance(doc, dict):
        raise bad("not a JSON object")
    media = doc.get("mediaType")
    if media not in MEDIA_TYPES:
        raise bad(f"mediaType {str(media)[:100]!r} is not a trusted root")
    tlogs_doc, cas_doc = doc.get("tlogs", []), doc.get("certificateAuthorities", [])
    if not isinstance(tlogs_doc, list) or not isinstance(cas_doc, list):
        raise bad("'tlogs' and 'certificateAuthorities' must be lists")
    if len(tlogs_doc) > MAX_ENTRIES or len(cas_doc) > MAX_ENTRIES:
        raise bad(f"more than {MAX_ENTRIES} logs or authorities")
    tlogs = tuple(_tlog(t, f"tlogs[{i}]", bad) for i, t in enumerate(tlogs_doc))
    cas = tuple(_authority(c, f"certificateAuthorities[{i}]", bad)
                for i, c in enumerate(cas_doc))
    if not tlogs or not cas:
        raise bad("needs at least one Rekor log (tlogs) and one Fulcio certificate authority")
    return TrustedRoot(source, tlogs, cas)


def _b64(value: Any, where: str, bad: Any) -> bytes:
    if not isinstance(value, str) or not value:
        raise bad(f"{where}: expected base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise bad(f"{where}: not base64") from None


def _validity(value: Any, where: str, bad: Any) -> Validity:
    if value is None:
        return Validity(None, None)
    if not isinstance(value, dict):
        raise bad(f"{where}.validFor: expected an object")
    times: list[datetime | None] = []
    for key in ("start", "end"):
        text = value.get(key)
        if text is None:
            times.append(None)
            continue
        when = parse_time(text) if isinstance(text, str) else None
        if when is None:
            raise bad(f"{where}.validFor.{key}: {str(text)[:60]!r} is not an RFC 3339 time")
        times.append(when)
    return Validity(times[0], times[1])


def _tlog(value: Any, where: str, bad: Any) -> TransparencyLog:
    if not isinstance(value, dict) or not isinstance(value.get("publicKey"), dict):
        raise bad(f"{where}: expected an object with a publicKey")
    pk = value["publicKey"]
    der = _b64(pk.get("rawBytes"), f"{where}.publicKey.rawBytes", bad)
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm):
        raise bad(f"{where}.publicKey: not a DER public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey
                      | ed25519.Ed25519PublicKey):
        raise bad(f"{where}.publicKey: unsupported key type {type(key).__name__}")
    ids = {hashlib.sha256(der).digest()}
    log_id = value.get("logId")
    if isinstance(log_id, dict) and "keyId" in log_id:
        ids.add(_b64(log_id["keyId"], f"{where}.logId.keyId", bad))
    return TransparencyLog(str(value.get("baseUrl", "")), key, frozenset(ids),
                           _validity(pk.get("validFor"), f"{where}.publicKey", bad))


def _authority(value: Any, where: str, bad: Any) -> CertificateAuthority:
    chain_doc = value.get("certChain") if isinstance(value, dict) else None
    certs_doc = chain_doc.get("certificates") if isinstance(chain_doc, dict) else None
    if not isinstance(certs_doc, list) or not certs_doc or len(certs_doc) > 16:
        raise bad(f"{where}: expected certChain.certificates (1 to 16)")
    chain = []
    for i, c in enumerate(certs_doc):
        raw = _b64(c.get("rawBytes") if isinstance(c, dict) else None,
                   f"{where}.certChain.certificates[{i}].rawBytes", bad)
        try:
            chain.append(x509.load_der_x509_certificate(raw))
        except ValueError:
            raise bad(f"{where}.certChain.certificates[{i}]: not a DER certificate") from None
    return CertificateAuthority(str(value.get("uri", "")), tuple(chain),
                                _validity(value.get("validFor"), where, bad))
