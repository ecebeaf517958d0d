"""`lashing network` end to end, in-process: inputs, formats, gates, --explain, errors."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from cli_helpers import run

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "compose-awesome"
SCHEMA = Path(__file__).resolve().parents[2] / "src" / "lashing" / "report" / "report.schema.json"

COMPOSE = """\
name: shop
services:
  proxy:
    image: nginx:1.27
    ports: ["80:80", "127.0.0.1:8443:443"]
    networks: [front]
  app:
    image: example/app:1
    depends_on: [db]
    networks: [front, back]
  db:
    image: postgres:16
    networks: [back]
  admin:
    image: adminer:4
    networks: [back]
networks:
  front: {}
  back: {}
"""

K8S = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27, ports: [{containerPort: 8080}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: postgres:16, ports: [{containerPort: 5432}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432}]
"""


@pytest.fixture
def compose_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop" / "compose.yaml"
    path.parent.mkdir()
    path.write_text(COMPOSE)
    return path


def test_table_default(compose_file: Path) -> None:
    r = run("network", str(compose_file))
    assert r.code == 0, r.err
    assert "to shop/db (compose service)\n  from shop/admin" in r.out
    assert "from shop/app" in r.out and "from shop/proxy" not in r.out.split(
        "to shop/db")[1].split("\n\n")[0]
    assert "reachable from external addresses: shop/proxy" in r.out
    assert "LSH-NET-101" in r.out and "LSH-NET-102" in r.out and "LSH-CMP-020" in r.out
    assert "LSH-CMP-003" not in r.out  # not a network rule


def test_json_report_matches_the_schema(compose_file: Path) -> None:
    r = run("network", str(compose_file), "--format", "json")
    assert r.code == 0, r.err
    doc = r.json()
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert doc["targets"] == [{"name": str(compose_file), "kind": "network", "os": None,
                               "packages": []}]
    conns = {(c["source"].get("name") or c["source"]["kind"], c["destination"].get("name")
              or c["destination"].get("cidr"), c["protocol"]): c["ports"]
             for c in doc["connections"]}
    assert conns[("host", "proxy", "TCP")] == "80,443"
    assert conns[("external", "proxy", "TCP")] == "80"
    assert conns[("app", "db", "TCP")] == "1-65535"
    assert ("proxy", "db", "TCP") not in conns
    db = next(c for c in doc["connections"] if c["destination"].get("name") == "db")
    assert db["destination"] == {"kind": "workload", "namespace": "shop", "name": "db",
                                 "workload_kind": "Service"}
    ids = {f["rule_id"] for f in doc["findings"]}
    assert {"LSH-NET-101", "LSH-NET-102", "LSH-CMP-020"} <= ids
    assert all(f["surface"] == "network" for f in doc["findings"])
    assert {c["rule_id"] for c in doc["checks"]} >= {"LSH-NET-101", "LSH-NET-105",
                                                     "LSH-CMP-006"}


@pytest.mark.parametrize(("fmt", "expect"), [
    ("dot", "digraph network {"), ("mermaid", "flowchart LR"),
    ("csv", "source \\ destination,"), ("html", "<!DOCTYPE html>")])
def test_other_formats(compose_file: Path, tmp_path: Path, fmt: str, expect: str) -> None:
    out = tmp_path / f"net.{fmt}"
    r = run("network", str(compose_file), "--format", fmt, "-o", str(out))
    assert r.code == 0, r.err
    assert out.read_text().startswith(expect)


def test_kubernetes_directory_and_stdin(tmp_path: Path) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "app.yaml").write_text(K8S)
    (tmp_path / "k8s" / "notes.json").write_text('{"unrelated": true}')
    r = run("network", str(tmp_path / "k8s"), "--format", "json")
    assert r.code == 0, r.err
    pairs = {(c["source"].get("name") or c["source"]["kind"], c["destination"].get("name"),
              c["protocol"]): c["ports"] for c in r.json()["connections"]}
    assert pairs[("web", "db", "TCP")] == "5432"
    assert ("db", "db", "UDP") not in pairs  # db is isolated for ingress
    piped = run("network", "-", "--format", "json", stdin=K8S.encode())
    assert piped.code == 0, piped.err
    assert piped.json()["connections"] == r.json()["connections"]


