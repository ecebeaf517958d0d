"""`lashing scan MANIFEST --policy P --verify-images`: the signatures of the
images Kubernetes manifests and compose files name, verified through the
real Distribution registry, reported at the line that names each image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lashing.errors import EnvironmentFailure
from lashing.options import SourceOptions
from lashing.trust.policy import load_policy
from lashing.trust.references import manifest_findings
from trust.cosign_signer import new_signer, sign_image
from trust.sigstore_signer import BUNDLE_V03, Sigstore, push_referrer

from cli_helpers import Result, run
from imagebuilder import build
from registry import Registry, free_port

pytestmark = [pytest.mark.registry, pytest.mark.usefixtures("registry_env")]


@pytest.fixture(scope="module")
def estate(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three images: signed with a key, signed keyless (a bundle referrer), unsigned;
    and a policy trusting the key for team/* and the workflow for ci/*."""
    work = tmp_path_factory.mktemp("estate")
    sigstore = Sigstore()
    pusher = registry.pusher()
    digests = {}
    for repo in ("team/keyed", "ci/keyless", "team/unsigned", "ci/unsigned"):
        img = build([{f"{repo}.txt": repo}])
        digests[repo] = pusher.image(repo, "1", img)
        if repo == "ci/keyless":
            bundle = sigstore.bundle(digests[repo])
            push_referrer(pusher, repo, digests[repo], len(img.manifest), BUNDLE_V03,
                          [(BUNDLE_V03, bundle, {})])
    signer = new_signer()
    sign_image(pusher, "team/keyed", digests["team/keyed"], signer,
               docker_reference=f"{registry.host}/team/keyed")
    pusher.close()
    signer.write_public(work / "release.pub")
    sigstore.root_file(work / "trusted_root.json")
    policy = work / "policy.toml"
    policy.write_text(
        "[policy]\n"
        f'[policy.images."{registry.host}/team/*"]\n'
        'keys = ["release.pub"]\n'
        f'[policy.images."{registry.host}/ci/*"]\n'
        'keyless = { issuer = "https://token.actions.githubusercontent.com", '
        'subject = "https://github.com/org/repo/.github/workflows/*@refs/heads/main" }\n'
        'trusted_root = "trusted_root.json"\n'
        f'[policy.images."{registry.host}/public/*"]\n'
        "require_digest = true\n")
    return {"work": work, "policy": policy, "digests": digests, "sigstore": sigstore}


def scan(registry: Registry, estate: dict[str, Any], target: str, *extra: str) -> Result:
    return run("scan", target, "--policy", str(estate["policy"]), "--scanners", "vuln",
               "--insecure-registry", registry.host, "--cache-dir",
               str(estate["work"] / "cache"), "--no-progress", "--format", "json", *extra)


def trust(r: Result) -> list[tuple[str, int | None, str | None]]:
    return sorted((f["rule_id"], f["location"].get("line"), f["location"].get("resource"))
                  for f in r.json()["findings"] if f["rule_id"].startswith("LSH-TRUST"))


def deployment(host: str) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: {host}/ci/keyless:1
      containers:
        - name: app
          image: {host}/team/keyed:1
        - name: side
          image: {host}/team/unsigned:1
        - name: again
          image: {host}/team/unsigned:1
        - name: job
          image: {host}/ci/unsigned:1
"""


def test_each_failing_image_is_a_finding_at_its_line(registry: Registry,
                                                     estate: dict[str, Any]) -> None:
    manifest = estate["work"] / "deploy.yaml"
    manifest.write_text(deployment(registry.host))
    r = scan(registry, estate, str(manifest), "--verify-images")
    assert r.code == 0, r.err
    res = "Deployment/shop/web"
    assert trust(r) == [("LSH-TRUST-001", 16, res), ("LSH-TRUST-001", 18, res),
                        ("LSH-TRUST-001", 20, res)]
    findings = {f["location"]["line"]: f for f in r.json()["findings"]}
    assert findings[16]["location"]["path"] == str(manifest)
    assert f"{registry.host}/team/unsigned:1" in findings[16]["message"]
    assert findings[16]["fingerprint"] != findings[18]["fingerprint"]
    gated = scan(registry, estate, str(manifest), "--verify-images", "--fail-on", "HIGH")
    assert gated.code == 1


def test_without_the_flag_no_signature_is_checked(registry: Registry,
                                                  estate: dict[str, Any]) -> None:
    manifest = estate["work"] / "deploy-noflag.yaml"
    manifest.write_text(deployment(registry.host))
    r = scan(registry, estate, str(manifest))
    assert r.code == 0, r.err
    assert trust(r) == []


def test_no_network_without_the_flag(registry: Registry, estate: dict[str, Any]) -> None:
    gone = f"127.0.0.1:{free_port()}"  # nothing listens here
    manifest = estate["work"] / "deploy-gone.yaml"
    manifest.write_text(deployment(registry.host).replace(
        f"{registry.host}/team/keyed", f"{gone}/team/keyed"))
    policy = estate["work"] / "policy-gone.toml"
    policy.write_text('[policy]\nkeys = ["release.pub"]\n')
    base = ("scan", str(manifest), "--policy", str(policy), "--scanners", "vuln",
            "--insecure-registry", gone, "--insecure-registry", registry.host, "--cache-dir",
            str(estate["work"] / "cache-gone"), "--no-progress", "--format", "json")
    assert run(*base).code == 0
    # With the flag the registry is needed: an error naming the place and the image.
    source = SourceOptions(cache_dir=estate["work"] / "cache-gone", retries=0, timeout=2,
                           insecure_registries=(gone, registry.host))
    with pytest.raises(EnvironmentFailure) as exc:
        manifest_findings(str(manifest), manifest.read_bytes(), load_policy(policy),
                          path=manifest, verify=source)
    assert exc.value.exit_code == 3
    assert f"{manifest}:14 (Deployment/shop/web): image {gone}/team/keyed:1" in (
        exc.value.message)


def test_compose_services(registry: Registry, estate: dict[str, Any]) -> None:
    compose = estate["work"] / "compose.yaml"
    compose.write_text(f"""\
