"""`lashing audit` with `[audit] verify_images = true` or `--verify-images`: the
signatures of the images Kubernetes manifests name are verified against the
policy's cosign key through the real Distribution registry on 127.0.0.1; an
unsigned image is a provenance finding at the line that names it. Without the
option no registry is contacted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lashing.http import HttpClient
from trust.cosign_signer import new_signer, sign_image

from cli_helpers import Result, run
from imagebuilder import build
from registry import Registry, free_port

pytestmark = [pytest.mark.registry, pytest.mark.usefixtures("registry_env")]


@pytest.fixture(scope="module")
def signed(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """audit/team/signed:1 signed with release.pub's key, audit/team/unsigned:1 not;
    returns the directory holding release.pub."""
    work = tmp_path_factory.mktemp("verify")
    pusher = registry.pusher()
    try:
        digests = {repo: pusher.image(repo, "1", build([{f"{repo}.txt": repo}]))
                   for repo in ("audit/team/signed", "audit/team/unsigned")}
        signer = new_signer()
        sign_image(pusher, "audit/team/signed", digests["audit/team/signed"], signer,
                   docker_reference=f"{registry.host}/audit/team/signed")
    finally:
        pusher.close()
    signer.write_public(work / "release.pub")
    return work


def pod(host: str, other: str | None = None) -> str:
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
    - name: signed
      image: {other or host}/audit/team/signed:1
    - name: unsigned
      image: {host}/audit/team/unsigned:1
"""


def estate(work: Path, signed: Path, host: str, audit_extra: str = "",
           manifest: str | None = None) -> Path:
    """A config naming one manifest, with a policy trusting the key for host/audit/team/*."""
    (work / "release.pub").write_bytes((signed / "release.pub").read_bytes())
    (work / "deploy.yaml").write_text(manifest or pod(host))
    config = work / "lashing.toml"
    config.write_text(f"""\
[audit]
kubernetes = ["deploy.yaml"]
{audit_extra}
[scan]
scanners = ["misconfig"]

[policy]
[policy.images."{host}/audit/team/*"]
keys = ["release.pub"]
""")
    return config


def audit(config: Path, *args: str, insecure: tuple[str, ...] = ()) -> Result:
    flags = [x for h in insecure for x in ("--insecure-registry", h)]
    return run("audit", "-c", str(config), "--format", "json", "--no-progress",
               "--cache-dir", str(config.parent / "cache"), *flags, *args)


def trust(doc: dict[str, Any]) -> list[tuple[str, str, int | None, str | None]]:
    return sorted((f["rule_id"], Path(f["location"]["path"]).name, f["location"].get("line"),
                   f["location"].get("resource"))
                  for f in doc["findings"] if f["rule_id"] in ("LSH-TRUST-001",
                                                                "LSH-TRUST-002"))


def test_config_verify_images_finds_the_unsigned_image(registry: Registry, signed: Path,
                                                       tmp_path: Path) -> None:
    config = estate(tmp_path, signed, registry.host, "verify_images = true")
    r = audit(config, insecure=(registry.host,))
    assert r.code == 0, r.err
    doc = r.json()
    assert [i["status"] for i in doc["audit"]["items"]] == ["ok"]
    # the unsigned image, at line 11 of the manifest; the signed one (line 9) passes
    assert trust(doc) == [("LSH-TRUST-001", "deploy.yaml", 11, "Pod/shop/web")]
    finding = next(f for f in doc["findings"] if f["rule_id"] == "LSH-TRUST-001")
    assert finding["surface"] == "image" and finding["kind"] == "provenance"
    assert f"{registry.host}/audit/team/unsigned:1" in finding["message"]
    assert doc["audit"]["surfaces"]["image"]["counts"]["HIGH"] >= 1
    gated = audit(config, "--fail-on-image", "HIGH", insecure=(registry.host,))
    assert gated.code == 1


def test_the_command_line_option(registry: Registry, signed: Path, tmp_path: Path) -> None:
    config = estate(tmp_path, signed, registry.host)
    r = audit(config, "--verify-images", insecure=(registry.host,))
    assert r.code == 0, r.err
    assert trust(r.json()) == [("LSH-TRUST-001", "deploy.yaml", 11, "Pod/shop/web")]


def test_a_bad_signature_is_not_accepted(registry: Registry, signed: Path,
                                         tmp_path: Path) -> None:
    """The same images against another key: the signed one no longer verifies."""
    config = estate(tmp_path, signed, registry.host, "verify_images = true")
    new_signer().write_public(tmp_path / "release.pub")
    r = audit(config, insecure=(registry.host,))
    assert r.code == 0, r.err
    got = trust(r.json())
    assert ("LSH-TRUST-001", "deploy.yaml", 11, "Pod/shop/web") in got
    assert [line for rule, _, line, _ in got if rule != "LSH-TRUST-001"] == [9]


def test_without_the_option_no_registry_is_contacted(registry: Registry, signed: Path,
                                                     tmp_path: Path) -> None:
    gone = f"127.0.0.1:{free_port()}"  # nothing listens here
    config = estate(tmp_path, signed, gone)
    r = audit(config, insecure=(gone,))
    assert r.code == 0, r.err
    doc = r.json()
    assert [i["status"] for i in doc["audit"]["items"]] == ["ok"]
    assert trust(doc) == []
    # the manifest's own rules ran
    assert any(f["rule_id"].startswith("LSH-K8S-") for f in doc["findings"])


def test_with_the_option_an_unreachable_registry_is_an_item_error(
        registry: Registry, signed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the client still retries the refused connections, without waiting between tries
    monkeypatch.setattr(HttpClient, "_backoff", lambda self, attempt: 0.0)
    gone = f"127.0.0.1:{free_port()}"
    config = estate(tmp_path, signed, registry.host, "verify_images = true\n"
                    'dockerfiles = ["Dockerfile"]',
                    manifest=pod(registry.host, other=gone))
    (tmp_path / "Dockerfile").write_text("FROM registry.example.com/base:1.0\nUSER app\n")
    # the signed image's repository under the unreachable host also falls under no key:
    # trust its registry pattern too, so that the audit must fetch it
    with config.open("a") as f:
        f.write(f'[policy.images."{gone}/audit/team/*"]\nkeys = ["release.pub"]\n')
    r = audit(config, "--strict", insecure=(gone, registry.host))
    items = r.json()["audit"]["items"]
    assert [(i["kind"], i["status"]) for i in items] == [("dockerfile", "ok"),
                                                          ("kubernetes", "error")]
    assert f"{gone}/audit/team/signed:1" in items[1]["error"]
    assert f"error: kubernetes: {items[1]['error']}" in r.err
    assert r.code == 4  # incomplete


def test_verify_images_needs_a_policy(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text(pod("registry.example.com"))
    config = tmp_path / "lashing.toml"
    config.write_text('[audit]\nkubernetes = ["deploy.yaml"]\nverify_images = true\n')
    r = run("audit", "-c", str(config), "--no-progress")
    assert r.code == 2
    assert f"{config.resolve()}: verify_images needs a policy" in r.err
    assert "Traceback" not in r.err
