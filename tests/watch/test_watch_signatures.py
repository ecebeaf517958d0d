"""`lashing watch --verify-images`: the images of running containers, pulled
by podman from the real Distribution registry, verified against a cosign
signature made in the test (LSH-RUN-035)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trust.cosign_signer import new_signer, sign_image
from watch.watchengine import Engine, userland

from cli_helpers import run
from registry import Registry

pytestmark = pytest.mark.registry


def test_unsigned_image_of_a_running_container(engine: Engine, registry: Registry,
                                               registry_env: Path, tmp_path: Path) -> None:
    (registry_env / "auth.json").write_text('{"auths": {}}')  # podman reads it
    pusher = registry.pusher()
    try:
        img = userland()
        signed_digest = pusher.image("watch/signed", "1", img)
        pusher.image("watch/unsigned", "1", img)
        signer = new_signer()
        sign_image(pusher, "watch/signed", signed_digest, signer,
                   docker_reference=f"{registry.host}/watch/signed")
    finally:
        pusher.close()
    key = signer.write_public(tmp_path / "cosign.pub")
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[policy]\nkeys = ["{key}"]\n')
    for repo in ("signed", "unsigned"):
        ref = f"{registry.host}/watch/{repo}:1"
        engine.podman("pull", "--tls-verify=false", ref)
        engine.run(f"from-{repo}", "--network", "none", image=ref)

    result = run("watch", "--once", "--docker-host", engine.url, "--policy", str(policy),
                 "--verify-images", "--insecure-registry", registry.host, "--cache-dir",
                 str(tmp_path / "cache"), "--fail-on", "HIGH")
    assert result.code == 1, result.err
    findings = [json.loads(line) for line in result.out.splitlines()]
    sig = [f for f in findings if f["rule_id"] == "LSH-RUN-035"]
    assert [f["location"]["resource"].split("/")[1] for f in sig] == ["from-unsigned"]
    assert sig[0]["kind"] == "provenance"
    assert f"{registry.host}/watch/unsigned:1" in sig[0]["message"]
    assert ") has no signature at " in sig[0]["message"]
    assert "lashing:LSH-TRUST-001" in sig[0]["aliases"]
