"""The CI/CD options of `lashing scan` end to end, through the CLI in-process:
--fail-on, --severity, --ignore-unfixed, --ignore-file, --vex, --strict, and
SARIF output, against an image built in code and a database imported from
the demo OSV records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lashing.report.sarif import FINGERPRINT_KEY

from cli_helpers import Result, run
from imagebuilder import build, write_oci_layout

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "lashing" / "vulndb" / "data" / "demo"
SCHEMAS = ROOT.parent / "shared" / "data" / "schemas"
REPORT_SCHEMA = json.loads((ROOT / "src/lashing/report/report.schema.json").read_text())

DIST = "usr/lib/python3/dist-packages"

# A made-up advisory with no fix and a LOW CVSS vector, for --ignore-unfixed
# and for a gate that only lower severities meet.
UNFIXED = {
    "schema_version": "1.6.0", "id": "GHSA-2099-test-0001",
    "modified": "2024-01-01T00:00:00Z", "published": "2024-01-01T00:00:00Z",
    "aliases": ["CVE-2099-0001"], "summary": "oldlib leaks memory",
    "details": "A made-up advisory with no fix.",
    "severity": [{"type": "CVSS_V3",
                  "score": "CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"}],
    "affected": [{"package": {"ecosystem": "PyPI", "name": "oldlib", "purl": "pkg:pypi/oldlib"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}],
}


def _metadata(name: str, version: str) -> dict[str, str]:
    return {f"{DIST}/{name}-{version}.dist-info/METADATA":
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    work = tmp_path_factory.mktemp("db")
    extra = work / "extra"
    extra.mkdir()
    (extra / "GHSA-2099-test-0001.json").write_text(json.dumps(UNFIXED))
    path = work / "lashing.db"
    r = run("db", "import", str(DEMO), str(extra), "--db", str(path))
    assert r.code == 0, r.err
    return str(path)


def _image(root: Path, *packages: tuple[str, str]) -> str:
    files: dict[str, str] = {}
    for name, version in packages:
        files.update(_metadata(name, version))
    write_oci_layout(root, [(build([files]), "1.0")])
    return f"oci:{root}:1.0"


@pytest.fixture(scope="module")
def high(tmp_path_factory: pytest.TempPathFactory) -> str:
    """requests 2.25.0 (CVE-2023-32681, UNKNOWN) and urllib3 1.26.4 (a HIGH one)."""
    return _image(tmp_path_factory.mktemp("high"), ("requests", "2.25.0"),
                  ("urllib3", "1.26.4"))


@pytest.fixture(scope="module")
def low(tmp_path_factory: pytest.TempPathFactory) -> str:
    """requests 2.25.0 (UNKNOWN) and oldlib 0.1 (LOW, no fix): nothing HIGH."""
    return _image(tmp_path_factory.mktemp("low"), ("requests", "2.25.0"), ("oldlib", "0.1"))


def scan(target: str, db: str, *args: str) -> Result:
    """Vulnerabilities only, so the image-config rules do not take part."""
    return run("scan", target, "--db", db, "--scanners", "vuln", *args)


def scan_json(target: str, db: str, *args: str) -> tuple[int, dict[str, Any]]:
    r = scan(target, db, "--format", "json", *args)
    assert r.code in (0, 1, 4), r.err
    doc: dict[str, Any] = r.json()
    import jsonschema

    jsonschema.validate(doc, REPORT_SCHEMA)
    return r.code, doc


def by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["rule_id"]: f for f in doc["findings"]}


def write_ignore(tmp_path: Path, text: str, name: str = "ignore.toml") -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def write_vex(tmp_path: Path, *statements: dict[str, Any], name: str = "app.openvex.json"
              ) -> str:
    doc = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
           "author": "Example Security", "timestamp": "2024-05-01T00:00:00Z", "version": 1,
           "statements": list(statements)}
    schema = SCHEMAS / "openvex_json_schema-0.2.0.json"
    if schema.is_file():
        import jsonschema

        jsonschema.validate(doc, json.loads(schema.read_text()))
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return str(p)


# ---------------------------------------------------------------------------
# Findings and gates
# ---------------------------------------------------------------------------

def test_vulnerabilities_are_found(high: str, db: str) -> None:
    code, doc = scan_json(high, db)
    assert code == 0
    found = by_id(doc)
    requests = found["CVE-2023-32681"]
    assert requests["kind"] == "vulnerability"
    assert "GHSA-j8r2-6x86-q33q" in requests["aliases"]
    assert requests["vulnerability"]["package"]["purl"] == "pkg:pypi/requests@2.25.0"
    assert requests["vulnerability"]["fixed_versions"] == ["2.31.0"]
    assert found["CVE-2023-43804"]["severity"] == "HIGH"
    assert {"CVE-2021-33503", "CVE-2023-45803"} <= set(found)
    assert not any("suppressed" in f for f in doc["findings"])


def test_table_groups_by_package(high: str, db: str) -> None:
    r = scan(high, db)
    assert r.code == 0
    lines = r.out.splitlines()
    assert "vulnerabilities: 4 in 2 package(s) (HIGH 1, MEDIUM 1, UNKNOWN 2)" in lines
    heads = [x for x in lines if x.startswith(("  urllib3 ", "  requests "))]
    assert heads[0].startswith("  urllib3 1.26.4 (PyPI)  HIGH 1, MEDIUM 1, UNKNOWN 1")
    assert heads[1].startswith("  requests 2.25.0 (PyPI)  UNKNOWN 1")
    i = lines.index(heads[1])
    assert lines[i + 1].split()[:5] == ["UNKNOWN", "CVE-2023-32681", "fixed", "in", "2.31.0"]


def test_fail_on(high: str, low: str, db: str) -> None:
    assert scan(high, db, "--fail-on", "HIGH").code == 1
    assert scan(high, db, "--fail-on", "critical").code == 0
    assert scan(low, db, "--fail-on", "HIGH").code == 0
    assert scan(low, db, "--fail-on", "LOW").code == 1


def test_unknown_ranks_below_low(low: str, db: str) -> None:
    # Without oldlib's LOW finding only requests' UNKNOWN one is left.
    assert scan(low, db, "--ignore-unfixed", "--fail-on", "LOW").code == 0
    assert scan(low, db, "--ignore-unfixed", "--fail-on", "UNKNOWN").code == 1


def test_fail_on_takes_one_known_severity(high: str, db: str) -> None:
    r = scan(high, db, "--fail-on", "SEVERE")
    assert r.code == 2 and "--fail-on" in r.err
    assert scan(high, db, "--fail-on", "HIGH,LOW").code == 2


def test_severity_filters_and_does_not_gate(high: str, db: str) -> None:
    code, doc = scan_json(high, db, "--severity", "CRITICAL", "--fail-on", "HIGH")
    assert code == 0 and doc["findings"] == []
    assert "packages" in doc["targets"][0] and len(doc["targets"][0]["packages"]) == 2
    code, doc = scan_json(high, db, "--severity", "HIGH,MEDIUM", "--fail-on", "HIGH")
    assert code == 1
    assert {f["severity"] for f in doc["findings"]} == {"HIGH", "MEDIUM"}
    code, doc = scan_json(high, db, "--severity", "MEDIUM", "--fail-on", "MEDIUM")
    assert code == 1 and list(by_id(doc)) == ["CVE-2023-45803"]


def test_ignore_unfixed(low: str, db: str) -> None:
    _, doc = scan_json(low, db)
    oldlib = by_id(doc)["CVE-2099-0001"]
    assert oldlib["vulnerability"]["status"] == "unfixed" and oldlib["severity"] == "LOW"
    _, doc = scan_json(low, db, "--ignore-unfixed")
    assert set(by_id(doc)) == {"CVE-2023-32681"}


# ---------------------------------------------------------------------------
# --ignore-file
# ---------------------------------------------------------------------------

IGNORE_URLLIB3 = """
[[ignore.rules]]
id = "GHSA-v845-jxx5-vc9f"   # CVE-2023-43804, by its GHSA alias
reason = "cookies are never set on redirected requests"
expires = 2999-12-31
purl = "pkg:pypi/urllib3@1.26.4"
path = "/usr/lib/python3/**"
"""


def test_ignore_file_suppresses(high: str, db: str, tmp_path: Path) -> None:
    ignore = write_ignore(tmp_path, IGNORE_URLLIB3)
    code, doc = scan_json(high, db, "--ignore-file", ignore, "--fail-on", "HIGH")
    assert code == 0
    found = by_id(doc)
    assert found["CVE-2023-43804"]["suppressed"] == {
        "kind": "ignore-file", "reason": "cookies are never set on redirected requests",
        "expires": "2999-12-31"}
    assert all("suppressed" not in f for k, f in found.items() if k != "CVE-2023-43804")
    assert doc["issues"] == []
    # suppressed findings are not listed in the table, nor counted
    r = scan(high, db, "--ignore-file", ignore)
    assert "CVE-2023-43804" not in r.out and "urllib3 1.26.4 (PyPI)  MEDIUM 1, UNKNOWN 1" in r.out


def test_ignore_file_from_the_environment(high: str, db: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LASHING_IGNORE_FILE", write_ignore(tmp_path, IGNORE_URLLIB3))
    assert scan(high, db, "--fail-on", "HIGH").code == 0


def test_ignore_section_of_lashing_toml(high: str, db: str, tmp_path: Path) -> None:
    text = "[scan]\nseverity = \"HIGH\"\n\n[ignore]\n" + IGNORE_URLLIB3
    ignore = write_ignore(tmp_path, text, "lashing.toml")
    assert scan(high, db, "--ignore-file", ignore, "--fail-on", "HIGH").code == 0


def test_expired_entry_does_not_suppress(high: str, db: str, tmp_path: Path) -> None:
    ignore = write_ignore(tmp_path, IGNORE_URLLIB3.replace("2999-12-31", "2020-01-01"))
    code, doc = scan_json(high, db, "--ignore-file", ignore, "--fail-on", "HIGH")
    assert code == 1
    assert "suppressed" not in by_id(doc)["CVE-2023-43804"]
    [issue] = doc["issues"]
    assert issue["stage"] == "suppress" and issue["plugin"] == "ignore-file"
    assert issue["location"]["path"] == ignore
    assert "entry 1 (GHSA-v845-jxx5-vc9f) expired on 2020-01-01" in issue["message"]
    # the issue makes a --strict scan incomplete once nothing gates
    r = scan(high, db, "--ignore-file", ignore, "--strict")
    assert r.code == 4 and "expired on 2020-01-01" in r.out


@pytest.mark.parametrize(("text", "expect"), [
    ('[[ignore.rules]]\nid = "CVE-2023-43804"\nreasn = "x"\n',
     ["[[ignore.rules]] entry 1 (CVE-2023-43804): unknown key 'reasn'",
      "hint: did you mean 'reason'?"]),
    ('[[ignore.rules]]\nid = "CVE-2023-43804"\n', ["entry 1 (CVE-2023-43804): 'reason' is "
                                                  "required"]),
    ('[[ignore.rules]]\nid = "CVE-2023-43804"\nreason = "x"\nexpires = "soon"\n',
     ["expires 'soon' is not a date"]),
    ("[[ignore.rules]\n", ["invalid TOML"]),
])
def test_bad_ignore_file(high: str, db: str, tmp_path: Path, text: str,
                         expect: list[str]) -> None:
    ignore = write_ignore(tmp_path, text, "bad-ignore.toml")
    r = scan(high, db, "--ignore-file", ignore, "--fail-on", "HIGH")
    assert r.code == 2 and r.out == ""
    assert ignore in r.err
    for text_ in expect:
        assert text_ in r.err


def test_missing_ignore_file(high: str, db: str, tmp_path: Path) -> None:
    r = scan(high, db, "--ignore-file", str(tmp_path / "nope.toml"))
    assert r.code == 2 and "nope.toml: no such file" in r.err


# ---------------------------------------------------------------------------
# --vex
# ---------------------------------------------------------------------------

def test_vex_suppresses(high: str, db: str, tmp_path: Path) -> None:
    vex = write_vex(tmp_path, {
        "vulnerability": {"name": "CVE-2023-43804"},
        "products": [{"@id": "pkg:oci/app",
                      "subcomponents": [{"@id": "pkg:pypi/urllib3@1.26.4"}]}],
        "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
    })
    code, doc = scan_json(high, db, "--vex", vex, "--fail-on", "HIGH")
    assert code == 0
    assert by_id(doc)["CVE-2023-43804"]["suppressed"] == {
        "kind": "vex", "reason": "not_affected: vulnerable_code_not_in_execute_path"}
    assert by_id(doc)["CVE-2023-43804"]["vulnerability"]["status"] == "fixed"


def test_vex_is_repeatable(high: str, db: str, tmp_path: Path) -> None:
    a = write_vex(tmp_path, {"vulnerability": {"name": "GHSA-v845-jxx5-vc9f"},
                             "products": [{"@id": "pkg:pypi/urllib3"}], "status": "fixed"},
                  name="a.json")
    b = write_vex(tmp_path, {"vulnerability": {"name": "CVE-2023-32681"},
                             "status": "not_affected", "impact_statement": "no proxies"},
                  name="b.json")
    _, doc = scan_json(high, db, "--vex", a, "--vex", b)
    found = by_id(doc)
    assert found["CVE-2023-43804"]["suppressed"]["kind"] == "vex"
    assert found["CVE-2023-32681"]["suppressed"]["reason"] == "not_affected: no proxies"
    assert "suppressed" not in found["CVE-2023-45803"]


def test_vex_affected_does_not_suppress(high: str, db: str, tmp_path: Path) -> None:
    vex = write_vex(tmp_path, {"vulnerability": {"name": "CVE-2023-43804"},
                               "status": "affected", "action_statement": "upgrade urllib3"})
    assert scan(high, db, "--vex", vex, "--fail-on", "HIGH").code == 1


def test_bad_vex(high: str, db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.openvex.json"
    bad.write_text(json.dumps({"@context": "https://openvex.dev/ns/v0.2.0",
                               "statements": []}))
    r = scan(high, db, "--vex", str(bad))
    assert r.code == 2 and str(bad) in r.err and r.out == ""
    bad.write_text("{")
    r = scan(high, db, "--vex", str(bad))
    assert r.code == 2 and "not JSON" in r.err


# ---------------------------------------------------------------------------
# SARIF
# ---------------------------------------------------------------------------

def sarif(high: str, db: str, tmp_path: Path) -> dict[str, Any]:
    ignore = write_ignore(tmp_path, IGNORE_URLLIB3)
    r = scan(high, db, "--format", "sarif", "--ignore-file", ignore, "--fail-on", "HIGH")
    assert r.code == 0, r.err
    doc: dict[str, Any] = r.json()
    return doc


def test_sarif_valid_against_schema(high: str, db: str, tmp_path: Path) -> None:
    schema = SCHEMAS / "sarif-schema-2.1.0.json"
    if not schema.is_file():
        pytest.skip(f"{schema} is absent (../shared/data)")
    import jsonschema

    jsonschema.validate(sarif(high, db, tmp_path), json.loads(schema.read_text()))


def test_sarif_results(high: str, db: str, tmp_path: Path) -> None:
    doc = sarif(high, db, tmp_path)
    results = {res["ruleId"]: res for res in doc["runs"][0]["results"]}
    assert {"CVE-2023-32681", "CVE-2023-43804", "CVE-2023-45803",
            "CVE-2021-33503"} <= set(results)
    for res in results.values():
        assert len(res["partialFingerprints"][FINGERPRINT_KEY]) == 32
    assert results["CVE-2023-43804"]["suppressions"] == [{
        "kind": "external", "status": "accepted",
        "justification": "cookies are never set on redirected requests",
        "properties": {"lashingKind": "ignore-file", "expires": "2999-12-31"}}]
    assert "suppressions" not in results["CVE-2023-32681"]
    assert results["CVE-2023-32681"]["properties"]["package"]["purl"] == \
        "pkg:pypi/requests@2.25.0"
    rules = {rule["id"] for rule in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert "CVE-2023-43804" in rules


# ---------------------------------------------------------------------------
# Missing database, --strict
# ---------------------------------------------------------------------------

def test_missing_database_is_an_issue(high: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "none.db")
    code, doc = scan_json(high, missing, "--fail-on", "HIGH")
    assert code == 0 and doc["findings"] == []
    [issue] = doc["issues"]
    assert issue["stage"] == "vulndb" and "no vulnerability database" in issue["message"]
    r = scan(high, missing, "--strict")
    assert r.code == 4 and "incomplete" in r.err


def test_strict_with_a_complete_scan(low: str, db: str) -> None:
    assert scan(low, db, "--strict").code == 0


# ---------------------------------------------------------------------------
# Misconfigurations gate too
# ---------------------------------------------------------------------------

PINNED = "FROM python:3.12-slim@sha256:" + "a" * 64 + "\n"


def test_dockerfile_gate(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text(PINNED + "USER app\nRUN echo hi\nUSER root\n")
    r = run("scan", str(bad), "--fail-on", "HIGH")
    assert r.code == 1 and "LSH-DF-020" in r.out
    good = tmp_path / "ok" / "Dockerfile"
    good.parent.mkdir()
    good.write_text(PINNED + "USER root\nRUN echo hi\nUSER app\n")
    assert run("scan", str(good), "--fail-on", "HIGH").code == 0


def test_dockerfile_finding_ignored_by_alias_and_relative_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = tmp_path / "svc"
    svc.mkdir()
    (svc / "Dockerfile").write_text(PINNED + "USER root\n")
    ignore = write_ignore(tmp_path, '[[ignore.rules]]\nid = "hadolint:DL3002"\n'
                                    'reason = "root is dropped by the entrypoint"\n'
                                    'path = "svc/Dockerfile"\n')
    monkeypatch.chdir(svc)  # the finding's path is relative; the glob is the file's
    r = run("scan", "Dockerfile", "--fail-on", "HIGH", "--ignore-file", ignore,
            "--format", "json")
    assert r.code == 0, r.err
    [f] = [f for f in r.json()["findings"] if f["rule_id"] == "LSH-DF-020"]
    assert f["suppressed"]["kind"] == "ignore-file"
    other = tmp_path / "other"
    other.mkdir()
    (other / "Dockerfile").write_text(PINNED + "USER root\n")
    monkeypatch.chdir(other)
    assert run("scan", "Dockerfile", "--fail-on", "HIGH", "--ignore-file", ignore).code == 1
