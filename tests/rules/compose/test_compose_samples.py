"""Every compose file of ../shared/data/compose-awesome scans without crashing, and a
hand-verified sample gets the findings it should."""

from __future__ import annotations

from pathlib import Path

import pytest

from lashing.manifests.scan import scan_manifest_file

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "compose-awesome"
NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")


def _files() -> list[Path]:
    return sorted(p for p in DATA.rglob("*.y*ml") if p.name in NAMES)


def test_every_sample_scans() -> None:
    if not DATA.is_dir():
        pytest.skip(f"{DATA} is absent (../shared/data)")
    files = _files()
    assert files
    for f in files:
        _, checks, issues = scan_manifest_file(str(f), f.read_bytes(), env={})
        assert checks, f
        assert not [c for c in checks if "rule failed" in c.reason], f
        assert not issues, (f, issues)


def _rules(sample: str) -> dict[str, set[str]]:
    f = next(p for p in (DATA / sample).iterdir() if p.name in NAMES)
    findings, _, _ = scan_manifest_file(str(f), f.read_bytes(), env={})
    out: dict[str, set[str]] = {}
    for finding in findings:
        out.setdefault(finding.rule_id, set()).add(str(finding.location.resource))
    return out


def test_portainer_mounts_the_docker_socket() -> None:
    if not (DATA / "portainer").is_dir():
        pytest.skip("portainer sample absent")
    found = _rules("portainer")
    assert "LSH-CMP-010" in found  # /var/run/docker.sock
    assert "LSH-CMP-020" in found  # 9000:9000 on all interfaces


def test_gitea_postgres_literal_passwords_and_ports() -> None:
    if not (DATA / "gitea-postgres").is_dir():
        pytest.skip("gitea-postgres sample absent")
    found = _rules("gitea-postgres")
    assert found["LSH-CMP-040"] == {"service/gitea-postgres/gitea", "service/gitea-postgres/db"}
    assert found["LSH-CMP-020"] == {"service/gitea-postgres/gitea"}  # 3000:3000; db only exposes
    assert "LSH-CMP-021" not in found  # 5432 is `expose:`d, not published
    assert "LSH-CMP-030" in found  # gitea/gitea:latest


def test_pihole_values_from_dotenv_are_not_literals() -> None:
    if not (DATA / "pihole-cloudflared-DoH").is_dir():
        pytest.skip("pihole sample absent")
    found = _rules("pihole-cloudflared-DoH")
    assert "LSH-CMP-040" not in found  # WEBPASSWORD=${PIHOLE_PW} comes from .env
    assert "LSH-CMP-010" not in found  # /etc/pihole is an application directory
    assert found["LSH-CMP-002"] == {"service/pihole-cloudflared-doh/pihole"}  # NET_ADMIN
    assert "LSH-CMP-021" not in found  # 53/67 are DNS/DHCP, not in the sensitive list
