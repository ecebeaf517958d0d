"""The manifest loader: Kubernetes objects, compose projects, and hostile YAML."""

from __future__ import annotations

from pathlib import Path

from lashing.manifests import YamlLimits, load_all, load_compose, load_kubernetes
from lashing.manifests.compose import interpolate
from lashing.manifests.scan import scan_manifest_file, scan_manifest_stream

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: busybox:1.36
      containers:
      - name: app
        image: nginx
        securityContext: {privileged: true}
      ephemeralContainers:
      - name: debug
        image: busybox:1.36
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job, image: alpine:3.20}]
"""


def test_kubernetes_objects_and_containers() -> None:
    loaded = load_kubernetes(DEPLOY, "d.yaml")
    assert loaded.error is None
    deploy, cron = loaded
    assert (deploy.resource, deploy.line) == ("Deployment/shop/web", 1)
    assert [(c.name, c.role, c.line) for c in deploy.containers()] == [
        ("app", "container", 11), ("init", "initContainer", 8),
        ("debug", "ephemeralContainer", 15)]
    assert cron.resource == "CronJob/default/nightly"
    assert [c.name for c in cron.containers()] == ["job"]


def test_finding_names_file_line_resource_and_container() -> None:
    findings, checks, issues = scan_manifest_file("d.yaml", DEPLOY.encode())
    priv = [f for f in findings if f.rule_id == "LSH-K8S-001"]
    assert len(priv) == 1 and not issues
    assert priv[0].location.path == "d.yaml" and priv[0].location.line == 13
    assert priv[0].location.resource == "Deployment/shop/web"
    assert "container app" in priv[0].message
    assert {c.rule_id for c in checks} >= {"LSH-K8S-001", "LSH-K8S-050"}


def test_yaml_bomb_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n"
        for i in range(8))
    _, _, error = load_all(bomb, "bomb.yaml", YamlLimits(max_expanded_nodes=1000))
    assert error is not None and "bomb" in error.message and "bomb.yaml:" in error.message
    _, _, error = load_all(bomb, "bomb.yaml", YamlLimits(max_aliases=5))
    assert error is not None and "aliases" in error.message


def test_deep_nesting_and_size_refused() -> None:
    _, _, error = load_all("a: " + "[" * 50 + "]" * 50, "deep.yaml", YamlLimits(max_depth=10))
    assert error is not None and "nesting" in error.message
    _, _, issues = scan_manifest_file("big.yaml", b"apiVersion: v1\nkind: Pod\n" + b"#" * 200,
                                      limits=YamlLimits(max_bytes=100))
    assert len(issues) == 1 and "limit" in issues[0].message
    assert issues[0].location.path == "big.yaml"


def test_tabs_and_duplicate_keys_are_issues() -> None:
    _, _, issues = scan_manifest_file("tab.yaml", b"apiVersion: v1\nkind: Pod\nspec:\n\tx: 1\n")
    assert len(issues) == 1 and "tab" in issues[0].message and issues[0].location.line
    text = b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n" \
           b"  hostPID: false\n  containers: []\n"
    findings, _, issues = scan_manifest_file("dup.yaml", text)
    assert len(issues) == 1 and "duplicate key 'hostPID'" in issues[0].message
    assert issues[0].location.line == 6
    assert not [f for f in findings if f.rule_id == "LSH-K8S-010"]  # last value wins


def test_other_yaml_is_silent() -> None:
    assert scan_manifest_file("values.yaml", b"replicas: 3\nimage: nginx\n") == ([], [], [])
    assert scan_manifest_file("junk.yaml", b"foo: [\n") == ([], [], [])


def test_objects_before_a_syntax_error_are_scanned() -> None:
    text = DEPLOY.split("---")[0] + "---\nkind: [\n"
    findings, _, issues = scan_manifest_stream(text, "-")
    assert any(f.rule_id == "LSH-K8S-001" for f in findings)
    assert len(issues) == 1 and issues[0].location.path == "-"


def test_interpolation() -> None:
    env = {"A": "1", "E": ""}
    assert interpolate("$A ${A} ${B:-x} ${E:-d} ${E-d} ${A:+y} $$A ${B:-${A}}", env) == \
        "1 1 x d  y $A 1"


def test_compose_override_extends_env(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TAG=1.27\nPORT=8080\n")
    base = tmp_path / "compose.yaml"
    base.write_text("services:\n  base:\n    image: busybox:1.36\n    cap_add: [NET_ADMIN]\n"
                    "  web:\n    extends: base\n    image: nginx:${TAG}\n"
                    "    ports: ['${PORT}:80']\n")
    over = tmp_path / "compose.override.yaml"
    over.write_text("services:\n  web:\n    privileged: true\n    ports: ['127.0.0.1:9090:90']\n")
    project = load_compose([base, over], env=None)
    assert not project.errors
    web = project.services["web"]
    assert web.get("image") == "nginx:1.27"
    assert web.get("cap_add") == ["NET_ADMIN"]
    assert web.get("ports") == ["8080:80", "127.0.0.1:9090:90"]
    assert web.data.source_of("privileged") == str(over)
    assert web.data.line_of("privileged") == 3


def test_bad_interpolation_is_an_issue(tmp_path: Path) -> None:
    f = tmp_path / "compose.yaml"
    f.write_text("services:\n  web:\n    image: nginx:1.27\n    command: echo ${oops\n"
                 "    privileged: true\n")
    findings, _, issues = scan_manifest_file(str(f), f.read_bytes(), env={})
    assert len(issues) == 1 and issues[0].location.line == 4
    assert str(f) in str(issues[0].location.path)
    assert any(f.rule_id == "LSH-CMP-001" for f in findings)


def test_default_override_is_merged_not_scanned_alone(tmp_path: Path) -> None:
    base = tmp_path / "docker-compose.yml"
    base.write_text("services:\n  web:\n    image: nginx:1.27\n")
    over = tmp_path / "docker-compose.override.yml"
    over.write_text("services:\n  web:\n    privileged: true\n")
    assert scan_manifest_file(str(over), over.read_bytes(), env={}) == ([], [], [])
    findings, _, _ = scan_manifest_file(str(base), base.read_bytes(), env={})
    priv = [f for f in findings if f.rule_id == "LSH-CMP-001"]
    assert len(priv) == 1 and priv[0].location.path == str(over)
    assert priv[0].location.line == 3
