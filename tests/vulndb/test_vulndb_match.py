"""Matching: OSV range semantics, OS source packages, status, identity,
severity and the issues for what cannot be checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from vulndb_fixtures import DEMO_DATA, build_db, pkg, record, vuln

from lashing.model import (
    Finding,
    FindingKind,
    Issue,
    Package,
    Severity,
    Surface,
    VulnStatus,
)
from lashing.vulndb import match, open_database
from lashing.vulndb.importer import import_paths

CVSS31_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
CVSS31_MEDIUM = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N"  # 5.4
CVSS2_HIGH = "AV:N/AC:L/Au:N/C:P/I:P/A:P"  # 7.5
CVSS4_CRITICAL = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"  # 9.3


def run(tmp_path: Path, records: list[dict[str, Any]],
        packages: list[Package]) -> tuple[list[Finding], list[Issue]]:
    with open_database(build_db(tmp_path, records)) as db:
        return match(packages, db)


# -- ranges -------------------------------------------------------------------


@pytest.mark.parametrize(("version", "hit"), [
    ("0.9", False), ("1.0", True), ("1.4", True), ("1.5", False), ("2.9", False),
    ("3.0", True), ("3.2", True), ("3.3", False), ("4.0", False),
])
def test_unordered_events_fixed_and_last_affected(tmp_path: Path, version: str,
                                                  hit: bool) -> None:
    events = [{"introduced": "3.0"}, {"last_affected": "3.2"}, {"fixed": "1.5"},
              {"introduced": "1.0"}]
    findings, issues = run(tmp_path, [record("PYSEC-1", events=events)],
                           [pkg("demo", version)])
    assert bool(findings) is hit and not issues


@pytest.mark.parametrize(("version", "hit"), [("1.0", True), ("1.9", True), ("2.0", False)])
def test_limit_caps_a_range(tmp_path: Path, version: str, hit: bool) -> None:
    events = [{"introduced": "1.0"}, {"limit": "2.0"}]
    findings, _ = run(tmp_path, [record("PYSEC-1", events=events)], [pkg("demo", version)])
    assert bool(findings) is hit


def test_multiple_ranges_and_nearest_fix(tmp_path: Path) -> None:
    doc = record("PYSEC-1", events=[{"introduced": "2.0.0"}, {"fixed": "2.0.6"}])
    doc["affected"][0]["ranges"].append(
        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.26.17"}]})
    findings, _ = run(tmp_path, [doc], [pkg("demo", "1.26.4"), pkg("demo2", "1.0")])
    assert len(findings) == 1
    assert vuln(findings[0]).fixed_versions == ("1.26.17",)
    assert findings[0].remediation == "upgrade demo to 1.26.17 or later"
    findings, _ = run(tmp_path / "b", [doc], [pkg("demo", "2.0.3")])
    assert vuln(findings[0]).fixed_versions == ("2.0.6",)


def test_versions_list_and_git_ranges(tmp_path: Path) -> None:
    git_only = record("OSV-1", name="lib", range_type="GIT",
                      events=[{"introduced": "0"}, {"fixed": "a" * 40}], versions=["1.0", "1.1"])
    findings, _ = run(tmp_path, [git_only], [pkg("lib", "1.1"), pkg("lib", "1.2"),
                                             pkg("lib", "1.1.0")])
    assert [vuln(f).installed_version for f in findings] == ["1.1", "1.1.0"]
    assert vuln(findings[0]).status is VulnStatus.UNFIXED


def test_unparseable_version_still_matches_listed_versions(tmp_path: Path) -> None:
    doc = record("PYSEC-2", name="rope", events=[{"introduced": "0"}, {"fixed": "0.9"}],
                 versions=["0.5m4"])
    findings, issues = run(tmp_path, [doc], [pkg("rope", "0.5m4"), pkg("rope", "0.6m1")])
    assert [vuln(f).installed_version for f in findings] == ["0.5m4"]
    assert len(issues) == 2


def test_pypi_names_are_normalised(tmp_path: Path) -> None:
    findings, _ = run(tmp_path, [record("GHSA-1", name="Zope.Interface")],
                      [pkg("zope-interface", "1.0"), pkg("ZOPE_interface", "1.0")])
    assert len(findings) == 2


def test_go_versions_with_v_prefix(tmp_path: Path) -> None:
    doc = record("GO-2022-1144", "Go", "stdlib", range_type="SEMVER",
                 events=[{"introduced": "0"}, {"fixed": "1.18.9"}, {"introduced": "1.19.0-0"},
                         {"fixed": "1.19.4"}])
    findings, _ = run(tmp_path, [doc], [pkg("stdlib", "v1.18.8", "Go"),
                                        pkg("stdlib", "v1.18.9", "Go"),
                                        pkg("stdlib", "v1.19.3", "Go")])
    assert [vuln(f).installed_version for f in findings] == ["v1.18.8", "v1.19.3"]


# -- OS packages --------------------------------------------------------------------


def debian(rid: str, source: str, fixed: str | None, release: str = "Debian:12",
           urgency: str = "medium", **fields: Any) -> dict[str, Any]:
    events = [{"introduced": "0"}] + ([{"fixed": fixed}] if fixed else [])
    fields.setdefault("affected_extra", {"ecosystem_specific": {"urgency": urgency}})
    return record(rid, release, source, events=events, **fields)


def test_debian_matches_source_package_in_its_release_only(tmp_path: Path) -> None:
    records = [debian("DEBIAN-CVE-2024-0001", "openssl", "3.0.11-1~deb12u1"),
               debian("DEBIAN-CVE-2024-0002", "openssl", "3.0.11-1~deb11u1", "Debian:11")]
    libssl = pkg("libssl3", "3.0.9-1", "Debian:12", source_name="openssl")
    findings, issues = run(tmp_path, records, [libssl])
    assert [f.rule_id for f in findings] == ["CVE-2024-0001"]
    assert findings[0].aliases == ("DEBIAN-CVE-2024-0001",)
    assert "source package openssl" in findings[0].message
    assert findings[0].remediation == \
        "upgrade libssl3 (source package openssl) to 3.0.11-1~deb12u1 or later"
    assert not issues


def test_binnmu_uses_the_source_version(tmp_path: Path) -> None:
    # glibc fixed in 2.36-9+deb12u4; the binary 2.36-9+deb12u4+b1 is a rebuild of it
    records = [debian("DEBIAN-CVE-2024-0003", "glibc", "2.36-9+deb12u4")]
    rebuilt = pkg("libc6", "2.36-9+deb12u4+b1", "Debian:12", source_name="glibc",
                  source_version="2.36-9+deb12u4")
    older = pkg("libc6", "2.36-9+deb12u3+b1", "Debian:12", source_name="glibc",
                source_version="2.36-9+deb12u3")
    findings, _ = run(tmp_path, records, [rebuilt, older])
    assert [vuln(f).installed_version for f in findings] == ["2.36-9+deb12u3+b1"]
    # binaries whose version differs entirely from their source's: cpp 4:12.2.0-3
    # is built from gcc-defaults 1.203; judged by its own version it would look
    # newer than the fix 1.204
    records = [debian("DEBIAN-CVE-2024-0004", "gcc-defaults", "1.204")]
    cpp = pkg("cpp", "4:12.2.0-3", "Debian:12", source_name="gcc-defaults",
              source_version="1.203")
    findings, _ = run(tmp_path / "b", records, [cpp])
    assert [vuln(f).installed_version for f in findings] == ["4:12.2.0-3"]
    assert vuln(findings[0]).fixed_versions == ("1.204",)


def test_debian_statuses(tmp_path: Path) -> None:
    records = [debian("DEBIAN-CVE-2024-0010", "zlib", None, urgency="unimportant"),
               debian("DEBIAN-CVE-2024-0011", "zlib", None, urgency="low"),
               debian("DEBIAN-CVE-2024-0012", "zlib", "1:1.2.13.dfsg-2", urgency="high"),
               debian("DEBIAN-CVE-2024-0013", "zlib", None, urgency="end-of-life"),
               debian("DEBIAN-CVE-2024-0014", "zlib", None, urgency="not yet assigned",
                      affected_extra={"ecosystem_specific": {"urgency": "not yet assigned"},
                                      "database_specific": {"status": "ignored"}})]
    zlib = pkg("zlib1g", "1:1.2.13.dfsg-1", "Debian:12", source_name="zlib")
    findings, _ = run(tmp_path, records, [zlib])
    got = {f.rule_id: (vuln(f).status, f.severity) for f in findings}
    assert got == {
        "CVE-2024-0010": (VulnStatus.UNIMPORTANT, Severity.LOW),
        "CVE-2024-0011": (VulnStatus.UNFIXED, Severity.LOW),
        "CVE-2024-0012": (VulnStatus.FIXED, Severity.HIGH),
        "CVE-2024-0013": (VulnStatus.END_OF_LIFE, Severity.UNKNOWN),
        "CVE-2024-0014": (VulnStatus.WONT_FIX, Severity.UNKNOWN),
    }


def test_ubuntu_negligible_is_unimportant(tmp_path: Path) -> None:
    doc = record("UBUNTU-CVE-2023-9999", "Ubuntu:22.04:LTS", "glibc",
                 events=[{"introduced": "0"}],
                 affected_extra={"ecosystem_specific": {"ubuntu_priority": "negligible"}})
    findings, _ = run(tmp_path, [doc], [pkg("libc6", "2.35-0ubuntu3", "Ubuntu:22.04:LTS",
                                            source_name="glibc")])
    assert findings[0].rule_id == "CVE-2023-9999"
    assert vuln(findings[0]).status is VulnStatus.UNIMPORTANT


def test_ubuntu_record_level_priority(tmp_path: Path) -> None:
    doc = record("UBUNTU-CVE-2023-9998", "Ubuntu:24.04:LTS", "glibc",
                 events=[{"introduced": "0"}, {"fixed": "2.39-0ubuntu8"}],
                 severity=[("Ubuntu", "high"), ("CVSS_V3", CVSS31_MEDIUM)])
    findings, _ = run(tmp_path, [doc], [pkg("libc6", "2.39-0ubuntu7", "Ubuntu:24.04:LTS",
                                            source_name="glibc")])
    assert findings[0].severity is Severity.HIGH
    assert vuln(findings[0]).status is VulnStatus.FIXED


def test_distribution_severity_wins_for_os_packages(tmp_path: Path) -> None:
    doc = debian("DEBIAN-CVE-2024-0020", "openssl", None, urgency="low",
                 severity=[("CVSS_V3", CVSS31_CRITICAL)])
    findings, _ = run(tmp_path, [doc], [pkg("libssl3", "3.0.9-1", "Debian:12",
                                            source_name="openssl")])
    assert findings[0].severity is Severity.LOW
    assert vuln(findings[0]).cvss[0].score == 9.8


def test_rpm_feeds_match_binary_names(tmp_path: Path) -> None:
    doc = record("ALSA-2022:7288", "AlmaLinux:9", "openssl-libs",
                 events=[{"introduced": "0"}, {"fixed": "1:3.0.1-43.el9_0"}],
                 summary="Important: openssl security update", aliases=[])
    findings, _ = run(tmp_path, [doc], [
        pkg("openssl-libs", "1:3.0.1-41.el9_0", "AlmaLinux:9", source_name="openssl"),
        pkg("openssl-libs", "1:3.0.1-43.el9_0", "AlmaLinux:9", source_name="openssl")])
    assert [f.rule_id for f in findings] == ["ALSA-2022:7288"]
    assert findings[0].severity is Severity.HIGH  # "Important"


# -- identity, severity, malware ----------------------------------------------------


def test_ghsa_and_pysec_for_one_cve_merge(tmp_path: Path) -> None:
    below_3 = [{"introduced": "0"}, {"fixed": "3.0"}]
    records = [
        record("PYSEC-2023-74", name="requests", aliases=["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"],
               events=[{"introduced": "2.3.0"}, {"fixed": "2.31.0"}]),
        record("GHSA-j8r2-6x86-q33q", name="requests", aliases=["CVE-2023-32681"],
               events=[{"introduced": "2.3.0"}, {"fixed": "2.31.0"}],
               severity=[("CVSS_V3", CVSS31_MEDIUM)]),
        record("GHSA-xxxx-no-cve", name="requests", aliases=["PYSEC-2099-1"], events=below_3),
        record("PYSEC-2099-1", name="requests", events=below_3),
        record("DSA-1-1", name="requests", aliases=["CVE-2023-1", "CVE-2023-2"], events=below_3),
    ]
    findings, _ = run(tmp_path, records, [pkg("requests", "2.25.0")])
    got = {f.rule_id: f.aliases for f in findings}
    assert got == {
        "CVE-2023-32681": ("GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"),
        "GHSA-xxxx-no-cve": ("PYSEC-2099-1",),
        "DSA-1-1": ("CVE-2023-1", "CVE-2023-2"),
    }
    merged = next(f for f in findings if f.rule_id == "CVE-2023-32681")
    assert merged.severity is Severity.MEDIUM
    assert merged.kind is FindingKind.VULNERABILITY and merged.surface is Surface.APPLICATION
    assert merged.nist == ("4.1.1",)


@pytest.mark.parametrize(("severity", "fields", "expected"), [
    ([("CVSS_V3", CVSS31_CRITICAL)], {}, Severity.CRITICAL),
    ([("CVSS_V2", CVSS2_HIGH)], {}, Severity.HIGH),
    ([("CVSS_V4", CVSS4_CRITICAL), ("CVSS_V3", CVSS31_MEDIUM)], {}, Severity.CRITICAL),
    ([], {"database_specific": {"severity": "MODERATE"}}, Severity.MEDIUM),
    ([("CVSS_V3", "not a vector")], {}, Severity.UNKNOWN),
    ([], {}, Severity.UNKNOWN),
])
def test_severity_for_language_packages(tmp_path: Path, severity: list[tuple[str, str]],
                                        fields: dict[str, Any], expected: Severity) -> None:
    findings, _ = run(tmp_path, [record("GHSA-1", severity=severity, **fields)],
                      [pkg("demo", "1.0")])
    assert findings[0].severity is expected


def test_malicious_package(tmp_path: Path) -> None:
    doc = record("MAL-2024-10238", name="123bla", events=None, versions=["0.0.1"],
                 summary="Malicious code in 123bla (PyPI)")
    findings, _ = run(tmp_path, [doc], [pkg("123bla", "0.0.1"), pkg("123bla", "0.0.2")])
    assert len(findings) == 1
    f = findings[0]
    assert (f.kind, f.severity, f.rule_id, f.nist) == (
        FindingKind.MALWARE, Severity.CRITICAL, "MAL-2024-10238", ("4.1.3",))
    assert f.remediation.startswith("remove 123bla")


def test_finding_fields_and_stable_fingerprint(tmp_path: Path) -> None:
    records = [record("PYSEC-1", aliases=["CVE-2024-1"], severity=[("CVSS_V3", CVSS31_MEDIUM)])]
    package = pkg("demo", "1.0", path="/app/site-packages/demo-1.0.dist-info/METADATA")
    db_path = build_db(tmp_path, records)
    with open_database(db_path) as db:
        first, _ = match([package], db, target="img", target_identity="sha256:img")
        second, _ = match([package], db, target="img", target_identity="sha256:img")
        host, _ = match([package], db, surface=Surface.BUILD_HOST)
    f = first[0]
    assert f.location == package.locations[0]
    assert f.anchor == package.purl and f.target == "img"
    assert f.references == ("https://example.invalid/PYSEC-1",)
    assert f.title == "PYSEC-1 summary"
    assert f.vulnerability is not None and vuln(f).package == package
    assert vuln(f).cvss[0].version == "3.1"
    assert f.fingerprint == second[0].fingerprint
    assert host[0].surface is Surface.BUILD_HOST


# -- what cannot be checked ---------------------------------------------------------


def test_unknown_and_uncovered_ecosystems_become_issues(tmp_path: Path) -> None:
    findings, issues = run(tmp_path, [record("PYSEC-1")], [
        pkg("x", "1.0", "Nonesuch"), pkg("y", "1.0", "Nonesuch"), pkg("left-pad", "1.0", "npm"),
        pkg("demo", "not a version!"), pkg("demo", "")])
    assert not findings
    messages = sorted(i.message for i in issues)
    assert any("2 Nonesuch package(s) not checked" in m for m in messages)
    assert any(m.startswith("no advisories for npm in the database") for m in messages)
    assert any("not a valid PyPI version; checked against listed versions only" in m
               for m in messages)
    assert any("has no version" in m for m in messages)
    assert all(i.stage == "vulndb" for i in issues)


def test_os_release_without_records_is_an_issue(tmp_path: Path) -> None:
    _, issues = run(tmp_path, [debian("DEBIAN-CVE-2024-1", "zlib", None, "Debian:11")],
                    [pkg("zlib1g", "1:1.2.13.dfsg-1", "Debian:12", source_name="zlib")])
    assert [i.message.split(":")[0] for i in issues] == ["no advisories for Debian"]
    assert "Debian:12" in issues[0].message


# -- the demo data ----------------------------------------------------------------------


def test_demo_data_finds_the_demo_image_python_packages(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = import_paths([DEMO_DATA], db)
    assert (result.records, result.skipped) == (7, 0)
    with open_database(db) as database:
        findings, issues = match([pkg("requests", "2.25.0"), pkg("urllib3", "1.26.4"),
                                  pkg("openssl-libs", "1:3.0.1-41.el9_0", "AlmaLinux:9",
                                      source_name="openssl"),
                                  pkg("glibc", "2.34-40.el9", "AlmaLinux:9"),
                                  pkg("zlib", "1.2.11-31.el9", "AlmaLinux:9")], database)
    assert sorted(f.rule_id for f in findings) == [
        "ALSA-2022:7288", "ALSA-2022:7314", "ALSA-2023:5453", "CVE-2021-33503",
        "CVE-2023-32681", "CVE-2023-43804", "CVE-2023-45803"]
    assert not issues
