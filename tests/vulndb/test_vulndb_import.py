"""`lashing db import`: zips, directories, single records, YAML; malformed
records are counted and skipped; broken archives are refused."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from vulndb_fixtures import build_db, pkg, record, write_dir, write_zip

from lashing.errors import EXIT_INPUT, InputError, LimitExceededError
from lashing.vulndb import match, open_database
from lashing.vulndb.importer import RecordLimits, import_paths

from cli_helpers import run as cli

YAML_RECORD = """\
id: PYSEC-2099-1
modified: 2023-10-10T14:28:19.389317Z
aliases:
- CVE-2099-1
affected:
- package:
    name: Some_Package
    ecosystem: PyPI
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
    - fixed: 1.10
  versions:
  - 1.9
  - 1.10rc1
"""


def test_zip_directory_and_single_files(tmp_path: Path) -> None:
    a = write_zip(tmp_path / "a.zip", [record("PYSEC-1", name="one")])
    b = write_dir(tmp_path / "dir", [record("PYSEC-2", name="two")])
    (b / "nested").mkdir()
    (b / "nested" / "PYSEC-3.yaml").write_text(YAML_RECORD.replace("2099-1", "3"))
    (b / "notes.txt").write_text("ignored")
    single = tmp_path / "single.json"
    single.write_text(json.dumps([record("PYSEC-4", name="four"), record("PYSEC-5", name="five")]))
    yaml_file = tmp_path / "one.yml"
    yaml_file.write_text(YAML_RECORD)
    db = tmp_path / "x.db"
    result = import_paths([a, b, single, yaml_file], db)
    assert (result.records, result.skipped) == (6, 0)
    assert result.ecosystems == {"PyPI": 6}
    with open_database(db) as database:
        assert set(database.advisories(["PYSEC-1", "PYSEC-2", "PYSEC-3", "PYSEC-4", "PYSEC-5",
                                        "PYSEC-2099-1"])) == {
            "PYSEC-1", "PYSEC-2", "PYSEC-3", "PYSEC-4", "PYSEC-5", "PYSEC-2099-1"}
        assert database.advisories(["PYSEC-2099-1"])["PYSEC-2099-1"].modified == \
            "2023-10-10T14:28:19.389317Z"


def test_yaml_versions_stay_strings(tmp_path: Path) -> None:
    yaml_file = tmp_path / "r.yaml"
    yaml_file.write_text(YAML_RECORD)
    db = tmp_path / "y.db"
    import_paths([yaml_file], db)
    with open_database(db) as database:
        findings, _ = match([pkg("some-package", "1.9.5"), pkg("some.package", "1.10"),
                             pkg("some-package", "1.10rc1")], database)
    # 1.10 is after 1.9.5, so "fixed: 1.10" must not have become the number 1.1
    assert [f.vulnerability.installed_version for f in findings
            if f.vulnerability] == ["1.9.5", "1.10rc1"]


@pytest.mark.parametrize(("doc", "reason"), [
    ({"id": "X-1", "modified": "2024-01-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "PyPI", "name": "a"},
         "ranges": [{"type": "NUMERIC", "events": [{"introduced": "0"}]}]}]},
     "unknown range type 'NUMERIC'"),
    ({"id": "X-1", "modified": "2024-01-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "PyPI", "name": "a"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "not-a-version!"}]}]}]},
     "bad version 'not-a-version!'"),
    ({"id": "X-1", "modified": "2024-01-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "PyPI", "name": "a"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "1.0"}]}]}]},
     "no 'introduced' event"),
    ({"id": "X-1", "modified": "2024-01-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "PyPI", "name": "a"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]},
     "exactly one of"),
    ({"id": "X-1", "affected": []}, "missing 'modified'"),
    ({"modified": "2024-01-01T00:00:00Z"}, "missing or invalid 'id'"),
    ({"id": "X-1", "modified": "2024-01-01T00:00:00Z", "aliases": "CVE-1"},
     "'aliases' is not a list"),
    ({"id": "X-1", "modified": "2024-01-01T00:00:00Z",
      "affected": [{"package": {"ecosystem": "PyPI"}}]}, "missing 'name'"),
    ([1, 2], "not an OSV record"),
])
def test_malformed_records_are_skipped_and_counted(tmp_path: Path, doc: object,
                                                   reason: str) -> None:
    good = record("PYSEC-1")
    directory = write_dir(tmp_path / "in", [good])
    (directory / "bad.json").write_text(json.dumps(doc))
    db = tmp_path / "m.db"
    result = import_paths([directory], db)
    assert (result.records, result.skipped) == (1, 1 if not isinstance(doc, list) else 2)
    assert reason in result.reasons[0]
    assert "bad.json" in result.reasons[0]


def test_cli_reports_skipped_records_with_reasons(tmp_path: Path) -> None:
    directory = write_dir(tmp_path / "in", [record("PYSEC-1")])
    (directory / "broken.json").write_text("{not json")
    (directory / "alias.yaml").write_text("a: &x [1]\nb: *x\n")
    result = cli("db", "import", str(directory), "--db", str(tmp_path / "c.db"))
    assert result.code == 0, result.err
    assert "imported 1 records" in result.err
    assert "skipped 2 malformed records" in result.err
    assert "broken.json: not valid JSON" in result.err
    assert "alias.yaml: uses YAML aliases" in result.err


def test_not_a_zip_is_refused_naming_the_file(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-1")])
    before = db.read_bytes()
    fake = tmp_path / "all.zip"
    fake.write_text("<html>not found</html>")
    result = cli("db", "import", str(fake), "--db", str(db))
    assert result.code == EXIT_INPUT
    assert f"{fake}: not a valid zip archive" in result.err
    assert db.read_bytes() == before
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    result = cli("db", "import", str(other), "--db", str(db))
    assert result.code == EXIT_INPUT and "not a zip, a directory or a .json/.yaml" in result.err
    result = cli("db", "import", str(tmp_path / "missing.zip"), "--db", str(db))
    assert result.code == EXIT_INPUT and "no such file" in result.err


def test_truncated_and_corrupt_zips(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-1")])
    before = db.read_bytes()
    good = write_zip(tmp_path / "good.zip", [record(f"PYSEC-{n}", name=f"p{n}")
                                             for n in range(2, 40)])
    data = good.read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=re.escape("truncated.zip: not a valid zip archive")):
        import_paths([truncated], db)
    # flip bytes inside the first member's compressed data: its CRC no longer matches
    with zipfile.ZipFile(good) as archive:
        info = archive.infolist()[0]
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(data[:start + 5] + bytes(b ^ 0xFF for b in data[start + 5:start + 9])
                        + data[start + 9:])
    expected = re.escape(f"corrupt.zip: member {info.filename} is corrupt")
    with pytest.raises(InputError, match=expected):
        import_paths([corrupt], db)
    assert db.read_bytes() == before


def test_member_size_limit(tmp_path: Path) -> None:
    big = write_zip(tmp_path / "big.zip", [record("PYSEC-1", details="x" * 5000)])
    with pytest.raises(LimitExceededError, match="over the limits"):
        import_paths([big], tmp_path / "l.db", limits=RecordLimits(max_record_bytes=1000))


def test_unknown_ecosystem_records_are_kept_and_reported_at_match(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("NEW-1", "Nonesuch", "thing",
                                    events=[{"introduced": "0"}, {"fixed": "2"}])])
    with open_database(db) as database:
        assert database.ecosystems() == {"Nonesuch": 1}
        findings, issues = match([pkg("thing", "1", "Nonesuch")], database)
    assert not findings
    assert "cannot compare versions of the Nonesuch ecosystem" in issues[0].message


def test_usage_errors(tmp_path: Path) -> None:
    assert cli("db", "import", "--db", str(tmp_path / "x.db")).code == EXIT_INPUT
    assert cli("db", "status", "somepath", "--db", str(tmp_path / "x.db")).code == EXIT_INPUT
    result = cli("db", "import", str(tmp_path), "--ecosystem", "PyPI")
    assert result.code == EXIT_INPUT and "unrecognized arguments: --ecosystem" in result.err
    assert "db" in cli("--help").out


def test_options_and_paths_mix_in_any_order(tmp_path: Path) -> None:
    demo = Path(__file__).parents[2] / "src/lashing/vulndb/data/demo"
    first = tmp_path / "a.db"
    assert cli("db", "import", "--db", str(first), str(demo)).code == 0
    second = tmp_path / "b.db"
    assert cli("db", "--db", str(second), "import", str(demo)).code == 0
    status = cli("db", "status", "--db", str(first), "--format", "json")
    assert status.code == 0 and '"schema_version"' in status.out


def test_global_short_options_after_the_action(tmp_path: Path) -> None:
    """`lashing db import -q ...` and `db status -f json` accept the short global options."""
    write_dir(tmp_path / "records", [record("PYSEC-2099-1")])
    db = tmp_path / "x.db"
    done = cli("db", "import", "-q", "--db", str(db), str(tmp_path / "records"))
    assert done.code == 0 and done.out == "", (done.out, done.err)
    status = cli("db", "status", "-f", "json", "--db", str(db))
    assert status.code == 0 and json.loads(status.out)
