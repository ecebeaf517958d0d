"""The compose network rules (LSH-NET-1NN) on real compose files and on edge cases
the rule examples do not cover."""

from __future__ import annotations

from pathlib import Path

import pytest

from lashing.manifests.compose import load_compose, load_compose_text
from lashing.model import CheckStatus
from lashing.rules import FAMILIES, find_rule
from lashing.rules.network import COMPOSE_RULES, scan_compose_network
from lashing.rules.network.compose import datastore, subject_of

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "compose-awesome"


def _found(sample: str) -> dict[str, set[str]]:
    f = next(p for p in sorted((DATA / sample).iterdir())
             if p.name in ("compose.yaml", "compose.yml", "docker-compose.yml",
                           "docker-compose.yaml"))
    findings, checks = scan_compose_network(load_compose([f], env={}, project_name=sample))
    assert len(checks) == len(COMPOSE_RULES)
    out: dict[str, set[str]] = {}
    for finding in findings:
        out.setdefault(finding.rule_id, set()).add(str(finding.location.resource))
    return out


def _need(sample: str) -> None:
    if not (DATA / sample).is_dir():
        pytest.skip(f"{DATA / sample} is absent (../shared/data)")


def test_registered_and_listed() -> None:
    assert any(f.name == "network-compose" for f in FAMILIES)
    rule = find_rule("LSH-NET-105")
    assert rule is not None and rule.matches("cis-docker-1.6:5.30")


def test_segmented_sample_keeps_its_database_apart() -> None:
    _need("react-express-mysql")
    found = _found("react-express-mysql")
    # db is on `private` only, with backend which depends on it: no LSH-NET-102
    assert "LSH-NET-102" not in found
    # but `private` is not internal, so the database can reach the internet
    assert found["LSH-NET-101"] == {"service/react-express-mysql/db"}


def test_flat_sample_exposes_its_database_to_the_proxy() -> None:
    _need("nginx-golang-mysql")
    found = _found("nginx-golang-mysql")
    assert found["LSH-NET-102"] == {"service/nginx-golang-mysql/db"}
    assert found["LSH-NET-101"] == {"service/nginx-golang-mysql/db"}


def test_pihole_has_no_datastore() -> None:
    _need("pihole-cloudflared-DoH")
    assert _found("pihole-cloudflared-DoH") == {}


def test_environment_reference_counts_as_use() -> None:
    project = load_compose_text("""
services:
  api: {image: example/api:1, environment: {DATABASE_URL: "postgres://u@db:5432/app"}}
  db: {image: "postgres:16"}
""", "compose.yaml")
    findings, _ = scan_compose_network(project)
    assert "LSH-NET-102" not in {f.rule_id for f in findings}


def test_datastore_detection() -> None:
    project = load_compose_text("""
services:
  a: {image: "docker.io/library/redis:7"}
  b: {image: "bitnami/postgresql:16"}
  c: {image: "example/app:1", expose: ["27017"]}
  d: {image: "example/redis-commander:1"}
  e: {image: "mcr.microsoft.com/mssql/server:2022-latest"}
""", "compose.yaml")
    s = subject_of(project)
    kinds = {svc.name: datastore(svc) for svc in s.model.services}
    assert kinds["a"] == "redis" and kinds["b"] == "postgresql" and kinds["c"] == "MongoDB"
    assert kinds["d"] is None  # a redis admin tool is not a datastore


def test_skip_and_no_services() -> None:
    project = load_compose_text("services: {}\n", "compose.yaml")
    _, checks = scan_compose_network(project, skip={"LSH-NET-101"})
    status = {c.rule_id: c.status for c in checks}
    assert status["LSH-NET-101"] is CheckStatus.NOT_CHECKED
    assert status["LSH-NET-102"] is CheckStatus.NOT_APPLICABLE
