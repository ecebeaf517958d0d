"""LABEL rules (Hadolint DL3048-DL3058): key format, label schema, value formats,
the [scan] label_schema configuration and `lashing scan --config`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lashing.audit.config import ScanSettings, load_scan_settings
from lashing.errors import InputError
from lashing.model import CheckStatus
from lashing.rules.dockerfile import labels, scan_dockerfile
from lashing.rules.framework import RuleConfig

from cli_helpers import run

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
OCI = "org.opencontainers.image."
SCHEMA = ((OCI + "source", "url"), (OCI + "version", "semver"), (OCI + "licenses", "spdx"),
          (OCI + "created", "rfc3339"), (OCI + "revision", "hash"), ("maintainer", "email"),
          (OCI + "title", "text"))


def scan(text: str, schema: tuple[tuple[str, str], ...] = (), strict: bool = False,
         ) -> tuple[dict[str, list[tuple[int | None, str]]], dict[str, tuple[CheckStatus, str]]]:
    findings, checks = scan_dockerfile("Dockerfile", text,
                                       RuleConfig(label_schema=schema, strict_labels=strict))
    found: dict[str, list[tuple[int | None, str]]] = {}
    for f in findings:
        found.setdefault(f.rule_id, []).append((f.location.line, f.message))
    return found, {c.rule_id: (c.status, c.reason) for c in checks}


# -- value formats ---------------------------------------------------------------

@pytest.mark.parametrize(("key", "valid"), [
    ("org.opencontainers.image.source", True), ("version", True), ("a1", True),
    ("build-date", True), ("com.example.x-y.z2", True),
    ("Version", False), ("1abc", False), ("-abc", False), ("abc-", False), ("abc.", False),
    ("my_label", False), ("a..b", False), ("a--b", False), ("a b", False), ("ünïcode", False),
    ("com.docker.compose.project", False), ("io.docker.x", False),
    ("org.dockerproject.x", False), ("", False),
])
def test_label_keys(key: str, valid: bool) -> None:
    assert (labels.key_problem(key) is None) is valid


@pytest.mark.parametrize(("kind", "value", "valid"), [
    ("url", "https://github.com/acme/app", True),
    ("url", "https://example.com:8443/a?b=c#d", True),
    ("url", "https://[::1]:8080/", True),
    ("url", "mailto:team@example.org", True),
    ("url", "urn:isbn:0451450523", True),
    ("url", "file:///srv/doc", True),
    ("url", "https://example.com/%7Euser", True),
    ("url", "github.com/acme/app", False),
    ("url", "https://exa mple.com", False),
    ("url", "https://example.com/%zz", False),
    ("url", "https://example.com:http/", False),
    ("url", "https://", False),
    ("url", "http:/x", False),
    ("url", "1http://x", False),
    ("rfc3339", "2024-05-01T12:00:00Z", True),
    ("rfc3339", "2024-05-01t12:00:00.123456789-07:30", True),
    ("rfc3339", "2016-12-31T23:59:60Z", True),
    ("rfc3339", "2024-05-01", False),
    ("rfc3339", "2024-05-01 12:00:00Z", False),
    ("rfc3339", "2024-05-01T12:00:00", False),
    ("rfc3339", "2024-13-01T12:00:00Z", False),
    ("rfc3339", "2023-02-29T12:00:00Z", False),
    ("rfc3339", "2024-05-01T24:00:00Z", False),
    ("rfc3339", "2024-05-01T12:00:61Z", False),
    ("rfc3339", "2024-05-01T12:00:00+24:00", False),
    ("rfc3339", "2024-05-01T12:00:00+0200", False),
    ("rfc3339", "२०२४-05-01T12:00:00Z", False),
    ("semver", "0.0.0", True),
    ("semver", "1.2.3-alpha.1+build.7", True),
    ("semver", "1.0.0-0A.is.legal", True),
    ("semver", "1.2", False),
    ("semver", "v1.2.3", False),
    ("semver", "1.02.3", False),
    ("semver", "1.2.3-01", False),
    ("semver", "1.2.3+", False),
    ("semver", "١.2.3", False),
    ("hash", "abcdef0", True),
    ("hash", "a" * 40, True),
    ("hash", "0" * 64, True),
    ("hash", "abcdef", False),
    ("hash", "A" * 40, False),
    ("hash", "g" * 40, False),
    ("hash", "a" * 41, False),
    ("email", "team@example.org", True),
    ("email", "first.last+tag@sub.example.co.uk", True),
    ("email", '"odd local"@example.org', True),
    ("email", "NGINX Docker Maintainers <docker-maint@nginx.com>", True),
    ("email", "root@[192.0.2.1]", True),
    ("email", "team at example.org", False),
    ("email", "team@", False),
    ("email", "@example.org", False),
    ("email", "a@b@example.org", False),
    ("email", "a..b@example.org", False),
    ("email", "team@-example.org", False),
    ("email", "Team <not-an-address>", False),
    ("email", "Jürgen Müller <jm@example.org>", True),
    ("email", '"Doe, Jane" <jd@example.org>', True),
    ("email", "Doe, Jane <jd@example.org>", False),
    ("email", "Team (ops) <team@example.org>", False),
    ("email", "x" * 65 + "@example.org", False),
    ("spdx", "MIT", True),
    ("spdx", "apache-2.0", True),
    ("spdx", "GPL-2.0-or-later", True),
    ("spdx", "GPL-2.0+", True),
    ("spdx", "MIT OR Apache-2.0", True),
    ("spdx", "(MIT OR Apache-2.0) AND BSD-3-Clause", True),
    ("spdx", "GPL-2.0-only WITH Classpath-exception-2.0", True),
    ("spdx", "LicenseRef-acme-eula", True),
    ("spdx", "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2", True),
    ("spdx", "mit or apache-2.0", True),
    ("spdx", "Apache 2", False),
    ("spdx", "BSD", False),
    ("spdx", "MIT OR", False),
    ("spdx", "(MIT", False),
    ("spdx", "MIT Or Apache-2.0", False),
    ("spdx", "GPL-2.0-only WITH", False),
    ("spdx", "Proprietary", False),
    ("spdx", "MIT AND Foo AND Bar AND Baz AND Qux", False),
    ("spdx", "(" * 3 + "MIT" + ")" * 3, True),
    ("spdx", "(" * 21 + "MIT" + ")" * 21, False),
])
def test_value_formats(kind: str, value: str, valid: bool) -> None:
    assert (labels.FORMATS[kind](value) is None) is valid, labels.FORMATS[kind](value)


def test_spdx_list_comes_from_cyclonedx() -> None:
    ids = labels.spdx_ids()
    assert ids is not None and len(ids) > 500
    assert {"mit", "apache-2.0", "classpath-exception-2.0"} <= ids


def test_unreadable_spdx_list_is_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(labels, "spdx_ids", lambda: None)
    found, checks = scan('FROM alpine:3.20\nLABEL lic="Apache 2"\n', (("lic", "spdx"),))
    assert "LSH-DF-073" not in found
    assert checks["LSH-DF-073"][0] is CheckStatus.NOT_CHECKED
    assert "SPDX license list" in checks["LSH-DF-073"][1]


# -- rules over Dockerfiles --------------------------------------------------------

GOOD = f"""\
FROM golang:1.22 AS build
RUN go build -o /app .
FROM alpine:3.20
LABEL {OCI}source="https://github.com/acme/app" \\
      {OCI}version="1.4.2" \\
      {OCI}licenses="Apache-2.0 OR MIT" \\
      {OCI}created="2024-05-01T12:00:00Z" \\
      {OCI}revision="0123456789abcdef0123456789abcdef01234567" \\
      {OCI}title="app"
