"""Accuracy against real OSV data under ../shared/data: every version an
advisory lists is reported, versions past its last fix or below its first
introduction are not. Skipped when ../shared/data is absent."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from vulndb_fixtures import pkg, shared, vuln, write_dir

from lashing.model import Package, VulnStatus
from lashing.vulndb import Database, match, open_database
from lashing.vulndb.importer import ImportResult, decode, import_paths, iter_documents
from lashing.vulndb.matching import affected_by
from lashing.vulndb.versions import InvalidVersion, comparator_for

Key = tuple[str, str]  # (package name, version)


def _docs(path: Path) -> Iterator[dict[str, Any]]:
    for where, data, _ in iter_documents(path):
        yield from decode(where, data)


def _reported(db: Database, packages: Iterable[Package]) -> dict[Key, set[str]]:
    """(name, version) -> ids of the advisories that affect it. The matching
    step of match() without building findings (merging and findings are
    covered by test_vulndb_match.py), so that every listed version fits in
    the time of a unit test."""
    affected, issues = affected_by(list(packages), db)
    # legacy, non-PEP 440 versions (0.8.4p2) are compared by their listing only
    assert all("checked against listed versions only" in i.message for i in issues), issues[:3]
    out: dict[Key, set[str]] = defaultdict(set)
    for entry in affected:
        out[(entry.package.name, entry.package.version)].update(entry.hits)
    return out


def _ranges(doc: dict[str, Any], ecosystem: str) -> dict[str, list[list[tuple[str, str]]]]:
    """name -> ECOSYSTEM/SEMVER ranges (lists of (event, version)) of one record."""
    out: dict[str, list[list[tuple[str, str]]]] = defaultdict(list)
    for affected in doc.get("affected", []):
        package = affected.get("package") or {}
        if package.get("ecosystem") != ecosystem:
            continue
        for rng in affected.get("ranges", []):
            if rng["type"] in ("ECOSYSTEM", "SEMVER"):
                out[package["name"]].append([next(iter(e.items())) for e in rng["events"]])
    return out


def _past_last_fix(ranges: list[list[tuple[str, str]]], ecosystem: str) -> str | None:
    """The highest fixed version when every range ends with a fix at or below it."""
    comparator = comparator_for(ecosystem)
    assert comparator is not None
    try:
        ends = [max(r, key=lambda e: (0,) if e[1] == "0" else (1, comparator.key(e[1])))
                for r in ranges]
    except InvalidVersion:
        return None
    if not ends or any(kind != "fixed" for kind, _ in ends):
        return None
    return max((v for _, v in ends), key=comparator.key)


def _stored(db: Database, ids: Iterable[str]) -> set[str]:
    return set(db.advisories(ids))


@pytest.fixture(scope="module")
def pypa(tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[Database, ImportResult, list[dict[str, Any]]]]:
    """The PyPI advisories, parsed once (YAML is slow to parse), and a
    database imported from them."""
    docs = list(_docs(shared("osv-pypa", "vulns")))
    base = tmp_path_factory.mktemp("pypa")
    db_path = base / "pypa.db"
    result = import_paths([write_dir(base / "records", docs)], db_path)
    with open_database(db_path) as db:
        yield db, result, docs


def test_pypa_every_listed_version_is_reported(
        pypa: tuple[Database, ImportResult, list[dict[str, Any]]]) -> None:
    db, result, docs = pypa
    assert result.records > 2500 and result.skipped <= 5, result.reasons
    stored = _stored(db, (d["id"] for d in docs))
    expected: dict[Key, set[str]] = defaultdict(set)
    not_expected: dict[Key, set[str]] = defaultdict(set)
    for doc in docs:
        if doc["id"] not in stored:
            continue  # withdrawn or malformed
        for affected in doc["affected"]:
            name = affected["package"]["name"]
            for version in affected.get("versions", []):
                expected[(name, version)].add(doc["id"])
        for name, ranges in _ranges(doc, "PyPI").items():
            past = _past_last_fix(ranges, "PyPI")
            listed = {v for a in doc["affected"] for v in a.get("versions", [])}
            if past is not None and past not in listed:
                not_expected[(name, past)].add(doc["id"])
            lows = [v for r in ranges for kind, v in r if kind == "introduced"]
            if lows and "0" not in lows and "0.0.0.dev0" not in listed:
                not_expected[(name, "0.0.0.dev0")].add(doc["id"])
    packages = [pkg(name, version) for name, version in set(expected) | set(not_expected)]
    reported = _reported(db, packages)
    missed = [(k, ids - reported[k]) for k, ids in expected.items() if ids - reported[k]]
    wrong = [(k, ids & reported[k]) for k, ids in not_expected.items() if ids & reported[k]]
    assert sum(map(len, expected.values())) > 100_000
    assert sum(map(len, not_expected.values())) > 1_500
    assert not missed, missed[:5]
    assert not wrong, wrong[:5]


def test_golang_semver_ranges(tmp_path: Path) -> None:
    source = shared("osv-golang-vulndb", "data", "osv")
    docs = [d for d in _docs(source) if not d.get("withdrawn")]
    expected: dict[Key, set[str]] = defaultdict(set)
    not_expected: dict[Key, set[str]] = defaultdict(set)
    for doc in docs:
        for name, ranges in _ranges(doc, "Go").items():
            for rng in ranges:
                for kind, version in rng:
                    if kind in ("introduced", "last_affected") and version != "0":
                        expected[(name, "v" + version)].add(doc["id"])  # as Go spells them
            past = _past_last_fix(ranges, "Go")
            if past is not None:
                not_expected[(name, "v" + past)].add(doc["id"])
    db_path = tmp_path / "go.db"
    import_paths([source], db_path)
    with open_database(db_path) as db:
        packages = [pkg(n, v, "Go") for n, v in set(expected) | set(not_expected)]
        reported = _reported(db, packages)
    missed = [(k, ids - reported[k]) for k, ids in expected.items() if ids - reported[k]]
    wrong = [(k, ids & reported[k]) for k, ids in not_expected.items() if ids & reported[k]]
    assert sum(map(len, expected.values())) > 2_000
    assert sum(map(len, not_expected.values())) > 2_000
    assert not missed, missed[:5]
    assert not wrong, wrong[:5]


def _embedded_records(*files: Path) -> tuple[list[dict[str, Any]], dict[tuple[str, str, str],
                                                                         set[str]]]:
    """Records embedded in osv-scanner result documents, and what osv-scanner
    reported per (ecosystem, name, version)."""
    records: dict[str, dict[str, Any]] = {}
    wanted: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for file in files:
        for result in json.loads(file.read_text()).get("results", []):
            for entry in result.get("packages", []):
                package = entry["package"]
                key = (package["ecosystem"], package["name"], package["version"])
                for doc in entry.get("vulnerabilities", []):
                    records[doc["id"]] = doc
                    wanted[key].add(doc["id"])
    return list(records.values()), wanted


def test_osv_scanner_fixtures_debian_go_crates(tmp_path: Path) -> None:
    base = shared("osv-scanner-fixtures", "pkg", "osvscanner", "testdata", "filter")
    records, wanted = _embedded_records(*sorted(base.glob("*/input.json")))
    assert any(eco.startswith("Debian:") for eco, _, _ in wanted)
    db_path = tmp_path / "fixtures.db"
    import_paths([write_dir(tmp_path / "records", records)], db_path)
    packages = [Package(name, version, eco, f"pkg:x/{name}@{version}", "test")
                for eco, name, version in wanted]
    with open_database(db_path) as db:
        findings, issues = match(packages, db)
    assert not issues
    reported: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    status = {}
    for f in findings:
        assert f.vulnerability is not None
        p = vuln(f).package
        reported[(p.ecosystem, p.name, p.version)].update({f.rule_id, *f.aliases})
        status[(p.name, f.rule_id)] = vuln(f).status
    for key, ids in wanted.items():
        assert ids <= reported[key], (key, ids - reported[key])
    # Debian specifics: urgency "unimportant" and an unfixed chromium
    assert status[("unixodbc", "CVE-2024-1013")] is VulnStatus.UNIMPORTANT
    assert status[("chromium", "CVE-2024-3847")] is VulnStatus.UNFIXED


def test_osvdev_debian_dsa(tmp_path: Path) -> None:
    dsa = shared("osv-osvdev-fixtures", "gcp", "workers", "oss_fuzz_worker", "testdata",
                 "DSA-3029-1.json")
    db_path = tmp_path / "dsa.db"
    import_paths([dsa], db_path)
    nginx = [pkg("nginx-light", v, "Debian:7", source_name="nginx", source_version=v)
             for v in ("1.2.1-2.2+wheezy2", "1.2.1-2.2+wheezy3", "1.2.1-2.2+wheezy3+b1")]
    with open_database(db_path) as db:
        findings, _ = match(nginx, db)
    assert [(f.rule_id, vuln(f).installed_version) for f in findings
            if f.vulnerability] == [("CVE-2014-3616", "1.2.1-2.2+wheezy2")]
    assert findings[0].aliases == ("DSA-3029-1",)


def test_almalinux_rpm_ranges(tmp_path: Path) -> None:
    source = shared("osv-almalinux", "advisories")
    db_path = tmp_path / "alma.db"
    result = import_paths([source], db_path)
    assert result.skipped == 0, result.reasons
    comparator = comparator_for("AlmaLinux:9")
    assert comparator is not None
    expected: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    not_expected: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    newest: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for doc in _docs(source):
        for affected in doc["affected"]:
            eco, name = affected["package"]["ecosystem"], affected["package"]["name"]
            for rng in affected["ranges"]:
                fixed = [v for e in rng["events"] for k, v in e.items() if k == "fixed"]
                for version in fixed:  # the lowest version of the fix's epoch
                    epoch = version.split(":")[0] + ":" if ":" in version else ""
                    expected[(eco, name, f"{epoch}0-0")].add(doc["id"])
        eco = doc["affected"][0]["package"]["ecosystem"]
        for name, ranges in _ranges(doc, eco).items():
            past = _past_last_fix(ranges, "AlmaLinux")
            if past is not None:
                newest[(eco, name)].append((past, doc["id"]))
    # a package at the newest fix of each name: no advisory of that name reports it
    for (eco, name), fixes in newest.items():
        top = max(comparator.key(v) for v, _ in fixes)
        for version, rid in fixes:
            if comparator.key(version) == top:
                not_expected[(eco, name, version)].add(rid)
    packages = [pkg(name, version, eco) for eco, name, version in set(expected) | set(not_expected)]
    with open_database(db_path) as db:
        by_name = _reported(db, packages)
    reported = {(eco, name, version): by_name[(name, version)]
                for eco, name, version in set(expected) | set(not_expected)}
    missed = [(k, v - reported[k]) for k, v in expected.items() if v - reported[k]]
    wrong = [(k, v & reported[k]) for k, v in not_expected.items() if v & reported[k]]
    assert sum(map(len, expected.values())) > 20_000
    assert sum(map(len, not_expected.values())) > 1_000
    assert not missed, missed[:5]
    assert not wrong, wrong[:5]
