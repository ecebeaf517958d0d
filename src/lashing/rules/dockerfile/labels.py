"""Dockerfile rules about LABEL: valid keys always, and a label schema when one
is configured (`[scan] label_schema` in lashing.toml, RuleConfig.label_schema).

A schema maps label names to a type (LABEL_TYPES). Every image-producing stage
must carry every label in the schema, no schema label may be empty, typed
labels must hold a value of their type, and with `strict_labels` no other
label is allowed. Stages whose result only feeds other stages (`FROM <stage>`,
`COPY --from=<stage>`) need no labels of their own; a stage inherits the labels
of the stage it is built FROM.

A value that refers to a variable (`version=$VERSION`) is decided at build
time, so its format is not checked here. Format rules leave empty values to the
empty-label rule. Labels set by ONBUILD count for the key, strictness and
format rules, not for presence (they label child images, not this one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cache
from importlib import resources

from lashing.model import Severity
from lashing.rules.dockerfile.parser import Instruction, Stage, key_values
from lashing.rules.dockerfile.subject import Configured
from lashing.rules.dockerfile.subject import DockerfileSubject as D
from lashing.rules.framework import (
    Example,
    NotApplicable,
    NotCheckable,
    Rule,
    RuleConfig,
    Violation,
    rule,
)

HADOLINT = "https://github.com/hadolint/hadolint/wiki/"
DOCKER_LABELS = "https://docs.docker.com/engine/manage-resources/labels/"
OCI_ANNOTATIONS = "https://github.com/opencontainers/image-spec/blob/main/annotations.md"

# The label types a schema may name (Hadolint's label-schema types).
LABEL_TYPES = ("text", "url", "email", "semver", "hash", "spdx", "rfc3339")
RESERVED_NAMESPACES = ("com.docker.", "io.docker.", "org.dockerproject.")
MAX_SPDX_NESTING = 20  # parentheses in a license expression (the parser recurses)
_VARIABLE = re.compile(r"\$(?:\{[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_])")


# -- label values -------------------------------------------------------------

def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def key_problem(key: str) -> str | None:
    """Why `key` is not a valid label key (Docker's recommendation), or None."""
    if not key[:1].isascii() or not key[:1].islower():
        return "must start with a lower-case letter"
    if not re.fullmatch(r"[a-z0-9.-]*[a-z0-9]", key):
        bad = sorted({c for c in key if not re.fullmatch(r"[a-z0-9.-]", c)})
        if bad:
            return "may hold only a-z, 0-9, '.' and '-', not " + " ".join(repr(c) for c in bad[:5])
        return "must end with a lower-case letter or a digit"
    if ".." in key or "--" in key:
        return "must not repeat '.' or '-'"
    if key.startswith(RESERVED_NAMESPACES):
        return "is in a namespace Docker reserves (com.docker, io.docker, org.dockerproject)"
    return None


_URI_CHARS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*\Z")


def url_problem(value: str) -> str | None:
    """RFC 3986 absolute URI: a scheme, then only URI characters."""
    m = re.fullmatch(r"([A-Za-z][A-Za-z0-9+.-]*):(.+)", value, re.DOTALL)
    if m is None:
        return "has no scheme (write https://...)"
    scheme, rest = m.group(1).lower(), m.group(2)
    if not _URI_CHARS.match(rest):
        return "holds characters a URL may not (spaces, quotes, stray %)"
    if rest.startswith("//"):
        authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
        hostport = authority.rpartition("@")[2]
        port = re.fullmatch(r"(.*?)(?::([^:\]]*))?", hostport)
        if port and port.group(2) and not port.group(2).isdigit():
            return f"has a port that is not a number ({_short(port.group(2))})"
        if scheme in ("http", "https") and not (port.group(1) if port else hostport):
            return "has no host"
    elif scheme in ("http", "https"):
        return f"needs {scheme}://host"
    return None


_RFC3339 = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
                      r"(?:\.[0-9]+)?(?:[Zz]|[+-]([0-9]{2}):([0-9]{2}))\Z")


