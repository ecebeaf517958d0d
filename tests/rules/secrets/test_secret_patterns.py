"""Secret patterns one by one, redaction, image configuration, skip counting."""

from __future__ import annotations

import base64
import json

import pytest

from lashing.fs.tree import FileEntry, FileKind
from lashing.model import CheckStatus, FindingKind, Report, Severity, Surface
from lashing.report.json import render
from lashing.rules.secrets import (
    FAMILY,
    RULES,
    SecretConfig,
    SecretScanner,
    redact,
    redact_text,
    scan_config,
    scan_text,
)
from lashing.rules.secrets.rules import fake
from lashing.source.image import HistoryEntry, ImageConfig

# Made-up credentials, assembled from pieces so no line of this file has their shape.
GITHUB = "gh" + "p_" + fake(36)
GITHUB_FG = "github" + "_pat_" + fake(22) + "_" + fake(59)
GITLAB = "gl" + "pat-" + fake(20)
AKIA = "AK" + "IA" + fake(16, "Q7W2E3R4T5Y6U7ZXKM")
ASIA = "AS" + "IA" + fake(16, "Q7W2E3R4T5Y6U7ZXKM")
AWS_SECRET = fake(40, "wJ7rXU9tnFM1K7Dg3bPx5fCY2aLq8sZ4/+")
SLACK = "xo" + "xp-" + "7302918465-" + "5829301746-" + fake(26)
STRIPE = "sk" + "_live_" + fake(30)
SENDGRID = "SG" + "." + fake(22) + "." + fake(43)
NPM = "np" + "m_" + fake(36)
PYPI = "pypi-" + "AgEIcHlwaS5vcmc" + fake(70)
PASSWORD = fake(18, "Hq7!vR2_mZ9xK4pL")
PEM_BODY = "\n".join([fake(64, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC+/7Rt2Zq")] * 8)
PEM = ("-----BEGIN OPENSSH PRIVATE " + "KEY-----\n" + PEM_BODY + "\n-----END OPENSSH PRIVATE "
       + "KEY-----\n")


def _b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


JWT = (_b64url('{"alg":"RS256","kid":"k1"}') + "." + _b64url('{"sub":"ci","exp":4102444800}')
       + "." + fake(86, "a8Kd_3mZ-Qx7Lp2Wv9"))


def ids(text: str, path: str = "/app/settings.conf") -> list[str]:
    return [rule_id for rule_id, _v in scan_text(text, path)]


FIRES = [
    ("LSH-SEC-001", PEM, "/home/app/.ssh/id_ed25519"),
    ("LSH-SEC-001", PEM.replace("OPENSSH ", "EC "), "/etc/app/tls.key"),
    ("LSH-SEC-001", PEM.replace("OPENSSH ", "ENCRYPTED "), "/etc/app/tls.key"),
    ("LSH-SEC-001", PEM.replace("OPENSSH ", ""), "/etc/app/pkcs8.pem"),
    ("LSH-SEC-002", f"key_id: {AKIA}\n", "/app/c.yaml"),
    ("LSH-SEC-002", f"export AWS_ACCESS_KEY_ID={ASIA}\n", "/app/env.sh"),
    ("LSH-SEC-003", f"aws_secret_access_key={AWS_SECRET}\n", "/root/.aws/credentials"),
    ("LSH-SEC-003", f"AWS_SECRET_ACCESS_KEY: '{AWS_SECRET}'\n", "/app/c.yaml"),
    ("LSH-SEC-004", f"token={GITHUB}\n", "/app/.env"),
    ("LSH-SEC-004", f'"{"gh" + "s_" + fake(36)}"', "/app/a.json"),
    ("LSH-SEC-004", f"{GITHUB_FG}\n", "/app/t"),
    ("LSH-SEC-005", f"GITLAB={GITLAB}\n", "/app/.env"),
    ("LSH-SEC-006", f"slack: {SLACK}\n", "/app/c.yaml"),
    ("LSH-SEC-007", "https://hooks." + "slack.com/services/T01" + fake(7).upper() + "/B02"
     + fake(8).upper() + "/" + fake(24), "/app/c.txt"),
    ("LSH-SEC-008", f"stripe.api_key = '{STRIPE}'\n", "/app/pay.py"),
    ("LSH-SEC-009", f"SENDGRID={SENDGRID}\n", "/app/.env"),
    ("LSH-SEC-010", f"//registry.npmjs.org/:_authToken={NPM}\n", "/root/.npmrc"),
    ("LSH-SEC-011", f"password = {PYPI}\n", "/root/.pypirc"),
    ("LSH-SEC-013", f"Authorization: Bearer {JWT}\n", "/app/req.http"),
    ("LSH-SEC-014", f"amqp://svc:{PASSWORD}@rabbit.internal:5672/vhost\n", "/app/c.txt"),
    ("LSH-SEC-014", f"git clone https://oauth2:{fake(20)}@gitlab.corp.net/x.git\n",
     "/app/build.sh"),
    ("LSH-SEC-015", f"db_password = '{PASSWORD}'\n", "/app/settings.py"),
    ("LSH-SEC-015", f"spring.datasource.password={PASSWORD}\n", "/app/application.properties"),
    ("LSH-SEC-015", f'{{"clientSecret": "{fake(32)}"}}', "/app/c.json"),
    ("LSH-SEC-015", f"<add key=\"ApiKey\" value=\"x\"/>\nApiKey: {fake(24)}\n", "/app/c.yml"),
    ("LSH-SEC-015", f"export SECRET_KEY_BASE={fake(64)}\n", "/app/env.sh"),
    ("LSH-SEC-016", json.dumps({"auths": {"ghcr.io": {"auth": base64.b64encode(
        f"bot:{PASSWORD}".encode()).decode()}}}), "/root/.docker/config.json"),
    ("LSH-SEC-017", "_auth=" + base64.b64encode(f"bot:{PASSWORD}".encode()).decode() + "\n",
     "/home/node/.npmrc"),
]

SILENT = [
    ("-----BEGIN RSA PRIVATE " + "KEY-----\nMIIE...\n-----END RSA PRIVATE " + "KEY-----\n",
     "/app/README.md"),
    ("-----BEGIN CERTIFICATE-----\n" + PEM_BODY + "\n-----END CERTIFICATE-----\n",
     "/etc/ssl/cert.pem"),
    ("-----BEGIN PUBLIC " + "KEY-----\n" + PEM_BODY + "\n-----END PUBLIC " + "KEY-----\n",
     "/etc/app/pub.pem"),
    ("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"
     "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", "/app/.env"),
    (f"{GITHUB}", "/usr/lib/python3/dist-packages/github/tests/test_auth.py"),
    ("token=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", "/app/.env"),
    ("url: https://user:pass@example.com/\nurl: https://$USER:$TOKEN@ci.corp.net\n"
     "git+ssh://git@github.com/org/repo.git\nhttp://localhost:8080/@admin\n", "/app/c.txt"),
    ("password = ${DB_PASSWORD}\npassword: {{ .Values.db.password }}\n"
     "password=<your password>\npassword: '%(password)s'\napi_key: ''\n"
     "secret: changeme\ntoken: xxxxxxxxxxxxxxxx\npassword = 'hunter2'\n", "/app/c.ini"),
    ("password_file: /run/secrets/db\ntoken_url: https://auth.corp.net/token\n"
     "secretName: app-tls-cert\nsecret_key_ref: DJANGO_SECRET\n", "/app/c.yaml"),
    ("if password == 'Tr0ub4dor3xQ':\n    pass\nkey = os.environ['API_KEY']\n"
     "token = generate_token(user, 3600)\npassword: str = field(default='')\n",
     "/app/auth.py"),
    ("ENV PYTHON_SHA256=3c8f8e7b9f6b3bba5bc3c9f0a6f8cc1c8f5f6f2e5c1ad0b7b4c9ccd2de0e1f3c\n"
     "ENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\n"
     "ENV NODE_VERSION=22.12.0 YARN_VERSION=1.22.22\n", "/Dockerfile"),
    ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.\n", "/app/c.txt"),
    (f"password = '{PASSWORD}'\n", "/usr/lib/python3/dist-packages/lib/client.py"),
    ("//npm.corp.net/:_authToken=${NPM_TOKEN}\n_auth=\n", "/app/.npmrc"),
]


def test_every_rule_is_a_secret_rule_with_examples() -> None:
    assert len({r.id for r in RULES}) == len(RULES) >= 17
    for r in RULES:
        assert r.id.startswith("LSH-SEC-") and r.kind is FindingKind.SECRET
        assert r.nist == ("4.1.4",) and r.surface is Surface.IMAGE
        assert any(e.fires for e in r.examples) and any(not e.fires for e in r.examples)
        for e in r.examples:
            assert FAMILY.fires(r, e) is e.fires, (r.id, e.name)


@pytest.mark.parametrize(("rule_id", "text", "path"), FIRES,
                         ids=[f"{r}-{k}" for k, (r, _t, _p) in enumerate(FIRES)])
def test_fires(rule_id: str, text: str, path: str) -> None:
    assert rule_id in ids(text, path)


@pytest.mark.parametrize(("text", "path"), SILENT, ids=[str(k) for k in range(len(SILENT))])
def test_silent(text: str, path: str) -> None:
    assert ids(text, path) == []


def test_npmrc_rule_reads_npmrc_files_only() -> None:
    text = f"//npm.corp.net/:_authToken={fake(36)}\n"
    assert ids(text, "/home/node/.npmrc") == ["LSH-SEC-017"]
    assert "LSH-SEC-017" not in ids(text, "/app/notes.txt")


def test_line_numbers_and_one_finding_per_value() -> None:
    text = f"# config\n\nDB_PASSWORD={PASSWORD}\nTOKEN={GITHUB}\n"
    found = scan_text(text, "/app/.env")
    assert [(r, v.location.line) for r, v in found] == [("LSH-SEC-004", 4),
                                                         ("LSH-SEC-015", 3)]


def test_two_secrets_on_one_line_are_one_finding() -> None:
    scanner = SecretScanner()
    text = f"a={GITHUB} b={'gh' + 'o_' + fake(36, 'Pq9Lm2Zx7Rt4Wv1Nc8')}\n"
    scanner.visit(FileEntry("/app/x", FileKind.FILE, 0o644, 0, 0, len(text), None, None),
                  text.encode())
    [finding] = scanner.findings("img", "id")
    assert finding.message.count("GitHub token") == 2 and finding.location.line == 1


def test_service_account_file_is_one_finding() -> None:
    doc = json.dumps({"type": "service_account", "project_id": "p",
                      "private_key": PEM.replace("OPENSSH ", ""),
                      "client_email": "x@p.iam.gserviceaccount.com"})
    assert ids(doc, "/app/key.json") == ["LSH-SEC-012"]


SECRETS = [GITHUB, GITHUB_FG, GITLAB, AKIA, AWS_SECRET, SLACK, STRIPE, SENDGRID, NPM, PYPI,
           PASSWORD, JWT, PEM_BODY.splitlines()[0]]


def test_redaction_in_messages_and_json_report() -> None:
    text = "\n".join([
        f"token={GITHUB}", f"fg={GITHUB_FG}", f"gl={GITLAB}", f"aws_access_key_id={AKIA}",
        f"aws_secret_access_key={AWS_SECRET}", f"slack={SLACK}", f"stripe={STRIPE}",
        f"sg={SENDGRID}", f"npm={NPM}", f"pypi={PYPI}", f"db_password={PASSWORD}",
        f"jwt={JWT}", f"dsn=postgres://app:{PASSWORD}x@db.internal/app", PEM,
    ])
    scanner = SecretScanner()
    entry = FileEntry("/app/.env", FileKind.FILE, 0o600, 0, 0, len(text), None,
                      "sha256:" + "a" * 64)
    assert scanner.wants(entry)
    scanner.visit(entry, text.encode())
    findings = scanner.findings("img", "sha256:" + "b" * 64)
    assert {f.rule_id for f in findings} >= {"LSH-SEC-001", "LSH-SEC-002", "LSH-SEC-003",
                                              "LSH-SEC-004", "LSH-SEC-005", "LSH-SEC-006",
                                              "LSH-SEC-008", "LSH-SEC-009", "LSH-SEC-010",
                                              "LSH-SEC-011", "LSH-SEC-013", "LSH-SEC-014",
                                              "LSH-SEC-015"}
    rendered = render(Report(findings=tuple(findings), checks=tuple(scanner.checks("img"))))
    for secret in SECRETS:
        assert secret not in rendered
        assert secret[len(secret) // 2:] not in rendered  # no long tail either
    for f in findings:
        assert f.kind is FindingKind.SECRET and f.nist == ("4.1.4",)
        assert f.location.path == "/app/.env" and f.location.line
        assert f.location.layer == "sha256:" + "a" * 64
        assert "redacted" in f.message


def test_url_user_that_is_a_token_is_redacted() -> None:
    found = scan_text(f"https://{GITHUB}:x-oauth-basic@github.com/org/repo\n", "/app/c.txt")
    assert [r for r, _v in found] == ["LSH-SEC-004", "LSH-SEC-014"]
    assert all(GITHUB not in v.message and GITHUB[4:12] not in v.message for _r, v in found)
    [(_r, v)] = scan_text(f"https://deploy:{PASSWORD}@git.corp.net/x\n", "/app/c.txt")
    assert "https://deploy:…(18 chars, redacted)@git.corp.net" in v.message


def test_redact_keeps_at_most_a_quarter() -> None:
    assert redact(GITHUB, 4) == "ghp_…(40 chars, redacted)"
    assert redact("abcdefgh", 4) == "ab…(8 chars, redacted)"
    assert redact("", 4) == "…(0 chars, redacted)"


def test_redact_text() -> None:
    text = f"RUN |2 TOKEN={GITHUB} DB_PASSWORD={PASSWORD} /bin/sh -c make"
    out = redact_text(text)
    assert GITHUB not in out and PASSWORD not in out
    assert out.startswith("RUN |2 TOKEN=ghp_…(40 chars, redacted) DB_PASSWORD=…(18 chars")
    assert out.endswith(" /bin/sh -c make")
    assert redact_text("apt-get install -y curl") == "apt-get install -y curl"


def test_image_config() -> None:
    config = ImageConfig(
        env=("PATH=/usr/local/bin:/usr/bin", f"GITHUB_TOKEN={GITHUB}",
             "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D", "PYTHON_VERSION=3.12.7"),
        labels=(("org.opencontainers.image.source", "https://github.com/org/app"),
                ("deploy.dsn", f"mysql://app:{PASSWORD}@db.corp.net/app")),
        history=(HistoryEntry(created_by=f"/bin/sh -c #(nop)  ENV GITHUB_TOKEN={GITHUB}"),
                 HistoryEntry(created_by=f"RUN |1 NPM_TOKEN={NPM} /bin/sh -c npm ci"),
                 HistoryEntry(created_by="/bin/sh -c apt-get update && apt-get install -y "
                              "curl ca-certificates"),
                 HistoryEntry(created_by="", empty_layer=True)),
    )
    findings = scan_config(config, "img", "sha256:" + "c" * 64)
    got = sorted((f.rule_id, f.location.resource) for f in findings)
    assert got == [("LSH-SEC-004", "config:env:GITHUB_TOKEN"),
                   ("LSH-SEC-010", "config:history:1"),
                   ("LSH-SEC-014", "config:label:deploy.dsn")]
    for f in findings:
        assert f.location.path is None and f.location.line is None
        assert "image configuration" in f.message
        assert f.fingerprint
    rendered = render(Report(findings=tuple(findings)))
    assert GITHUB not in rendered and NPM not in rendered and PASSWORD not in rendered


def test_wants_skips_and_counts() -> None:
    scanner = SecretScanner(SecretConfig(max_file_size=100))

    def entry(path: str, size: int = 10) -> FileEntry:
        return FileEntry(path, FileKind.FILE, 0o644, 0, 0, size, None, "sha256:" + "d" * 64)

    assert not scanner.wants(entry("/usr/share/doc/x/README"))
    assert not scanner.wants(entry("/proc/1/environ"))
    assert not scanner.wants(entry("/app/logo.png"))
    assert not scanner.wants(entry("/usr/lib/python3/x/tests/test_k.py"))
    assert not scanner.wants(entry("/app/big.json", 101))
    assert scanner.wants(entry("/app/.env"))
    scanner.visit(entry("/bin/tool"), b"\x7fELF\x00\x00" + GITHUB.encode())
    scanner.visit(entry("/app/.env"), b"EMPTY=1\n")
    c = scanner.counts
    assert (c.skipped_path, c.skipped_size, c.skipped_binary, c.scanned) == (4, 1, 1, 1)
    assert c.skipped == 6
    assert scanner.findings("img", "id") == []
    checks = scanner.checks("img")
    assert len(checks) == len(RULES) and {c.status for c in checks} == {CheckStatus.PASS}
    assert "1 files searched" in checks[0].reason


def test_skip_rules() -> None:
    scanner = SecretScanner(skip=("LSH-SEC-004", "trivy:generic"))
    e = FileEntry("/app/.env", FileKind.FILE, 0o644, 0, 0, 100, None, None)
    scanner.visit(e, f"T={GITHUB}\nDB_PASSWORD={PASSWORD}\nS={STRIPE}\n".encode())
    assert [f.rule_id for f in scanner.findings("img", "id")] == ["LSH-SEC-008"]
    status = {c.rule_id: c.status for c in scanner.checks("img")}
    assert status["LSH-SEC-004"] is CheckStatus.NOT_CHECKED
    assert status["LSH-SEC-015"] is CheckStatus.NOT_CHECKED
    assert status["LSH-SEC-008"] is CheckStatus.FAIL
    assert status["LSH-SEC-001"] is CheckStatus.PASS


def test_severities() -> None:
    by_id = {r.id: r for r in RULES}
    assert by_id["LSH-SEC-003"].severity is Severity.CRITICAL
    assert by_id["LSH-SEC-015"].severity is Severity.MEDIUM
