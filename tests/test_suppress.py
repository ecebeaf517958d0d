"""Suppressions: the TOML ignore file, OpenVEX documents, applying them, the
config-file reader underneath, and the table's grouping of vulnerabilities."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from lashing.config import check_keys, read_toml, resolve_path, suggest
from lashing.errors import InputError
from lashing.model import (
    Finding,
    FindingKind,
    Location,
    Package,
    Report,
    Severity,
    Suppression,
    SuppressionKind,
    Surface,
    Target,
    TargetKind,
    Vulnerability,
    VulnStatus,
)
from lashing.report import table
from lashing.suppress import (
    Purl,
    apply_suppressions,
    load_ignore_file,
    load_vex,
    parse_vex,
    suppress_report,
)

OPENVEX_SCHEMA = (Path(__file__).resolve().parents[2] / "shared" / "data" / "schemas"
                  / "openvex_json_schema-0.2.0.json")
TODAY = date(2026, 1, 15)
SITE = "/usr/local/lib/python3.12/site-packages"


def vuln(rule_id: str, name: str, version: str, severity: Severity = Severity.HIGH,
         aliases: tuple[str, ...] = (), purl: str | None = None,
         path: str | None = None, fixed: tuple[str, ...] = ("9.9",),
         status: VulnStatus = VulnStatus.FIXED, target: str = "img") -> Finding:
    path = path or f"{SITE}/{name}-{version}.dist-info/METADATA"
    pkg = Package(name, version, "PyPI", purl or f"pkg:pypi/{name}@{version}",
                  "python-installed", (Location(path=path, layer="sha256:" + "a" * 64),))
    return Finding(
        rule_id=rule_id, kind=FindingKind.VULNERABILITY, title=f"{name}: problem {rule_id}",
        severity=severity, surface=Surface.APPLICATION, target=target,
        location=pkg.locations[0], message=f"{name} {version} is affected by {rule_id}",
        aliases=aliases,
        vulnerability=Vulnerability(rule_id, pkg, version, fixed, status),
        target_identity="sha256:" + "b" * 64, anchor=pkg.purl)


def misconfig(rule_id: str = "LSH-DF-002", path: str = "Dockerfile", line: int = 4,
              aliases: tuple[str, ...] = ("hadolint:DL3002",),
              severity: Severity = Severity.HIGH) -> Finding:
    return Finding(
        rule_id=rule_id, kind=FindingKind.MISCONFIGURATION, title="Last USER is root",
        severity=severity, surface=Surface.IMAGE, target=path,
        location=Location(path=path, line=line), message="the last USER is root",
        aliases=aliases, anchor=f"{path}:{line}")


REQUESTS = vuln("CVE-2023-32681", "requests", "2.25.0", Severity.MEDIUM,
                aliases=("GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"))
URLLIB3 = vuln("CVE-2023-43804", "urllib3", "1.26.4", Severity.HIGH,
               aliases=("GHSA-v845-jxx5-vc9f", "PYSEC-2023-192"))


def write(tmp_path: Path, text: str, name: str = "ignore.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def ignore(tmp_path: Path, text: str, name: str = "ignore.toml") -> Any:
    return load_ignore_file(write(tmp_path, text, name))


def suppressed(findings: list[Finding]) -> dict[str, Suppression | None]:
    return {f.rule_id: f.suppression for f in findings}


# ---------------------------------------------------------------------------
# config.py
# ---------------------------------------------------------------------------

def test_suggest_nearest_key() -> None:
    assert suggest("reasn", ["id", "reason", "expires"]) == "reason"
    assert suggest("EXPIRES", ["id", "reason", "expires"]) == "expires"
    assert suggest("zzzz", ["id", "reason"]) is None


def test_check_keys_names_file_and_place(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        check_keys({"pth": 1}, ("path", "purl"), tmp_path / "x.toml", "[[ignore.rules]] entry 3")
    assert str(tmp_path / "x.toml") in exc.value.message
    assert "entry 3" in exc.value.message and "'pth'" in exc.value.message
    assert exc.value.hint == "did you mean 'path'?"


def test_read_toml_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_toml(tmp_path / "missing.toml")
    bad = write(tmp_path, "[ignore\n", "bad.toml")
    with pytest.raises(InputError, match=r"bad\.toml: invalid TOML"):
        read_toml(bad)
    with pytest.raises(InputError, match="too large"):
        read_toml(write(tmp_path, "a = 1\n" * 100, "big.toml"), max_bytes=10)
    with pytest.raises(InputError, match="not a regular file"):
        read_toml(tmp_path)


def test_paths_relative_to_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "conf" / "lashing.toml"
    assert resolve_path(cfg, "rules/x.yar") == tmp_path.resolve() / "conf" / "rules" / "x.yar"
    assert resolve_path(cfg, "/etc/x") == Path("/etc/x")


# ---------------------------------------------------------------------------
# Ignore file: parsing
# ---------------------------------------------------------------------------

def test_ignore_file_parses_every_key(tmp_path: Path) -> None:
    ig = ignore(tmp_path, """
