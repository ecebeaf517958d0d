"""Signatures found as OCI 1.1 referrers: through the referrers tag schema on
the real Distribution registry (2.8 has no referrers API), and through the
referrers API on a fake registry that serves it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from lashing.cache import BlobCache
from lashing.errors import RegistryError
from lashing.http import HttpClient
from lashing.options import Limits, SourceOptions
from lashing.source.reference import parse_reference
from lashing.trust.cosign import SIGNATURE_ANNOTATION, SIMPLESIGNING_TYPE, make_payload
from lashing.trust.policy import Policy, load_policy, policy_with_keys
from lashing.trust.referrers import COSIGN_SIGNATURE_ARTIFACT, VIA_API, ReferrersClient
from lashing.trust.verify import ImageStatus, ImageVerification, VerifyOptions, verify_image
from trust.cosign_signer import new_signer
from trust.sigstore_signer import BUNDLE_V03, Sigstore, artifact_manifest, push_referrer

from cli_helpers import run
from imagebuilder import BuiltImage, build
from registry import MEDIA_OCI_INDEX, MEDIA_OCI_MANIFEST, FakeRegistry, Registry, Seen, sha256

pytestmark = pytest.mark.usefixtures("registry_env")

IDENTITY = ('keyless = { issuer = "https://token.actions.githubusercontent.com", '
            'subject = "https://github.com/org/repo/.github/workflows/*@refs/heads/main" }\n')


@pytest.fixture(scope="module")
def sigstore() -> Sigstore:
    return Sigstore()


def keyless_policy(tmp_path: Path, sigstore: Sigstore) -> Path:
    sigstore.root_file(tmp_path / "trusted_root.json")
    path = tmp_path / "policy.toml"
    path.write_text(f'[policy]\n{IDENTITY}trusted_root = "trusted_root.json"\n')
    return path


def verify(host: str, tmp_path: Path, ref: str, policy: Policy,
           limits: Limits | None = None) -> ImageVerification:
    source = SourceOptions(cache_dir=tmp_path / "cache", insecure_registries=(host,), retries=0,
                           limits=limits or Limits())
    options = VerifyOptions(source=source, skip_rules=frozenset({"LSH-TRUST-011"}))
    with HttpClient(timeout=10, retries=0, insecure_hosts=(host,), backoff=0.001) as http:
        return verify_image(ref, policy, options, http, BlobCache(source.cache_dir, 1 << 30))


def push_image(registry: Registry, repo: str, tag: str = "1") -> tuple[str, BuiltImage]:
    img = build([{f"{repo}/f.txt": f"{repo}:{tag}\n"}])
    pusher = registry.pusher()
    try:
        return pusher.image(repo, tag, img), img
    finally:
        pusher.close()


def push_bundle(registry: Registry, repo: str, digest: str, img: BuiltImage,
                bundle: bytes) -> None:
    pusher = registry.pusher()
    try:
        push_referrer(pusher, repo, digest, len(img.manifest), BUNDLE_V03,
                      [(BUNDLE_V03, bundle, {})])
    finally:
        pusher.close()


# -- the real registry: the referrers tag schema ------------------------------------------


@pytest.mark.registry
def test_real_registry_has_no_referrers_api_so_the_tag_schema_is_used(
        registry: Registry, tmp_path: Path, sigstore: Sigstore) -> None:
    repo = "referrers/fallback"
    digest, img = push_image(registry, repo)
    push_bundle(registry, repo, digest, img, sigstore.bundle(digest))
    source = SourceOptions(cache_dir=tmp_path / "c", insecure_registries=(registry.host,))
    with HttpClient(timeout=10, retries=0, insecure_hosts=(registry.host,)) as http:
        client = ReferrersClient(parse_reference(f"{registry.host}/{repo}"), source, http,
                                 BlobCache(source.cache_dir, 1 << 30))
        found = client.referrers(digest, (BUNDLE_V03,))
        none = client.referrers(digest, ("application/x-nothing",))
    assert found.via == f"referrers tag {registry.host}/{repo}:sha256-{digest[7:]}"
    assert [r.artifact_type for r in found.items] == [BUNDLE_V03]
    assert none.items == ()


@pytest.mark.registry
@pytest.mark.parametrize("dsse", [False, True], ids=["message-signature", "dsse"])
def test_keyless_bundle_referrer_verifies(registry: Registry, tmp_path: Path,
                                          sigstore: Sigstore, dsse: bool) -> None:
    repo = f"referrers/keyless-{int(dsse)}"
    digest, img = push_image(registry, repo)
    push_bundle(registry, repo, digest, img, sigstore.bundle(digest, dsse=dsse))
    result = verify(registry.host, tmp_path, f"{registry.host}/{repo}:1",
                    load_policy(keyless_policy(tmp_path, sigstore)))
    assert result.status is ImageStatus.VERIFIED, result.summary()
    assert result.key is not None and result.key.startswith("keyless https://github.com/org")
    assert result.verified_digest == digest


@pytest.mark.registry
def test_cli_keyless_failures_are_findings(registry: Registry, tmp_path: Path,
                                           sigstore: Sigstore) -> None:
    policy = keyless_policy(tmp_path, sigstore)
    cases: dict[str, tuple[dict[str, Any], str, str]] = {
        "wrong-subject": ({"subject": "https://github.com/evil/x/.github/workflows/a.yml"
                                      "@refs/heads/main"}, "LSH-TRUST-012", "untrusted-identity"),
        "bad-set": ({"tamper_set": True}, "LSH-TRUST-013", "tlog-invalid"),
    }
    for name, (kw, rule_id, status) in cases.items():
        repo = f"referrers/cli-{name}"
        digest, img = push_image(registry, repo)
        push_bundle(registry, repo, digest, img, sigstore.bundle(digest, **kw))
        r = run("verify", "--insecure-registry", registry.host, "--cache-dir",
                str(tmp_path / "cache"), "--no-progress", "--skip-rules", "LSH-TRUST-011",
                "--policy", str(policy), "--format", "json", f"{registry.host}/{repo}:1")
        assert r.code == 1, r.err
        findings = json.loads(r.out)["findings"]
        assert [f["rule_id"] for f in findings] == [rule_id]
        assert f"{registry.host}/{repo}:1" in findings[0]["message"]
        assert f"{status}: {registry.host}/{repo}:1" in r.err


@pytest.mark.registry
def test_cli_keyless_verified_table(registry: Registry, tmp_path: Path,
                                    sigstore: Sigstore) -> None:
    repo = "referrers/cli-ok"
    digest, img = push_image(registry, repo)
    push_bundle(registry, repo, digest, img, sigstore.bundle(digest))
    r = run("verify", "--insecure-registry", registry.host, "--cache-dir",
            str(tmp_path / "cache"), "--no-progress", "--skip-rules", "LSH-TRUST-011",
            "--policy", str(keyless_policy(tmp_path, sigstore)), f"{registry.host}/{repo}:1")
    assert r.code == 0, r.err
    assert "VERIFIED" in r.out and "keyless https://github.com/org/repo" in r.out


@pytest.mark.registry
def test_referrer_for_another_subject_does_not_verify(registry: Registry, tmp_path: Path,
                                                      sigstore: Sigstore) -> None:
    repo = "referrers/other-subject"
    digest, _ = push_image(registry, repo)
    other, _ = push_image(registry, repo, "2")
    pusher = registry.pusher()
    body = artifact_manifest(pusher, repo, other, 10, BUNDLE_V03,
                             [(BUNDLE_V03, sigstore.bundle(digest), {})])
    moved = pusher.manifest(repo, sha256(body), body, MEDIA_OCI_MANIFEST)
    index = {"schemaVersion": 2, "mediaType": MEDIA_OCI_INDEX, "manifests": [
        {"mediaType": MEDIA_OCI_MANIFEST, "digest": moved, "size": len(body),
         "artifactType": BUNDLE_V03}]}
    pusher.manifest(repo, f"sha256-{digest[7:]}", json.dumps(index).encode(), MEDIA_OCI_INDEX)
    pusher.close()
    result = verify(registry.host, tmp_path, f"{registry.host}/{repo}:1",
                    load_policy(keyless_policy(tmp_path, sigstore)))
    assert result.status is ImageStatus.MALFORMED
    assert f"subject is {other}" in result.findings[0].message


@pytest.mark.registry
def test_cosign_signature_pushed_as_referrer(registry: Registry, tmp_path: Path) -> None:
    repo = "referrers/cosign-artifact"
    digest, img = push_image(registry, repo)
    signer = new_signer()
    payload = make_payload(digest, f"{registry.host}/{repo}")
    pusher = registry.pusher()
    push_referrer(pusher, repo, digest, len(img.manifest), COSIGN_SIGNATURE_ARTIFACT,
                  [(SIMPLESIGNING_TYPE, payload, {SIGNATURE_ANNOTATION: signer.sign_b64(payload)})])
    pusher.close()
    key = signer.write_public(tmp_path / "k.pub")
    result = verify(registry.host, tmp_path, f"{registry.host}/{repo}:1",
                    policy_with_keys(Policy(), [key]))
    assert result.status is ImageStatus.VERIFIED, result.summary()
    assert "via referrers tag" in (result.signature.signature_ref or "")
    stranger = new_signer().write_public(tmp_path / "other.pub")
    result = verify(registry.host, tmp_path, f"{registry.host}/{repo}:1",
                    policy_with_keys(Policy(), [stranger]))
    assert result.status is ImageStatus.INVALID


@pytest.mark.registry
def test_keyless_cosign_sig_tag(registry: Registry, tmp_path: Path, sigstore: Sigstore) -> None:
    """cosign's classic keyless format: the .sig tag, certificate and Rekor
    bundle in the layer's annotations."""
    from trust.cosign_signer import Layer, push_signature_manifest

    repo = "referrers/keyless-sig-tag"
    digest, _ = push_image(registry, repo)
    payload = make_payload(digest, f"{registry.host}/{repo}")
    annotations = sigstore.cosign_layer_annotations(payload)
    pusher = registry.pusher()
    # push_signature_manifest writes only the signature annotation; add the others.
    push_signature_manifest(pusher, repo, digest, [Layer(payload, None)])
    sig_tag = f"sha256-{digest[7:]}.sig"
    r = pusher.client.get(f"{registry.url}/v2/{repo}/manifests/{sig_tag}",
                          headers={"Accept": MEDIA_OCI_MANIFEST})
    doc = r.json()
    doc["layers"][0]["annotations"] = annotations
    pusher.manifest(repo, sig_tag, json.dumps(doc).encode(), MEDIA_OCI_MANIFEST)
    pusher.close()
    result = verify(registry.host, tmp_path, f"{registry.host}/{repo}:1",
                    load_policy(keyless_policy(tmp_path, sigstore)))
    assert result.status is ImageStatus.VERIFIED, result.summary()
    assert result.key is not None and result.key.startswith("keyless ")


