"""Fulcio certificates: who a keyless signature names, and whether to believe it.

A Fulcio leaf certificate lives for minutes. It is checked at the time the
transparency log recorded the signature (the entry's integratedTime), not
now: the leaf and every CA certificate must be valid at that moment, the leaf
must be signed by the first certificate of a trusted-root CA chain and each
chain certificate by the next, and the leaf must allow code signing.

The signer's identity is the certificate's subject alternative name (URI or
e-mail); the OIDC issuer is extension 1.3.6.1.4.1.57264.1.8 (a DER UTF8String)
or, in older certificates, 1.3.6.1.4.1.57264.1.1 (the raw string).
(https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID

from lashing.trust.trusted_root import CertificateAuthority, TrustedRoot

OID_ISSUER_V1 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
OID_ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")


@dataclass(frozen=True)
class CertificateIdentity:
    subject: str  # the SAN: a URI or an e-mail address
    issuer: str | None  # the OIDC issuer


def _utf8_string(der: bytes) -> str | None:
    """A DER UTF8String (tag 12) with a short or long length."""
    if len(der) < 2 or der[0] != 0x0C:
        return None
    length, offset = der[1], 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 3 or len(der) < 2 + n:
            return None
        length, offset = int.from_bytes(der[2:2 + n], "big"), 2 + n
    if len(der) != offset + length:
        return None
    try:
        return der[offset:].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _extension_value(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> bytes | None:
    try:
        ext = cert.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None
    value = ext.value
    return value.value if isinstance(value, x509.UnrecognizedExtension) else None


def certificate_identity(cert: x509.Certificate) -> CertificateIdentity:
    """The subject and issuer a Fulcio certificate names; ValueError without a SAN."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise ValueError("the certificate has no subject alternative name") from None
    names = [*san.get_values_for_type(x509.UniformResourceIdentifier),
             *san.get_values_for_type(x509.RFC822Name)]
    if not names:
        raise ValueError("the certificate names no URI or e-mail identity")
    issuer = None
    v2 = _extension_value(cert, OID_ISSUER_V2)
    if v2 is not None:
        issuer = _utf8_string(v2)
    if issuer is None:
        v1 = _extension_value(cert, OID_ISSUER_V1)
        if v1 is not None:
            try:
                issuer = v1.decode("utf-8")
            except UnicodeDecodeError:
                issuer = None
    return CertificateIdentity(names[0], issuer)


def _valid_at(cert: x509.Certificate, when: datetime) -> bool:
    return cert.not_valid_before_utc <= when <= cert.not_valid_after_utc


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _chains_to(leaf: x509.Certificate, ca: CertificateAuthority) -> bool:
    chain = (leaf, *ca.chain)
    return all(_issued_by(chain[i], chain[i + 1]) for i in range(len(chain) - 1))


def check_leaf(leaf: x509.Certificate, root: TrustedRoot, when: datetime) -> str | None:
    """None when `leaf` is a code-signing certificate of a trusted Fulcio CA, all
    valid at `when`; else why not."""
    if not _valid_at(leaf, when):
        return (f"the certificate is valid from {leaf.not_valid_before_utc.isoformat()} to "
                f"{leaf.not_valid_after_utc.isoformat()}, not at the log's integrated time "
                f"{when.isoformat()}")
    if _is_ca(leaf):
        return "the signing certificate is a CA certificate"
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return "the certificate has no extended key usage (code signing)"
    if ExtendedKeyUsageOID.CODE_SIGNING not in eku:
        return "the certificate does not allow code signing"
    issuers = [ca for ca in root.authorities if _chains_to(leaf, ca)]
    if not issuers:
        return (f"the certificate (issuer {leaf.issuer.rfc4514_string()[:120]}) is not issued "
                f"by a certificate authority in the trusted root {root.source}")
    for ca in issuers:
        if (ca.validity.contains(when) and all(_valid_at(c, when) for c in ca.chain)
                and all(_is_ca(c) for c in ca.chain)):
            return None
    name = f" {issuers[0].uri}" if issuers[0].uri else ""
    return (f"the issuing certificate authority{name} was not valid (or is not a CA) at "
            f"{when.isoformat()}")
