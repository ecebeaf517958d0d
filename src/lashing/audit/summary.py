"""Per-surface counts and gates, and the NIST SP 800-190 coverage table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lashing.model import CheckStatus, Finding, Report, Severity, Surface
from lashing.rules.framework import NIST_TITLES, Rule

# Checks made outside the rule registry, and the areas they cover.
EXTRA_COVERAGE: dict[str, tuple[str, ...]] = {
    "LSH-HOST-PKG": ("4.5.3",),  # the build host's packages against the database
}


@dataclass(frozen=True)
class SurfaceSummary:
    surface: Surface
    counts: dict[Severity, int]  # live findings
    suppressed: int
    fail_on: Severity | None

    @property
    def failed(self) -> bool:
        if self.fail_on is None:
            return False
        return any(n for s, n in self.counts.items() if s.rank >= self.fail_on.rank)

    def to_json(self) -> dict[str, Any]:
        return {"counts": {s.value: self.counts[s] for s in Severity},
                "suppressed": self.suppressed,
                "fail_on": self.fail_on.value if self.fail_on else None,
                "gate": "fail" if self.failed else "pass"}


def surfaces(findings: Sequence[Finding], fail_on: Mapping[Surface, Severity]
             ) -> dict[Surface, SurfaceSummary]:
    """Every surface, in DESIGN's order; suppressed findings are counted apart and never gate."""
    out = {}
    for surface in Surface:
        mine = [f for f in findings if f.surface is surface]
        counts = {s: 0 for s in Severity}
        for f in mine:
            if f.suppression is None:
                counts[f.severity] += 1
        out[surface] = SurfaceSummary(surface, counts,
                                      sum(1 for f in mine if f.suppression is not None),
                                      fail_on.get(surface))
    return out


def nist_table(report: Report, rules: Sequence[Rule[Any]]) -> list[dict[str, Any]]:
    """Every countermeasure area 4.1.1-4.5.5: the rules covering it, their checks
    in this audit and a status.

    fail: a failed check or a live finding mapped to the area; pass: checks
    passed and none failed; not-checked: rules cover the area but none was
    evaluated here; not-covered: no rule covers the area."""
    rows = []
    for area, title in NIST_TITLES.items():
        ids = sorted({r.id for r in rules if area in r.nist}
                     | {i for i, areas in EXTRA_COVERAGE.items() if area in areas})
        counts = {"pass": 0, "fail": 0, "not-checked": 0}
        wanted = set(ids)
        for c in report.checks:
            if c.rule_id not in wanted:
                continue
            if c.status is CheckStatus.PASS:
                counts["pass"] += 1
            elif c.status is CheckStatus.FAIL:
                counts["fail"] += 1
            elif c.status is CheckStatus.NOT_CHECKED:
                counts["not-checked"] += 1
        live = sum(1 for f in report.findings if area in f.nist and f.suppression is None)
        if counts["fail"] or live:
            status = "fail"
        elif counts["pass"]:
            status = "pass"
        elif ids:
            status = "not-checked"
        else:
            status = "not-covered"
        rows.append({"id": area, "title": title, "rules": ids, "checks": counts,
                     "findings": live, "status": status})
    return rows


__all__ = ["EXTRA_COVERAGE", "SurfaceSummary", "nist_table", "surfaces"]
