"""How each kind of secret is recognised.

A `Detector` has literal keywords (searched with `bytes.__contains__`, the
cheap prefilter) and a finder run only when a keyword is present. Finders
return `Hit`s whose values are already redacted.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lashing.rules.secrets import allow
from lashing.rules.secrets.subject import Hit, TextSubject, hit, redact

Finder = Callable[[TextSubject], Iterator[Hit]]


@dataclass(frozen=True)
class Detector:
    """`keywords` are literal byte strings, or one regular expression when the
    literals share a rare prefix (it then runs faster than several searches)."""

    keywords: tuple[bytes, ...] | re.Pattern[bytes]
    find: Finder
    lowered: bool = False  # keywords are matched against the lowercased text
    heuristic: bool = False  # judged by context and entropy, not by a token format

    def may_match(self, subject: TextSubject) -> bool:
        hay = subject.lowered if self.lowered else subject.data
        if isinstance(self.keywords, re.Pattern):
            return self.keywords.search(hay) is not None
        return any(k in hay for k in self.keywords)

    def hits(self, subject: TextSubject) -> Iterator[Hit]:
        path = subject.path
        if path is not None and (
                (subject.skip_test_paths and allow.is_test_path(path))
                or (self.heuristic and subject.skip_package_heuristics
                and allow.is_package_path(path))):
            return
        if self.may_match(subject):
            yield from self.find(subject)


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


# -- private keys -----------------------------------------------------------
_PEM = re.compile(
    rb"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----"
    rb"([A-Za-z0-9+/=\\\s:,.()-]{64,16384}?)-----END "
)
_NOT_B64 = re.compile(rb"\\[rn]|[^A-Za-z0-9+/=]")
_PEM_HEADER = re.compile(rb"(?m)^[ \t]*[A-Za-z-]+: .*$|\\n[A-Za-z-]+: [^\\]*")


def private_keys(s: TextSubject) -> Iterator[Hit]:
    for m in _PEM.finditer(s.data):
        body = _NOT_B64.sub(b"", _PEM_HEADER.sub(b"", m.group(2)))
        if len(body) < 64 or len(set(body)) < 16:
            continue  # an empty or elided body: documentation, not a key
        kind = _text(m.group(1))
        encrypted = "ENCRYPTED" in kind or b"ENCRYPTED" in m.group(2)[:200]
        shown = f"{kind}{' (encrypted)' if encrypted else ''} " + redact(body)
        yield hit(m.start(), "private key", body, shown=shown, end=m.end())


# -- cloud and service tokens -----------------------------------------------
def _token_finder(pattern: bytes, keep: int, what: str,
                  check: Callable[[str], bool] | None = None, show: int | None = None) -> Finder:
    """Hits for group 1 of `pattern`; the first `keep` characters are the token's
    public prefix (not checked for placeholders; shown unless `show` says otherwise)."""
    rx = re.compile(pattern)
    shown = keep if show is None else show

    def find(s: TextSubject) -> Iterator[Hit]:
        for m in rx.finditer(s.data):
            value = _text(m.group(1))
            body = value[keep:]
            if allow.is_placeholder(body) or (check is not None and not check(value)):
                continue
            yield hit(m.start(1), what, value, shown)

    return find


def _random_body(keep: int, min_entropy: float = 3.0) -> Callable[[str], bool]:
    return lambda value: allow.looks_random(value[keep:], min_entropy)


AWS_KEY_ID = Detector(
    (b"AKIA", b"ASIA"),
    _token_finder(rb"(?<![A-Za-z0-9])((?:AKIA|ASIA)[A-Z2-7]{16})(?![A-Za-z0-9])", 4,
                  "AWS access key id", lambda v: not v.endswith("EXAMPLE")),
)

_AWS_SECRET_KEY = re.compile(
    rb"(aws[_.-]?)?secret[_.-]?(access[_.-]?)?key[\"']?[ \t]*(?:=>|:=|=|:)[ \t]*[\"']?"
)
_AWS_SECRET_VALUE = re.compile(rb"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")


def aws_secrets(s: TextSubject) -> Iterator[Hit]:
    for m in _AWS_SECRET_KEY.finditer(s.lowered):
        # "aws" in the key name, or an AWS-style key name (SecretAccessKey) nearby.
        if not (m.group(1) or m.group(2) or b"aws" in s.lowered[max(0, m.start() - 300):m.start()]):
            continue
        v = _AWS_SECRET_VALUE.match(s.data, m.end())
        if v is None:
            continue
        value = _text(v.group(1))
        if "EXAMPLE" in value or not allow.looks_random(value, 3.5) or allow.is_placeholder(value):
            continue
        yield hit(v.start(1), "AWS secret access key", value)


AWS_SECRET = Detector((b"secret",), aws_secrets, lowered=True)

GITHUB = Detector(
    re.compile(rb"gh[pousr]_|github_pat_"),
    lambda s: _chain(
        _token_finder(rb"(?<![A-Za-z0-9_])(gh[pousr]_[A-Za-z0-9]{36,251})(?![A-Za-z0-9_])", 4,
                      "GitHub token", _random_body(4))(s),
        _token_finder(rb"(?<![A-Za-z0-9_])(github_pat_[A-Za-z0-9_]{70,255})(?![A-Za-z0-9_])",
                      11, "GitHub fine-grained token", _random_body(11))(s),
    ),
)


def _chain(*its: Iterator[Hit]) -> Iterator[Hit]:
    for it in its:
        yield from it


GITLAB = Detector(
    (b"glpat-",),
    _token_finder(rb"(?<![A-Za-z0-9_-])(glpat-[A-Za-z0-9_.-]{20,300})(?![A-Za-z0-9_.-])", 6,
                  "GitLab token", _random_body(6)),
)

SLACK_TOKEN = Detector(
    (b"xox",),
    _token_finder(rb"(?<![A-Za-z0-9_-])(xox[baprs]-[0-9]{6,}-[0-9A-Za-z-]{8,250})"
                  rb"(?![A-Za-z0-9_-])", 5, "Slack token", _random_body(5)),
)

SLACK_WEBHOOK = Detector(
    (b"hooks.slack.com",),
    _token_finder(rb"(https://hooks\.slack\.com/(?:services|workflows|triggers)/"
                  rb"[A-Za-z0-9_+/-]{20,300})", len("https://hooks.slack.com/"),
                  "Slack webhook URL", lambda v: allow.looks_random(v.rsplit("/", 1)[-1], 3.0),
                  show=0),
)

STRIPE = Detector(
    (b"k_live_",),
    _token_finder(rb"(?<![A-Za-z0-9_])([rs]k_live_[0-9A-Za-z]{20,247})(?![A-Za-z0-9_])", 8,
                  "Stripe secret key", _random_body(8)),
)

SENDGRID = Detector(
    (b"SG.",),
    _token_finder(rb"(?<![A-Za-z0-9_.-])(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})"
                  rb"(?![A-Za-z0-9_.-])", 3, "SendGrid API key", _random_body(3)),
)

NPM = Detector(
    (b"npm_",),
    _token_finder(rb"(?<![A-Za-z0-9_])(npm_[A-Za-z0-9]{36})(?![A-Za-z0-9_])", 4,
                  "npm access token", _random_body(4)),
)

PYPI = Detector(
    (b"pypi-AgE",),
    _token_finder(rb"(?<![A-Za-z0-9_-])(pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)"
                  rb"[A-Za-z0-9_-]{50,})", 5, "PyPI API token"),
)

# -- Google service-account key files ---------------------------------------
_SA_TYPE = re.compile(rb"\"type\"\s*:\s*\"service_account\"")
_SA_KEY = re.compile(rb"\"private_key\"\s*:\s*\"(-----BEGIN [A-Z ]*PRIVATE KEY-----[^\"]{64,})\"")


def service_accounts(s: TextSubject) -> Iterator[Hit]:
    if not _SA_TYPE.search(s.data):
        return
    for m in _SA_KEY.finditer(s.data):
        body = _NOT_B64.sub(b"", m.group(1).split(b"-----", 2)[-1])
        if len(set(body)) < 16:
            continue
        yield hit(m.start(1), "Google service-account private key", m.group(1),
                  shown=redact(body), end=m.end(1))


GCP_SERVICE_ACCOUNT = Detector((b"service_account",), service_accounts)

# -- JSON Web Tokens ---------------------------------------------------------
_JWT = re.compile(
    rb"(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})"
)


def _b64json(part: str) -> object:
    try:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, binascii.Error):
        return None


def jwts(s: TextSubject) -> Iterator[Hit]:
    for m in _JWT.finditer(s.data):
        value = _text(m.group(1))
        header, payload, _sig = value.split(".", 2)
        head = _b64json(header)
        if not isinstance(head, dict) or str(head.get("alg", "none")).lower() == "none":
            continue
        body = _b64json(payload)
        if not isinstance(body, dict):
            continue
        text = json.dumps(body).lower()
        if '"john doe"' in text or '"1234567890"' in text or allow.is_placeholder(text):
            continue  # the jwt.io example and other documentation tokens
        yield hit(m.start(1), "JSON Web Token", value, 3)


JWT = Detector((b"eyJ",), jwts, heuristic=True)

# -- credentials in URLs ------------------------------------------------------
_URL_CREDS = re.compile(
    rb"://([^\s:@/?#\"'`<>\\(){}\[\]|,;]{1,128}):([^\s@/?#\"'`<>\\(){}\[\]|]{1,256})"
    rb"@([A-Za-z0-9][A-Za-z0-9._-]*(?::[0-9]{1,5})?)(?![A-Za-z0-9._\x80-\xff-])"
)
_SCHEME = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]{0,30}\Z")
_URL_PLACEHOLDER_USERS = frozenset({"user", "username", "usr", "login", "name", "u", "x"})


def url_credentials(s: TextSubject) -> Iterator[Hit]:
    for m in _URL_CREDS.finditer(s.data):
        scheme = _SCHEME.search(s.data, max(0, m.start() - 31), m.start())
        if scheme is None:
            continue
        user, password, host = (_text(g) for g in m.groups())
        if (allow.is_placeholder(password) or password.lower() == user.lower()
                or allow.names_a_credential(password)
                or allow.is_example_host(host) or password.startswith(("$", "%", "@", ":"))
                or (user.lower() in _URL_PLACEHOLDER_USERS and len(password) < 12)):
            continue
        if not ((allow.char_classes(password) >= 2 and len(password) >= 6)
                or (len(password) >= 12 and allow.entropy(password) >= 3.0)):
            continue
        shown_user = user if len(user) <= 24 and not allow.looks_random(user, 3.3) \
            else redact(user)  # a token used as the user name is a secret too
        shown = f"{_text(scheme.group(0))}://{shown_user}:{redact(password)}@{host}"
        yield hit(m.start(2), "password in URL", password, shown=shown)


URL_CREDENTIALS = Detector((b"://",), url_credentials, heuristic=True)

# -- registry credentials ----------------------------------------------------
_DOCKER_AUTH = re.compile(rb"\"auth\"\s*:\s*\"([A-Za-z0-9+/=]{8,4096})\"")


def docker_auths(s: TextSubject) -> Iterator[Hit]:
    if b"\"auths\"" not in s.data and not (s.path or "").endswith(".dockercfg"):
        return
    for m in _DOCKER_AUTH.finditer(s.data):
        try:
            decoded = base64.b64decode(m.group(1), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue
        _user, sep, password = decoded.partition(":")
        if not sep or not password or allow.is_placeholder(password):
            continue
        yield hit(m.start(1), "container registry credentials", password, end=m.end(1))


DOCKER_CONFIG = Detector((b"\"auth\"",), docker_auths)

_NPMRC = re.compile(
    rb"(?m)^[ \t]*(?:[^\s=#;]*:)?(_authToken|_auth|_password)[ \t]*=[ \t]*[\"']?([^\s\"'#;]+)"
)


def npmrc_tokens(s: TextSubject) -> Iterator[Hit]:
    if s.path is not None and not s.path.endswith("npmrc"):
        return
    for m in _NPMRC.finditer(s.data):
        value = _text(m.group(2))
        if value.startswith("npm_") or not _value_ok(value, True, s):
            continue
        yield hit(m.start(2), f"npm registry credential ({_text(m.group(1))})", value)


NPMRC = Detector((b"_auth", b"_password"), npmrc_tokens)

# -- generic assignments ------------------------------------------------------
_KEYWORD = re.compile(
    rb"passw(?:or)?d|passphrase|secret|token|api[_.-]?key|access[_.-]?key|auth[_.-]?key"
    rb"|private[_.-]?key|credentials?"
)
_IDENT = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_.-")
_OPERATOR = re.compile(rb"[\"']?[ \t]*(=>|:=|=|:)[ \t]*")
_QUOTED = re.compile(rb"([\"'`])([^\"'`\r\n]{1,256})\1")
_UNQUOTED = re.compile(rb"([^\s\"'`,;#&|<>(){}\[\]]{1,256})")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_WORDS = frozenset({"PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "SECRETS", "TOKEN", "TOKENS",
                    "APIKEY", "CREDENTIAL", "CREDENTIALS", "PASS", "PWD"})
_PAIRS = frozenset({("API", "KEY"), ("ACCESS", "KEY"), ("AUTH", "KEY"), ("PRIVATE", "KEY"),
                    ("SECRET", "KEY"), ("CLIENT", "SECRET"), ("ACCESS", "TOKEN")})
_SUFFIXES = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "ACCESSKEY", "SECRETKEY",
             "PRIVATEKEY", "PASSPHRASE", "AUTHTOKEN")
# A name ending in one of these points at the secret, or describes it, instead of holding it.
_POINTER = frozenset({
    "FILE", "FILES", "PATH", "DIR", "URL", "URI", "NAME", "NAMES", "ID", "IDS", "TYPE", "LENGTH",
    "LEN", "SIZE", "HASH", "FIELD", "PARAM", "HEADER", "PREFIX", "SUFFIX", "REF", "KEYREF",
    "SELECTOR", "ENV", "VAR", "PROMPT", "POLICY", "MODE", "FORMAT", "ENDPOINT", "EXPIRY",
    "EXPIRES", "EXPIRATION", "TTL", "TIMEOUT", "REGEX", "PATTERN", "VALIDATOR", "MIN", "MAX",
    "COUNT", "LIMIT", "LABEL", "TEXT", "MESSAGE", "MSG", "HELP", "ERROR", "KIND", "CLASS",
    "FN", "FUNC", "CALLBACK", "HANDLER", "PROVIDER", "MANAGER", "STORE", "SOURCE", "LOCATION",
    "VERSION", "ALGORITHM", "ALG", "ENABLED", "DISABLED", "REQUIRED", "CMD", "COMMAND", "SCRIPT",
    "HOST", "SERVER", "PORT", "USER", "USERNAME", "LOGIN", "EMAIL", "FINGERPRINT", "KEYID",
    "KEYRING", "SERVICE", "TEMPLATE", "PLACEHOLDER", "STRENGTH", "RESET", "CHANGE",
    "CHANGED", "RULES", "CHARS", "ENCODING", "SCOPE", "SCOPES", "AUDIENCE", "ISSUER", "CLAIM",
})
_ATTRIBUTE = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+\Z")
_CONSTANT = re.compile(r"\A[A-Z][A-Z0-9_]+\Z")
_SLUG = re.compile(r"\A[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)+\Z")
_IDENTIFIER = re.compile(r"\A_*[A-Za-z]+(?:_+[A-Za-z]+)*_*\Z")  # letters only: a name, a type
_CODE_CHARS = frozenset("\\[]{}()<>%$|^*`")
# Characters after which a credential-like name is part of something else (a:secret:b, a/token).
_NOT_BEFORE_KEY = frozenset(b":/@\\")


def _key_parts(key: str) -> list[str]:
    return [p for p in re.split(r"[^A-Za-z0-9]+", _CAMEL.sub(r"\1_\2", key).upper()) if p]


def is_credential_name(key: str) -> bool:
    parts = _key_parts(key)
    if not parts or parts[-1] in _POINTER:
        return False
    if any(p in _WORDS for p in parts):
        return True
    if any(pair in _PAIRS for pair in itertools.pairwise(parts)):
        return True
    return any(p.endswith(_SUFFIXES) for p in parts)


def _value_ok(value: str, quoted: bool, s: TextSubject) -> bool:
    if not quoted and s.is_code:
        return False  # an expression in source code, not a literal
    if not 8 <= len(value) <= 200 or allow.is_placeholder(value):
        return False
    if any(c.isspace() or c in _CODE_CHARS for c in value):
        return False
    if value.startswith(("/", "./", "../", "~/", "=", "-")) or "://" in value:
        return False
    if (_ATTRIBUTE.match(value) or _CONSTANT.match(value) or _SLUG.match(value)
            or _IDENTIFIER.match(value)):
        return False
    if "=" in value.rstrip("=") or ".+" in value or ".*" in value or (
            value.endswith("=") and _IDENTIFIER.match(value.rstrip("="))):
        return False  # another assignment, or a regular expression
    if allow.names_a_credential(value):
        return False
    if not any(c.isdigit() for c in value) and len(value) < 24:
        return False  # generated credentials of this length nearly always have a digit
    return allow.looks_random(value, 3.0)


def assignments(s: TextSubject) -> Iterator[Hit]:
    data, low = s.data, s.lowered
    done = 0
    for m in _KEYWORD.finditer(low):
        if m.start() < done:
            continue
        start, end = m.start(), m.end()
        while start > 0 and low[start - 1] in _IDENT:
            start -= 1
        while end < len(low) and low[end] in _IDENT:
            end += 1
        done = end
        if start > 0 and low[start - 1] in _NOT_BEFORE_KEY:
            continue
        key = _text(data[start:end]).strip("-._")
        op = _OPERATOR.match(data, end)
        if op is None or data[op.end():op.end() + 1] in (b"=", b"~", b":"):
            continue  # a comparison or a scope (a::b), not an assignment
        if not is_credential_name(key):
            continue
        q = _QUOTED.match(data, op.end())
        quoted = q is not None
        v = q if q is not None else _UNQUOTED.match(data, op.end())
        if v is None:
            continue
        raw = v.group(2) if q is not None else v.group(1)
        value = _text(raw)
        if not _value_ok(value, quoted, s):
            continue
        name = key if len(key) <= 48 else key[:20] + "…" + key[-20:]
        yield hit(v.start(), f"hard-coded credential in {name!r}", value)


GENERIC = Detector(
    (b"token", b"secret", b"passw", b"api_key", b"apikey", b"api-key", b"api.key", b"access_key",
     b"accesskey", b"access-key", b"private_key", b"privatekey", b"auth_key", b"authkey",
     b"auth-key", b"credential", b"passphrase"),
    assignments,
    lowered=True,
    heuristic=True,
)

PRIVATE_KEY = Detector((b"PRIVATE KEY",), private_keys)
