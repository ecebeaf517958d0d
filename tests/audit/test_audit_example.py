"""examples/audit_demo.py, the estate the README's audit screenshot is made
from: built into a temporary directory and audited through the CLI, it has
findings on all four surfaces, escalates the exposed vulnerable workloads and
reaches its gates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from audit_estate import DEMO

from lashing.rules.framework import NIST_TITLES

from cli_helpers import Result, run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "audit_demo.py"
SURFACES = ("build-host", "image", "application", "network")
NIST_STATUSES = {"pass", "fail", "not-checked", "not-covered"}


def build_example(out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLE), str(out)], capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("example")
    done = build_example(work / "audit")
    assert done.returncode == 0, done.stderr
    r = run("db", "import", str(DEMO), "--db", str(work / "demo.db"))
    assert r.code == 0, r.err
    return work


def audit(estate: Path, *args: str) -> Result:
    return run("audit", "-c", str(estate / "audit" / "lashing.toml"),
               "--db", str(estate / "demo.db"), "--no-progress", *args)


@pytest.fixture(scope="module")
def result(estate: Path) -> Result:
    return audit(estate, "--format", "json")


@pytest.fixture(scope="module")
def report(result: Result) -> dict[str, Any]:
    doc: dict[str, Any] = result.json()
    return doc


def live(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if "suppressed" not in f]


def test_every_input_is_audited(report: dict[str, Any]) -> None:
    assert [(i["kind"], i["status"]) for i in report["audit"]["items"]] == [
        ("host", "ok"), ("image", "ok"), ("dockerfile", "ok"), ("kubernetes", "ok"),
        ("compose", "ok")]


def test_all_four_surfaces_have_findings(report: dict[str, Any]) -> None:
    for surface in SURFACES:
        assert [f for f in live(report) if f["surface"] == surface], surface
    rules = {f["rule_id"] for f in live(report)}
    # one of each kind of problem the example is written to show
    assert {"LSH-HOST-001", "LSH-HOST-026", "LSH-IMG-001", "LSH-IMG-020", "LSH-DF-032",
            "CVE-2023-43804", "LSH-TRUST-006", "LSH-CMP-021", "LSH-NET-008"} <= rules


def test_exposed_vulnerable_workloads_escalate(report: dict[str, Any]) -> None:
    net = sorted((f["location"]["path"].rsplit("/", 1)[-1], f["location"]["resource"])
                 for f in live(report) if f["rule_id"] == "LSH-NET-201")
    # the database (ClusterIP, another image) and the cache (another image) do not
    assert net == [("compose.yaml", "service/audit/web"), ("web.yaml", "Deployment/shop/web")]
    web = next(f for f in live(report) if f["rule_id"] == "LSH-NET-201"
               and f["location"]["resource"] == "Deployment/shop/web")
    assert web["severity"] == "CRITICAL" and "CVE-2023-43804" in web["message"]
    assert "LoadBalancer Service/shop/web" in web["message"]


def test_the_misspelt_policy_label_is_found(report: dict[str, Any]) -> None:
    typo = [f for f in live(report) if f["rule_id"] == "LSH-NET-008"]
    assert len(typo) == 1
    assert typo[0]["location"]["resource"] == "NetworkPolicy/shop/db-from-web"
    assert "app=wbe" in typo[0]["message"]


def test_nist_table_is_complete(report: dict[str, Any]) -> None:
    rows = report["audit"]["nist"]
    assert [row["id"] for row in rows] == list(NIST_TITLES)
    assert [row["title"] for row in rows] == list(NIST_TITLES.values())
    assert {row["status"] for row in rows} <= NIST_STATUSES
    status = {row["id"]: row["status"] for row in rows}
    # every area a rule covers was evaluated here, except rogue containers
    # (only `lashing watch` sees running containers)
    assert [a for a, s in status.items() if s == "not-checked"] == ["4.4.5"]
    assert status["4.1.1"] == status["4.4.2"] == status["4.5.4"] == "fail"


def test_the_gate_fails_on_build_host_and_network(result: Result,
                                                  report: dict[str, Any]) -> None:
    assert result.code == 1, result.err
    gates = {k: v["gate"] for k, v in report["audit"]["surfaces"].items()}
    assert gates == {"build-host": "fail", "image": "pass", "application": "pass",
                     "network": "fail"}


def test_html_report(estate: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    r = audit(estate, "--format", "html", "-o", str(out))
    assert r.code == 1, r.err
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") or html.startswith("<!doctype html>")
    assert "LSH-NET-201" in html and "Deployment/shop/web" in html


def test_the_example_writes_only_into_an_empty_directory(tmp_path: Path) -> None:
    keep = tmp_path / "keep.txt"
    keep.write_text("mine")
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    for out in (tmp_path, keep, tmp_path / "link"):
        done = build_example(out)
        assert done.returncode == 1
        assert done.stderr.strip() == (
            f"{out}: not an empty directory; remove it or name another directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt", "link"]
    assert keep.read_text() == "mine"
