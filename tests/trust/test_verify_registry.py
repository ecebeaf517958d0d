"""lashing verify against the real Distribution registry: images pushed,
signed the way cosign does, and verified (or not)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lashing.cache import BlobCache
from lashing.http import HttpClient
from lashing.options import SourceOptions
from lashing.trust.cosign import make_payload
from lashing.trust.policy import Policy, load_policy, policy_with_keys
from lashing.trust.verify import ImageStatus, ImageVerification, VerifyOptions, verify_image
from trust.cosign_signer import (
    KINDS,
    Layer,
    Signer,
    new_signer,
    push_signature_manifest,
    sign_image,
)

from cli_helpers import run
from imagebuilder import BuiltImage, build
from registry import Registry

pytestmark = [pytest.mark.registry, pytest.mark.usefixtures("registry_env")]


def image(name: str) -> BuiltImage:
    return build([{f"{name}/file.txt": f"{name}\n" * 20}])


def push(registry: Registry, repo: str, tag: str, name: str | None = None) -> str:
    pusher = registry.pusher()
    try:
        return pusher.image(repo, tag, image(name or f"{repo}:{tag}"))
    finally:
        pusher.close()


def verify(registry: Registry, tmp_path: Path, ref: str, policy: Policy,
           **kw: object) -> ImageVerification:
    source = SourceOptions(cache_dir=tmp_path / "cache", insecure_registries=(registry.host,),
                           retries=1)
    kw.setdefault("skip_rules", frozenset({"LSH-TRUST-011"}))  # the test registry is HTTP
    options = VerifyOptions(source=source, **kw)  # type: ignore[arg-type]
    with HttpClient(timeout=10, retries=1, insecure_hosts=(registry.host,),
                    backoff=0.001) as http:
        return verify_image(ref, policy, options, http, BlobCache(source.cache_dir, 1 << 30))


def keyed(tmp_path: Path, *signers: Signer) -> Policy:
    paths = [s.write_public(tmp_path / f"{s.kind}-{i}.pub") for i, s in enumerate(signers)]
    return policy_with_keys(Policy(), paths)


def cli(registry: Registry, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    r = run("verify", "--insecure-registry", registry.host, "--cache-dir",
            str(tmp_path / "cli-cache"), "--no-progress", "--skip-rules", "LSH-TRUST-011", *args)
    return r.code, r.out, r.err


def rule_ids(result: ImageVerification) -> list[str]:
    return sorted(f.rule_id for f in result.findings)


@pytest.mark.parametrize("kind", KINDS)
def test_valid_signature_each_key_type(registry: Registry, tmp_path: Path, kind: str) -> None:
    repo = f"trust/valid-{kind}"
    digest = push(registry, repo, "1.0")
    signer = new_signer(kind)
    pusher = registry.pusher()
    sign_image(pusher, repo, digest, signer, docker_reference=f"{registry.host}/{repo}")
    pusher.close()
    result = verify(registry, tmp_path, f"{registry.host}/{repo}:1.0", keyed(tmp_path, signer))
    assert result.status is ImageStatus.VERIFIED, result.summary()
    assert result.verified_digest == digest
    assert result.key is not None and result.key.endswith(f"{kind}-0.pub")
    assert result.findings == ()
    assert digest in result.summary()


def test_cli_verified_exit_0_and_json(registry: Registry, tmp_path: Path) -> None:
    repo = "trust/cli-ok"
    digest = push(registry, repo, "1")
    signer = new_signer()
    pusher = registry.pusher()
    sign_image(pusher, repo, digest, signer, docker_reference=f"{registry.host}/{repo}")
    pusher.close()
    key = signer.write_public(tmp_path / "cosign.pub")
    code, out, err = cli(registry, tmp_path, "--key", str(key), "--format", "json",
                         f"{registry.host}/{repo}:1")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["findings"] == []
    assert doc["targets"][0]["manifest_digest"] == digest
    passed = [c for c in doc["checks"] if c["rule_id"] == "LSH-TRUST-001"]
    assert passed[0]["status"] == "pass" and str(key) in passed[0]["reason"]
    assert f"verified: {registry.host}/{repo}:1" in err
    code, out, _ = cli(registry, tmp_path, "--key", str(key), f"{registry.host}/{repo}:1")
    assert code == 0 and "VERIFIED" in out and digest in out


def test_unsigned_image_is_a_finding_and_exit_1(registry: Registry, tmp_path: Path) -> None:
    repo = "trust/unsigned"
    push(registry, repo, "1")
    key = new_signer().write_public(tmp_path / "cosign.pub")
    code, out, err = cli(registry, tmp_path, "--key", str(key), "--format", "sarif",
                         f"{registry.host}/{repo}:1")
    assert code == 1, err
    sarif = json.loads(out)
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["LSH-TRUST-001"]
    assert f"unsigned: {registry.host}/{repo}:1" in err


def test_payload_for_another_digest(registry: Registry, tmp_path: Path) -> None:
    repo = "trust/other-digest"
    digest = push(registry, repo, "1")
    other = push(registry, repo, "2")
    signer = new_signer()
    pusher = registry.pusher()
    sign_image(pusher, repo, digest, signer, docker_reference=f"{registry.host}/{repo}",
               signed_digest=other)
    pusher.close()
    result = verify(registry, tmp_path, f"{registry.host}/{repo}:1", keyed(tmp_path, signer))
    assert result.status is ImageStatus.DIGEST_MISMATCH
    assert rule_ids(result) == ["LSH-TRUST-003"]
    assert other in result.findings[0].message and digest in result.findings[0].message


def test_tampered_payload_is_invalid(registry: Registry, tmp_path: Path) -> None:
    repo = "trust/tampered"
    digest = push(registry, repo, "1")
    signer = new_signer()
    signed = make_payload(digest, f"{registry.host}/{repo}")
    tampered = signed.replace(b'"optional":null', b'"optional":{"x":"y"}')
    assert tampered != signed
    pusher = registry.pusher()
    push_signature_manifest(pusher, repo, digest, [Layer(tampered, signer.sign_b64(signed))])
    pusher.close()
    result = verify(registry, tmp_path, f"{registry.host}/{repo}:1", keyed(tmp_path, signer))
    assert result.status is ImageStatus.INVALID
    assert rule_ids(result) == ["LSH-TRUST-002"]
    assert f"{registry.host}/{repo}:1" in result.findings[0].message


def test_wrong_key_is_invalid_never_unsigned(registry: Registry, tmp_path: Path) -> None:
    repo = "trust/wrong-key"
    digest = push(registry, repo, "1")
    pusher = registry.pusher()
    sign_image(pusher, repo, digest, new_signer(), docker_reference=f"{registry.host}/{repo}")
    pusher.close()
    policy = keyed(tmp_path, new_signer("ecdsa-p256"), new_signer("ed25519"))
    result = verify(registry, tmp_path, f"{registry.host}/{repo}:1", policy)
    assert result.status is ImageStatus.INVALID
    assert rule_ids(result) == ["LSH-TRUST-002"]


def test_one_good_layer_among_bad_ones_verifies(registry: Registry, tmp_path: Path) -> None:
    repo = "trust/multi-layer"
    digest = push(registry, repo, "1")
    signer, stranger = new_signer(), new_signer()
    good = make_payload(digest, f"{registry.host}/{repo}")
    other = make_payload(digest, f"{registry.host}/elsewhere")
    pusher = registry.pusher()
    push_signature_manifest(pusher, repo, digest, [Layer(other, stranger.sign_b64(other)),
                                                   Layer(good, signer.sign_b64(good))])
    pusher.close()
    result = verify(registry, tmp_path, f"{registry.host}/{repo}:1", keyed(tmp_path, signer))
    assert result.status is ImageStatus.VERIFIED


def test_signature_on_a_tag_that_moved(registry: Registry, tmp_path: Path) -> None:
    repo = "trust/moved"
    old = push(registry, repo, "stable", name="old")
    signer = new_signer()
    pusher = registry.pusher()
    sign_image(pusher, repo, old, signer, docker_reference=f"{registry.host}/{repo}")
    pusher.close()
    policy = keyed(tmp_path, signer)
    assert verify(registry, tmp_path, f"{registry.host}/{repo}:stable", policy).ok
    new = push(registry, repo, "stable", name="new")  # the tag moves
    result = verify(registry, tmp_path / "2", f"{registry.host}/{repo}:stable", policy)
    assert result.status is ImageStatus.UNSIGNED and result.digest == new
    # Someone copies the old signature onto the new digest's signature tag.
    pusher = registry.pusher()
    sign_image(pusher, repo, new, signer, docker_reference=f"{registry.host}/{repo}",
               signed_digest=old)
    pusher.close()
    result = verify(registry, tmp_path / "3", f"{registry.host}/{repo}:stable", policy)
    assert result.status is ImageStatus.DIGEST_MISMATCH
    # The old digest, named explicitly, still verifies.
    assert verify(registry, tmp_path / "4", f"{registry.host}/{repo}@{old}", policy).ok


@pytest.mark.parametrize(
    ("name", "layers_for", "needle"),
    [
        ("non-base64", lambda p, s: [Layer(p, "not*base64!")], "not base64"),
        ("no-annotation", lambda p, s: [Layer(p, None)], "no dev.cosignproject"),
        ("wrong-media-type", lambda p, s: [Layer(p, s.sign_b64(p), media_type="text/plain")],
         "is not application/vnd.dev.cosign.simplesigning"),
        ("huge-payload", lambda p, s: [Layer(p + b" " * 4096, s.sign_b64(p + b" " * 4096))],
         "limit"),
        ("not-json", lambda p, s: [Layer(b"\xff\xfe", s.sign_b64(b"\xff\xfe"))], "not JSON"),
        ("wrong-type", lambda p, s: [Layer(p.replace(b"cosign container", b"other"),
                                           s.sign_b64(p.replace(b"cosign container",
                                                                b"other")))],
         "payload type"),
        ("lying-size", lambda p, s: [Layer(p, s.sign_b64(p), size=len(p) - 1)], "payload"),
    ],
)
def test_malformed_signatures_are_findings(registry: Registry, tmp_path: Path, name: str,
                                           layers_for: object, needle: str) -> None:
    repo = f"trust/malformed-{name}"
    digest = push(registry, repo, "1")
    signer = new_signer()
    payload = make_payload(digest, f"{registry.host}/{repo}")
    pusher = registry.pusher()
    push_signature_manifest(pusher, repo, digest, layers_for(payload, signer))  # type: ignore[operator]
    pusher.close()
    result = verify(registry, tmp_path, f"{registry.host}/{repo}:1", keyed(tmp_path, signer),
                    max_payload_bytes=2048)
    assert result.status is ImageStatus.MALFORMED, result.summary()
    assert rule_ids(result) == ["LSH-TRUST-004"]
    message = result.findings[0].message
    assert f"{registry.host}/{repo}:1" in message and needle in message, message


def test_cli_payload_limit_option(registry: Registry, tmp_path: Path) -> None:
    repo = "trust/limit"
    digest = push(registry, repo, "1")
    signer = new_signer()
    pusher = registry.pusher()
    sign_image(pusher, repo, digest, signer, docker_reference=f"{registry.host}/{repo}")
    pusher.close()
    key = signer.write_public(tmp_path / "k.pub")
    code, out, _ = cli(registry, tmp_path, "--key", str(key), "--max-signature-payload", "16",
                       "--format", "json", f"{registry.host}/{repo}:1")
    assert code == 1
    assert [f["rule_id"] for f in json.loads(out)["findings"]] == ["LSH-TRUST-004"]


def test_index_signature_covers_the_index_digest(registry: Registry, tmp_path: Path) -> None:
    repo = "trust/multi-arch"
    pusher = registry.pusher()
    amd, arm = image("amd"), build([{"arm.txt": "arm\n"}], arch="arm64")
    _, index_digest = pusher.index(repo, "1", [(amd, {"os": "linux", "architecture": "amd64"}),
                                               (arm, {"os": "linux", "architecture": "arm64"})])
    signer = new_signer()
    sign_image(pusher, repo, index_digest, signer, docker_reference=f"{registry.host}/{repo}")
    pusher.close()
    result = verify(registry, tmp_path, f"{registry.host}/{repo}:1", keyed(tmp_path, signer))
    assert result.ok and result.verified_digest == index_digest == result.digest


def test_platform_manifest_signature_when_index_unsigned(registry: Registry,
                                                         tmp_path: Path) -> None:
    repo = "trust/multi-arch-platform"
    pusher = registry.pusher()
    amd = image("amd-only-signed")
    _, index_digest = pusher.index(repo, "1", [(amd, {"os": "linux", "architecture": "amd64"})])
    signer = new_signer()
    from registry import sha256

    platform_digest = sha256(amd.manifest)
    sign_image(pusher, repo, platform_digest, signer,
               docker_reference=f"{registry.host}/{repo}")
    pusher.close()
    result = verify(registry, tmp_path, f"{registry.host}/{repo}:1", keyed(tmp_path, signer))
    assert result.ok and result.verified_digest == platform_digest
    assert result.digest == index_digest


def test_docker_reference_checked_when_asked(registry: Registry, tmp_path: Path) -> None:
    repo = "trust/identity"
    digest = push(registry, repo, "1")
    signer = new_signer()
    pusher = registry.pusher()
    sign_image(pusher, repo, digest, signer, docker_reference=f"{registry.host}/somewhere/else")
    pusher.close()
    key = signer.write_public(tmp_path / "k.pub")
    ref = f"{registry.host}/{repo}:1"
    assert verify(registry, tmp_path, ref, keyed(tmp_path, signer)).ok
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(f'[policy]\nkeys = ["{key.name}"]\ncheck_docker_reference = true\n')
    result = verify(registry, tmp_path, ref, load_policy(policy_file))
    assert result.status is ImageStatus.IDENTITY_MISMATCH
    assert rule_ids(result) == ["LSH-TRUST-005"]


def test_signature_repository(registry: Registry, tmp_path: Path) -> None:
    repo = "trust/elsewhere-signed"
    digest = push(registry, repo, "1")
    signer = new_signer()
    pusher = registry.pusher()
    sign_image(pusher, repo, digest, signer, docker_reference=f"{registry.host}/{repo}",
               sig_repo="trust/signatures")
    pusher.close()
    ref = f"{registry.host}/{repo}:1"
    policy = keyed(tmp_path, signer)
    assert verify(registry, tmp_path, ref, policy).status is ImageStatus.UNSIGNED
    result = verify(registry, tmp_path, ref, policy,
                    signature_repository=f"{registry.host}/trust/signatures")
    assert result.ok


def test_warn_mode_reports_without_failing(registry: Registry, tmp_path: Path) -> None:
    repo = "trust/warn"
    push(registry, repo, "1")
    key = new_signer().write_public(tmp_path / "k.pub")
    code, out, err = cli(registry, tmp_path, "--key", str(key), "--mode", "warn",
                         "--format", "json", f"{registry.host}/{repo}:1")
    assert code == 0, err
    findings = json.loads(out)["findings"]
    assert [f["rule_id"] for f in findings] == ["LSH-TRUST-001"]
    assert "warn" in findings[0]["message"]
    assert "passed in policy mode warn, signature unsigned" in err


def test_policy_violations_fail_verify(registry: Registry, tmp_path: Path) -> None:
    repo = "trust/policy"
    digest = push(registry, repo, "1")
    signer = new_signer()
    pusher = registry.pusher()
    sign_image(pusher, repo, digest, signer, docker_reference=f"{registry.host}/{repo}")
    pusher.close()
    signer.write_public(tmp_path / "release.pub")
    policy_file = tmp_path / "lashing.toml"
    policy_file.write_text(
        "[policy]\n"
        'keys = ["release.pub"]\n'
        "max_age_days = 30\n"
        f'[policy.images."{registry.host}/trust/**"]\n'
        "require_digest = true\n"
        f'forbidden_repositories = ["{registry.host}/trust/pol*"]\n'
    )
    code, out, err = cli(registry, tmp_path, "--policy", str(policy_file), "--format", "json",
                         f"{registry.host}/{repo}:1")
    assert code == 1, err
    ids = sorted(f["rule_id"] for f in json.loads(out)["findings"])
    # Signed and verified, but forbidden, unpinned and older than 30 days.
    assert ids == ["LSH-TRUST-007", "LSH-TRUST-008", "LSH-TRUST-010"]
    assert "policy-violation" in err


def test_several_images_highest_code_wins(registry: Registry, tmp_path: Path) -> None:
    repo = "trust/several"
    digest = push(registry, repo, "1")
    signer = new_signer()
    pusher = registry.pusher()
    sign_image(pusher, repo, digest, signer, docker_reference=f"{registry.host}/{repo}")
    pusher.close()
    key = signer.write_public(tmp_path / "k.pub")
    code, _, err = cli(registry, tmp_path, "--key", str(key), f"{registry.host}/{repo}:1",
                       f"{registry.host}/trust/absent:1")
    assert code == 3 and "trust/absent:1" in err  # manifest unknown: environment
    push(registry, "trust/several-unsigned", "1")
    code, _, _ = cli(registry, tmp_path, "--key", str(key), f"{registry.host}/{repo}:1",
                     f"{registry.host}/trust/several-unsigned:1")
    assert code == 1


def test_unreachable_registry_is_exit_3_not_unsigned(tmp_path: Path) -> None:
    from registry import free_port

    key = new_signer().write_public(tmp_path / "k.pub")
    host = f"127.0.0.1:{free_port()}"
    r = run("verify", "--insecure-registry", host, "--cache-dir", str(tmp_path / "c"),
            "--key", str(key), f"{host}/app:1")
    assert r.code == 3, r.err
    assert "unsigned" not in r.err


def test_plain_http_registry_is_reported_but_does_not_decide(registry: Registry,
                                                             tmp_path: Path) -> None:
    repo = "trust/plain-http"
    digest = push(registry, repo, "1")
    signer = new_signer()
    pusher = registry.pusher()
    sign_image(pusher, repo, digest, signer, docker_reference=f"{registry.host}/{repo}")
    pusher.close()
    result = verify(registry, tmp_path, f"{registry.host}/{repo}:1", keyed(tmp_path, signer),
                    skip_rules=frozenset())
    assert result.ok
    assert rule_ids(result) == ["LSH-TRUST-011"]
    assert result.findings[0].nist == ("4.2.1",)
