"""The secret rules: one per kind of credential, each a `Rule[TextSubject]`
with a firing and a non-firing example.

Example secrets are assembled at import time from pieces, so no string in
this file has the shape of a real credential (and nothing scanning this
source reports it).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

from lashing.model import FindingKind, Severity, Surface
from lashing.rules.framework import Example, Rule, Violation
from lashing.rules.secrets import detectors as d
from lashing.rules.secrets.subject import TextSubject

NIST = ("4.1.4",)
DOCKER_SECRETS = "https://docs.docker.com/build/building/secrets/"
REMEDIATION = ("Remove the credential from the image (from every layer: deleting it in a "
               "later layer leaves it in the earlier one), revoke it, and provide it at run "
               "time from a secret store or at build time with RUN --mount=type=secret.")


@dataclass(frozen=True)
class Sample:
    """An example file: its text and the path it is found at."""

    text: str
    path: str = "/app/config.env"

    def __str__(self) -> str:
        return f"# {self.path}\n{self.text}"


def fake(n: int, alphabet: str = "Zr8Kq2Lm9Xw4Tb7Np3Hd6Vc1Fg5Sj0YaUe") -> str:
    """A made-up credential body of `n` characters that looks random."""
    return (alphabet * (n // len(alphabet) + 1))[:n]


def _b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def load_example(example: Example) -> TextSubject:
    data = example.data
    if isinstance(data, Sample):
        return TextSubject(data.text.encode(), path=data.path)
    return TextSubject(str(data).encode(), path="/app/config.env")


DETECTORS: dict[str, d.Detector] = {}


def _secret_rule(id: str, title: str, severity: Severity, detector: d.Detector,
                 examples: tuple[Example, ...], description: str,
                 remediation: str = REMEDIATION,
                 references: tuple[str, ...] = (DOCKER_SECRETS,),
                 aliases: tuple[str, ...] = ()) -> Rule[TextSubject]:
    def check(subject: TextSubject) -> Iterator[Violation]:
        for h in detector.hits(subject):
            yield h.violation(subject)

    DETECTORS[id] = detector
    return Rule(id=id, title=title, severity=severity, surface=Surface.IMAGE, check=check,
                kind=FindingKind.SECRET, nist=NIST, aliases=aliases, description=description,
                remediation=remediation, references=references, examples=examples,
                tags=("secret",))


_BODY = "\n".join(fake(64, "MIIEowIBAAKCAQEAx7Q9mZ3+/Lw2Pk8Rt5Vb1Nc4Hd6Fg0Sj") for _ in range(6))
_KEY_HEAD = "-----BEGIN RSA PRIVATE " + "KEY-----"
_KEY_TAIL = "-----END RSA PRIVATE " + "KEY-----"
_AKIA = "AK" + "IA" + fake(16, "Q7W2E3R4T5Y6U7ZXKM")
_AWS_SECRET = fake(40, "wJ7rXU9tnFM1K7Dg3bPx5fCY2aLq8sZ4/+")
_JWT_HEADER = _b64url('{"alg":"HS256","typ":"JWT"}')
_JWT_PAYLOAD = _b64url('{"sub":"svc-deploy","iat":1717171717,"scope":"admin"}')
_JWT_SIG = fake(43, "Sf1KxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
_UNSIGNED = _b64url('{"alg":"none"}')
_HEX = "7f3a9c1e5b8d2064"
_DOCKER_AUTH = base64.b64encode(("deploy:" + fake(20)).encode()).decode()

PRIVATE_KEY = _secret_rule(
    "LSH-SEC-001", "Private key in the image", Severity.HIGH, d.PRIVATE_KEY,
    (
        Example(Sample(f"{_KEY_HEAD}\n{_BODY}\n{_KEY_TAIL}\n", "/root/.ssh/id_rsa"), True),
        Example(Sample(f'KEY = "{_KEY_HEAD}\\n{_BODY.replace(chr(10), "")}\\n{_KEY_TAIL}"\n',
                       "/app/settings.py"), True, "escaped newlines in a string"),
        Example(Sample(f"{_KEY_HEAD}\n...\n{_KEY_TAIL}\n", "/app/README"), False,
                "elided body"),
        Example(Sample(f"{_KEY_HEAD}\n{_BODY}\n{_KEY_TAIL}\n", "/usr/lib/x/tests/key.pem"),
                False, "test fixture"),
    ),
    "A private key (PEM RSA, EC, DSA, OpenSSH, PKCS#8 or PGP) with a body lets anyone who "
    "pulls the image impersonate its owner or decrypt its traffic.",
    remediation="Remove the key from every layer, rotate it, and mount it at run time "
    "(Kubernetes Secret, compose secrets) or at build time (RUN --mount=type=secret).",
    aliases=("trivy:private-key",),
)

AWS_ACCESS_KEY_ID = _secret_rule(
    "LSH-SEC-002", "AWS access key id in the image", Severity.HIGH, d.AWS_KEY_ID,
    (
        Example(f"AWS_ACCESS_KEY_ID={_AKIA}\n", True),
        Example("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n", False, "documentation key"),
        Example(f"id = {_AKIA.lower()}\n", False, "lowercase"),
    ),
    "An AWS access key id (AKIA long-term, ASIA temporary) names a credential; its secret "
    "is usually nearby.",
    aliases=("trivy:aws-access-key-id",),
)

AWS_SECRET_KEY = _secret_rule(
    "LSH-SEC-003", "AWS secret access key in the image", Severity.CRITICAL, d.AWS_SECRET,
    (
        Example(Sample(f"[default]\naws_access_key_id = {_AKIA}\n"
                       f"aws_secret_access_key = {_AWS_SECRET}\n", "/root/.aws/credentials"),
                True),
        Example(f'{{"SecretAccessKey": "{_AWS_SECRET}"}}\n', True, "STS JSON"),
        Example("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", False,
                "documentation key"),
        Example(f"secret_key = {_AWS_SECRET}\n", False, "no AWS context"),
    ),
    "An AWS secret access key grants whatever the key's IAM identity may do.",
    aliases=("trivy:aws-secret-access-key",),
)

GITHUB_TOKEN = _secret_rule(
    "LSH-SEC-004", "GitHub token in the image", Severity.HIGH, d.GITHUB,
    (
        Example("GITHUB_TOKEN=" + "gh" + "p_" + fake(36) + "\n", True, "classic"),
        Example("token: " + "github" + "_pat_" + fake(22) + "_" + fake(59) + "\n", True,
                "fine-grained"),
        Example("GITHUB_TOKEN=" + "gh" + "p_" + "x" * 36 + "\n", False, "placeholder"),
    ),
    "GitHub personal, OAuth, user-to-server, server-to-server and refresh tokens "
    "(ghp_, gho_, ghu_, ghs_, ghr_, github_pat_) give access to repositories and packages.",
    aliases=("trivy:github-pat", "trivy:github-fine-grained-pat"),
)

GITLAB_TOKEN = _secret_rule(
    "LSH-SEC-005", "GitLab token in the image", Severity.HIGH, d.GITLAB,
    (
        Example("CI_TOKEN=" + "gl" + "pat-" + fake(20) + "\n", True),
        Example("CI_TOKEN=" + "gl" + "pat-" + "<your-token-here>" + "\n", False),
    ),
    "A GitLab personal access token (glpat-) gives API access as its user.",
    aliases=("trivy:gitlab-pat",),
)

SLACK_TOKEN = _secret_rule(
    "LSH-SEC-006", "Slack token in the image", Severity.HIGH, d.SLACK_TOKEN,
    (
        Example("SLACK_TOKEN=" + "xo" + "xb-" + "2345678901-" + fake(24) + "\n", True),
        Example("SLACK_TOKEN=" + "xo" + "xb-not-a-real-token\n", False),
    ),
    "Slack bot, user, app and refresh tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxs-) read and "
    "post messages as the workspace's app or user.",
    aliases=("trivy:slack-access-token",),
)

SLACK_WEBHOOK = _secret_rule(
    "LSH-SEC-007", "Slack incoming-webhook URL in the image", Severity.MEDIUM, d.SLACK_WEBHOOK,
    (
        Example("url = https://hooks." + "slack.com/services/T0" + fake(8).upper()
                + "/B0" + fake(8).upper() + "/" + fake(24) + "\n", True),
        Example("url = https://hooks." + "slack.com/services/T00000000/B00000000/"
                + "X" * 24 + "\n", False, "documentation URL"),
    ),
    "Anyone with an incoming-webhook URL can post into the channel it belongs to.",
    aliases=("trivy:slack-web-hook",),
)

STRIPE_KEY = _secret_rule(
    "LSH-SEC-008", "Stripe live secret key in the image", Severity.CRITICAL, d.STRIPE,
    (
        Example("STRIPE_KEY=" + "sk" + "_live_" + fake(24) + "\n", True),
        Example("STRIPE_KEY=" + "rk" + "_live_" + fake(99) + "\n", True, "restricted"),
        Example("STRIPE_KEY=" + "sk" + "_test_" + fake(24) + "\n", False, "test mode"),
    ),
    "A live Stripe secret or restricted key (sk_live_, rk_live_) moves real money.",
    aliases=("trivy:stripe-secret-token",),
)

SENDGRID_KEY = _secret_rule(
    "LSH-SEC-009", "SendGrid API key in the image", Severity.HIGH, d.SENDGRID,
    (
        Example("SENDGRID_API_KEY=" + "SG" + "." + fake(22) + "." + fake(43) + "\n", True),
        Example("version = SG.1.2\n", False),
    ),
    "A SendGrid key sends mail as the account (phishing from a trusted domain).",
    aliases=("trivy:sendgrid-api-token",),
)

NPM_TOKEN = _secret_rule(
    "LSH-SEC-010", "npm access token in the image", Severity.HIGH, d.NPM,
    (
        Example(Sample("//registry.npmjs.org/:_authToken=" + "np" + "m_" + fake(36) + "\n",
                       "/root/.npmrc"), True),
        Example("npm_config_cache=/tmp/npm_cache_directory_for_builds\n", False),
    ),
    "An npm granular or automation token (npm_) publishes packages as its owner.",
    aliases=("trivy:npm-access-token",),
)

PYPI_TOKEN = _secret_rule(
    "LSH-SEC-011", "PyPI API token in the image", Severity.HIGH, d.PYPI,
    (
        Example(Sample("[pypi]\nusername = __token__\npassword = " + "pypi-" + "AgEIcHlwaS5vcmc"
                       + fake(60) + "\n", "/root/.pypirc"), True),
        Example(Sample("[pypi]\nusername = __token__\npassword = " + "pypi-" + "AgEIcHlwaS5vcmc"
                       + "\n", "/root/.pypirc"), False, "prefix only"),
    ),
    "A PyPI API token uploads releases of the projects it is scoped to.",
    aliases=("trivy:pypi-upload-token",),
)

GCP_SERVICE_ACCOUNT = _secret_rule(
    "LSH-SEC-012", "Google Cloud service-account key file in the image", Severity.CRITICAL,
    d.GCP_SERVICE_ACCOUNT,
    (
        Example(Sample('{\n  "type": "service_account",\n  "project_id": "shop-prod",\n'
                       '  "private_key_id": "' + fake(40, _HEX) + '",\n'
                       '  "private_key": "' + _KEY_HEAD.replace("RSA ", "") + "\\n"
                       + _BODY.replace("\n", "\\n") + "\\n" + _KEY_TAIL.replace("RSA ", "")
                       + '\\n",\n  "client_email": "deploy@shop-prod.iam.gserviceaccount.com"\n'
                       "}\n", "/app/gcp-key.json"), True),
        Example(Sample('{"type": "authorized_user", "client_id": "x"}\n', "/app/adc.json"),
                False),
    ),
    "A service-account key file (\"type\": \"service_account\" with a private_key) "
    "authenticates as that account to Google Cloud.",
    remediation="Delete the key in the Cloud console (IAM > Service accounts > Keys), remove "
    "the file from every layer, and use workload identity instead of key files.",
    aliases=("trivy:gcp-service-account",),
)

JWT_TOKEN = _secret_rule(
    "LSH-SEC-013", "JSON Web Token in the image", Severity.MEDIUM, d.JWT,
    (
        Example(f"AUTH={_JWT_HEADER}.{_JWT_PAYLOAD}.{_JWT_SIG}\n", True),
        Example("AUTH=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFt"
                "ZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV"
                "_adQssw5c\n", False, "the jwt.io example"),
        Example(f"AUTH={_UNSIGNED}.{_JWT_PAYLOAD}.{_JWT_SIG}\n", False,
                "unsigned"),
    ),
    "A signed JWT is a bearer credential until it expires; long-lived ones (service "
    "account tokens, API keys) are common.",
    aliases=("trivy:jwt-token",),
)

URL_CREDENTIALS = _secret_rule(
    "LSH-SEC-014", "Password in a URL in the image", Severity.HIGH, d.URL_CREDENTIALS,
    (
        Example("DATABASE_URL=postgres://app:" + fake(16) + "@db.internal:5432/app\n", True),
        Example(Sample("https://ci:" + fake(20) + "@git.corp.net\n", "/root/.git-credentials"),
                True),
        Example("DATABASE_URL=postgres://user:password@localhost/db\n"
                "URL=https://${USER}:${PASS}@registry.corp.net\n"
                "URL=postgresql://scott:tiger@example.com/test\n", False),
    ),
    "Credentials written into a URL (scheme://user:password@host) end up in configs, "
    "logs and process listings.",
    aliases=("trivy:url-credentials",),
)

GENERIC_ASSIGNMENT = _secret_rule(
    "LSH-SEC-015", "Hard-coded password, secret or token in the image", Severity.MEDIUM,
    d.GENERIC,
    (
        Example("DB_PASSWORD=" + fake(14) + "\n", True, "env file"),
        Example(Sample('config = {"api_key": "' + fake(32, _HEX) + '"}\n',
                       "/app/settings.py"), True, "quoted literal in code"),
        Example(Sample("database:\n  password: " + fake(12, "Tr0ub4dor!3xQ") + "\n",
                       "/app/config.yaml"), True, "YAML"),
        Example("DB_PASSWORD=changeme\nAPI_TOKEN=${API_TOKEN}\nSECRET_KEY=<secret>\n"
                "PASSWORD_FILE=/run/secrets/db\nPOSTGRES_PASSWORD=postgres\n"
                "GPG_KEYS=A035C8C19219BA821ECEA86B64E628F8D684696D\n", False, "placeholders"),
        Example(Sample("token = self.tokenizer.next_token(stream)\npassword = get_password()\n"
                       "if password == 'Xy7#kLm9Qz':\n    pass\n", "/app/auth.py"), False,
                "code"),
        Example(Sample("password = " + fake(14) + "\n", "/usr/lib/app/tests/conf.ini"), False,
                "test fixture"),
    ),
    "A value assigned to a name like password, secret, token or api_key that is not a "
    "placeholder and looks generated (entropy, mixed characters).",
    aliases=("trivy:generic",),
)

DOCKER_CONFIG = _secret_rule(
    "LSH-SEC-016", "Container registry credentials in the image", Severity.HIGH,
    d.DOCKER_CONFIG,
    (
        Example(Sample('{"auths": {"registry.corp.net": {"auth": "' + _DOCKER_AUTH + '"}}}\n',
                       "/root/.docker/config.json"), True),
        Example(Sample('{"auths": {"registry.corp.net": {}}, "credsStore": "pass"}\n',
                       "/root/.docker/config.json"), False, "credential helper"),
    ),
    "A Docker or Podman config with an `auth` entry holds the registry user and password "
    "in base64: anyone can push and pull as that user.",
    remediation="Remove ~/.docker/config.json (and auth.json) from every layer, change the "
    "password, and log in through a credential helper or a build secret.",
)

NPMRC_CREDENTIAL = _secret_rule(
    "LSH-SEC-017", "npm registry credential in .npmrc", Severity.HIGH, d.NPMRC,
    (
        Example(Sample("//npm.corp.net/:_authToken=" + fake(8, _HEX) + "-"
                       + fake(4, _HEX) + "-4" + fake(3, _HEX)
                       + "-a" + fake(15, _HEX) + "\n", "/home/node/.npmrc"),
                True),
        Example(Sample("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", "/app/.npmrc"),
                False),
    ),
    "An .npmrc `_authToken`, `_auth` or `_password` entry authenticates to the registry.",
)

# Most specific first: a later rule's hit on the same value is a duplicate.
RULES: tuple[Rule[TextSubject], ...] = (
    PRIVATE_KEY, AWS_ACCESS_KEY_ID, AWS_SECRET_KEY, GITHUB_TOKEN, GITLAB_TOKEN, SLACK_TOKEN,
    SLACK_WEBHOOK, STRIPE_KEY, SENDGRID_KEY, NPM_TOKEN, PYPI_TOKEN, GCP_SERVICE_ACCOUNT,
    JWT_TOKEN, DOCKER_CONFIG, NPMRC_CREDENTIAL, URL_CREDENTIALS, GENERIC_ASSIGNMENT,
)
