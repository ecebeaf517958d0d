"""`lashing scan --policy`: the provenance policy over the images a target names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lashing.trust.policy import load_policy
from lashing.trust.references import (
    compose_findings,
    dockerfile_findings,
    image_findings,
    manifest_findings,
)

from cli_helpers import run
from imagebuilder import build, write_docker_archive, write_oci_layout

POLICY = """\
[policy]
forbidden_registries = ["registry.untrusted.example"]
require_digest = true
max_age_days = 30
"""
DIGEST = "sha256:" + "a" * 64

DEPLOYMENT = f"""\
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
          image: registry.untrusted.example/tools/init:1
      containers:
        - name: app
          image: ghcr.io/example/app@{DIGEST}
        - name: side
          image: nginx:1.27
      ephemeralContainers:
        - name: debug
          image: "Not An Image::x"
"""

COMPOSE = f"""\
services:
  web:
    image: registry.untrusted.example/web:2
  db:
    image: postgres@{DIGEST}
  local:
    build: .
"""

DOCKERFILE = """\
ARG BASE=registry.untrusted.example/base:1
ARG UNSET
FROM ${BASE} AS build
RUN true
FROM scratch AS empty
FROM build AS test
FROM $UNSET
FROM alpine:3.20
COPY --from=build /out /out
"""

SPEC = {"cmd": ["true"]}


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY)
    return path


def _trust(report: dict[str, Any]) -> list[tuple[str, str | None, int | None, str | None]]:
    return sorted((f["rule_id"], f["location"].get("path"), f["location"].get("line"),
                   f["location"].get("resource"))
                  for f in report["findings"] if f["rule_id"].startswith("LSH-TRUST"))


def _scan(*args: str, stdin: bytes | None = None) -> dict[str, Any]:
    r = run("scan", *args, "--format", "json", "--no-progress", stdin=stdin)
    assert r.code == 0, r.err
    report: dict[str, Any] = r.json()
    return report


def test_kubernetes_manifest(tmp_path: Path, policy: Path) -> None:
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(DEPLOYMENT)
    report = _scan(str(manifest), "--policy", str(policy))
    res = "Deployment/shop/web"
    assert _trust(report) == [
        ("LSH-TRUST-006", str(manifest), 11, res),
        ("LSH-TRUST-008", str(manifest), 11, res),
        ("LSH-TRUST-008", str(manifest), 16, res),
    ]
    issues = [i for i in report["issues"] if i["plugin"] == "policy"]
    assert len(issues) == 1
    assert issues[0]["location"]["line"] == 19
    assert "ephemeralContainer debug" in issues[0]["message"]
    assert "Not An Image::x" in issues[0]["message"]


def test_kubernetes_on_stdin_and_without_misconfig(policy: Path) -> None:
    report = _scan("-", "--policy", str(policy), "--scanners", "vuln",
                   stdin=DEPLOYMENT.encode())
    assert [(r, line) for r, _, line, _ in _trust(report)] == [
        ("LSH-TRUST-006", 11), ("LSH-TRUST-008", 11), ("LSH-TRUST-008", 16)]
    assert not any(f["rule_id"].startswith("LSH-K8S") for f in report["findings"])


def test_compose_file(tmp_path: Path, policy: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE)
    report = _scan(str(compose), "--policy", str(policy))
    got = _trust(report)
    assert [(r, p, line) for r, p, line, _ in got] == [
        ("LSH-TRUST-006", str(compose), 3), ("LSH-TRUST-008", str(compose), 3)]
    assert all(res is not None and res.startswith("service/") and res.endswith("/web")
               for *_, res in got)


def test_compose_override_names_the_override(tmp_path: Path, policy: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    override = tmp_path / "compose.override.yaml"
    override.write_text(f"services:\n  web:\n    image: ghcr.io/example/web@{DIGEST}\n")
    findings, issues = manifest_findings(
        str(tmp_path / "compose.yaml"), COMPOSE, load_policy(policy),
        path=tmp_path / "compose.yaml")
    assert findings == [] and issues == []


def test_dockerfile(tmp_path: Path, policy: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    report = _scan(str(dockerfile), "--policy", str(policy))
    assert [(r, line) for r, _, line, _ in _trust(report)] == [
        ("LSH-TRUST-006", 3), ("LSH-TRUST-008", 3), ("LSH-TRUST-008", 8)]
    issues = [i for i in report["issues"] if i["plugin"] == "policy"]
    assert [i["location"]["line"] for i in issues] == [7]
    assert "FROM $UNSET" in issues[0]["message"]


def test_directory_finds_every_kind(tmp_path: Path, policy: Path) -> None:
    src = tmp_path / "src"
    (src / "deploy").mkdir(parents=True)
    (src / "deploy" / "web.yaml").write_text(DEPLOYMENT)
    (src / "compose.yaml").write_text(COMPOSE)
    (src / "Dockerfile").write_text(DOCKERFILE)
    (src / "package.json").write_text('{"name": "x", "services": 1}')
    report = _scan(str(src), "--policy", str(policy), "--scanners", "misconfig")
    got = {(r, Path(p or "").name, line) for r, p, line, _ in _trust(report)}
    assert got == {
        ("LSH-TRUST-006", "web.yaml", 11), ("LSH-TRUST-008", "web.yaml", 11),
        ("LSH-TRUST-008", "web.yaml", 16),
        ("LSH-TRUST-006", "compose.yaml", 3), ("LSH-TRUST-008", "compose.yaml", 3),
        ("LSH-TRUST-006", "Dockerfile", 3), ("LSH-TRUST-008", "Dockerfile", 3),
        ("LSH-TRUST-008", "Dockerfile", 8),
    }
    # Findings stay distinct even when one file names the same image twice.
    fingerprints = [f["fingerprint"] for f in report["findings"]]
    assert len(fingerprints) == len(set(fingerprints))


def test_same_image_twice_gives_two_findings(policy: Path) -> None:
    text = DEPLOYMENT.replace("ghcr.io/example/app@" + DIGEST, "nginx:1.27")
    report = _scan("-", "--policy", str(policy), stdin=text.encode())
    pins = [f for f in report["findings"] if f["rule_id"] == "LSH-TRUST-008"]
    assert sorted(f["location"]["line"] for f in pins) == [11, 14, 16]
    assert len({f["fingerprint"] for f in pins}) == 3


def test_docker_archive_uses_its_repo_tags(tmp_path: Path, policy: Path) -> None:
    img = build([{"etc/hostname": "x\n"}], config=SPEC)
    archive = write_docker_archive(tmp_path / "app.tar",
                                   [(img, ["registry.untrusted.example/team/app:1"])])
    report = _scan(f"docker-archive:{archive}", "--policy", str(policy),
                   "--scanners", "misconfig")
    rules = [r for r, *_ in _trust(report)]
    assert rules == ["LSH-TRUST-006", "LSH-TRUST-008", "LSH-TRUST-010"]
    old = next(f for f in report["findings"] if f["rule_id"] == "LSH-TRUST-010")
    assert "created 2024-01-01" in old["message"]
    assert all(f["target"] == f"docker-archive:{archive}" for f in report["findings"]
               if f["rule_id"].startswith("LSH-TRUST"))


def test_untagged_archive_and_oci_layout_get_only_the_age(tmp_path: Path,
                                                            policy: Path) -> None:
    img = build([{"etc/hostname": "x\n"}], config=SPEC)
    archive = write_docker_archive(tmp_path / "untagged.tar", [(img, [])])
    layout = write_oci_layout(tmp_path / "layout", [(img, "1.0")])
    for target in (f"docker-archive:{archive}", f"oci:{layout}"):
        report = _scan(target, "--policy", str(policy), "--scanners", "misconfig")
        assert [r for r, *_ in _trust(report)] == ["LSH-TRUST-010"], target


def test_policy_from_the_environment(tmp_path: Path, policy: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LASHING_POLICY", str(policy))
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM registry.untrusted.example/base:1\n")
    assert [r for r, *_ in _trust(_scan(str(dockerfile)))] == ["LSH-TRUST-006",
                                                                "LSH-TRUST-008"]


def test_policy_typo_is_exit_2_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "lashing.toml"
    bad.write_text("[policy]\nrequire_digests = true\n")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM alpine:3.20\n")
    r = run("scan", str(dockerfile), "--policy", str(bad), "--no-progress")
    assert r.code == 2
    assert str(bad) in r.err and "require_digests" in r.err
    assert r.out == ""


def test_without_policy_nothing_changes(tmp_path: Path, policy: Path) -> None:
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(DEPLOYMENT)
    plain = _scan(str(manifest))
    assert _trust(plain) == []
    assert not any(i["plugin"] == "policy" for i in plain["issues"])
    with_policy = _scan(str(manifest), "--policy", str(policy))
    others = [f for f in with_policy["findings"] if not f["rule_id"].startswith("LSH-TRUST")]
    assert others == plain["findings"]


def test_functions_on_loaded_objects(tmp_path: Path, policy: Path) -> None:
    pol = load_policy(policy)
    findings, issues = dockerfile_findings("Dockerfile", "FROM scratch\nFROM busybox\n", pol)
    assert [(f.rule_id, f.location.line) for f in findings] == [("LSH-TRUST-008", 2)]
    assert issues == []
    # A Dockerfile that cannot be parsed is the misconfiguration scan's to report.
    assert dockerfile_findings("Dockerfile", "RUN true\n", pol) == ([], [])
    assert dockerfile_findings("Dockerfile", "RUN true\n", pol, read_issues=True)[1]
    from lashing.manifests.compose import load_compose_text

    project = load_compose_text("services:\n  a:\n    image: [1]\n", "c.yaml")
    findings, issues = compose_findings(project, pol)
    assert findings == [] and "service a" in issues[0].message


def test_image_age_is_judged_once_for_several_names(policy: Path) -> None:
    names = ("registry.untrusted.example/a:1", "registry.untrusted.example/a:2", "Bad Name")
    findings, issues = image_findings(load_policy(policy), "app.tar", "sha256:" + "b" * 64,
                                      names, "2024-01-01T00:00:00Z")
    assert sorted(f.rule_id for f in findings) == [
        "LSH-TRUST-006", "LSH-TRUST-006", "LSH-TRUST-008", "LSH-TRUST-008", "LSH-TRUST-010"]
    assert all(f.target == "app.tar" and f.target_identity == "sha256:" + "b" * 64
               for f in findings)
    assert len(issues) == 1 and "Bad Name" in issues[0].message