def test_explain_compose_and_kubernetes(compose_file: Path, tmp_path: Path) -> None:
    r = run("network", "--explain", "proxy", "db:5432", str(compose_file))
    assert r.code == 0, r.err
    assert "no network in common" in r.out and r.out.rstrip().endswith("Result: DENIED")
    r = run("network", "--explain", "app", "shop/db:5432", str(compose_file), "-f", "json")
    assert r.code == 0 and r.json()["allowed"] is True
    k8s = tmp_path / "app.yaml"
    k8s.write_text(K8S)
    r = run("network", "--explain", "shop/web", "shop/db:5432", str(k8s))
    assert r.code == 0, r.err
    assert "ALLOWED" in r.out and "db-from-web" in r.out
    r = run("network", "--explain", "shop/db", "shop/db:5432", str(k8s), "-f", "json")
    assert r.code == 0 and r.json()["allowed"] is False


def test_explain_errors(compose_file: Path) -> None:
    r = run("network", "--explain", "proxy", "nosuch", str(compose_file))
    assert r.code == 2 and r.err.startswith("error: --explain") and not r.out
    r = run("network", "--explain", "proxy", "db:99999", str(compose_file))
    assert r.code == 2 and "outside 1-65535" in r.err
    r = run("network", "--explain", "proxy", "db", str(compose_file), "-f", "dot")
    assert r.code == 2


def test_gates(compose_file: Path) -> None:
    assert run("network", str(compose_file), "--fail-on", "MEDIUM").code == 1
    assert run("network", str(compose_file), "--fail-on", "HIGH").code == 0
    r = run("network", str(compose_file), "--fail-on", "MEDIUM", "--severity", "LOW")
    assert r.code == 0  # filtered out findings never gate
    bad = run("network", str(compose_file), "--fail-on", "SEVERE")
    assert bad.code == 2 and "unknown severity" in bad.err
    skipped = run("network", str(compose_file), "--skip-rules",
                  "LSH-NET-101,LSH-CMP-020", "--fail-on", "MEDIUM")
    assert skipped.code == 0


def test_strict_with_issues(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  web:\n    image: nginx\n    ports: ['80:http']\n")
    r = run("network", str(path))
    assert r.code == 0 and "unreadable port entry" in r.out
    r = run("network", str(path), "--strict")
    assert r.code == 4 and "incomplete" in r.err


def test_bad_paths_exit_2(tmp_path: Path) -> None:
    r = run("network", str(tmp_path / "missing.yaml"))
    assert r.code == 2 and r.err.count("\n") == 1 and "no such file" in r.err
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "x.yaml").write_text("just: a mapping\n")
    r = run("network", str(tmp_path / "empty"))
    assert r.code == 2 and "no Kubernetes manifests or compose files" in r.err
    r = run("network", "-", stdin=b"")
    assert r.code == 2
    r = run("network", str(tmp_path / "empty"), "--format", "pdf")
    assert r.code == 2 and "--format" in r.err


def test_hostile_yaml_is_refused(tmp_path: Path) -> None:
    bomb = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x, x]"]
                     + [f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]"
                        for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
                     + ["services: {web: {image: nginx, labels: *i}}"])
    path = tmp_path / "compose.yaml"
    path.write_text(bomb)
    r = run("network", str(path))
    assert r.code == 2 and str(path) in r.err and r.err.count("\n") == 1
    assert "Traceback" not in r.err


def test_symlinked_directories_are_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "loop").symlink_to(tmp_path / "tree")
    (tmp_path / "tree" / "link").symlink_to(tmp_path / "real")
    r = run("network", str(tmp_path / "tree"))
    assert r.code == 2  # nothing of its own to analyse; the links were not followed


