"""`lashing audit` end to end, through the CLI in-process: one config naming an
OCI image, a docker archive, a Dockerfile, Kubernetes manifests, a compose file
and a build-host root -> one report in every format, each validated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from audit_estate import FULL, WEB, Estate, build_estate

from lashing.rules.framework import NIST_TITLES
from lashing.store import open_store

from cli_helpers import Result, run

ROOT = Path(__file__).resolve().parents[2]
REPORT_SCHEMA = json.loads((ROOT / "src/lashing/report/report.schema.json").read_text())
SARIF_SCHEMA = ROOT.parent / "shared" / "data" / "schemas" / "sarif-schema-2.1.0.json"
SURFACES = ("build-host", "image", "application", "network")


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Estate:
    return build_estate(tmp_path_factory.mktemp("estate"))


def audit(estate: Estate, *args: str, config: str = FULL) -> Result:
    return run("audit", "-c", str(estate.config(config)), *args)


@pytest.fixture(scope="module")
def report(estate: Estate) -> dict[str, Any]:
    r = audit(estate, "--format", "json")
    assert r.code == 0, r.err
    doc: dict[str, Any] = r.json()
    return doc


def test_one_document_of_the_report_schema(report: dict[str, Any]) -> None:
    jsonschema.validate(report, REPORT_SCHEMA)
    kinds = {t["kind"] for t in report["targets"]}
    assert {"image", "config", "host"} <= kinds
    surfaces = {f["surface"] for f in report["findings"]}
    assert surfaces == set(SURFACES)
    assert report["connections"], "the network analysis ran"
    items = report["audit"]["items"]
    assert [(i["kind"], i["status"]) for i in items] == [
        ("host", "ok"), ("image", "ok"), ("image", "ok"), ("dockerfile", "ok"),
        ("kubernetes", "ok"), ("compose", "ok")]


def test_vulnerable_and_exposed_workloads_escalate(estate: Estate,
                                                   report: dict[str, Any]) -> None:
    net = [f for f in report["findings"] if f["rule_id"] == "LSH-NET-201"]
    # web behind a LoadBalancer and the compose web service on 0.0.0.0 run the
    # vulnerable image; worker (ClusterIP), the compose cache (127.0.0.1) and api
    # (NodePort, but no HIGH/CRITICAL fixable vulnerability) do not escalate.
    project = estate.root.name  # a compose project is named after its directory
    assert sorted(f["location"]["resource"] for f in net) == [
        "Deployment/shop/web", f"service/{project}/web"]
    for f in net:
        assert f["severity"] == "CRITICAL" and f["surface"] == "network"
        assert f["kind"] == "exposure" and WEB in f["message"]
        assert "CVE-2023-43804" in f["message"]
    check = next(c for c in report["checks"] if c["rule_id"] == "LSH-NET-201")
    assert check["status"] == "fail"


def test_surfaces_and_nist_table(report: dict[str, Any]) -> None:
    audit_key = report["audit"]
    assert list(audit_key["surfaces"]) == list(SURFACES)
    for name, s in audit_key["surfaces"].items():
        live = [f for f in report["findings"] if f["surface"] == name
                and "suppressed" not in f]
        assert sum(s["counts"].values()) == len(live)
        assert s["gate"] == "pass" and s["fail_on"] is None
    nist = {row["id"]: row for row in audit_key["nist"]}
    assert list(nist) == list(NIST_TITLES)
    assert nist["4.1.1"]["status"] == "fail"
    assert "LSH-NET-201" in nist["4.4.2"]["rules"]
    assert nist["4.3.2"]["status"] == "not-covered" and nist["4.3.2"]["rules"] == []
    assert nist["4.5.3"]["status"] == "pass"  # the host's packages were checked


def test_gates_per_surface_and_command_line_overrides(estate: Estate) -> None:
    gated = FULL + "[audit.fail_on]\napplication = \"CRITICAL\"\nbuild-host = \"CRITICAL\"\n"
    r = audit(estate, "--format", "json", config=gated)
    assert r.code == 0, r.err
    assert r.json()["audit"]["surfaces"]["application"]["gate"] == "pass"
    r = audit(estate, "--format", "json", "--fail-on-network", "CRITICAL", config=gated)
    assert r.code == 1
    surfaces = r.json()["audit"]["surfaces"]
    assert surfaces["network"] == {**surfaces["network"], "fail_on": "CRITICAL", "gate": "fail"}
    assert surfaces["application"]["gate"] == "pass"
    r = audit(estate, "--format", "json", "--fail-on", "HIGH", "--fail-on-network", "LOW",
              config=gated)
    assert r.code == 1
    assert {k: v["fail_on"] for k, v in r.json()["audit"]["surfaces"].items()} == {
        "build-host": "HIGH", "image": "HIGH", "application": "HIGH", "network": "LOW"}


def test_sarif_one_run_per_surface(estate: Estate, report: dict[str, Any]) -> None:
    r = audit(estate, "--format", "sarif")
    assert r.code == 0, r.err
    doc = r.json()
    if SARIF_SCHEMA.is_file():
        jsonschema.validate(doc, json.loads(SARIF_SCHEMA.read_text()))
    assert [run_["properties"]["surface"] for run_ in doc["runs"]] == list(SURFACES)
    ids = [run_["automationDetails"]["id"] for run_ in doc["runs"]]
    assert len(set(ids)) == 4
    total = 0
    for run_ in doc["runs"]:
        surface = run_["properties"]["surface"]
        assert {res["properties"]["surface"] for res in run_["results"]} <= {surface}
        total += len(run_["results"])
    assert total == len(report["findings"])


def test_table_summarises_surfaces_and_worst_first(estate: Estate) -> None:
    r = audit(estate)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    for surface in SURFACES:
        assert any(line.startswith(surface) for line in lines)
    first = lines.index(next(x for x in lines if x.startswith("findings, worst first")))
    assert "CRITICAL" in lines[first + 1] and "LSH-NET-201" in lines[first + 1]
    assert "4.5.5" in r.out


@pytest.mark.parametrize("fmt", ["markdown", "html", "gitlab"])
def test_other_formats_render_the_same_document(estate: Estate, fmt: str) -> None:
    from lashing.commands.audit import FORMATS

    if fmt not in FORMATS:
        pytest.skip(f"lashing.report.{fmt} is not in this build")
    r = audit(estate, "--format", fmt)
    assert r.code == 0, r.err
    if fmt == "gitlab":
        doc = r.json()
        assert doc["scan"]["type"] == "container_scanning"
        ids = {i["value"] for v in doc["vulnerabilities"] for i in v["identifiers"]}
        assert "CVE-2023-43804" in ids
    elif fmt == "html":
        assert r.out.lstrip().lower().startswith("<!doctype html")
        assert "LSH-NET-201" in r.out
    else:
        assert "LSH-NET-201" in r.out and "network" in r.out


def test_a_failing_input_is_a_row_and_the_rest_completes(estate: Estate) -> None:
    broken = FULL.replace('compose = ["compose.yaml"]',
                          'compose = ["compose.yaml", "missing/compose.yaml"]')
    broken = broken.replace('"docker-archive:images/api.tar:docker.io/shop/api:2.0",',
                            '"docker-archive:images/api.tar:docker.io/shop/api:2.0",\n'
                            '  "docker-archive:images/nothing.tar",')
    r = audit(estate, "--format", "json", config=broken)
    assert r.code == 0, r.err
    items = r.json()["audit"]["items"]
    errors = [i for i in items if i["status"] == "error"]
    assert [(i["kind"], i["surface"]) for i in errors] == [("image", "image"),
                                                          ("compose", "network")]
    assert all(i["error"] for i in errors)
    assert sum(1 for i in items if i["status"] == "ok") == 6
    assert "error: compose:" in r.err and "missing/compose.yaml" in r.err
    r = audit(estate, "--format", "json", "--strict", config=broken)
    assert r.code == 4


def test_unreadable_host_root_is_an_item_error(estate: Estate) -> None:
    config = FULL.replace('host = "hostroot"', 'host = "no-such-root"')
    r = audit(estate, "--format", "json", config=config)
    assert r.code == 0, r.err
    host = r.json()["audit"]["items"][0]
    assert host["kind"] == "host" and host["status"] == "error"
    assert "not a directory" in host["error"]


def test_nothing_audited_exits_2_with_the_report(estate: Estate) -> None:
    r = audit(estate, "--format", "json",
              config='[audit]\nimages = ["docker-archive:gone.tar"]\ncompose = ["gone.yaml"]\n')
    assert r.code == 2
    assert {i["status"] for i in r.json()["audit"]["items"]} == {"error"}
    assert "nothing could be audited" in r.err


def test_baseline_suppresses_known_findings(estate: Estate, tmp_path: Path) -> None:
    first = audit(estate, "--format", "json", "-o", str(tmp_path / "baseline.json"))
    assert first.code == 0, first.err
    r = audit(estate, "--format", "json", "--fail-on", "LOW",
              "--baseline", str(tmp_path / "baseline.json"))
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["findings"]
    assert {f["suppressed"]["kind"] for f in doc["findings"]} == {"baseline"}
    assert all(sum(s["counts"].values()) == 0 for s in doc["audit"]["surfaces"].values())
    without = audit(estate, "--format", "json", "--fail-on", "LOW")
    assert without.code == 1


def test_bad_baseline_is_refused(estate: Estate, tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text('{"findings": 3}')
    r = audit(estate, "--baseline", str(tmp_path / "b.json"))
    assert r.code == 2 and "not a lashing report" in r.err
    (tmp_path / "c.json").write_text("[" * 100000)
    r = audit(estate, "--baseline", str(tmp_path / "c.json"))
    assert r.code == 2 and "not a JSON document" in r.err


def test_stored_only_when_asked(estate: Estate, tmp_path: Path) -> None:
    r = audit(estate, "--format", "json")
    assert "store" not in r.json()["audit"]
    spec = tmp_path / "results.db"
    r = audit(estate, "--format", "json", "--store", str(spec))
    assert r.code == 0, r.err
    stored = r.json()["audit"]["store"]
    assert stored["spec"] == str(spec) and isinstance(stored["run"], int)
    with open_store(str(spec)) as store:
        runs = store.runs()
        assert [x.id for x in runs] == [stored["run"]]
        assert len(store.document(stored["run"])["findings"]) == len(r.json()["findings"])
    config = FULL + f'[store]\npath = "{tmp_path / "configured.db"}"\n'
    r = audit(estate, "--format", "json", config=config)
    assert r.json()["audit"]["store"]["spec"] == str(tmp_path / "configured.db")


def test_corrupt_store_is_said_in_the_report_and_the_exit(estate: Estate,
                                                          tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_text("not a database\n")
    r = audit(estate, "--format", "json", "--store", str(corrupt))
    assert r.code == 2 and "not a lashing results store" in r.err
    stored = r.json()["audit"]["store"]
    jsonschema.validate(r.json(), REPORT_SCHEMA)
    assert stored["run"] is None and "not a lashing results store" in stored["error"]
    table = audit(estate, "--store", str(corrupt))
    assert "NOT stored in" in table.out


def test_policy_and_ignore_sections_apply_to_the_whole_audit(estate: Estate) -> None:
    config = FULL + """
