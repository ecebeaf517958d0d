"""lashing rescan: stored SBOMs against a newer database, new findings marked
by fingerprint, the re-scan recorded as a run; on both backends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from store_fixtures import (
    BACKENDS,
    CRITICAL,
    HIGH,
    IMAGE_ID,
    build_db,
    image_report,
    lashing,
    project,
    record,
    sarif_errors,
    scan_report,
    schema_errors,
    store_spec,
)

from lashing.errors import EXIT_ENVIRONMENT, EXIT_GATE, EXIT_OK
from lashing.store import open_store

OLD = record("GHSA-aaaa-0001", "demo", "2.0", aliases=["CVE-2026-1001"], cvss=HIGH)
NEW = record("GHSA-bbbb-0002", "other", "3.5", aliases=["CVE-2026-2002"], cvss=CRITICAL)


@pytest.fixture(params=BACKENDS)
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_spec(str(request.param), tmp_path)


@pytest.fixture
def stored(spec: str, tmp_path: Path) -> tuple[str, Path, dict[str, Any]]:
    """A store holding one scan of a project whose database knows OLD only."""
    db = build_db(tmp_path / "osv.db", [OLD])
    app = project(tmp_path / "app", {"demo": "1.0", "other": "3.0"})
    doc = scan_report(f"dir:{app}", db)
    with open_store(spec) as store:
        store.record(doc, kind="scan")
    return spec, db, doc


def rescan(spec: str, db: Path, *extra: str) -> tuple[int, str, str]:
    return lashing("rescan", "--store", spec, "--db", str(db), "--no-progress", *extra)


def test_exactly_the_new_advisory_is_new_then_nothing(
        stored: tuple[str, Path, dict[str, Any]]) -> None:
    spec, db, scanned = stored
    (old_finding,) = scanned["findings"]
    build_db(db, [OLD, NEW])  # the database learns of a new advisory
    code, out, err = rescan(spec, db, "--format", "json")
    assert code == EXIT_OK, err
    doc = json.loads(out)
    report = doc["report"]
    assert not schema_errors(report)
    by_id = {f["rule_id"]: f for f in report["findings"]}
    assert set(by_id) == {"CVE-2026-1001", "CVE-2026-2002"}
    # the old finding is recognised by the fingerprint the original scan gave it
    assert by_id["CVE-2026-1001"]["fingerprint"] == old_finding["fingerprint"]
    assert doc["rescan"]["new"] == [by_id["CVE-2026-2002"]["fingerprint"]]
    (target,) = doc["rescan"]["targets"]
    assert (target["packages"], target["findings"], target["new"]) == (2, 2, 1)
    assert target["previous_run"] == target["sbom_run"] == 1
    assert doc["rescan"]["run"] == 2
    with open_store(spec) as store:
        runs = store.runs()
        assert [(r.kind, r.findings) for r in runs] == [("scan", 1), ("rescan", 2)]
        assert store.latest("rescan") == report
    code, out, err = rescan(spec, db, "--format", "json")
    again = json.loads(out)
    assert code == EXIT_OK and again["rescan"]["new"] == []
    assert again["rescan"]["targets"][0]["previous_run"] == 2
    assert len(again["report"]["findings"]) == 2


def test_table_sarif_only_new_and_the_gate(stored: tuple[str, Path, dict[str, Any]]) -> None:
    spec, db, _ = stored
    build_db(db, [OLD, NEW])
    code, out, _ = rescan(spec, db, "--fail-on", "CRITICAL")
    assert code == EXIT_GATE
    lines = out.splitlines()
    (new_line,) = [line for line in lines if line.strip().startswith("NEW")]
    assert "CVE-2026-2002" in new_line and "other 3.0 -> 3.5" in new_line
    assert any("CVE-2026-1001" in line and "NEW" not in line for line in lines)
    assert lines[-1] == "new findings: 1 (CRITICAL 1)"
    # second re-scan: nothing new; --only-new reports and gates on new findings only
    code, out, _ = rescan(spec, db, "--only-new", "--fail-on", "HIGH", "--format", "sarif")
    sarif = json.loads(out)
    assert code == EXIT_OK and sarif["runs"][0]["results"] == []
    code, out, _ = rescan(spec, db, "--format", "sarif")
    states = {r["ruleId"]: r["baselineState"] for r in json.loads(out)["runs"][0]["results"]}
    assert states == {"CVE-2026-1001": "unchanged", "CVE-2026-2002": "unchanged"}


def test_new_findings_in_sarif_are_marked_new(stored: tuple[str, Path, dict[str, Any]]) -> None:
    spec, db, _ = stored
    build_db(db, [OLD, NEW])
    code, out, _ = rescan(spec, db, "--format", "sarif", "--only-new")
    (result,) = json.loads(out)["runs"][0]["results"]
    assert code == EXIT_OK and not sarif_errors(json.loads(out))
    assert (result["ruleId"], result["baselineState"]) == ("CVE-2026-2002", "new")


def test_a_fixed_package_is_no_longer_reported(
        stored: tuple[str, Path, dict[str, Any]]) -> None:
    spec, db, _ = stored
    build_db(db, [])  # the advisory was withdrawn: nothing matches any more
    code, out, err = rescan(spec, db, "--format", "json")
    doc = json.loads(out)
    assert code == EXIT_OK, err
    assert doc["report"]["findings"] == [] and doc["rescan"]["new"] == []


def test_suppressions_carry_over(spec: str, tmp_path: Path) -> None:
    db = build_db(tmp_path / "osv.db", [OLD])
    app = project(tmp_path / "app", {"demo": "1.0", "other": "3.0"})
    ignore = tmp_path / "ignore.toml"
    ignore.write_text('[[ignore.rules]]\nid = "CVE-2026-1001"\nreason = "not reachable"\n')
    code, out, err = lashing("scan", f"dir:{app}", "--db", str(db), "--scanners", "vuln",
                             "--format", "json", "--ignore-file", str(ignore))
    assert code == 0, err
    with open_store(spec) as store:
        store.record(json.loads(out))
    code, out, _ = rescan(spec, db, "--format", "json", "--fail-on", "LOW")
    (finding,) = json.loads(out)["report"]["findings"]
    assert code == EXIT_OK  # suppressed findings never gate
    assert finding["suppressed"] == {"kind": "ignore-file", "reason": "not reachable"}


def test_image_targets_are_rescanned_by_image_id(spec: str, tmp_path: Path) -> None:
    """Two names of one image are one target; the newest SBOM is used."""
    db = build_db(tmp_path / "osv.db", [OLD])
    with open_store(spec) as store:
        store.record(image_report(db, "app:1.0", {"demo": "1.0"}))
        store.record(image_report(db, "registry.example/app:1.0", {"demo": "1.0",
                                                                   "other": "3.0"}))
    build_db(db, [OLD, NEW])
    code, out, err = rescan(spec, db, "--format", "json")
    doc = json.loads(out)
    assert code == EXIT_OK, err
    (target,) = doc["rescan"]["targets"]
    assert (target["identity"], target["name"], target["sbom_run"]) == \
        (IMAGE_ID, "registry.example/app:1.0", 2)
    new = {f["rule_id"] for f in doc["report"]["findings"] if f["fingerprint"]
           in doc["rescan"]["new"]}
    assert new == {"CVE-2026-2002"}


def test_an_empty_store_and_a_missing_database(spec: str, tmp_path: Path) -> None:
    db = build_db(tmp_path / "osv.db", [OLD])
    code, out, err = rescan(spec, db)
    assert code == EXIT_OK and out == "" and "nothing to re-scan" in err
    code, _, err = rescan(spec, tmp_path / "missing.db")
    assert code == EXIT_ENVIRONMENT and "no vulnerability database" in err


def test_keep_runs(stored: tuple[str, Path, dict[str, Any]]) -> None:
    spec, db, _ = stored
    for _ in range(3):
        code, _, err = rescan(spec, db, "--keep-runs", "2")
        assert code == EXIT_OK, err
    assert "deleted 1 old run(s)" in err
    with open_store(spec) as store:
        assert [(r.id, r.kind) for r in store.runs()] == [(3, "rescan"), (4, "rescan")]
    code, _, err = rescan(spec, db, "--keep-runs", "0")
    assert code == 2 and "--keep-runs" in err


def test_list_runs(stored: tuple[str, Path, dict[str, Any]]) -> None:
    spec, db, _ = stored
    rescan(spec, db)
    code, out, _ = lashing("rescan", "--store", spec, "--list-runs", "--format", "json")
    runs = json.loads(out)["runs"]
    assert code == EXIT_OK
    assert [(r["id"], r["kind"], r["findings"], r["severities"]["HIGH"]) for r in runs] == \
        [(1, "scan", 1, 1), (2, "rescan", 1, 1)]
    code, out, _ = lashing("rescan", "--store", spec, "--list-runs")
    assert code == EXIT_OK and out.startswith("2 run(s) in ")
    assert "rescan" in out.splitlines()[2]


def test_bad_store_specs_on_the_command_line(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a store")
    code, _, err = lashing("rescan", "--store", str(notes))
    assert code == 2 and "notes.txt is not a lashing results store" in err
    assert "Traceback" not in err
    code, _, err = lashing("rescan", "--store", "redis://localhost/0")
    assert code == 2 and "unsupported URL scheme 'redis://'" in err
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = lashing("diff", "store:1", "store:2", "--store",
                           f"postgresql://lashing:pw@127.0.0.1:{port}/lashing")
    assert code == EXIT_ENVIRONMENT and "cannot connect" in err and ":pw@" not in err
    assert err.count("\n") <= 2  # one error line and its hint


def test_host_packages_are_build_host_findings(spec: str, tmp_path: Path) -> None:
    db = build_db(tmp_path / "osv.db", [OLD])
    doc = image_report(db, "host:/", {"demo": "1.0"})
    doc["targets"][0] = {"name": "host:/", "kind": "host", "os": None,
                         "packages": doc["targets"][0]["packages"]}
    doc["findings"] = []
    with open_store(spec) as store:
        store.record(doc)
    code, out, err = rescan(spec, db, "--format", "json")
    (finding,) = json.loads(out)["report"]["findings"]
    assert code == EXIT_OK, err
    assert (finding["surface"], finding["target"]) == ("build-host", "host:/")


def test_an_expired_suppression_does_not_carry_over(spec: str, tmp_path: Path) -> None:
    db = build_db(tmp_path / "osv.db", [OLD])
    doc = scan_report(f"dir:{project(tmp_path / 'app', {'demo': '1.0'})}", db)
    doc["findings"][0]["suppressed"] = {"kind": "vex", "reason": "not affected",
                                        "expires": "2020-01-31"}
    with open_store(spec) as store:
        store.record(doc)
    code, out, _ = rescan(spec, db, "--format", "json", "--fail-on", "HIGH")
    (finding,) = json.loads(out)["report"]["findings"]
    assert code == EXIT_GATE and "suppressed" not in finding
    assert json.loads(out)["rescan"]["new"] == []  # suppressed before, not new


def test_diff_reads_rescan_output(stored: tuple[str, Path, dict[str, Any]],
                                  tmp_path: Path) -> None:
    spec, db, scanned = stored
    before = tmp_path / "before.json"
    before.write_text(json.dumps(scanned))
    build_db(db, [OLD, NEW])
    after = tmp_path / "after.json"
    code, _, _ = rescan(spec, db, "--format", "json", "-o", str(after))
    assert code == EXIT_OK
    code, out, err = lashing("diff", str(before), str(after), "--format", "json")
    assert code == EXIT_OK, err
    diff = json.loads(out)
    assert [f["rule_id"] for f in diff["added"]] == ["CVE-2026-2002"]
    assert diff["summary"] == {"added": 1, "fixed": 0, "unchanged": 1}


def test_a_relative_directory_keeps_its_fingerprints_from_anywhere(
        spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scanned as dir:app in one directory, re-scanned twice from another:
    the findings keep the fingerprints the scan gave them."""
    db = build_db(tmp_path / "osv.db", [OLD])
    project(tmp_path / "work" / "app", {"demo": "1.0"})
    monkeypatch.chdir(tmp_path / "work")
    doc = scan_report("dir:app", db)
    with open_store(spec) as store:
        store.record(doc)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    for _ in range(2):
        code, out, err = rescan(spec, db, "--format", "json")
        assert code == EXIT_OK, err
        again = json.loads(out)
        assert again["rescan"]["new"] == []
        assert again["report"]["findings"][0]["fingerprint"] == doc["findings"][0]["fingerprint"]
