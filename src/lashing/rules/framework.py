"""The rule framework every rule family uses.

A rule is metadata (id, title, severity, surface, NIST SP 800-190 sections,
aliases in other tools, remediation, references, bad and good examples) plus
a pure check function from a family-specific *subject* (a parsed Dockerfile,
an image configuration and file tree, a Kubernetes object...) to violations.

Families collect their rules in explicit `RULES` tuples; `evaluate` runs a
tuple over one subject and returns findings and one `Check` per rule.

A check function signals that it could not decide by raising:

- `NotCheckable(reason)`: the data it needs is missing (no file tree, a file
  whose content was not read) -> Check status `not-checked`;
- `NotApplicable(reason)`: the subject has nothing this rule inspects (no
  apt-get in the Dockerfile, no trusted-registry list configured) -> Check
  status `not-applicable`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from lashing.model import (
    Check,
    CheckStatus,
    Finding,
    FindingKind,
    Location,
    Severity,
    Suppression,
    Surface,
)

S = TypeVar("S")

RULE_ID = re.compile(r"LSH-(DF|IMG|SEC|MAL|K8S|CMP|NET|HOST|TRUST|RUN)-\d{3}\Z")
ALIAS = re.compile(r"[a-z0-9][a-z0-9.-]*:[A-Za-z0-9_.:/-]+\Z")

# NIST SP 800-190 section 4 countermeasure areas used by the rules.
NIST_TITLES: dict[str, str] = {  # NIST SP 800-190, section 4 (risks) and 5 (countermeasures)
    "4.1.1": "Image vulnerabilities",
    "4.1.2": "Image configuration defects",
    "4.1.3": "Embedded malware",
    "4.1.4": "Embedded clear text secrets",
    "4.1.5": "Use of untrusted images",
    "4.2.1": "Insecure connections to registries",
    "4.2.2": "Stale images in registries",
    "4.2.3": "Insufficient authentication and authorization restrictions",
    "4.3.1": "Unbounded administrative access",
    "4.3.2": "Unauthorized access",
    "4.3.3": "Poorly separated inter-container network traffic",
    "4.3.4": "Mixing of workload sensitivity levels",
    "4.3.5": "Orchestrator node trust",
    "4.4.1": "Vulnerabilities within the runtime software",
    "4.4.2": "Unbounded network access from containers",
    "4.4.3": "Insecure container runtime configurations",
    "4.4.4": "App vulnerabilities",
    "4.4.5": "Rogue containers",
    "4.5.1": "Large attack surface",
    "4.5.2": "Shared kernel",
    "4.5.3": "Host OS component vulnerabilities",
    "4.5.4": "Improper user access rights",
    "4.5.5": "Host OS file system tampering",
}


class NotCheckable(Exception):
    """The rule could not be evaluated: data it needs is missing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotApplicable(Exception):
    """The subject has nothing this rule inspects."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Violation:
    """One place where a rule is broken.

    `anchor` identifies the place stably across runs (path and line, a
    resource name, a config field); it goes into the finding's fingerprint.
    """

    message: str
    location: Location
    anchor: str


@dataclass(frozen=True)
class Example:
    """A bad (`fires=True`) or good (`fires=False`) input for a rule.

    `data` is whatever the family's example loader turns into a subject: the
    text of a Dockerfile, an image spec, a YAML document.
    """

    data: object
    fires: bool
    name: str = ""


@dataclass(frozen=True)
class RuleConfig:
    """Settings that some rules read. Defaults keep every rule self-contained."""

    # Registries FROM may pull from (host[:port], "docker.io" for Docker Hub).
    # Empty: the trusted-registry rules are not applicable.
    trusted_registries: tuple[str, ...] = ()
    # An image whose configuration was created longer ago than this is stale.
    max_image_age_days: int = 365
    # Paths allowed to be setuid/setgid in addition to the built-in list.
    extra_setuid_allowed: tuple[str, ...] = ()
    # Labels every image must carry, as (label, type) pairs; types are those of
    # lashing.rules.dockerfile.labels.LABEL_TYPES. Empty: the schema rules are not applicable.
    label_schema: tuple[tuple[str, str], ...] = ()
    # Refuse labels outside `label_schema`.
    strict_labels: bool = False


@dataclass(frozen=True, kw_only=True)
class Rule(Generic[S]):
    id: str
    title: str
    severity: Severity
    surface: Surface
    check: Callable[[S], Iterable[Violation]]
    kind: FindingKind = FindingKind.MISCONFIGURATION
    nist: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    description: str = ""  # why it matters; the title says what
    remediation: str = ""
    references: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    tags: tuple[str, ...] = ()

    def matches(self, name: str) -> bool:
        """True when `name` is this rule's id or one of its aliases (any case)."""
        key = name.strip().casefold()
        return key == self.id.casefold() or any(key == a.casefold() for a in self.aliases)


def rule(
    *,
    id: str,
    title: str,
    severity: Severity,
    surface: Surface = Surface.IMAGE,
    kind: FindingKind = FindingKind.MISCONFIGURATION,
    nist: tuple[str, ...] = ("4.1.2",),
    aliases: tuple[str, ...] = (),
    description: str = "",
    remediation: str = "",
    references: tuple[str, ...] = (),
    examples: tuple[Example, ...] = (),
    tags: tuple[str, ...] = (),
) -> Callable[[Callable[[S], Iterable[Violation]]], Rule[S]]:
    """Declare a rule over its check function:

        @rule(id="LSH-DF-001", title=..., severity=Severity.LOW, examples=(...))
        def check(subject: Subject) -> Iterator[Violation]: ...

    The decorated name is the `Rule`; put it in the module's `RULES` tuple.
    """

    def wrap(check: Callable[[S], Iterable[Violation]]) -> Rule[S]:
        return Rule(id=id, title=title, severity=severity, surface=surface, check=check,
                    kind=kind, nist=nist, aliases=aliases,
                    description=description or " ".join((check.__doc__ or "").split()),
                    remediation=remediation, references=references, examples=examples,
                    tags=tags)

    return wrap


