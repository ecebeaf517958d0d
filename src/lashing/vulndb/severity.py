"""Severity from advisories: CVSS base scores, text ratings and distribution
ratings, each bucketed into lashing's Severity."""

from __future__ import annotations

from functools import lru_cache

from cvss import CVSS2, CVSS3, CVSS4  # type: ignore[import-untyped]
from cvss.exceptions import CVSSError  # type: ignore[import-untyped]

from lashing.model import CVSS, Severity

__all__ = [
    "bucket",
    "cvss_score",
    "debian_urgency",
    "text_severity",
    "ubuntu_priority",
]

_TEXT = {
    "critical": Severity.CRITICAL,
    "important": Severity.HIGH,
    "high": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
    "negligible": Severity.LOW,
}
_DEBIAN = {"unimportant": Severity.LOW, "low": Severity.LOW, "medium": Severity.MEDIUM,
           "high": Severity.HIGH}
# CVSS types in the order of preference for a finding's severity: the newest.
PREFERENCE = {"4.0": 4, "3.1": 3, "3.0": 2, "2.0": 1}


def bucket(score: float) -> Severity:
    """CVSS base score -> Severity (>=9 CRITICAL, >=7 HIGH, >=4 MEDIUM, >0 LOW)."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.UNKNOWN


def text_severity(text: str) -> Severity | None:
    """A word rating (GHSA's MODERATE, Red Hat's Important, ...) or None."""
    return _TEXT.get(text.strip().lower())


def debian_urgency(urgency: str) -> Severity | None:
    """Debian tracker urgency (`low**` marks a guess); `not yet assigned` -> None."""
    return _DEBIAN.get(urgency.strip().rstrip("*").strip().lower())


def ubuntu_priority(priority: str) -> Severity | None:
    return _TEXT.get(priority.strip().lower())


@lru_cache(maxsize=65536)
def cvss_score(kind: str, vector: str) -> CVSS | None:
    """An OSV severity entry (CVSS_V2/V3/V4 and its vector) -> CVSS with base
    score, or None when the vector does not parse."""
    vector = vector.strip()
    try:
        if kind == "CVSS_V2":
            return CVSS("2.0", vector, float(CVSS2(vector).base_score))
        if kind == "CVSS_V3":
            version = "3.0" if vector.startswith("CVSS:3.0/") else "3.1"
            return CVSS(version, vector, float(CVSS3(vector).base_score))
        if kind == "CVSS_V4":
            return CVSS("4.0", vector, float(CVSS4(vector).base_score))
    except (CVSSError, ValueError, KeyError, IndexError, ArithmeticError):
        return None
    return None
