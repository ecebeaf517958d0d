"""A private Sigstore for tests, built with `cryptography` (no network): a
Fulcio-like CA (root and intermediate) issuing short-lived code-signing leaf
certificates with the Fulcio identity extensions, a Rekor-like log that signs
entry timestamps, keeps a Merkle tree of its entries and hands out inclusion
proofs with signed checkpoints, the trusted_root.json naming both, Sigstore
bundles (message signature or DSSE in-toto statement), and the OCI 1.1
referrer that carries a bundle, pushed with the referrers tag schema.

The log's tree hashes and audit paths follow the recursive definitions of
RFC 9162 section 2.1.1 and 2.1.3.1 (MTH and PATH), independently of the
iterative verifier in lashing.trust.merkle."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lashing.trust.bundle import INTOTO_PAYLOAD_TYPE, Envelope
from lashing.trust.cosign import CERTIFICATE_ANNOTATION, SIGNATURE_ANNOTATION
from lashing.trust.referrers import referrers_tag
from lashing.trust.sigstore import REKOR_BUNDLE_ANNOTATION

from registry import MEDIA_OCI_INDEX, MEDIA_OCI_MANIFEST, Pusher, sha256

BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
BUNDLE_V01 = "application/vnd.dev.sigstore.bundle+json;version=0.1"
BUNDLE_V02 = "application/vnd.dev.sigstore.bundle+json;version=0.2"
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
WORKFLOW = "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LOG_NAME = "rekor.test"
LOG_ORIGIN = "rekor.test - 4242"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def utf8_string(text: str) -> bytes:
    """DER UTF8String, short or long length form."""
    raw = text.encode()
    if len(raw) < 128:
        return bytes([0x0C, len(raw)]) + raw
    size = len(raw).to_bytes((len(raw).bit_length() + 7) // 8, "big")
    return bytes([0x0C, 0x80 | len(size)]) + size + raw


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lashing-test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class Fulcio:
    """A root CA and an intermediate that issues leaf certificates."""

    root_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP384R1()))
    inter_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP384R1()))
    name: str = "fulcio"

    def __post_init__(self) -> None:
        start, end = T0 - timedelta(days=365), T0 + timedelta(days=3650)
        self.root = self._ca(_name(f"{self.name}-root"), self.root_key, self.root_key,
                             _name(f"{self.name}-root"), start, end, None)
        self.intermediate = self._ca(_name(f"{self.name}-intermediate"), self.inter_key,
                                     self.root_key, self.root.subject, start, end, 0)

    @staticmethod
    def _ca(subject: x509.Name, key: ec.EllipticCurvePrivateKey,
            signer: ec.EllipticCurvePrivateKey, issuer: x509.Name, start: datetime,
            end: datetime, path_length: int | None) -> x509.Certificate:
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), True)
                .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                             False, False), True)
                .sign(signer, hashes.SHA384()))

    def leaf(self, key: ec.EllipticCurvePrivateKey, *, subject: str = WORKFLOW,
             issuer: str | None = GITHUB_ISSUER, legacy_issuer: bool = False,
             not_before: datetime = T0, minutes: int = 10,
             email: bool = False) -> x509.Certificate:
        name: x509.GeneralName = (x509.RFC822Name(subject) if email
                                  else x509.UniformResourceIdentifier(subject))
        builder = (x509.CertificateBuilder().subject_name(x509.Name([]))
                   .issuer_name(self.intermediate.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(not_before)
                   .not_valid_after(not_before + timedelta(minutes=minutes))
                   .add_extension(x509.SubjectAlternativeName([name]), True)
                   .add_extension(x509.KeyUsage(True, False, False, False, False, False, False,
                                                False, False), True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]),
                                  False))
        if issuer is not None:
            oid = "1.3.6.1.4.1.57264.1.1" if legacy_issuer else "1.3.6.1.4.1.57264.1.8"
            value = issuer.encode() if legacy_issuer else utf8_string(issuer)
            builder = builder.add_extension(
                x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), False)
        return builder.sign(self.inter_key, hashes.SHA384())


def tree_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def tree_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def tree_root(leaves: list[bytes]) -> bytes:
    """MTH over leaf hashes (RFC 9162 2.1.1)."""
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return tree_node(tree_root(leaves[:k]), tree_root(leaves[k:]))


def audit_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) over leaf hashes (RFC 9162 2.1.3.1)."""
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if m < k:
        return [*audit_path(m, leaves[:k]), tree_root(leaves[k:])]
    return [*audit_path(m - k, leaves[k:]), tree_root(leaves[:k])]


