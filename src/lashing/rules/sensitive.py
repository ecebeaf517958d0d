"""Heuristics shared by rules that look for credentials in names and values,
and the one redaction function every message with a value goes through."""

from __future__ import annotations

import re

# Name parts that mark a credential (PASSWORD, DB_PASS, API_TOKEN, CLIENT_SECRET...).
_STRONG = {"PASSWORD", "PASSWD", "PASS", "PWD", "SECRET", "SECRETS", "TOKEN", "TOKENS",
           "APIKEY", "ACCESSKEY", "SECRETKEY", "PRIVATEKEY", "CREDENTIAL", "CREDENTIALS",
           "AUTHTOKEN", "PASSPHRASE", "CREDS"}
_KEY = {"KEY", "KEYS"}
# KEY after these is public material or a pointer (GPG_KEY, SSH_HOST_KEY, PUBLIC_KEY).
_NOT_SECRET_BEFORE_KEY = {"GPG", "PGP", "PUBLIC", "PUB", "HOST", "SIGNING_PUB", "RSA_PUB",
                          "GNUPG", "ASC", "SSH_HOST", "APT", "REPO", "RELEASE"}
# A name ending in one of these points at the secret instead of holding it.
_POINTER_SUFFIX = {"FILE", "PATH", "DIR", "URL", "URI", "ID", "IDS", "NAME", "SERVER",
                   "SERVERS", "FINGERPRINT", "FINGERPRINTS", "LENGTH", "SIZE", "TYPE",
                   "HEADER", "ENDPOINT", "LOCATION", "POLICY", "FORMAT", "MODE", "RING",
                   "KEYRING", "KEYSERVER", "VERSION", "ALGORITHM", "ENABLED", "DISABLED",
                   "COMMAND", "CMD", "PROMPT", "EXPIRY", "TTL", "STORE", "HOME", "ENV"}
# Names holding well-known public values despite matching the patterns above.
_EXEMPT = {"PWD", "OLDPWD", "GPG_KEYS", "GPG_KEY", "KEYSERVER", "PASS_MAX_DAYS",
           "PASS_MIN_DAYS", "PASS_WARN_AGE"}

_VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("Stripe key", re.compile(r"\b(?:sk|rk)_live_[0-9A-Za-z]{20,}")),
    ("npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("PyPI token", re.compile(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}")),
    ("credentials in URL", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]{3,}@[^\s/]+")),
)
# Placeholder values that are not credentials.
_PLACEHOLDER = re.compile(r"\A(?:|x+|\*+|changeme|change_me|none|null|empty|false|true|no|yes"
                          r"|0|1|-|example|placeholder|your[_-]?\w*|<[^>]*>|\$\{?[A-Za-z_]\w*\}?)\Z",
                          re.I)


def _parts(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [p for p in re.split(r"[^A-Za-z0-9]+", spaced.upper()) if p]


def is_sensitive_name(name: str) -> bool:
    """True when a variable/label name suggests it holds a credential."""
    if name.upper() in _EXEMPT:
        return False
    parts = _parts(name)
    if not parts or parts[-1] in _POINTER_SUFFIX:
        return False
    for k, part in enumerate(parts):
        if part in _STRONG:
            return True
        if part in _KEY:
            before = parts[k - 1] if k else ""
            if before in _NOT_SECRET_BEFORE_KEY or before.endswith(("GPG", "PGP")):
                continue
            if before in ("API", "ACCESS", "SECRET", "PRIVATE", "ENCRYPTION", "SIGNING",
                          "MASTER", "LICENSE", "AUTH", "CLIENT", "APP", "SERVICE", "ACCOUNT",
                          "STORAGE", "SSH", "TLS", "SSL", "JWT", "SESSION", "CRYPT",
                          "DECRYPTION", "HMAC", "AES", "ENC") or k == 0:
                return True
    joined = "".join(parts)
    return joined.endswith(("APIKEY", "ACCESSKEY", "SECRETKEY", "PRIVATEKEY", "AUTHTOKEN"))


def is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value.strip().strip("\"'")))


def secret_kind(value: str) -> str | None:
    """The kind of credential `value` contains, by its shape, or None."""
    for kind, pattern in _VALUE_PATTERNS:
        if pattern.search(value):
            return kind
    return None


def redact(value: str) -> str:
    """Never show a credential: keep its length class only."""
    if not value:
        return "<empty>"
    return f"<redacted, {len(value)} characters>"


def redact_text(text: str) -> str:
    """`text` with every value-shaped credential replaced."""
    for _kind, pattern in _VALUE_PATTERNS:
        text = pattern.sub(lambda m: redact(m.group(0)), text)
    return text
