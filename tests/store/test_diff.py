"""lashing diff: findings added, fixed and unchanged between two reports;
the gate looks at added findings only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from store_fixtures import (
    CRITICAL,
    HIGH,
    build_db,
    lashing,
    project,
    record,
    scan_report,
    store_spec,
)

from lashing.errors import EXIT_GATE, EXIT_INPUT, EXIT_OK
from lashing.store import open_store

DEMO = record("GHSA-aaaa-0001", "demo", "2.0", aliases=["CVE-2026-1001"], cvss=HIGH)
OTHER = record("GHSA-bbbb-0002", "other", "3.5", aliases=["CVE-2026-2002"], cvss=CRITICAL)
LOW = record("GHSA-cccc-0003", "third", "9.0", aliases=["CVE-2026-3003"],
             cvss="CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """OLD: demo (HIGH) and third (LOW) vulnerable. NEW: demo upgraded (fixed),
    other (CRITICAL) added, third unchanged."""
    base = tmp_path_factory.mktemp("diff")
    db = build_db(base / "osv.db", [DEMO, OTHER, LOW])
    app = base / "app"
    project(app, {"demo": "1.0", "third": "1.0"})
    old = base / "old.json"
    old.write_text(json.dumps(scan_report(f"dir:{app}", db)))
    project(app, {"demo": "2.0", "other": "3.0", "third": "1.0"})
    new = base / "new.json"
    new.write_text(json.dumps(scan_report(f"dir:{app}", db)))
    return old, new


def _ids(findings: list[dict[str, Any]]) -> list[str]:
    return [f["rule_id"] for f in findings]


def test_added_fixed_unchanged(reports: tuple[Path, Path]) -> None:
    old, new = reports
    code, out, err = lashing("diff", str(old), str(new), "--format", "json")
    assert code == EXIT_OK, err
    doc = json.loads(out)
    assert list(doc) == ["schema_version", "old", "new", "summary", "added", "fixed",
                         "unchanged"]
    assert doc["summary"] == {"added": 1, "fixed": 1, "unchanged": 1}
    assert _ids(doc["added"]) == ["CVE-2026-2002"]
    assert _ids(doc["fixed"]) == ["CVE-2026-1001"]
    assert _ids(doc["unchanged"]) == ["CVE-2026-3003"]
    assert doc["old"]["source"] == str(old) and doc["new"]["findings"] == 2
    # the other way round, added and fixed swap
    code, out, _ = lashing("diff", str(new), str(old), "--format", "json")
    back = json.loads(out)
    assert _ids(back["added"]) == ["CVE-2026-1001"] and _ids(back["fixed"]) == ["CVE-2026-2002"]


def test_table(reports: tuple[Path, Path]) -> None:
    old, new = reports
    code, out, _ = lashing("diff", str(old), str(new))
    assert code == EXIT_OK
    assert "added 1, fixed 1, unchanged 1" in out
    assert "added: 1 (CRITICAL 1)" in out and "fixed: 1 (HIGH 1)" in out
    assert "other 3.0 -> 3.5" in out and "CVE-2026-3003" not in out
    _, shown, _ = lashing("diff", str(old), str(new), "--show-unchanged")
    assert "unchanged: 1 (LOW 1)" in shown and "CVE-2026-3003" in shown


def test_the_gate_looks_at_added_findings_only(reports: tuple[Path, Path]) -> None:
    old, new = reports
    assert lashing("diff", str(old), str(new), "--fail-on", "CRITICAL")[0] == EXIT_GATE
    # backwards, only a HIGH is added: CRITICAL does not trip, HIGH does
    assert lashing("diff", str(new), str(old), "--fail-on", "CRITICAL")[0] == EXIT_OK
    assert lashing("diff", str(new), str(old), "--fail-on", "HIGH")[0] == EXIT_GATE
    # the same report twice: nothing added, nothing trips (LOW is unchanged)
    assert lashing("diff", str(old), str(old), "--fail-on", "LOW")[0] == EXIT_OK


def test_suppressed_additions_do_not_gate(reports: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = reports
    doc = json.loads(new.read_text())
    for f in doc["findings"]:
        f["suppressed"] = {"kind": "vex", "reason": "not affected"}
    quiet = tmp_path / "quiet.json"
    quiet.write_text(json.dumps(doc))
    code, out, _ = lashing("diff", str(old), str(quiet), "--fail-on", "LOW")
    assert code == EXIT_OK and "(suppressed)" in out


def test_standard_input_and_store_runs(reports: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = reports
    code, out, _ = lashing("diff", str(old), "-", "--format", "json",
                           stdin=new.read_bytes())
    assert code == EXIT_OK and json.loads(out)["summary"]["added"] == 1
    spec = store_spec("sqlite", tmp_path)
    with open_store(spec) as store:
        first = store.record(json.loads(old.read_text()))
        second = store.record(json.loads(new.read_text()))
    for a, b in ((f"store:{first}", f"store:{second}"), ("store:previous", "store:latest")):
        code, out, err = lashing("diff", a, b, "--store", spec, "--format", "json")
        assert code == EXIT_OK, err
        assert json.loads(out)["summary"] == {"added": 1, "fixed": 1, "unchanged": 1}
    code, _, err = lashing("diff", "store:9", "store:latest", "--store", spec)
    assert code == EXIT_INPUT and "no run 9" in err


@pytest.mark.parametrize(("content", "message"), [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[1, 2]", "the top level is a JSON list"),
    (b'{"version": "2.1.0", "runs": []}', "a SARIF log"),
    (b'{"bomFormat": "CycloneDX"}', "an SBOM"),
    (b'{"tool": {"name": "lashing", "version": "0.1.0"}, "schema_version": 2}',
     "schema_version 2"),
    (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
])
def test_files_that_are_not_reports(reports: tuple[Path, Path], tmp_path: Path,
                                    content: bytes, message: str) -> None:
    old, _ = reports
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    code, out, err = lashing("diff", str(old), str(bad))
    assert code == EXIT_INPUT and out == ""
    assert f"error: {bad}: not a lashing JSON report" in err and message in err
    assert "Traceback" not in err


def test_missing_file_and_two_standard_inputs(reports: tuple[Path, Path],
                                             tmp_path: Path) -> None:
    old, _ = reports
    code, _, err = lashing("diff", str(old), str(tmp_path / "nope.json"))
    assert code == EXIT_INPUT and "nope.json: no such file" in err
    code, _, err = lashing("diff", "-", "-", stdin=b"{}")
    assert code == EXIT_INPUT and "only one report can come from standard input" in err