@pytest.mark.registry
def test_unsigned_names_both_places(registry: Registry, tmp_path: Path,
                                    sigstore: Sigstore) -> None:
    repo = "referrers/unsigned"
    digest, _ = push_image(registry, repo)
    result = verify(registry.host, tmp_path, f"{registry.host}/{repo}:1",
                    load_policy(keyless_policy(tmp_path, sigstore)))
    assert result.status is ImageStatus.UNSIGNED
    message = result.findings[0].message
    assert f"sha256-{digest[7:]}.sig" in message and "no signature referrers" in message


# -- the referrers API (fake registry) ------------------------------------------------------


@dataclass
class ReferrersApi(FakeRegistry):
    """Serves `GET /v2/<repo>/referrers/<digest>` from `referrers`, honouring
    (or, with `ignore_filter`, ignoring) the artifactType filter."""

    referrers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ignore_filter: bool = False
    answer: tuple[int, str, bytes] | None = None  # a fixed (status, type, body)
    page_size: int | None = None  # list in pages linked by `Link: <...>; rel="next"`
    link_host: str | None = None  # where the next-page links point (default: here)

    def __enter__(self) -> ReferrersApi:
        self.start()
        return self

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        if "/referrers/" not in parts.path:
            super()._handle(h)
            return
        self.requests.append(Seen(h.command, h.path, dict(h.headers.items()), False))
        if self.answer is not None:
            status, media, body = self.answer
            self._send(h, status, body, {"Content-Type": media})
            return
        digest = parts.path.rsplit("/", 1)[1]
        wanted = parse_qs(parts.query).get("artifactType")
        entries = [e for e in self.referrers.get(digest, [])
                   if self.ignore_filter or not wanted or e["artifactType"] in wanted]
        headers = {"Content-Type": MEDIA_OCI_INDEX}
        if wanted and not self.ignore_filter:
            headers["OCI-Filters-Applied"] = "artifactType"
        if self.page_size is not None:
            page = int(parse_qs(parts.query).get("page", ["0"])[0])
            more = len(entries) > (page + 1) * self.page_size
            entries = entries[page * self.page_size:(page + 1) * self.page_size]
            if more:
                origin = f"http://{self.link_host}" if self.link_host else ""
                headers["Link"] = f'<{origin}{parts.path}?page={page + 1}>; rel="next"'
        body = json.dumps({"schemaVersion": 2, "mediaType": MEDIA_OCI_INDEX,
                           "manifests": entries}).encode()
        self._send(h, 200, body, headers)