LABEL maintainer="Build Team <build@acme.example>"
COPY --from=build /app /app
"""

LABEL_RULES = [r.id for r in labels.RULES]


def test_a_well_labelled_file_passes_every_label_rule() -> None:
    found, checks = scan(GOOD, SCHEMA, strict=True)
    assert not set(found) & set(LABEL_RULES)
    assert all(checks[r][0] is CheckStatus.PASS for r in LABEL_RULES)


def test_without_a_schema_only_the_key_rule_applies() -> None:
    found, checks = scan('FROM alpine:3.20\nLABEL Version=""\n')
    assert found["LSH-DF-067"] == [(2, "label key 'Version' must start with a lower-case letter")]
    for rule_id in LABEL_RULES[1:]:
        status, reason = checks[rule_id]
        assert status is CheckStatus.NOT_APPLICABLE, rule_id
        assert reason in ("no label schema configured", "strict labels not enabled")
    assert checks["LSH-DF-071"] == (CheckStatus.NOT_APPLICABLE, "no label schema configured")


def test_key_rule_needs_a_label() -> None:
    _, checks = scan("FROM alpine:3.20\n")
    assert checks["LSH-DF-067"] == (CheckStatus.NOT_APPLICABLE, "no LABEL instruction")


def test_schema_without_a_type_leaves_that_format_rule_not_applicable() -> None:
    _, checks = scan('FROM alpine:3.20\nLABEL version="1"\n', (("version", "text"),))
    assert checks["LSH-DF-075"] == (CheckStatus.NOT_APPLICABLE,
                                    "the label schema has no semver labels")
    assert checks["LSH-DF-068"][0] is CheckStatus.PASS


def test_each_format_rule_names_label_value_and_line() -> None:
    bad = (f'FROM alpine:3.20\nLABEL {OCI}source="github.com/acme/app"\n'
           f'LABEL {OCI}version=v1.2.3 {OCI}licenses="Apache 2"\n'
           f'LABEL {OCI}created="2024-05-01" {OCI}revision=main maintainer="me"\n'
           f'LABEL {OCI}title=""\n')
    found, _ = scan(bad, SCHEMA)
    assert found["LSH-DF-071"] == [(2, f'label {OCI}source="github.com/acme/app" has no '
                                       "scheme (write https://...)")]
    assert found["LSH-DF-075"] == [(3, f'label {OCI}version="v1.2.3" has a leading \'v\', '
                                       "which is not part of a semantic version")]
    assert [line for line, _ in found["LSH-DF-073"]] == [3]
    assert [line for line, _ in found["LSH-DF-072"]] == [4]
    assert [line for line, _ in found["LSH-DF-074"]] == [4]
    assert [line for line, _ in found["LSH-DF-076"]] == [4]
    assert found["LSH-DF-070"] == [(5, f"label {OCI}title is empty")]
    assert "LSH-DF-068" not in found


def test_variable_values_are_decided_at_build_time() -> None:
    text = ("FROM alpine:3.20\nARG VERSION\nARG REVISION=dev\n"
            "LABEL version=$VERSION revision=${REVISION}\n")
    found, checks = scan(text, (("version", "semver"), ("revision", "hash")))
    assert "LSH-DF-075" not in found and "LSH-DF-074" not in found
    assert checks["LSH-DF-075"] == (CheckStatus.NOT_CHECKED,
                                    "version=$VERSION: set from a build variable, known only "
                                    "at build time")
    # A literal value next to it is still checked.
    found, checks = scan(text + "LABEL version=1.0\n", (("version", "semver"),))
    assert [line for line, _ in found["LSH-DF-075"]] == [5]


def test_missing_labels_per_image_producing_stage() -> None:
    schema = (("version", "text"), ("vendor", "text"))
    text = ("FROM golang:1.22 AS build\n"                  # 1 COPY --from source: exempt
            "FROM debian:12 AS base\nLABEL vendor=acme\n"  # 2 parent of app: exempt
            "FROM base AS app\nLABEL version=1\n"          # 4 inherits vendor: complete
            "COPY --from=build /a /a\n"
            "FROM alpine:3.20 AS tools\n"                  # 7 COPY --from=3: exempt
            "FROM alpine:3.20 AS unused\n"                 # 8 an image of its own
            "FROM alpine:3.20\nLABEL vendor=acme\n"        # 9 final
            "COPY --from=3 /b /b\n")
    found, _ = scan(text, schema)
    assert found["LSH-DF-068"] == [(8, "stage 'unused' lacks label(s) version, vendor"),
                                   (9, "stage 5 (alpine:3.20) lacks label(s) version")]


def test_onbuild_labels_are_checked_but_do_not_label_this_image() -> None:
    text = "FROM alpine:3.20\nONBUILD LABEL version=latest Bad=1\n"
    found, _ = scan(text, (("version", "semver"),), strict=True)
    assert [line for line, _ in found["LSH-DF-068"]] == [1]
    assert [line for line, _ in found["LSH-DF-075"]] == [2]
    assert [line for line, _ in found["LSH-DF-067"]] == [2]
    assert [line for line, _ in found["LSH-DF-069"]] == [2]


def test_strict_labels() -> None:
    text = 'FROM alpine:3.20\nLABEL version="1" build.host="ci-7" owner=me\n'
    found, _ = scan(text, (("version", "text"),), strict=True)
    assert found["LSH-DF-069"] == [(2, "label build.host is not in the label schema; "
                                       "label owner is not in the label schema")]
    # Strict with no schema: every label is superfluous (Hadolint's semantics).
    found, checks = scan(text, strict=True)
    assert len(found["LSH-DF-069"]) == 1 and "label version is not" in found["LSH-DF-069"][0][1]
    assert checks["LSH-DF-068"][0] is CheckStatus.NOT_APPLICABLE


def test_inline_ignore_by_hadolint_code() -> None:
    text = ("FROM alpine:3.20\n# lashing:ignore=hadolint:DL3056 release tags carry a v\n"
            "LABEL version=v1.2.3\n")
    findings, checks = scan_dockerfile("Dockerfile", text,
                                       RuleConfig(label_schema=(("version", "semver"),)))
    [finding] = [f for f in findings if f.rule_id == "LSH-DF-075"]
    assert [c.reason for c in checks if c.rule_id == finding.rule_id] == [
        "1 finding(s) suppressed inline"]
    assert finding.suppression is not None
    assert finding.suppression.reason == "release tags carry a v"


def test_long_values_are_shortened_in_messages() -> None:
    found, _ = scan(f"FROM alpine:3.20\nLABEL v={'x' * 500}\n", (("v", "semver"),))
    [(_, message)] = found["LSH-DF-075"]
    assert len(message) < 150 and '..."' in message


def test_official_nginx_dockerfiles() -> None:
    base = DATA / "dockerfiles-official" / "nginx"
    if not base.is_dir():
        pytest.skip(f"{base} is absent (real Dockerfiles from docker-library)")
    paths = sorted(base.rglob("Dockerfile"))
    assert paths
    for path in paths:
        text = path.read_text(encoding="utf-8")
        found, checks = scan(text, (("maintainer", "email"),))
        if "LABEL maintainer=" not in text:  # the variants built FROM another nginx image
            continue
        # "NGINX Docker Maintainers <docker-maint@nginx.com>" is an RFC 5322 mailbox.
        assert checks["LSH-DF-076"][0] is CheckStatus.PASS, path
        assert checks["LSH-DF-067"][0] is CheckStatus.PASS, path
        found, _ = scan(text, (("org.opencontainers.image.version", "semver"),), strict=True)
        assert [m for _, m in found["LSH-DF-069"]] == [
            "label maintainer is not in the label schema"], path
        assert "lacks label(s) org.opencontainers.image.version" in found["LSH-DF-068"][0][1]


# -- configuration -------------------------------------------------------------------

def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "lashing.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_scan_section_with_label_schema(tmp_path: Path) -> None:
    path = write(tmp_path, """
