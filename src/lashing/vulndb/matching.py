"""Match packages against the database: one indexed lookup per package name,
versions compared with each ecosystem's own rules.

- Language packages match by name and version in their ecosystem (`PyPI`).
- OS packages match in their exact release (`Debian:12` only). Debian,
  Ubuntu, Alpine and the other source-keyed feeds are matched by the source
  package name and the source version (a binNMU `+b1` binary is judged by its
  source version); RPM feeds that list every binary RPM (AlmaLinux, Rocky,
  Red Hat) by the binary name and version.
- An ecosystem lashing cannot compare, or one with no advisories in the
  database, becomes an Issue: never a guess, never a silent "clean".
- Advisories for the same package that are the same vulnerability (GHSA and
  PYSEC for one CVE) become one finding; see findings.py.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lashing.model import Finding, Issue, Location, Package, Surface
from lashing.vulndb.ecosystems import BINARY_NAMED, OS_FAMILIES, family, normalize_name
from lashing.vulndb.evaluate import Evaluator
from lashing.vulndb.findings import FindingBuilder, Hit
from lashing.vulndb.store import Database
from lashing.vulndb.versions import comparator_for

__all__ = ["Affected", "affected_by", "match", "match_names"]

STAGE = "vulndb"
PLUGIN = "osv-match"


@dataclass
class Affected:
    """The advisories (by id) that affect one package, before findings are made."""

    package: Package
    hits: dict[str, Hit] = field(default_factory=dict)


def match_names(package: Package) -> tuple[list[str], str]:
    """The normalised names to look up and the version to compare for a package."""
    eco = package.ecosystem
    fam = family(eco)
    if fam in OS_FAMILIES and fam in BINARY_NAMED:
        names = [package.name]
        version = package.version
    elif fam in OS_FAMILIES:
        names = [package.source_name or package.name]
        version = package.source_version or package.version
    else:
        names = [package.name]
        version = package.version
    return [normalize_name(eco, n) for n in names], version


def match(packages: Sequence[Package], db: Database, *, target: str = "",
          target_identity: str = "", surface: Surface = Surface.APPLICATION
          ) -> tuple[list[Finding], list[Issue]]:
    """Findings for every package affected by an advisory in `db`, and Issues
    for packages that could not be checked."""
    affected, issues, evaluators = _affected(packages, db)
    advisories = db.advisories(aid for entry in affected for aid in entry.hits)
    builder = FindingBuilder(advisories, evaluators.__getitem__, target=target,
                             target_identity=target_identity, surface=surface)
    findings: list[Finding] = []
    for entry in affected:
        findings.extend(builder.build(entry.package, list(entry.hits.values())))
    return findings, issues


def affected_by(packages: Sequence[Package], db: Database
                ) -> tuple[list[Affected], list[Issue]]:
    """The matching step of match() alone: for each affected package, the
    advisory ids that affect it (no merging, no findings)."""
    affected, issues, _ = _affected(packages, db)
    return affected, issues


def _affected(packages: Sequence[Package], db: Database
              ) -> tuple[list[Affected], list[Issue], dict[str, Evaluator | None]]:
    issues: list[Issue] = []
    evaluators: dict[str, Evaluator | None] = {}
    uncomparable: Counter[str] = Counter()
    uncovered: Counter[str] = Counter()
    no_ecosystem = 0
    rows_cache: dict[tuple[str, str], list[Any]] = {}
    extras_cache: dict[str, dict[str, Any]] = {}
    out: list[Affected] = []
    for package in packages:
        eco = package.ecosystem
        if not eco:
            no_ecosystem += 1
            continue
        if eco not in evaluators:
            comparator = comparator_for(eco)
            evaluators[eco] = Evaluator(comparator) if comparator is not None else None
        evaluator = evaluators[eco]
        if evaluator is None:
            uncomparable[eco] += 1
            continue
        if not db.has_ecosystem(eco):
            uncovered[eco] += 1
            continue
        names, version = match_names(package)
        where = package.locations[0] if package.locations else Location()
        if not version:
            issues.append(Issue(STAGE, PLUGIN, where,
                                f"{package.name} ({eco}) has no version: not checked"))
            continue
        if evaluator.key(version) is None:  # still found in advisories' version lists
            issues.append(Issue(STAGE, PLUGIN, where,
                                f"{package.name} {version}: not a valid {eco} version; "
                                "checked against listed versions only"))
        entry = Affected(package)
        for name in names:
            rows = rows_cache.get((eco, name))
            if rows is None:
                rows = rows_cache[(eco, name)] = db.lookup(eco, name)
            for row in rows:
                verdict = evaluator.evaluate(version, row.ranges, row.versions)
                if verdict is None:
                    continue
                hit = entry.hits.get(row.advisory_id)
                if hit is None:
                    hit = entry.hits[row.advisory_id] = Hit(row.advisory_id)
                hit.add(verdict.fixed, _extra(row.extra, extras_cache))
        if entry.hits:
            out.append(entry)
    issues.extend(_ecosystem_issues(uncomparable, uncovered, no_ecosystem))
    return out, issues, evaluators


def _extra(text: str | None, cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if not text:
        return {}
    parsed = cache.get(text)
    if parsed is None:
        parsed = cache[text] = json.loads(text)
    return parsed


def _ecosystem_issues(uncomparable: Counter[str], uncovered: Counter[str],
                      no_ecosystem: int) -> list[Issue]:
    out: list[Issue] = []
    for eco, count in sorted(uncomparable.items()):
        out.append(Issue(STAGE, PLUGIN, Location(),
                         f"{count} {eco} package(s) not checked: lashing cannot compare "
                         f"versions of the {eco} ecosystem"))
    for eco, count in sorted(uncovered.items()):
        out.append(Issue(STAGE, PLUGIN, Location(),
                         f"no advisories for {eco} in the database: {count} package(s) not "
                         f"checked (run 'lashing db update --ecosystem {family(eco)}')"))
    if no_ecosystem:
        out.append(Issue(STAGE, PLUGIN, Location(),
                         f"{no_ecosystem} package(s) without an ecosystem not checked"))
    return out