def add_bundle_referrer(fake: ReferrersApi, repo: str, digest: str, bundle: bytes,
                        artifact_type: str = BUNDLE_V03) -> None:
    config = b"{}"
    fake.blobs[sha256(config)] = config
    fake.blobs[sha256(bundle)] = bundle
    body = json.dumps({
        "schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST, "artifactType": artifact_type,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(config),
                   "size": 2},
        "layers": [{"mediaType": BUNDLE_V03, "digest": sha256(bundle), "size": len(bundle)}],
        "subject": {"mediaType": MEDIA_OCI_MANIFEST, "digest": digest, "size": 1}}).encode()
    fake.manifests[f"{repo}:{sha256(body)}"] = (body, MEDIA_OCI_MANIFEST)
    fake.referrers.setdefault(digest, []).append(
        {"mediaType": MEDIA_OCI_MANIFEST, "digest": sha256(body), "size": len(body),
         "artifactType": artifact_type})


def test_referrers_api_is_used_when_served(tmp_path: Path, sigstore: Sigstore) -> None:
    with ReferrersApi() as fake:
        digest = fake.add_image("team/app", "1", build([{"a.txt": "a\n"}]))
        add_bundle_referrer(fake, "team/app", digest, sigstore.bundle(digest))
        add_bundle_referrer(fake, "team/app", digest, b"ignored", "application/x-sbom")
        result = verify(fake.host, tmp_path, f"{fake.host}/team/app:1",
                        load_policy(keyless_policy(tmp_path, sigstore)))
        assert result.status is ImageStatus.VERIFIED, result.summary()
        assert VIA_API in (result.signature.signature_ref or "")
        paths = fake.paths()
        assert f"/v2/team/app/referrers/{digest}" in paths
        assert f"/v2/team/app/manifests/sha256-{digest[7:]}" not in paths  # no fallback
        assert sha256(b"ignored") not in " ".join(paths)  # other artifact types not fetched