def rfc3339_problem(value: str) -> str | None:
    """RFC 3339 date-time: full date, 'T', full time with seconds and a time zone."""
    m = _RFC3339.match(value)
    if m is None:
        return "is not YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM)"
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError as exc:
        return f"is not a real date or time ({exc})"
    if second > 60 or (m.group(7) and (int(m.group(7)) > 23 or int(m.group(8)) > 59)):
        return "is not a real date or time (seconds or offset out of range)"
    return None


_SEMVER = re.compile(  # https://semver.org/#is-there-a-suggested-regular-expression-regex-to-check-a-semver-string
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?\Z")


def semver_problem(value: str) -> str | None:
    if _SEMVER.match(value):
        return None
    if _SEMVER.match(value[1:]) and value[:1] in "vV":
        return "has a leading 'v', which is not part of a semantic version"
    return "is not MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]"


def hash_problem(value: str) -> str | None:
    """A git commit hash: lower-case hex, abbreviated (7), SHA-1 (40) or SHA-256 (64)."""
    if re.fullmatch(r"[0-9a-f]+", value) and len(value) in (7, 40, 64):
        return None
    return "is not a git commit hash (7, 40 or 64 lower-case hex digits)"


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = re.compile(
    rf"(?:{_ATEXT}(?:\.{_ATEXT})*|\"(?:[^\"\\\r\n]|\\.)*\")"  # dot-atom or quoted local part
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"  # host name
    r"|\[[^\[\]\\\s]+\])\Z")  # or a domain literal


# A display name: words and quoted strings, no specials outside quotes (no comments).
_DISPLAY_NAME = re.compile(r'(?:[^()<>\[\]:;@\\,"]|"(?:[^"\\\r\n]|\\.)*")*\Z')


def email_problem(value: str) -> str | None:
    """RFC 5322 mailbox: addr-spec (a@example.org) or name-addr (Name <a@example.org>).
    Parsed here, not by email.utils, whose parser recurses on nested comments."""
    addr = value
    if value.endswith(">"):
        name, sep, addr = value[:-1].rpartition("<")
        if not sep or not _DISPLAY_NAME.match(name):
            return "is not an e-mail address (Name <local@domain>)"
    local, _, _ = addr.rpartition("@")
    if not _ADDR_SPEC.match(addr) or len(addr) > 254 or len(local) > 64:
        return "is not an e-mail address (local@domain)"
    return None


@cache
def spdx_ids() -> frozenset[str] | None:
    """SPDX license and exception ids (case-folded), from the list that
    cyclonedx-python-lib ships; None when it cannot be read."""
    try:
        text = resources.files("cyclonedx.schema._res").joinpath(
            "spdx.SNAPSHOT.schema.json").read_text(encoding="utf-8")
        ids = json.loads(text)["enum"]
    except (ImportError, OSError, ValueError, KeyError, TypeError):
        return None
    return frozenset(str(i).casefold() for i in ids)


def spdx_problem(value: str) -> str | None:
    """An SPDX license expression (MIT, Apache-2.0 OR MIT, GPL-2.0-only WITH
    Classpath-exception-2.0, LicenseRef-x) whose ids are on the SPDX list.
    Ids match case-insensitively; operators are all upper or all lower case."""
    ids = spdx_ids()
    if ids is None:
        raise NotCheckable("the SPDX license list of cyclonedx-python-lib is not readable")
    tokens = re.findall(r"\(|\)|[^\s()]+", value)
    depth = 0
    for word in tokens:
        depth += {"(": 1, ")": -1}.get(word, 0)
        if depth > MAX_SPDX_NESTING:
            return f"nests parentheses deeper than {MAX_SPDX_NESTING}"
    pos = 0
    unknown: list[str] = []

    def take(*words: str) -> bool:
        nonlocal pos
        if pos < len(tokens) and tokens[pos] in words:
            pos += 1
            return True
        return False

    def simple() -> bool:
        nonlocal pos
        if take("("):
            return expression() and take(")")
        if pos >= len(tokens) or tokens[pos] in ("AND", "OR", "WITH", "and", "or", "with", ")"):
            return False
        word = tokens[pos]
        pos += 1
        if re.fullmatch(r"(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+", word):
            return True
        if word.removesuffix("+").casefold() not in ids:
            unknown.append(word)
        if take("WITH", "with"):
            if pos >= len(tokens):
                return False
            if tokens[pos].casefold() not in ids:
                unknown.append(tokens[pos])
            pos += 1
        return True

    def expression() -> bool:
        if not simple():
            return False
        while take("AND", "OR", "and", "or"):
            if not simple():
                return False
        return True

    if not expression() or pos != len(tokens):
        return "is not an SPDX license expression"
    if unknown:
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        return f"names {', '.join(map(_short, unknown[:3]))}{more}, not on the SPDX license list"
    return None


FORMATS: dict[str, Callable[[str], str | None]] = {
    "url": url_problem, "rfc3339": rfc3339_problem, "spdx": spdx_problem,
    "hash": hash_problem, "semver": semver_problem, "email": email_problem,
}


# -- the Dockerfile's labels ----------------------------------------------------

def labels(d: D, onbuild: bool = True) -> Iterator[tuple[Instruction, str, str]]:
    """(instruction, key, value) for every LABEL (and ONBUILD LABEL) pair."""
    for inst in d.all("LABEL", "ONBUILD"):
        target = inst if inst.keyword == "LABEL" else inst.sub if onbuild else None
        if target is not None and target.keyword == "LABEL":
            for key, value in key_values(target, d.dockerfile.escape):
                yield inst, key, value


def schema(d: D) -> dict[str, str]:
    if not d.config.label_schema:
        raise NotApplicable("no label schema configured")
    return dict(d.config.label_schema)


def _shown(value: str) -> str:
    return json.dumps(_short(value, 60))


def _format_rule(kind: str) -> Callable[[D], Iterator[Violation]]:
    """The check of one schema type: each label of that type holds a valid value."""

    def check(d: D) -> Iterator[Violation]:
        names = {k for k, t in schema(d).items() if t == kind}
        if not names:
            raise NotApplicable(f"the label schema has no {kind} labels")
        deferred: list[str] = []
        checked = 0
        for inst, key, value in labels(d):
            if key not in names or not value:
                continue
            if _VARIABLE.search(value):
                deferred.append(f"{_short(key)}={_short(value)}")
                continue
            checked += 1
            problem = FORMATS[kind](value)
            if problem:
                yield d.violation(inst, f"label {key}={_shown(value)} {problem}")
        if deferred and not checked:
            raise NotCheckable(f"{', '.join(deferred[:3])}: set from a build variable, "
                               "known only at build time")

    check.__doc__ = (f"Registries, inventories and provenance tools parse this label as "
                     f"type {kind}; a malformed value misleads them or is dropped.")
    return check


# -- rules ------------------------------------------------------------------------

def _cfg(text: str, strict: bool = False, **types: str) -> Configured:
    pairs = tuple((k.replace("_", "."), t) for k, t in types.items())
    return Configured(text, RuleConfig(label_schema=pairs, strict_labels=strict))


@rule(
    id="LSH-DF-067",
    title="Invalid label key",
    severity=Severity.LOW,
    aliases=("hadolint:DL3048",),
    remediation="Use reverse-DNS keys of lower-case letters, digits, '.' and '-' "
    "(org.opencontainers.image.source), starting with a letter and ending with a letter "
    "or digit, without repeated separators, outside com.docker.*, io.docker.* and "
    "org.dockerproject.*.",
    references=(HADOLINT + "DL3048", DOCKER_LABELS),
    examples=(
        Example('FROM alpine:3.20\nLABEL Version="1.0"\n', True, "upper case"),
        Example('FROM alpine:3.20\nLABEL com.docker.compose.project="x"\n', True, "reserved"),
        Example('FROM alpine:3.20\nLABEL org..example="x" my_label=y\n', True, "separators"),
        Example('FROM alpine:3.20\nLABEL org.opencontainers.image.version="1.0" '
                'version=1 build-date=2024\n', False),
    ),
)
def invalid_label_key(d: D) -> Iterator[Violation]:
    """Tools that filter and parse labels expect Docker's key format; keys in Docker's
    own namespaces may be overwritten or misread by the engine."""
    found = False
    for inst, key, _ in labels(d):
        found = True
        problem = None if "$" in key else key_problem(key)
        if problem:
            yield d.violation(inst, f"label key {_short(key, 60)!r} {problem}")
    if not found:
        raise NotApplicable("no LABEL instruction")


def _consumed(d: D) -> set[int]:
    """Stages whose result another stage uses (FROM <stage>, COPY --from=<stage>)."""
    stages = d.dockerfile.stages
    by_name = {s.name: s.index for s in stages if s.name}
    used = {s.parent for s in stages if s.parent is not None}
    for inst in d.all("COPY", "ADD"):
        source = (inst.flag("from") or "").lower()
        if source in by_name:
            used.add(by_name[source])
        elif source.isdigit() and int(source) < len(stages):
            used.add(int(source))
    return used


def _stage_name(stage: Stage) -> str:
    return f"stage {stage.name!r}" if stage.name else f"stage {stage.index} ({stage.image})"


@rule(
    id="LSH-DF-068",
    title="Label required by the label schema is missing",
    severity=Severity.LOW,
    aliases=("hadolint:DL3049",),
    remediation="Add every label the schema names to each stage that produces an image: "
    "LABEL version=\"1.2.3\" ... (values may come from build arguments).",
    references=(HADOLINT + "DL3049", OCI_ANNOTATIONS),
    examples=(
        Example(_cfg("FROM alpine:3.20\n", version="text"), True),
        Example(_cfg("FROM golang:1.22 AS build\nLABEL version=1\nFROM alpine:3.20\n"
                     "COPY --from=build /app /app\n", version="text"), True, "final stage"),
        Example(_cfg('FROM alpine:3.20\nLABEL version="1.0"\n', version="text"), False),
        Example(_cfg("FROM golang:1.22 AS build\nFROM alpine:3.20 AS base\nLABEL version=$V\n"
                     "FROM base\nCOPY --from=build /app /app\n", version="text"), False,
                "inherited; builder exempt"),
        Example("FROM alpine:3.20\n", False, "no schema"),
    ),
)
def missing_label(d: D) -> Iterator[Violation]:
    """Images without the agreed labels cannot be traced to their source, version or
    owner by registries, scanners and inventories."""
    names = schema(d)
    consumed = _consumed(d)
    own: dict[int, set[str]] = {}
    for inst, key, _ in labels(d, onbuild=False):
        own.setdefault(inst.stage, set()).add(key)
    for stage in d.dockerfile.stages:
        if stage.index in consumed:
            continue
        present = set().union(*(own.get(s.index, set()) for s in d.dockerfile.chain(stage)))
        missing = [k for k in names if k not in present]
        if missing:
            yield d.file_violation(f"{_stage_name(stage)} lacks label(s) {', '.join(missing)}",
                                   stage.line)


@rule(
    id="LSH-DF-069",
    title="Label not in the label schema (strict labels)",
    severity=Severity.LOW,
    aliases=("hadolint:DL3050",),
    remediation="Remove labels the schema does not name, or add them to the schema.",
    references=(HADOLINT + "DL3050",),
    examples=(
        Example(_cfg('FROM alpine:3.20\nLABEL version="1" build.host="ci-7"\n', True,
                     version="text"), True),
        Example(_cfg('FROM alpine:3.20\nLABEL version="1"\n', True, version="text"), False),
        Example(_cfg('FROM alpine:3.20\nLABEL build.host="ci-7"\n', version="text"), False,
                "not strict"),
    ),
)
def superfluous_label(d: D) -> Iterator[Violation]:
    """Strict labels keep internal details (build hosts, people, paths) out of published
    images and keep label parsers to a known set. With strict labels and no schema, every
    label is superfluous."""
    if not d.config.strict_labels:
        raise NotApplicable("strict labels not enabled")
    names = dict(d.config.label_schema)
    for inst, key, _ in labels(d):
        if key not in names:
            yield d.violation(inst, f"label {_short(key, 60)} is not in the label schema")


@rule(
    id="LSH-DF-070",
    title="Label required by the label schema is empty",
    severity=Severity.LOW,
    aliases=("hadolint:DL3051",),
    remediation="Give the label a value.",
    references=(HADOLINT + "DL3051",),
    examples=(
        Example(_cfg('FROM alpine:3.20\nLABEL version=""\n', version="text"), True),
        Example(_cfg('FROM alpine:3.20\nLABEL version="1.0" other=""\n', version="text"),
                False),
    ),
)
def empty_label(d: D) -> Iterator[Violation]:
    """An empty required label satisfies the letter of the schema but carries nothing."""
    names = schema(d)
    for inst, key, value in labels(d):
        if key in names and not value:
            yield d.violation(inst, f"label {key} is empty")


def _format(id: str, code: str, kind: str, title: str, remediation: str,
            bad: tuple[str, ...], good: tuple[str, ...], *refs: str) -> Rule[D]:
    """A format rule with one example per bad and good value of label `l`."""
    examples = (
        *(Example(_cfg(f"FROM alpine:3.20\nLABEL l={json.dumps(v)}\n", l=kind), True, v)
          for v in bad),
        *(Example(_cfg(f"FROM alpine:3.20\nLABEL l={json.dumps(v)}\n", l=kind), False, v)
          for v in good),
        Example(_cfg("FROM alpine:3.20\nARG V\nLABEL l=$V\n", l=kind), False, "build variable"),
    )
    return rule(id=id, title=title, severity=Severity.LOW, aliases=(f"hadolint:{code}",),
                remediation=remediation, references=(HADOLINT + code, *refs),
                examples=examples)(_format_rule(kind))


url_label = _format(
    "LSH-DF-071", "DL3052", "url", "Label is not a valid URL",
    "Write the full URL with its scheme: https://github.com/org/repo.",
    ("github.com/org/repo", "https://exa mple.com", "http:/x"),
    ("https://github.com/org/repo", "git+ssh://git@example.com:22/x.git"),
    "https://www.rfc-editor.org/rfc/rfc3986")
rfc3339_label = _format(
    "LSH-DF-072", "DL3053", "rfc3339", "Label is not an RFC 3339 time",
    "Write the time as RFC 3339, e.g. 2024-05-01T12:00:00Z (date -u +%Y-%m-%dT%H:%M:%SZ).",
    ("2024-05-01", "2024-05-01 12:00:00", "2024-02-30T12:00:00Z", "2024-05-01T12:00Z"),
    ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00.25+02:00", "2016-12-31T23:59:60z"),
    "https://www.rfc-editor.org/rfc/rfc3339#section-5.6")
spdx_label = _format(
    "LSH-DF-073", "DL3054", "spdx", "Label is not an SPDX license identifier",
    "Use SPDX license ids or expressions from https://spdx.org/licenses/ (MIT, Apache-2.0, "
    "GPL-2.0-only WITH Classpath-exception-2.0), or LicenseRef-<name> for others.",
    ("Apache 2", "MIT OR", "BSD"),
    ("MIT", "apache-2.0", "(MIT OR Apache-2.0) AND LicenseRef-acme",
     "GPL-2.0-only WITH Classpath-exception-2.0"),
    "https://spdx.org/licenses/")
hash_label = _format(
    "LSH-DF-074", "DL3055", "hash", "Label is not a git commit hash",
    "Set the label from the commit: --build-arg REVISION=$(git rev-parse HEAD).",
    ("main", "ABCDEF1", "abc12"),
    ("0123abc", "0123456789abcdef0123456789abcdef01234567"),
    "https://git-scm.com/docs/git-rev-parse")
semver_label = _format(
    "LSH-DF-075", "DL3056", "semver", "Label is not a semantic version",
    "Write MAJOR.MINOR.PATCH with optional -prerelease and +build: 1.4.2, 2.0.0-rc.1.",
    ("1.0", "v1.2.3", "01.2.3"),
    ("1.2.3", "2.0.0-rc.1+build.5"),
    "https://semver.org/")
email_label = _format(
    "LSH-DF-076", "DL3058", "email", "Label is not an e-mail address",
    "Write an RFC 5322 address: team@example.org or Team <team@example.org>.",
    ("team at example.org", "team@", "a@b@example.org"),
    ("team@example.org", "Build Team <build.team+ci@example.org>"),
    "https://www.rfc-editor.org/rfc/rfc5322#section-3.4")

RULES = (invalid_label_key, missing_label, superfluous_label, empty_label, url_label,
         rfc3339_label, spdx_label, hash_label, semver_label, email_label)