services:
  api:
    image: {registry.host}/ci/keyless:1
  worker:
    image: {registry.host}/ci/unsigned:1
  local:
    build: .
""")
    r = scan(registry, estate, str(compose), "--verify-images")
    assert r.code == 0, r.err
    got = trust(r)
    assert [(rule, line) for rule, line, _ in got] == [("LSH-TRUST-001", 5)]
    assert got[0][2] is not None and got[0][2].endswith("/worker")


def test_keyless_identity_mismatch_in_a_manifest(registry: Registry,
                                                 estate: dict[str, Any]) -> None:
    pusher = registry.pusher()
    repo = "ci/forked"
    img = build([{"forked.txt": "forked"}])
    digest = pusher.image(repo, "1", img)
    bundle = estate["sigstore"].bundle(
        digest, subject="https://github.com/fork/repo/.github/workflows/r.yml@refs/heads/main")
    push_referrer(pusher, repo, digest, len(img.manifest), BUNDLE_V03, [(BUNDLE_V03, bundle, {})])
    pusher.close()
    manifest = estate["work"] / "pod.yaml"
    manifest.write_text(f"""\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: c
      image: {registry.host}/{repo}:1
""")
    r = scan(registry, estate, str(manifest), "--verify-images")
    assert trust(r) == [("LSH-TRUST-012", 8, "Pod/default/p")]
    assert "github.com/fork/repo" in r.json()["findings"][0]["message"]


def test_policy_rules_still_apply_and_images_without_keys_are_not_fetched(
        registry: Registry, estate: dict[str, Any]) -> None:
    manifest = estate["work"] / "public.yaml"
    manifest.write_text(f"""\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: c
      image: {registry.host}/public/absent:1
""")
    r = scan(registry, estate, str(manifest), "--verify-images")
    assert r.code == 0, r.err  # the image does not exist, but nothing needs fetching
    assert trust(r) == [("LSH-TRUST-008", 8, "Pod/default/p")]


def test_verify_images_needs_a_policy(tmp_path: Path) -> None:
    manifest = tmp_path / "pod.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n")
    r = run("scan", str(manifest), "--verify-images")
    assert r.code == 2 and "--verify-images needs --policy" in r.err


def test_manifests_found_in_a_directory(registry: Registry, estate: dict[str, Any]) -> None:
    tree = estate["work"] / "repo"
    (tree / "k8s").mkdir(parents=True)
    (tree / "k8s" / "deploy.yaml").write_text(deployment(registry.host))
    r = scan(registry, estate, f"dir:{tree}", "--verify-images")
    assert r.code == 0, r.err
    unsigned = [f for f in r.json()["findings"] if f["rule_id"] == "LSH-TRUST-001"]
    assert sorted(f["location"]["line"] for f in unsigned) == [16, 18, 20]
    assert all(f["location"]["path"].endswith("k8s/deploy.yaml") for f in unsigned)


def test_bad_trusted_root_is_exit_2(registry: Registry, estate: dict[str, Any],
                                    tmp_path: Path) -> None:
    (tmp_path / "trusted_root.json").write_text('{"mediaType": "nope"}')
    policy = tmp_path / "policy.toml"
    policy.write_text('[policy]\nkeyless = { issuer = "https://i.example", subject = "x" }\n'
                      'trusted_root = "trusted_root.json"\n')
    r = run("verify", "--policy", str(policy), "--insecure-registry", registry.host,
            "--cache-dir", str(tmp_path / "c"), f"{registry.host}/ci/keyless:1")
    assert r.code == 2
    assert f"trusted root {tmp_path / 'trusted_root.json'}: mediaType 'nope'" in r.err
