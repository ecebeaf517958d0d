"""Keyless signer identities: who may have signed, as the policy names them.

A Sigstore keyless signature is made with a short-lived key whose Fulcio
certificate names the signer: the subject alternative name (a workflow URI
such as `https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main`,
or an e-mail address) and the OIDC issuer that vouched for it
(`https://token.actions.githubusercontent.com`). The policy trusts one or more
(issuer, subject) pairs:

    keyless = { issuer = "https://token.actions.githubusercontent.com",
                subject = "https://github.com/org/repo/.github/workflows/*@refs/heads/main" }

`subject` is a glob (`*` stays within one `/`-separated segment, `**` crosses
segments) or `subject_regex` a regular expression matched against the whole
subject; `issuer` is exact, or `issuer_regex` a whole-string regular expression
(cosign's `--certificate-identity[-regexp]` and `--certificate-oidc-issuer[-regexp]`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lashing.config import check_keys
from lashing.errors import InputError

IDENTITY_KEYS = ("issuer", "issuer_regex", "subject", "subject_regex")
MAX_PATTERN_CHARS = 1024


@dataclass(frozen=True)
class KeylessIdentity:
    issuer: str | None = None
    issuer_regex: str | None = None
    subject: str | None = None  # a glob
    subject_regex: str | None = None

    def describe(self) -> str:
        subject = self.subject if self.subject is not None else f"/{self.subject_regex}/"
        issuer = self.issuer if self.issuer is not None else f"/{self.issuer_regex}/"
        return f"subject {subject} from issuer {issuer}"

    def matches(self, subject: str, issuer: str | None) -> bool:
        if issuer is None:
            return False
        if self.issuer is not None and issuer != self.issuer:
            return False
        if self.issuer_regex is not None and not _regex(self.issuer_regex).fullmatch(issuer):
            return False
        if self.subject is not None and not _subject_glob(self.subject).fullmatch(subject):
            return False
        return self.subject_regex is None or bool(_regex(self.subject_regex).fullmatch(subject))


@lru_cache(maxsize=256)
def _regex(text: str) -> re.Pattern[str]:
    return re.compile(text)


@lru_cache(maxsize=256)
def _subject_glob(glob: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out))


def parse_identities(value: Any, path: Path, where: str) -> tuple[KeylessIdentity, ...]:
    """`keyless = {...}` or `keyless = [{...}, ...]` from the policy file `path`."""
    tables = value if isinstance(value, list) else [value]
    if not tables:
        raise InputError(f"{path}: {where}: 'keyless' is an empty list",
                         "name at least one {issuer, subject} identity, or remove 'keyless'")
    return tuple(_identity(t, path, f"{where}: keyless") for t in tables)


def _identity(table: Any, path: Path, where: str) -> KeylessIdentity:
    if not isinstance(table, Mapping):
        raise InputError(f"{path}: {where}: expected a table {{ issuer = ..., subject = ... }}")
    check_keys(table, IDENTITY_KEYS, path, where)
    values: dict[str, str] = {}
    for key in IDENTITY_KEYS:
        if key in table:
            v = table[key]
            if not isinstance(v, str) or not v.strip() or len(v) > MAX_PATTERN_CHARS:
                raise InputError(f"{path}: {where}: {key!r} must be a non-empty string "
                                 f"(at most {MAX_PATTERN_CHARS} characters)")
            values[key] = v.strip()
    for name in ("issuer", "subject"):
        given = [k for k in (name, f"{name}_regex") if k in values]
        if len(given) != 1:
            raise InputError(f"{path}: {where}: give exactly one of {name!r} and "
                             f"'{name}_regex'",
                             'e.g. keyless = { issuer = "https://token.actions.'
                             'githubusercontent.com", subject = "https://github.com/org/repo/'
                             '.github/workflows/*@refs/heads/main" }')
    for key in ("issuer_regex", "subject_regex"):
        if key in values:
            try:
                _regex(values[key])
            except re.error as exc:
                raise InputError(f"{path}: {where}: {key!r} is not a regular expression "
                                 f"({exc})") from None
    return KeylessIdentity(**values)