def test_referrers_api_filter_is_sent_and_checked(tmp_path: Path, sigstore: Sigstore) -> None:
    with ReferrersApi() as fake:
        fake.ignore_filter = True
        digest = fake.add_image("team/app", "1", build([{"a.txt": "a\n"}]))
        add_bundle_referrer(fake, "team/app", digest, sigstore.bundle(digest))
        add_bundle_referrer(fake, "team/app", digest, b"x", "application/x-sbom")
        source = SourceOptions(cache_dir=tmp_path / "c", insecure_registries=(fake.host,))
        with HttpClient(timeout=5, retries=0, insecure_hosts=(fake.host,)) as http:
            client = ReferrersClient(parse_reference(f"{fake.host}/team/app"), source, http,
                                     BlobCache(source.cache_dir, 1 << 30))
            found = client.referrers(digest, ("application/x-sbom",))
        assert [r.artifact_type for r in found.items] == ["application/x-sbom"]
        assert any("artifactType=application%2Fx-sbom" in p for p in fake.paths())


def test_referrers_api_answer_not_an_index_falls_back_to_the_tag(tmp_path: Path,
                                                                 sigstore: Sigstore) -> None:
    with ReferrersApi() as fake:
        fake.answer = (200, "text/html", b"<html>welcome</html>")
        digest = fake.add_image("team/app", "1", build([{"a.txt": "a\n"}]))
        result = verify(fake.host, tmp_path, f"{fake.host}/team/app:1",
                        load_policy(keyless_policy(tmp_path, sigstore)))
        assert result.status is ImageStatus.UNSIGNED
        assert f"/v2/team/app/manifests/sha256-{digest[7:]}" in fake.paths()