def key_id(key: ec.EllipticCurvePrivateKey) -> bytes:
    """SHA-256 of the DER public key: Rekor's log id; its first 4 bytes are the
    checkpoint key hint."""
    return hashlib.sha256(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest()


def signed_checkpoint(key: ec.EllipticCurvePrivateKey, size: int, root: bytes, *,
                      origin: str = LOG_ORIGIN, name: str = LOG_NAME,
                      extra: tuple[str, ...] = ()) -> str:
    """A checkpoint (signed note) for a tree of `size` with `root`, signed by `key`."""
    text = "".join(f"{line}\n" for line in (origin, str(size), b64(root), *extra))
    signature = key.sign(text.encode(), ec.ECDSA(hashes.SHA256()))
    return f"{text}\n\u2014 {name} {b64(key_id(key)[:4] + signature)}\n"


@dataclass
class Rekor:
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    index: int = 1000
    # the tree (this log shard) starts with entries of others, an odd number of
    # them, and two more are logged after each of ours: paths take both turns
    leaves: list[bytes] = field(
        default_factory=lambda: [tree_leaf(b"other %d" % i) for i in range(37)])

    def spki(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def log_id(self) -> bytes:
        return key_id(self.key)

    def inclusion_proof(self, raw: bytes) -> dict[str, Any]:
        """Log `raw` (and two entries of others after it): its inclusion proof
        in the tree as it then is, with a checkpoint of that tree."""
        leaf = len(self.leaves)
        self.leaves.append(tree_leaf(raw))
        self.leaves.extend(tree_leaf(b"later %d %d" % (leaf, i)) for i in range(2))
        root = tree_root(self.leaves)
        size = len(self.leaves)
        return {"logIndex": str(leaf), "rootHash": b64(root), "treeSize": str(size),
                "hashes": [b64(h) for h in audit_path(leaf, self.leaves)],
                "checkpoint": {"envelope": signed_checkpoint(self.key, size, root)}}

    def entry(self, body: dict[str, Any], integrated: datetime, *,
              tamper_set: bool = False, proof: bool = True) -> dict[str, Any]:
        """A bundle tlogEntry whose SET this log signs, with an inclusion proof
        unless `proof` is False."""
        self.index += 1
        raw = json.dumps(body, separators=(",", ":")).encode()
        when = int(integrated.timestamp())
        canonical = json.dumps({"body": b64(raw), "integratedTime": when,
                                "logID": self.log_id.hex(), "logIndex": self.index},
                               sort_keys=True, separators=(",", ":")).encode()
        signed = self.key.sign(canonical, ec.ECDSA(hashes.SHA256()))
        if tamper_set:
            signed = self.key.sign(canonical + b" ", ec.ECDSA(hashes.SHA256()))
        entry = {"logIndex": str(self.index), "logId": {"keyId": b64(self.log_id)},
                 "kindVersion": {"kind": body["kind"], "version": "0.0.1"},
                 "integratedTime": str(when),
                 "inclusionPromise": {"signedEntryTimestamp": b64(signed)}}
        if proof:
            entry["inclusionProof"] = self.inclusion_proof(raw)
        entry["canonicalizedBody"] = b64(raw)
        return entry

    def cosign_bundle(self, entry: dict[str, Any]) -> str:
        """The same entry as cosign's `dev.sigstore.cosign/bundle` annotation."""
        return json.dumps({
            "SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
            "Payload": {"body": entry["canonicalizedBody"],
                        "integratedTime": int(entry["integratedTime"]),
                        "logIndex": int(entry["logIndex"]),
                        "logID": base64.b64decode(entry["logId"]["keyId"]).hex()}})


def trusted_root(fulcio: Fulcio, rekor: Rekor) -> dict[str, Any]:
    return {
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{"baseUrl": "https://rekor.test", "hashAlgorithm": "SHA2_256",
                   "publicKey": {"rawBytes": b64(rekor.spki()),
                                 "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                 "validFor": {"start": "2020-01-01T00:00:00Z"}},
                   "logId": {"keyId": b64(rekor.log_id)}}],
        "certificateAuthorities": [{
            "subject": {"organization": "lashing-test", "commonName": fulcio.name},
            "uri": "https://fulcio.test",
            "certChain": {"certificates": [{"rawBytes": b64(der(fulcio.intermediate))},
                                           {"rawBytes": b64(der(fulcio.root))}]},
            "validFor": {"start": "2020-01-01T00:00:00Z"}}],
        "ctlogs": [], "timestampAuthorities": [],
    }


def write_trusted_root(path: Path, fulcio: Fulcio, rekor: Rekor) -> Path:
    path.write_text(json.dumps(trusted_root(fulcio, rekor)))
    return path


@dataclass
class Sigstore:
    """Fulcio and Rekor together: signs as a CI workflow would."""

    fulcio: Fulcio = field(default_factory=Fulcio)
    rekor: Rekor = field(default_factory=Rekor)

    def root_file(self, path: Path) -> Path:
        return write_trusted_root(path, self.fulcio, self.rekor)

    def bundle(self, digest: str, *, dsse: bool = False, subject_digest: str | None = None,
               media_type: str = BUNDLE_V03, integrated: datetime | None = None,
               tamper_set: bool = False, tlog: bool = True, proof: bool = True,
               signer_fulcio: Fulcio | None = None, **leaf: Any) -> bytes:
        """A keyless bundle signing `digest` (or `subject_digest` in its claims);
        its log entry has an inclusion proof unless `proof` is False."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (signer_fulcio or self.fulcio).leaf(key, **leaf)
        when = integrated or cert.not_valid_before_utc + timedelta(minutes=1)
        claimed = subject_digest or digest
        doc: dict[str, Any] = {"mediaType": media_type}
        if dsse:
            statement = {"_type": "https://in-toto.io/Statement/v1",
                         "subject": [{"name": "image",
                                      "digest": {"sha256": claimed.split(":", 1)[1]}}],
                         "predicateType": "https://sigstore.dev/cosign/sign/v1",
                         "predicate": {}}
            payload = json.dumps(statement).encode()
            env = Envelope(payload, INTOTO_PAYLOAD_TYPE, ())
            sig = key.sign(env.pae(), ec.ECDSA(hashes.SHA256()))
            doc["dsseEnvelope"] = {"payload": b64(payload), "payloadType": INTOTO_PAYLOAD_TYPE,
                                   "signatures": [{"sig": b64(sig), "keyid": ""}]}
            body = {"apiVersion": "0.0.1", "kind": "dsse", "spec": {
                "payloadHash": {"algorithm": "sha256",
                                "value": hashlib.sha256(payload).hexdigest()},
                "signatures": [{"signature": b64(sig), "verifier": b64(pem(cert))}]}}
        else:
            raw = bytes.fromhex(claimed.split(":", 1)[1])
            sig = key.sign(raw, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
            doc["messageSignature"] = {
                "messageDigest": {"algorithm": "SHA2_256", "digest": b64(raw)},
                "signature": b64(sig)}
            body = {"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": raw.hex()}},
                "signature": {"content": b64(sig), "publicKey": {"content": b64(pem(cert))}}}}
        entries = [self.rekor.entry(body, when, tamper_set=tamper_set, proof=proof)
                   ] if tlog else []
        if media_type == BUNDLE_V03:
            material: dict[str, Any] = {"certificate": {"rawBytes": b64(der(cert))}}
        else:
            material = {"x509CertificateChain": {"certificates": [{"rawBytes": b64(der(cert))}]}}
        doc["verificationMaterial"] = {**material, "tlogEntries": entries}
        return json.dumps(doc).encode()

    def cosign_layer_annotations(self, payload: bytes, **leaf: Any) -> dict[str, str]:
        """A keyless simple-signing layer's annotations, as `cosign sign` writes them."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self.fulcio.leaf(key, **leaf)
        sig = key.sign(payload, ec.ECDSA(hashes.SHA256()))
        body = {"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
            "data": {"hash": {"algorithm": "sha256",
                              "value": hashlib.sha256(payload).hexdigest()}},
            "signature": {"content": b64(sig), "publicKey": {"content": b64(pem(cert))}}}}
        entry = self.rekor.entry(body, cert.not_valid_before_utc + timedelta(minutes=1),
                                 proof=False)
        return {SIGNATURE_ANNOTATION: b64(sig), CERTIFICATE_ANNOTATION: pem(cert).decode(),
                REKOR_BUNDLE_ANNOTATION: self.rekor.cosign_bundle(entry)}


# -- referrers ------------------------------------------------------------------------


def artifact_manifest(pusher: Pusher, repo: str, subject_digest: str, subject_size: int,
                      artifact_type: str, layers: list[tuple[str, bytes, dict[str, str]]]
                      ) -> bytes:
    """An OCI 1.1 artifact manifest with `subject`; layers are (media type, blob,
    annotations); blobs and the empty config are pushed."""
    config = b"{}"
    pusher.blob(repo, config)
    descriptors = []
    for media, blob, notes in layers:
        pusher.blob(repo, blob)
        d: dict[str, Any] = {"mediaType": media, "digest": sha256(blob), "size": len(blob)}
        if notes:
            d["annotations"] = notes
        descriptors.append(d)
    return json.dumps({
        "schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST, "artifactType": artifact_type,
        "config": {"mediaType": EMPTY_CONFIG, "digest": sha256(config), "size": len(config)},
        "layers": descriptors,
        "subject": {"mediaType": MEDIA_OCI_MANIFEST, "digest": subject_digest,
                    "size": subject_size}}).encode()


def push_referrer(pusher: Pusher, repo: str, subject_digest: str, subject_size: int,
                  artifact_type: str, layers: list[tuple[str, bytes, dict[str, str]]],
                  existing: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Push the artifact by digest and (re)write the referrers tag `sha256-<hex>`
    the way a client does on a registry without the referrers API. Returns the
    index entries, to pass as `existing` when adding another referrer."""
    body = artifact_manifest(pusher, repo, subject_digest, subject_size, artifact_type, layers)
    digest = pusher.manifest(repo, sha256(body), body, MEDIA_OCI_MANIFEST)
    entries = [*(existing or []), {"mediaType": MEDIA_OCI_MANIFEST, "digest": digest,
                                   "size": len(body), "artifactType": artifact_type}]
    index = json.dumps({"schemaVersion": 2, "mediaType": MEDIA_OCI_INDEX,
                        "manifests": entries}).encode()
    pusher.manifest(repo, referrers_tag(subject_digest), index, MEDIA_OCI_INDEX)
    return entries
