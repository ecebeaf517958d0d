"""evaluate(): checks per rule, skip, not-checked, not-applicable, suppression."""

from __future__ import annotations

from collections.abc import Iterator

from lashing.model import CheckStatus, Location, Severity, Suppression, SuppressionKind
from lashing.rules.framework import (
    Example,
    NotApplicable,
    NotCheckable,
    Rule,
    Violation,
    evaluate,
    rule,
)


def _v(n: int) -> Violation:
    return Violation(f"bad {n}", Location(path="f", line=n), f"f:{n}")


@rule(id="LSH-DF-900", title="fires", severity=Severity.HIGH,
      aliases=("tool:X1",), remediation="fix", examples=(Example(1, True), Example(0, False)))
def fires(n: int) -> Iterator[Violation]:
    """Fires on odd numbers."""
    if n % 2:
        yield _v(n)
        yield _v(n)  # same anchor: one finding


@rule(id="LSH-DF-901", title="missing data", severity=Severity.LOW)
def missing(n: int) -> Iterator[Violation]:
    raise NotCheckable("no data")
    yield _v(n)


@rule(id="LSH-DF-902", title="nothing to see", severity=Severity.LOW)
def not_applicable(n: int) -> Iterator[Violation]:
    raise NotApplicable("nothing here")
    yield _v(n)


@rule(id="LSH-DF-903", title="silent", severity=Severity.LOW)
def silent(n: int) -> Iterator[Violation]:
    return iter(())


@rule(id="LSH-DF-904", title="buggy", severity=Severity.LOW)
def buggy(n: int) -> Iterator[Violation]:
    yield _v(1 // (n - n))


RULES: tuple[Rule[int], ...] = (fires, missing, not_applicable, silent)


def test_statuses() -> None:
    findings, checks = evaluate(RULES, 3, "target", "sha256:x")
    status = {c.rule_id: c.status for c in checks}
    assert status == {"LSH-DF-900": CheckStatus.FAIL, "LSH-DF-901": CheckStatus.NOT_CHECKED,
                      "LSH-DF-902": CheckStatus.NOT_APPLICABLE,
                      "LSH-DF-903": CheckStatus.PASS}
    assert [f.rule_id for f in findings] == ["LSH-DF-900"]
    f = findings[0]
    assert f.severity is Severity.HIGH and f.remediation == "fix"
    assert f.aliases == ("tool:X1",) and f.target == "target"
    assert f.target_identity == "sha256:x" and f.anchor == "f:3"
    assert fires.description == "Fires on odd numbers."


def test_a_failing_rule_is_not_checked() -> None:
    findings, checks = evaluate((buggy, fires), 3, "t", "t")
    assert checks[0].status is CheckStatus.NOT_CHECKED
    assert checks[0].reason.startswith("rule failed: ZeroDivisionError")
    assert checks[1].status is CheckStatus.FAIL and len(findings) == 1


def test_fingerprint_stable_and_identity_bound() -> None:
    a = evaluate(RULES, 3, "t", "sha256:x")[0][0].fingerprint
    b = evaluate(RULES, 3, "other name", "sha256:x")[0][0].fingerprint
    c = evaluate(RULES, 3, "t", "sha256:y")[0][0].fingerprint
    assert a == b != c


def test_skip_by_id_or_alias() -> None:
    for name in ("LSH-DF-900", "lsh-df-900", "tool:x1"):
        findings, checks = evaluate(RULES, 3, "t", "t", skip={name})
        assert not findings
        skipped = next(c for c in checks if c.rule_id == "LSH-DF-900")
        assert skipped.status is CheckStatus.NOT_CHECKED and skipped.reason == "skipped"


def test_suppression_keeps_finding_and_passes_check() -> None:
    def suppress(r: Rule[object], v: Violation) -> Suppression | None:
        return Suppression(SuppressionKind.INLINE, "accepted") if r.id == "LSH-DF-900" else None

    findings, checks = evaluate(RULES, 3, "t", "t", suppress=suppress)
    assert findings[0].suppression == Suppression(SuppressionKind.INLINE, "accepted")
    check = next(c for c in checks if c.rule_id == "LSH-DF-900")
    assert check.status is CheckStatus.PASS and "suppressed" in check.reason