[scan]
db = "db/lashing.db"
skip_rules = ["LSH-DF-022"]
strict_labels = true
label_schema = { version = "semver", "org.opencontainers.image.source" = "url" }
""")
    settings = load_scan_settings(path)
    assert settings == ScanSettings(
        db=tmp_path / "db" / "lashing.db", skip_rules=("LSH-DF-022",), strict_labels=True,
        label_schema=(("version", "semver"), ("org.opencontainers.image.source", "url")))
    assert load_scan_settings(write(tmp_path, "[policy]\n")) == ScanSettings()


@pytest.mark.parametrize(("body", "message", "hint"), [
    ('[scan]\nlabel_schema = { version = "semvar" }\n',
     "scan.label_schema.version: unknown label type 'semvar'", "did you mean 'semver'?"),
    ('[scan]\nlabel_schema = { version = "date" }\n',
     "scan.label_schema.version: unknown label type 'date'",
     "valid types: text, url, email, semver, hash, spdx, rfc3339"),
    ("[scan]\nlabel_schema = { version = 3 }\n",
     "scan.label_schema.version: expected a type name", None),
    ('[scan]\nlabel_schema = { "" = "text" }\n', "'' is not a label name", None),
    ('[scan]\nlabel_schema = ["version"]\n', "scan.label_schema: expected a table", None),
    ('[scan]\nstrict_labels = "yes"\n', "scan.strict_labels: expected true or false", None),
    ("[scan]\nstrict_label = true\n", "unknown key 'strict_label'",
     "did you mean 'strict_labels'?"),
    ("[scn]\n", "unknown key 'scn'", "did you mean 'scan'?"),
])
def test_bad_scan_section(tmp_path: Path, body: str, message: str, hint: str | None) -> None:
    path = write(tmp_path, body)
    with pytest.raises(InputError) as info:
        load_scan_settings(path)
    assert str(path) in info.value.message and message in info.value.message
    if hint:
        assert info.value.hint == hint


# -- lashing scan --config -----------------------------------------------------------

CONFIG = """
[scan]
scanners = ["misconfig"]
skip_rules = ["LSH-DF-022"]
strict_labels = true