[[ignore.rules]]
id = "CVE-2023-32681"
reason = "not reachable: we never use proxies"
expires = 2027-01-31
purl = "pkg:pypi/requests@2.25.0"
path = "/usr/local/lib/**"

[[ignore.rules]]
id = "hadolint:DL3002"
reason = "the base image's user"
expires = "2026-06-30"
""")
    first, second = ig.entries
    assert (first.index, first.id, first.expires) == (1, "CVE-2023-32681", date(2027, 1, 31))
    assert first.purl == Purl.parse("pkg:pypi/requests@2.25.0")
    assert first.path == "/usr/local/lib/**"
    assert second.expires == date(2026, 6, 30) and second.purl is None


def test_lashing_toml_ignore_section(tmp_path: Path) -> None:
    ig = ignore(tmp_path, """
[scan]
severity = "HIGH"

[ignore]
[[ignore.rules]]
id = "CVE-1"
reason = "r"
""", "lashing.toml")
    assert [e.id for e in ig.entries] == ["CVE-1"]


@pytest.mark.parametrize(("text", "message", "hint"), [
    ('[[ignore.rules]]\nid = "CVE-1"\nreasn = "x"\n',
     r"entry 1 \(CVE-1\): unknown key 'reasn'", "did you mean 'reason'?"),
    ('[[ignore.rules]]\nid = "CVE-1"\nreason = "x"\n[[ignore.rules]]\nid = "CVE-2"\n',
     r"entry 2 \(CVE-2\): 'reason' is required", None),
    ('[[ignore.rules]]\nreason = "x"\n', r"entry 1: 'id' is required", None),
    ('[[ignore.rules]]\nid = "CVE-1"\nreason = "   "\n', r"'reason' must be a non-empty", None),
    ('[[ignore.rules]]\nid = "CVE-1"\nreason = "x"\nexpires = "31/01/2027"\n',
     r"entry 1 \(CVE-1\): expires '31/01/2027' is not a date", None),
    ('[[ignore.rules]]\nid = "CVE-1"\nreason = "x"\nexpires = 2027-13-01\n',
     r"invalid TOML", None),
    ('[[ignore.rules]]\nid = "CVE-1"\nreason = "x"\nexpires = 2027-01-31T10:00:00\n',
     r"not a date and time", None),
    ('[[ignore.rules]]\nid = "CVE-1"\nreason = "x"\npurl = "requests@2"\n',
     r"purl 'requests@2' is not a package URL", None),
    ('[ignroe]\n', r"unknown key 'ignroe'", "did you mean 'ignore'?"),
    ('[ignore]\nrule = []\n', r"\[ignore\]: unknown key 'rule'", "did you mean 'rules'?"),
    ('[scan]\nx = 1\n', r"no \[ignore\] section", None),
    ('ignore = 3\n', r"ignore: expected a table", None),
    ('[ignore]\nrules = "CVE-1"\n', r"expected an array of tables", None),
    ('[ignore]\nrules = [1]\n', r"entry 1: expected a table", None),
])
def test_ignore_file_errors(tmp_path: Path, text: str, message: str, hint: str | None) -> None:
    p = write(tmp_path, text)
    with pytest.raises(InputError, match=message) as exc:
        load_ignore_file(p)
    assert str(p) in exc.value.message
    assert exc.value.exit_code == 2
    if hint:
        assert exc.value.hint == hint


def test_ignore_file_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"--ignore-file .*nope\.toml: no such file"):
        load_ignore_file(tmp_path / "nope.toml")


# ---------------------------------------------------------------------------
# Ignore file: matching
# ---------------------------------------------------------------------------

RULE = '[[ignore.rules]]\nreason = "accepted"\n'


@pytest.mark.parametrize("ident", ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q", "pysec-2023-74"])
def test_ignore_matches_rule_id_or_alias(tmp_path: Path, ident: str) -> None:
    ig = ignore(tmp_path, RULE + f'id = "{ident}"\n')
    out, issues = apply_suppressions([REQUESTS, URLLIB3], ig, [], TODAY)
    assert suppressed(out) == {
        "CVE-2023-32681": Suppression(SuppressionKind.IGNORE_FILE, "accepted"),
        "CVE-2023-43804": None,
    }
    assert issues == []


def test_ignore_misconfiguration_by_tool_alias(tmp_path: Path) -> None:
    ig = ignore(tmp_path, RULE + 'id = "hadolint:DL3002"\n')
    out, _ = apply_suppressions([misconfig()], ig, [], TODAY)
    assert out[0].suppression is not None
    assert out[0].suppression.kind is SuppressionKind.IGNORE_FILE


@pytest.mark.parametrize(("purl", "hit"), [
    ("pkg:pypi/requests@2.25.0", True),
    ("pkg:pypi/requests", True),  # no version: every version
    ("pkg:pypi/Requests@2.25.0", True),  # PEP 503 name normalisation
    ("pkg:pypi/requests@2.26.0", False),
    ("pkg:pypi/urllib3@2.25.0", False),
    ("pkg:pypi/requests@2.25.0?arch=x86_64", False),  # its qualifiers must be present
])
def test_ignore_purl(tmp_path: Path, purl: str, hit: bool) -> None:
    ig = ignore(tmp_path, RULE + f'id = "CVE-2023-32681"\npurl = "{purl}"\n')
    out, _ = apply_suppressions([REQUESTS], ig, [], TODAY)
    assert (out[0].suppression is not None) is hit


def test_ignore_purl_without_qualifiers_matches_any(tmp_path: Path) -> None:
    deb = vuln("CVE-2024-1", "openssl", "3.0.11-1", purl="pkg:deb/debian/openssl@3.0.11-1"
               "?arch=amd64&distro=debian-12")
    for purl in ("pkg:deb/debian/openssl@3.0.11-1", "pkg:deb/debian/openssl@3.0.11-1?arch=amd64"):
        ig = ignore(tmp_path, RULE + f'id = "CVE-2024-1"\npurl = "{purl}"\n')
        assert apply_suppressions([deb], ig, [], TODAY)[0][0].suppression is not None
    ig = ignore(tmp_path, RULE + 'id = "CVE-2024-1"\npurl = "pkg:deb/debian/openssl?arch=arm64"\n')
    assert apply_suppressions([deb], ig, [], TODAY)[0][0].suppression is None


def test_purl_entry_never_matches_findings_without_a_package(tmp_path: Path) -> None:
    ig = ignore(tmp_path, RULE + 'id = "LSH-DF-002"\npurl = "pkg:pypi/requests"\n')
    assert apply_suppressions([misconfig()], ig, [], TODAY)[0][0].suppression is None


@pytest.mark.parametrize(("glob", "hit"), [
    ("/usr/local/lib/**", True),
    ("/usr/local/lib/*", False),  # * stays within one segment
    (f"{SITE}/requests-*/METADATA", True),
    ("**/requests-2.25.0.dist-info/*", True),
    ("/usr/lib/**", False),
])
def test_ignore_path_glob(tmp_path: Path, glob: str, hit: bool) -> None:
    ig = ignore(tmp_path, RULE + f'id = "CVE-2023-32681"\npath = "{glob}"\n')
    out, _ = apply_suppressions([REQUESTS], ig, [], TODAY)
    assert (out[0].suppression is not None) is hit


def test_relative_path_glob_is_relative_to_the_ignore_file(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    ig = ignore(tmp_path, RULE + 'id = "LSH-DF-002"\npath = "svc/Dockerfile"\n')
    here = misconfig(path=str(tmp_path / "svc" / "Dockerfile"))
    elsewhere = misconfig(path="/somewhere/else/svc/Dockerfile")
    out, _ = apply_suppressions([here, elsewhere], ig, [], TODAY)
    assert [f.suppression is not None for f in out] == [True, False]


def test_relative_finding_path_is_taken_from_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ig = ignore(tmp_path, RULE + 'id = "LSH-DF-002"\npath = "Dockerfile"\n')
    out, _ = apply_suppressions([misconfig(path="Dockerfile")], ig, [], TODAY)
    assert out[0].suppression is not None


def test_every_condition_must_hold(tmp_path: Path) -> None:
    ig = ignore(tmp_path, RULE + 'id = "CVE-2023-32681"\npurl = "pkg:pypi/requests"\n'
                                 'path = "/opt/**"\n')
    assert apply_suppressions([REQUESTS], ig, [], TODAY)[0][0].suppression is None


def test_expiry(tmp_path: Path) -> None:
    text = RULE + 'id = "CVE-2023-32681"\nexpires = 2026-01-15\n'
    ig = ignore(tmp_path, text)
    out, issues = apply_suppressions([REQUESTS], ig, [], TODAY)  # the last day still counts
    assert out[0].suppression == Suppression(SuppressionKind.IGNORE_FILE, "accepted",
                                             "2026-01-15")
    assert issues == []
    out, issues = apply_suppressions([REQUESTS], ig, [], date(2026, 1, 16))
    assert out[0].suppression is None
    assert len(issues) == 1
    issue = issues[0]
    assert (issue.stage, issue.plugin) == ("suppress", "ignore-file")
    assert issue.location.path == str(tmp_path / "ignore.toml")
    assert "entry 1 (CVE-2023-32681) expired on 2026-01-15" in issue.message


def test_expired_entry_issue_even_without_matches(tmp_path: Path) -> None:
    ig = ignore(tmp_path, RULE + 'id = "CVE-1999-0001"\nexpires = 2020-01-01\n')
    _, issues = apply_suppressions([], ig, [], TODAY)
    assert len(issues) == 1


def test_existing_suppression_is_kept(tmp_path: Path) -> None:
    inline = Suppression(SuppressionKind.INLINE, "vendor installer")
    f = replace(misconfig(), suppression=inline)
    ig = ignore(tmp_path, RULE + 'id = "LSH-DF-002"\n')
    assert apply_suppressions([f], ig, [], TODAY)[0][0].suppression == inline


# ---------------------------------------------------------------------------
# OpenVEX
# ---------------------------------------------------------------------------

def vex_doc(*statements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/app-1",
        "author": "Example Security <security@example.com>",
        "timestamp": "2024-05-01T12:00:00Z",
        "version": 1,
        "statements": list(statements),
        **extra,
    }


NOT_AFFECTED = {
    "vulnerability": {"name": "CVE-2023-32681"},
    "products": [{"@id": "pkg:pypi/requests@2.25.0"}],
    "status": "not_affected",
    "justification": "vulnerable_code_not_in_execute_path",
    "impact_statement": "proxies are never configured",
}

VALID = {
    "not_affected by @id purl": vex_doc(NOT_AFFECTED),
    "fixed by identifiers.purl": vex_doc({
        "vulnerability": {"@id": "https://nvd.nist.gov/vuln/detail/CVE-2023-43804",
                          "name": "GHSA-v845-jxx5-vc9f", "aliases": ["CVE-2023-43804"]},
        "products": [{"@id": "https://example.com/app",
                      "identifiers": {"purl": "pkg:pypi/urllib3@1.26.4?arch=x86_64"}}],
        "status": "fixed", "status_notes": "backported patch",
    }),
    "subcomponents of an image": vex_doc({
        "vulnerability": {"name": "CVE-2023-32681"},
        "products": [{"@id": "pkg:oci/app@sha256%3A" + "c" * 64,
                      "subcomponents": [{"@id": "pkg:pypi/requests@2.25.0"}]}],
        "status": "not_affected", "impact_statement": "no proxies",
        "timestamp": "2024-05-02T00:00:00Z",
    }),
    "affected and under investigation, with cpe products": vex_doc(
        {"vulnerability": {"name": "CVE-2023-32681"}, "status": "affected",
         "action_statement": "upgrade to 2.31.0"},
        {"vulnerability": {"name": "CVE-2023-43804"}, "status": "under_investigation",
         "products": [{"identifiers": {
             "cpe23": "cpe:2.3:a:urllib3:urllib3:1.26.4:*:*:*:*:*:*:*"}}]},
        last_updated="2024-06-01T00:00:00+02:00", role="vendor", tooling="vexctl"),
}


def _invalid() -> dict[str, tuple[dict[str, Any], str]]:
    def without(key: str) -> dict[str, Any]:
        d = vex_doc(NOT_AFFECTED)
        del d[key]
        return d

    def statement(**change: Any) -> dict[str, Any]:
        st = {**copy.deepcopy(NOT_AFFECTED), **change}
        return vex_doc({k: v for k, v in st.items() if v is not None})

    return {
        "no @context": (without("@context"), "'@context' is required"),
        "no @id": (without("@id"), "'@id' is required"),
        "no author": (without("author"), "'author' is required"),
        "no timestamp": (without("timestamp"), "'timestamp' is required"),
        "no version": (without("version"), "'version' must be an integer"),
        "no statements": (vex_doc(), "'statements' must be a non-empty list"),
        "bad timestamp": (vex_doc(NOT_AFFECTED, timestamp="yesterday"), "not an RFC 3339"),
        "unknown document key": (vex_doc(NOT_AFFECTED, statments=[]),
                                 "unknown key 'statments'"),
        "bad status": (statement(status="unaffected"), "status 'unaffected' is not one of"),
        "not_affected without why": (statement(justification=None, impact_statement=None),
                                     "needs a 'justification' or an 'impact_statement'"),
        "bad justification": (statement(justification="trust_me"),
                              "justification 'trust_me' is not one of"),
        "affected without action": (statement(status="affected", justification=None),
                                    "needs an 'action_statement'"),
        "no vulnerability": (statement(vulnerability=None), "'vulnerability' is required"),
        "vulnerability without name": (statement(vulnerability={"description": "x"}),
                                       "'name' is required"),
        "product without id": (statement(products=[{"hashes": {"sha-256": "00"}}]),
                               "needs '@id' or 'identifiers'"),
        "bad product purl": (statement(products=[{"identifiers": {"purl": "requests"}}]),
                             "is not a package URL"),
        "unknown statement key": (statement(justifcation="x"), "unknown key 'justifcation'"),
        "products not a list": (statement(products={"@id": "pkg:pypi/x"}),
                                "'products' must be a list"),
        "not OpenVEX": (vex_doc(NOT_AFFECTED, **{"@context": "https://cyclonedx.org"}),
                        "is not OpenVEX"),
    }


INVALID = _invalid()


def _schema_validate(doc: dict[str, Any]) -> None:
    import jsonschema

    schema = json.loads(OPENVEX_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(doc, schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_vex_agrees_with_schema(name: str, tmp_path: Path) -> None:
    doc = VALID[name]
    if OPENVEX_SCHEMA.is_file():  # else only lashing's own validation runs
        _schema_validate(doc)
    p = tmp_path / "doc.openvex.json"
    p.write_text(json.dumps(doc))
    parsed = load_vex(p)
    assert parsed.id == doc["@id"] and len(parsed.statements) == len(doc["statements"])


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_vex_agrees_with_schema(name: str, tmp_path: Path) -> None:
    import jsonschema

    doc, message = INVALID[name]
    if OPENVEX_SCHEMA.is_file() and name not in ("bad product purl", "not OpenVEX",
                                                  "bad timestamp"):
        # lashing also refuses a few documents the schema lets through: purls it
        # cannot parse, foreign contexts, and (without format checks) bad times.
        with pytest.raises(jsonschema.ValidationError):
            _schema_validate(doc)
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(InputError) as exc:
        load_vex(p)
    assert message in exc.value.message
    assert str(p) in exc.value.message and exc.value.exit_code == 2


def test_openvex_schema_present() -> None:
    if not OPENVEX_SCHEMA.is_file():
        pytest.skip(f"{OPENVEX_SCHEMA} is absent (../shared/data): VEX examples not "
                    "checked against the OpenVEX schema")


def test_vex_not_json_or_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"--vex .*x\.json: not JSON"):
        parse_vex(b"{nope", tmp_path / "x.json")
    with pytest.raises(InputError, match=r"--vex .*missing\.json: no such file"):
        load_vex(tmp_path / "missing.json")
    with pytest.raises(InputError, match="larger than the limit"):
        p = tmp_path / "big.json"
        p.write_text(json.dumps(vex_doc(NOT_AFFECTED)))
        load_vex(p, max_bytes=100)


def vex(*statements: dict[str, Any], **extra: Any) -> Any:
    return parse_vex(json.dumps(vex_doc(*statements, **extra)).encode(), Path("app.vex.json"))


def test_vex_not_affected_suppresses() -> None:
    out, issues = apply_suppressions([REQUESTS, URLLIB3], None, [vex(NOT_AFFECTED)], TODAY)
    s = suppressed(out)
    assert s["CVE-2023-43804"] is None
    assert s["CVE-2023-32681"] == Suppression(
        SuppressionKind.VEX,
        "not_affected: vulnerable_code_not_in_execute_path (proxies are never configured)")
    assert issues == []
    assert out[0].vulnerability is not None
    assert out[0].vulnerability.status is VulnStatus.FIXED  # left as it was


def test_vex_fixed_by_alias_and_identifiers_purl_ignoring_qualifiers() -> None:
    out, _ = apply_suppressions([REQUESTS, URLLIB3], None, [vex(
        *VALID["fixed by identifiers.purl"]["statements"])], TODAY)
    s = suppressed(out)
    assert s["CVE-2023-32681"] is None
    assert s["CVE-2023-43804"] == Suppression(SuppressionKind.VEX, "fixed: backported patch")


def test_vex_subcomponents_and_statement_without_products() -> None:
    doc = vex(*VALID["subcomponents of an image"]["statements"])
    assert suppressed(apply_suppressions([REQUESTS], None, [doc], TODAY)[0]) == {
        "CVE-2023-32681": Suppression(SuppressionKind.VEX, "not_affected: no proxies")}
    everywhere = vex({"vulnerability": {"name": "GHSA-v845-jxx5-vc9f"}, "status": "fixed"})
    other = vuln("CVE-2023-43804", "urllib3", "2.0.4", aliases=("GHSA-v845-jxx5-vc9f",))
    out, _ = apply_suppressions([URLLIB3, other], None, [everywhere], TODAY)
    assert all(f.suppression is not None for f in out)


def test_vex_product_must_match() -> None:
    st = {**NOT_AFFECTED, "products": [{"@id": "pkg:pypi/requests@2.31.0"}]}
    assert apply_suppressions([REQUESTS], None, [vex(st)], TODAY)[0][0].suppression is None
    versionless = {**NOT_AFFECTED, "products": [{"@id": "pkg:pypi/requests"}]}
    assert apply_suppressions([REQUESTS], None, [vex(versionless)], TODAY)[0][0].suppression


@pytest.mark.parametrize("status", ["affected", "under_investigation"])
def test_vex_other_statuses_do_not_suppress(status: str) -> None:
    st = {"vulnerability": {"name": "CVE-2023-32681"}, "status": status,
          "action_statement": "upgrade"}
    assert apply_suppressions([REQUESTS], None, [vex(st)], TODAY)[0][0].suppression is None


def test_latest_statement_wins() -> None:
    old_fix = {**NOT_AFFECTED, "timestamp": "2024-01-01T00:00:00Z"}
    new_affected = {"vulnerability": {"name": "CVE-2023-32681"}, "status": "affected",
                    "action_statement": "upgrade", "timestamp": "2024-03-01T00:00:00Z"}
    out, _ = apply_suppressions([REQUESTS], None, [vex(new_affected, old_fix)], TODAY)
    assert out[0].suppression is None
    # Across documents: a later document's statement (by its own timestamp) wins.
    later = vex(NOT_AFFECTED, timestamp="2024-06-01T00:00:00Z")
    out, _ = apply_suppressions([REQUESTS], None, [vex(new_affected), later], TODAY)
    assert out[0].suppression is not None


def test_vex_leaves_misconfigurations_alone() -> None:
    st = {"vulnerability": {"name": "LSH-DF-002"}, "status": "fixed"}
    assert apply_suppressions([misconfig()], None, [vex(st)], TODAY)[0][0].suppression is None


def test_vex_products_without_purl_are_reported() -> None:
    doc = vex(*VALID["affected and under investigation, with cpe products"]["statements"])
    _, issues = apply_suppressions([URLLIB3], None, [doc], TODAY)
    assert len(issues) == 1 and issues[0].plugin == "vex"
    assert "without a purl" in issues[0].message and "cpe23" in issues[0].message


def test_vex_wins_over_ignore_file(tmp_path: Path) -> None:
    ig = ignore(tmp_path, RULE + 'id = "CVE-2023-32681"\n')
    out, _ = apply_suppressions([REQUESTS], ig, [vex(NOT_AFFECTED)], TODAY)
    assert out[0].suppression is not None and out[0].suppression.kind is SuppressionKind.VEX


def test_suppress_report_adds_issues(tmp_path: Path) -> None:
    ig = ignore(tmp_path, RULE + 'id = "CVE-2023-32681"\nexpires = 2020-01-01\n'
                + RULE + 'id = "CVE-2023-43804"\n')
    report = Report(findings=(REQUESTS, URLLIB3))
    assert suppress_report(report, None, [], TODAY) is report
    out = suppress_report(report, ig, [], TODAY)
    assert [f.suppression is not None for f in out.findings] == [False, True]
    assert len(out.issues) == 1


# ---------------------------------------------------------------------------
# Table: vulnerabilities grouped by package
# ---------------------------------------------------------------------------

def test_table_groups_vulnerabilities_by_package() -> None:
    findings = (
        REQUESTS,
        URLLIB3,
        vuln("CVE-2021-33503", "urllib3", "1.26.4", Severity.LOW),
        vuln("CVE-2023-45803", "urllib3", "1.26.4", Severity.MEDIUM),
        vuln("CVE-2099-0001", "oldlib", "0.1", Severity.CRITICAL, fixed=(),
             status=VulnStatus.UNFIXED),
        misconfig(),
        replace(vuln("CVE-2000-0001", "requests", "2.25.0", Severity.CRITICAL),
                suppression=Suppression(SuppressionKind.VEX, "fixed")),
    )
    report = Report(targets=(Target(name="img", kind=TargetKind.IMAGE),), findings=findings)
    lines = table.render(report).splitlines()
    start = lines.index("findings: 6 (CRITICAL 1, HIGH 2, MEDIUM 2, LOW 1)")
    body = lines[start + 1:]
    assert body[0] == "vulnerabilities: 5 in 3 package(s) (CRITICAL 1, HIGH 1, MEDIUM 2, LOW 1)"
    heads = [line for line in body if line.startswith("  ") and not line.startswith("    ")]
    # worst package first; the suppressed finding is not listed
    assert heads[0].startswith("  oldlib 0.1 (PyPI)  CRITICAL 1  ")
    assert heads[1].startswith("  urllib3 1.26.4 (PyPI)  HIGH 1, MEDIUM 1, LOW 1  "
                               f"{SITE}/urllib3-1.26.4.dist-info/METADATA (layer ")
    assert heads[2].startswith("  requests 2.25.0 (PyPI)  MEDIUM 1  ")
    i = body.index(heads[1])
    urllib3_lines = body[i + 1:i + 4]
    assert [line.split()[:2] for line in urllib3_lines] == [
        ["HIGH", "CVE-2023-43804"], ["MEDIUM", "CVE-2023-45803"], ["LOW", "CVE-2021-33503"]]
    assert all(line.startswith("    ") and "fixed in 9.9" in line for line in urllib3_lines)
    assert "no fix yet" in body[body.index(heads[0]) + 1]
    assert "CVE-2000-0001" not in "\n".join(lines)
    # the other findings keep their own lines, after the vulnerabilities
    k = body.index("other findings: 1 (HIGH 1)")
    assert body[k + 1].split()[:2] == ["HIGH", "LSH-DF-002"]
    assert body[k + 1].endswith("Dockerfile:4")


def test_table_without_vulnerabilities_is_unchanged() -> None:
    out = table.render(Report(findings=(misconfig(),)))
    assert out.splitlines() == [
        "findings: 1 (HIGH 1)",
        "  HIGH     LSH-DF-002       Last USER is root  Dockerfile:4",
    ]


def test_table_names_the_target_when_several() -> None:
    a = vuln("CVE-1", "requests", "2.25.0", target="a")
    b = vuln("CVE-1", "requests", "2.25.0", target="b")
    report = Report(targets=(Target(name="a", kind=TargetKind.IMAGE),
                             Target(name="b", kind=TargetKind.IMAGE)), findings=(a, b))
    heads = [line for line in table.render(report).splitlines()
             if line.startswith("  requests")]
    assert len(heads) == 2 and heads[0].endswith("[a]") and heads[1].endswith("[b]")


def test_table_long_titles_are_shortened() -> None:
    f = vuln("CVE-1", "requests", "2.25.0")
    f = replace(f, title="word " * 40)
    line = next(x for x in table.render(Report(findings=(f,))).splitlines() if "CVE-1" in x)
    assert line.endswith("…") and len(line) < 130