def test_referrers_api_failure_is_not_unsigned(tmp_path: Path, sigstore: Sigstore) -> None:
    with ReferrersApi() as fake:
        fake.answer = (500, "application/json", b"{}")
        fake.add_image("team/app", "1", build([{"a.txt": "a\n"}]))
        with pytest.raises(RegistryError, match="500"):
            verify(fake.host, tmp_path, f"{fake.host}/team/app:1",
                   load_policy(keyless_policy(tmp_path, sigstore)))


def test_hostile_bundle_size_is_refused_before_fetching(tmp_path: Path,
                                                        sigstore: Sigstore) -> None:
    with ReferrersApi() as fake:
        digest = fake.add_image("team/app", "1", build([{"a.txt": "a\n"}]))
        huge = {"mediaType": BUNDLE_V03, "digest": "sha256:" + "e" * 64, "size": 1 << 40}
        body = json.dumps({
            "schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST, "artifactType": BUNDLE_V03,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                       "digest": sha256(b"{}"), "size": 2},
            "layers": [huge],
            "subject": {"mediaType": MEDIA_OCI_MANIFEST, "digest": digest, "size": 1}}).encode()
        fake.manifests[f"team/app:{sha256(body)}"] = (body, MEDIA_OCI_MANIFEST)
        fake.referrers[digest] = [{"mediaType": MEDIA_OCI_MANIFEST, "digest": sha256(body),
                                   "size": len(body), "artifactType": BUNDLE_V03}]
        result = verify(fake.host, tmp_path, f"{fake.host}/team/app:1",
                        load_policy(keyless_policy(tmp_path, sigstore)))
        assert result.status is ImageStatus.MALFORMED
        assert "over the" in result.findings[0].message
        assert not any("e" * 64 in p for p in fake.paths())


def test_hostile_referrers_listing_over_the_json_limit(tmp_path: Path,
                                                       sigstore: Sigstore) -> None:
    with ReferrersApi() as fake:
        digest = fake.add_image("team/app", "1", build([{"a.txt": "a\n"}]))
        fake.answer = (200, MEDIA_OCI_INDEX, json.dumps(
            {"manifests": [], "annotations": {"pad": "x" * 8192}}).encode())
        result = verify(fake.host, tmp_path, f"{fake.host}/team/app:1",
                        load_policy(keyless_policy(tmp_path, sigstore)),
                        replace(Limits(), max_json_bytes=4096))
        assert result.status is ImageStatus.MALFORMED
        assert f"referrers of {fake.host}/team/app@{digest}" in result.findings[0].message
        assert "limit" in result.findings[0].message


def test_referrers_api_pages_are_followed_on_the_same_registry(tmp_path: Path,
                                                               sigstore: Sigstore) -> None:
    with ReferrersApi() as fake:
        fake.page_size = 2
        digest = fake.add_image("team/app", "1", build([{"a.txt": "a\n"}]))
        for n in range(4):
            add_bundle_referrer(fake, "team/app", digest, f"sbom {n}".encode(),
                                "application/x-sbom")
        add_bundle_referrer(fake, "team/app", digest, sigstore.bundle(digest))  # page 3
        policy = load_policy(keyless_policy(tmp_path, sigstore))
        result = verify(fake.host, tmp_path, f"{fake.host}/team/app:1", policy)
        assert result.status is ImageStatus.VERIFIED, result.summary()
        assert f"/v2/team/app/referrers/{digest}?page=2" in fake.paths()
        # A next-page link to another host is not followed (credentials go with it).
        fake.link_host = "127.0.0.1:9"
        result = verify(fake.host, tmp_path / "2", f"{fake.host}/team/app:1", policy)
        assert result.status is ImageStatus.UNSIGNED