[scan.label_schema]
"org.opencontainers.image.source" = "url"
"org.opencontainers.image.version" = "semver"
"""

DOCKERFILE = """\
FROM alpine:3.20
LABEL org.opencontainers.image.source="github.com/acme/app" \\
      org.opencontainers.image.version="1.2.3" \\
      build.host="ci-7"
USER 10001
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    write(tmp_path, CONFIG)
    return tmp_path


def rule_ids(out: str) -> dict[str, str]:
    doc = json.loads(out)
    return {c["rule_id"]: c["status"] for c in doc["checks"]}


def test_scan_reads_the_config(project: Path) -> None:
    r = run("scan", str(project / "Dockerfile"), "--config", str(project / "lashing.toml"),
            "--format", "json", "--fail-on", "LOW")
    assert r.code == 1, r.err
    doc = r.json()
    found = {f["rule_id"]: f for f in doc["findings"]}
    assert set(found) == {"LSH-DF-069", "LSH-DF-071"}
    assert found["LSH-DF-071"]["aliases"] == ["hadolint:DL3052"]
    assert found["LSH-DF-071"]["location"] == {"path": str(project / "Dockerfile"), "line": 2}
    checks = rule_ids(r.out)
    assert checks["LSH-DF-022"] == "not-checked"  # skip_rules from the config
    assert checks["LSH-DF-075"] == "pass"
    assert checks["LSH-DF-068"] == "pass"