def test_rules_command_lists_network_rules() -> None:
    r = run("rules", "--format", "json")
    assert r.code == 0
    ids = {rule["id"] for rule in r.json()}
    assert {"LSH-NET-101", "LSH-NET-102", "LSH-NET-103", "LSH-NET-104", "LSH-NET-105",
            "LSH-NET-106", "LSH-NET-001"} <= ids


def test_real_compose_samples() -> None:
    if not DATA.is_dir():
        pytest.skip(f"{DATA} is absent (../shared/data)")
    r = run("network", str(DATA), "--format", "json")
    assert r.code == 0, r.err
    doc = r.json()
    assert not doc["issues"], doc["issues"][:3]
    projects = {c["destination"]["namespace"] for c in doc["connections"]
                if c["destination"]["kind"] == "workload"}
    assert {"react-express-mysql", "nginx-golang-mysql", "wordpress-mysql"} <= projects
    # wordpress-mysql publishes 80 on all interfaces; its db is not published
    outside = {(c["destination"]["namespace"], c["destination"]["name"])
               for c in doc["connections"] if c["source"]["kind"] == "external"}
    assert ("wordpress-mysql", "wordpress") in outside
    assert ("wordpress-mysql", "db") not in outside


def test_compose_on_stdin_keeps_its_name_and_sarif() -> None:
    r = run("network", "-", "--format", "json", stdin=COMPOSE.encode())
    assert r.code == 0, r.err
    assert {c["destination"].get("namespace") for c in r.json()["connections"]} >= {"shop"}
    s = run("network", "-", "--format", "sarif", stdin=COMPOSE.encode())
    assert s.code == 0, s.err
    results = s.json()["runs"][0]["results"]
    assert {"LSH-NET-101", "LSH-NET-102"} <= {x["ruleId"] for x in results}


def test_explain_protocol_is_checked(compose_file: Path) -> None:
    r = run("network", "--explain", "app", "db:53", "--protocol", "udp", str(compose_file))
    assert r.code == 0 and "UDP 53" in r.out and "ALLOWED" in r.out
    bad = run("network", "--explain", "app", "db", "--protocol", "icmp", str(compose_file))
    assert bad.code == 2 and "--protocol" in bad.err


def test_json_list_manifest(tmp_path: Path) -> None:
    items = [{"apiVersion": "v1", "kind": "Pod",
              "metadata": {"name": n, "namespace": "ns", "labels": {"app": n}},
              "spec": {"containers": [{"name": n, "image": "nginx:1.27"}]}} for n in ("a", "b")]
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    r = run("network", str(path), "-f", "json")
    assert r.code == 0, r.err
    names = {(c["source"].get("name"), c["destination"].get("name"))
             for c in r.json()["connections"]}
    assert ("a", "b") in names and ("b", "a") in names


def test_compose_override_is_read_with_its_base(tmp_path: Path) -> None:
    base = tmp_path / "app"
    base.mkdir()
    (base / "compose.yaml").write_text("services:\n  web: {image: nginx}\n")
    (base / "compose.override.yaml").write_text("services:\n  web: {ports: ['8080:80']}\n")
    r = run("network", str(tmp_path), "-f", "json")
    assert r.code == 0, r.err
    doc = r.json()
    outside = [c for c in doc["connections"] if c["source"]["kind"] == "external"]
    assert [(c["destination"]["namespace"], c["ports"]) for c in outside] == [("app", "80")]
    workloads = {(e["namespace"], e["name"]) for c in doc["connections"]
                 for e in (c["source"], c["destination"]) if e["kind"] == "workload"}
    assert workloads == {("app", "web")}  # the override is not a project of its own


def test_explain_names_the_project_when_ambiguous(tmp_path: Path) -> None:
    for name in ("one", "two"):
        path = tmp_path / name / "compose.yaml"
        path.parent.mkdir()
        path.write_text("services:\n  web: {image: nginx}\n  db: {image: postgres}\n")
    r = run("network", "--explain", "web", "db", str(tmp_path))
    assert r.code == 2 and "one, two" in r.err and "PROJECT/NAME" in r.err
    r = run("network", "--explain", "two/web", "two/db:5432", str(tmp_path))
    assert r.code == 0 and "service two/web -> service two/db" in r.out