@dataclass(frozen=True)
class Family(Generic[S]):
    """A rule family: its id prefix, its rules and how its examples load."""

    name: str  # "dockerfile"
    prefix: str  # "LSH-DF"
    rules: tuple[Rule[S], ...]
    load_example: Callable[[Example], S]
    modules: tuple[str, ...] = field(default=())  # modules whose RULES make up `rules`

    def fires(self, rule: Rule[S], example: Example) -> bool:
        """Whether `rule` reports a violation on `example` (used by the example tests).

        A rule that is not applicable or cannot check the example does not fire."""
        try:
            return bool(list(rule.check(self.load_example(example))))
        except (NotApplicable, NotCheckable):
            return False


Suppressor = Callable[[Rule[Any], Violation], Suppression | None]


def is_skipped(r: Rule[Any], skip: Collection[str]) -> bool:
    return any(r.matches(s) for s in skip)


def content_checks(rules: Sequence[Rule[Any]], failing_ids: Iterable[str], target: str,
                   skip: Collection[str], summary: str,
                   otherwise: Callable[[Rule[Any]], Check | None] | None = None) -> list[Check]:
    """One Check per rule for scanners that judge a whole target at once
    (secrets, malware): skipped, failed (with its finding count), whatever
    `otherwise` says about the rule, else passed; `summary` says what was scanned."""
    counts: dict[str, int] = {}
    for rule_id in failing_ids:
        counts[rule_id] = counts.get(rule_id, 0) + 1
    out = []
    for r in rules:
        special = otherwise(r) if otherwise is not None else None
        if is_skipped(r, skip):
            out.append(Check(r.id, target, CheckStatus.NOT_CHECKED, "skipped"))
        elif r.id in counts:
            out.append(Check(r.id, target, CheckStatus.FAIL,
                             f"{counts[r.id]} finding(s); {summary}"))
        elif special is not None:
            out.append(special)
        else:
            out.append(Check(r.id, target, CheckStatus.PASS, summary))
    return out


def evaluate(
    rules: Sequence[Rule[S]],
    subject: S,
    target: str,
    target_identity: str,
    skip: Collection[str] = frozenset(),
    suppress: Suppressor | None = None,
) -> tuple[list[Finding], list[Check]]:
    """Run `rules` over `subject`: one Check per rule, one Finding per violation.

    Rules named in `skip` (ids or aliases) are not run and get a `not-checked`
    Check with reason "skipped"; a rule that raises an unexpected exception gets
    a `not-checked` Check naming it (the example tests surface such bugs).
    `suppress` may return a Suppression for a violation (inline ignore
    comments); the finding is kept with it and never gates. Two violations of
    one rule with the same anchor become one finding.
    """
    findings: list[Finding] = []
    checks: list[Check] = []
    for r in rules:
        if is_skipped(r, skip):
            checks.append(Check(r.id, target, CheckStatus.NOT_CHECKED, "skipped"))
            continue
        try:
            violations = _unique(r.check(subject))
        except NotCheckable as exc:
            checks.append(Check(r.id, target, CheckStatus.NOT_CHECKED, exc.reason))
            continue
        except NotApplicable as exc:
            checks.append(Check(r.id, target, CheckStatus.NOT_APPLICABLE, exc.reason))
            continue
        except Exception as exc:  # a bug in one rule must not cost the whole scan
            checks.append(Check(r.id, target, CheckStatus.NOT_CHECKED,
                                f"rule failed: {type(exc).__name__}: {exc}"))
            continue
        live = 0
        for v in violations:
            suppression = suppress(r, v) if suppress is not None else None
            live += suppression is None
            findings.append(make_finding(r, v, target, target_identity, suppression))
        if not violations:
            checks.append(Check(r.id, target, CheckStatus.PASS))
        elif live:
            checks.append(Check(r.id, target, CheckStatus.FAIL,
                                f"{len(violations)} finding(s)"))
        else:
            checks.append(Check(r.id, target, CheckStatus.PASS,
                                f"{len(violations)} finding(s) suppressed inline"))
    return findings, checks


def _unique(violations: Iterable[Violation]) -> list[Violation]:
    by_anchor: dict[str, Violation] = {}
    for v in violations:
        seen = by_anchor.get(v.anchor)
        if seen is None:
            by_anchor[v.anchor] = v
        elif v.message not in seen.message:
            by_anchor[v.anchor] = Violation(f"{seen.message}; {v.message}", seen.location,
                                            seen.anchor)
    return list(by_anchor.values())


def make_finding(r: Rule[Any], v: Violation, target: str, target_identity: str,
                 suppression: Suppression | None = None) -> Finding:
    return Finding(
        rule_id=r.id,
        kind=r.kind,
        title=r.title,
        severity=r.severity,
        surface=r.surface,
        target=target,
        location=v.location,
        message=v.message,
        remediation=r.remediation,
        references=r.references,
        aliases=r.aliases,
        nist=r.nist,
        suppression=suppression,
        target_identity=target_identity,
        anchor=v.anchor,
    )