def test_command_line_and_environment_win_over_the_config(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = ("scan", str(project / "Dockerfile"), "-c", str(project / "lashing.toml"),
            "--format", "json")
    r = run(*args, "--skip-rules", "LSH-DF-069", "--require-label", "owner:email")
    checks = rule_ids(r.out)
    assert checks["LSH-DF-069"] == "not-checked" and checks["LSH-DF-022"] == "fail"
    assert checks["LSH-DF-071"] == "not-applicable"  # the schema is now owner:email only
    assert checks["LSH-DF-068"] == "fail"
    monkeypatch.setenv("LASHING_STRICT_LABELS", "false")
    checks = rule_ids(run(*args).out)
    assert checks["LSH-DF-069"] == "not-applicable" and checks["LSH-DF-071"] == "fail"
    monkeypatch.setenv("LASHING_CONFIG", str(project / "lashing.toml"))
    monkeypatch.setenv("LASHING_SCANNERS", "secret")
    checks = rule_ids(run("scan", str(project / "Dockerfile"), "--format", "json").out)
    assert not any(k.startswith("LSH-DF") for k in checks)


def test_without_config_nothing_changes(project: Path) -> None:
    r = run("scan", str(project / "Dockerfile"), "--format", "json")
    checks = rule_ids(r.out)
    assert checks["LSH-DF-071"] == "not-applicable" and checks["LSH-DF-022"] == "fail"
    assert checks["LSH-DF-067"] == "pass"


@pytest.mark.parametrize(("extra", "body", "error"), [
    ((), '[scan]\nlabel_schema = { version = "semvr" }\n',
     "scan.label_schema.version: unknown label type 'semvr'"),
    ((), '[scan]\nscanners = ["misconfg"]\n', "scan.scanners 'misconfg': unknown misconfg"),
    (("--require-label", "version"), "", "--require-label 'version': expected LABEL:TYPE"),
    (("--require-label", "version:semvr"), "",
     "--require-label 'version:semvr': unknown label type 'semvr'"),
])
def test_bad_settings_exit_2_with_one_line(project: Path, extra: tuple[str, ...], body: str,
                                           error: str) -> None:
    write(project, body)
    r = run("scan", str(project / "Dockerfile"), "--config", str(project / "lashing.toml"),
            *extra)
    assert r.code == 2, r.err
    assert error in r.err.splitlines()[0] and "Traceback" not in r.err
    assert not r.out


def test_hostile_config_is_refused(project: Path) -> None:
    path = write(project, "[scan]\n" + "#" * (2 * 1024 * 1024) + "\n")
    r = run("scan", str(project / "Dockerfile"), "--config", str(path))
    assert r.code == 2 and "too large for a config file" in r.err
    r = run("scan", str(project / "Dockerfile"), "--config", str(project / "missing.toml"))
    assert r.code == 2 and "no such file" in r.err


def test_audit_applies_the_label_schema(project: Path) -> None:
    write(project, '[audit]\ndockerfiles = ["Dockerfile"]\n\n'
                   '[scan]\nscanners = ["misconfig"]\n'
                   'label_schema = { "org.opencontainers.image.source" = "url" }\n')
    r = run("audit", "-c", str(project / "lashing.toml"), "--format", "json")
    assert r.code == 0, r.err
    found = [f["rule_id"] for f in r.json()["findings"]]
    assert "LSH-DF-071" in found and "LSH-DF-069" not in found


@pytest.mark.parametrize("kind", sorted(labels.FORMATS))
def test_hostile_values_are_judged_in_linear_time(kind: str) -> None:
    import time

    values = ["1.2.3-" + "1" * 200_000 + "!", "a" * 200_000 + "@" + "a-" * 100_000 + "!",
              "https://" + "%4" * 100_000, "(" * 50_000 + "MIT" + ")" * 49_999,
              "2024-05-01T12:00:00" + "." + "9" * 200_000 + "!", "a." * 100_000,
              "(" * 100_000 + "<a@b.org>", "a <" * 50_000 + "b@c.org>"]
    start = time.perf_counter()
    for value in values:
        problem = labels.FORMATS[kind](value)
        assert problem is not None and len(problem) < 200
    assert time.perf_counter() - start < 1.0


def test_hostile_keys_give_short_messages() -> None:
    key = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 5000)) + "A" * 100_000
    found, _ = scan(f"FROM alpine:3.20\nLABEL x{key}=1\n", (("v", "text"),), strict=True)
    for rule_id in ("LSH-DF-067", "LSH-DF-069"):
        [(line, message)] = found[rule_id]
        assert line == 2 and len(message) < 200, message