[policy]
allowed_registries = ["registry.example.com"]

[[ignore.rules]]
id = "CVE-2023-43804"
reason = "the proxy never forwards to urllib3"
"""
    r = audit(estate, "--format", "json", config=config)
    assert r.code == 0, r.err
    doc = r.json()
    trust = {(f["target"], f["location"].get("resource")) for f in doc["findings"]
             if f["rule_id"].startswith("LSH-TRUST")}
    api = next(i["name"] for i in doc["audit"]["items"] if "api.tar" in i["name"])
    assert (api, "docker.io/shop/api:2.0") in trust  # not from an allowed registry
    assert any(target.endswith("Dockerfile") for target, _ in trust)  # FROM python:3.12
    cve = [f for f in doc["findings"] if f["rule_id"] == "CVE-2023-43804"]
    assert cve and all(f["suppressed"]["kind"] == "ignore-file" for f in cve)
    # The only fixable HIGH vulnerability is suppressed: nothing escalates.
    assert not [f for f in doc["findings"] if f["rule_id"] == "LSH-NET-201"]


def test_a_bad_manifest_in_a_directory_is_an_issue(estate: Estate, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "web.yaml").write_text((estate.root / "deploy" / "web.yaml").read_text())
    (mixed / "bad.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: [\n")
    (mixed / "link.yaml").symlink_to(estate.root / "deploy" / "api.yaml")  # not followed
    (tmp_path / "only-bad").mkdir()
    (tmp_path / "only-bad" / "bad.yaml").write_text("apiVersion: v1\nkind: Pod\n  - :\n")
    config = FULL.replace('kubernetes = ["deploy"]',
                          f'kubernetes = ["{mixed}", "{tmp_path / "only-bad"}"]')
    r = audit(estate, "--format", "json", config=config)
    assert r.code == 0, r.err
    doc = r.json()
    k8s = [i for i in doc["audit"]["items"] if i["kind"] == "kubernetes"]
    assert [i["status"] for i in k8s] == ["ok", "error"]
    assert any(i["location"].get("path") == str(mixed / "bad.yaml") for i in doc["issues"])
    assert any(f["rule_id"] == "LSH-NET-201" and f["target"] == str(mixed / "web.yaml")
               for f in doc["findings"])
    assert not [t for t in doc["targets"] if t["name"] == str(mixed / "link.yaml")]


def test_vex_documents_suppress_and_stop_the_escalation(estate: Estate) -> None:
    vex = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/web-1.0", "author": "shop security",
        "timestamp": "2026-01-01T00:00:00Z", "version": 1,
        "statements": [{
            "vulnerability": {"name": "CVE-2023-43804"},
            "products": [{"@id": "pkg:pypi/urllib3@1.26.4"}],
            "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
        }],
    }
    (estate.root / "web.openvex.json").write_text(json.dumps(vex))
    config = FULL.replace('host = "hostroot"', 'host = "hostroot"\nvex = ["web.openvex.json"]')
    r = audit(estate, "--format", "json", "--fail-on-network", "CRITICAL", config=config)
    assert r.code == 0, r.err
    doc = r.json()
    cve = [f for f in doc["findings"] if f["rule_id"] == "CVE-2023-43804"]
    assert cve and {f["suppressed"]["kind"] for f in cve} == {"vex"}
    assert not [f for f in doc["findings"] if f["rule_id"] == "LSH-NET-201"]


def test_store_that_cannot_be_used_keeps_the_report(estate: Estate, tmp_path: Path) -> None:
    not_a_store = tmp_path / "notes.txt"
    not_a_store.write_text("not a database\n" * 100)
    r = audit(estate, "--format", "json", "--store", str(not_a_store))
    assert r.code == 2, r.err
    assert r.json()["audit"]["store"]["run"] is None  # the report says it was not stored
    assert r.err.count("error:") == 1 and str(not_a_store) in r.err


def test_bad_gate_on_the_command_line(estate: Estate) -> None:
    r = audit(estate, "--fail-on-image", "SEVERE")
    assert r.code == 2 and "--fail-on-image: unknown severity 'SEVERE'" in r.err
    r = audit(estate, "--fail-on", "HIGH,LOW")
    assert r.code == 2 and "name one severity" in r.err
    r = audit(estate, "--format", "xml")
    assert r.code == 2 and "lashing audit writes table, json, sarif" in r.err
