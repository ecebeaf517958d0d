"""load_report / check_report: lashing JSON reports in, anything else refused
with a one-line error naming the file."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from store_fixtures import HIGH, build_db, project, record, scan_report

from lashing.errors import InputError
from lashing.store import check_report, load_report


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("report")
    db = build_db(base / "osv.db", [record("GHSA-aaaa-0001", "demo", "2.0", cvss=HIGH)])
    return scan_report(f"dir:{project(base / 'app', {'demo': '1.0'})}", db)


def test_a_report_loads(report: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    assert load_report(path) == report
    assert load_report(str(path)) == report


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.pop("findings"), '"findings" is not a list'),
    (lambda d: d["findings"][0].update(severity="SEVERE"), "findings[0].severity 'SEVERE'"),
    (lambda d: d["findings"][0].pop("fingerprint"), "findings[0].fingerprint is missing"),
    (lambda d: d["targets"][0]["packages"][0].pop("purl"),
     "targets[0].packages[0].purl is missing"),
    (lambda d: d["targets"].append("x"), "targets[1] is not an object"),
    (lambda d: d["tool"].update(name="trivy"), 'no "tool": {"name": "lashing"}'),
    (lambda d: d.update(checks={}), '"checks" is not a list'),
])
def test_broken_reports_are_refused(report: dict[str, Any], change: Any,
                                    message: str) -> None:
    doc = copy.deepcopy(report)
    change(doc)
    with pytest.raises(InputError) as caught:
        check_report(doc, "x.json")
    assert caught.value.message.startswith("x.json: not a lashing JSON report (")
    assert message in caught.value.message


def test_limits_and_unreadable_paths(report: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    with pytest.raises(InputError, match="over the 100-byte limit"):
        load_report(path, max_bytes=100)
    with pytest.raises(InputError, match="a directory"):
        load_report(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        load_report(tmp_path / "missing.json")
