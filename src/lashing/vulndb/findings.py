"""Matched advisories -> Findings: identity, merging, severity, status.

Identity: a finding's `rule_id` is the CVE id when the advisories have one
(their id, an alias, or the CVE inside ids such as `DEBIAN-CVE-2024-1234`),
else the advisory's own id; every other id goes to `aliases`. Advisories of
one package merge into one finding when they name the same CVE, or when one
lists the other's id as an alias (GHSA <-> PYSEC), never across two CVEs.

Severity: OS packages take the distribution's rating first (Debian urgency,
Ubuntu priority, the Red Hat-style rating of AlmaLinux/Rocky advisories),
then CVSS; language packages CVSS first, then the database's text rating.
CVSS prefers the newest version present (4.0, 3.1, 3.0, 2.0); base scores
are bucketed >=9 CRITICAL, >=7 HIGH, >=4 MEDIUM, >0 LOW. `MAL-` advisories
(malicious packages) are CRITICAL malware findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lashing.model import (
    CVSS,
    Finding,
    FindingKind,
    Location,
    Package,
    Severity,
    Surface,
    Vulnerability,
    VulnStatus,
)
from lashing.vulndb.ecosystems import is_os
from lashing.vulndb.severity import (
    PREFERENCE,
    bucket,
    cvss_score,
    debian_urgency,
    text_severity,
    ubuntu_priority,
)
from lashing.vulndb.store import AdvisoryRow

__all__ = ["NIST_MALWARE", "NIST_VULNERABILITY", "FindingBuilder", "Hit", "primary_cve"]

NIST_VULNERABILITY = ("4.1.1",)  # SP 800-190 4.1.1 Image vulnerabilities
NIST_MALWARE = ("4.1.3",)  # SP 800-190 4.1.3 Embedded malware
_CVE = re.compile(r"^CVE-\d{4}-\d+$")
_EMBEDDED_CVE = re.compile(r"^[A-Z]+-(CVE-\d{4}-\d+)$")


@dataclass
class Hit:
    """One advisory that matched one package."""

    advisory_id: str
    fixed: list[str] = field(default_factory=list)
    extras: list[dict[str, Any]] = field(default_factory=list)

    def add(self, fixed: Iterable[str], extra: dict[str, Any]) -> None:
        for f in fixed:
            if f not in self.fixed:
                self.fixed.append(f)
        if extra and extra not in self.extras:
            self.extras.append(extra)


def primary_cve(advisory: AdvisoryRow) -> str | None:
    """The one CVE an advisory is about, if it is about exactly one."""
    if _CVE.match(advisory.id):
        return advisory.id
    embedded = _EMBEDDED_CVE.match(advisory.id)
    if embedded:
        return embedded.group(1)
    cves = {a for a in advisory.aliases if _CVE.match(a)}
    return cves.pop() if len(cves) == 1 else None


@lru_cache(maxsize=65536)
def _scores(entries: tuple[tuple[str, str], ...]) -> tuple[CVSS, ...]:
    out: list[CVSS] = []
    for kind, vector in entries:
        scored = cvss_score(kind, vector)
        if scored is not None and scored not in out:
            out.append(scored)
    return tuple(out)


def _preferred(scores: Sequence[CVSS]) -> Severity | None:
    if not scores:
        return None
    best = max(scores, key=lambda c: (PREFERENCE.get(c.version, 0), c.score or 0.0))
    return bucket(best.score or 0.0)


def _worse(a: Severity | None, b: Severity | None) -> Severity | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a.rank >= b.rank else b


@dataclass(frozen=True, slots=True)
class _Facts:
    """What a finding needs from one advisory, worked out once per match run."""

    advisory: AdvisoryRow
    cve: str | None
    names: frozenset[str]  # its id and aliases
    scores: tuple[CVSS, ...]  # from the record-level severity
    by_cvss: Severity | None
    rated: Severity | None  # the record's text rating
    title: str
    malicious: bool
    ubuntu: str | None  # a record-level Ubuntu priority (severity type "Ubuntu")


def _facts(advisory: AdvisoryRow) -> _Facts:
    scores = _scores(advisory.cvss)
    title = advisory.summary
    if not title and advisory.details:
        first = advisory.details.strip().splitlines()[0]
        title = first if len(first) <= 120 else first[:119].rstrip() + "…"
    return _Facts(
        advisory=advisory, cve=primary_cve(advisory),
        names=frozenset((advisory.id, *advisory.aliases)), scores=scores,
        by_cvss=_preferred(scores),
        rated=text_severity(advisory.severity) if advisory.severity else None,
        title=title, malicious=advisory.id.startswith("MAL-"),
        ubuntu=next((v.lower() for k, v in advisory.cvss if k == "Ubuntu"), None))


class FindingBuilder:
    """Turns one match run's hits into Findings, caching per-advisory work."""

    def __init__(self, advisories: dict[str, AdvisoryRow], evaluator_for: Any, *,
                 target: str, target_identity: str, surface: Surface) -> None:
        self._advisories = advisories
        self._evaluator_for = evaluator_for  # ecosystem -> Evaluator
        self._facts: dict[str, _Facts] = {}
        self.target = target
        self.target_identity = target_identity
        self.surface = surface

    def facts(self, advisory_id: str) -> _Facts:
        found = self._facts.get(advisory_id)
        if found is None:
            found = self._facts[advisory_id] = _facts(self._advisories[advisory_id])
        return found

    def build(self, package: Package, hits: Sequence[Hit]) -> list[Finding]:
        hits = [h for h in hits if h.advisory_id in self._advisories]
        findings = [self._finding(package, group) for group in self._groups(hits)]
        findings.sort(key=lambda f: f.rule_id)
        return findings

    def _groups(self, hits: Sequence[Hit]) -> list[list[Hit]]:
        """Union of hits that are the same vulnerability (see module doc);
        linear in the number of ids and aliases."""
        if len(hits) <= 1:
            return [list(hits)] if hits else []
        parent = list(range(len(hits)))
        cve: list[str | None] = [self.facts(h.advisory_id).cve for h in hits]

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        def union(i: int, j: int) -> None:
            ri, rj = root(i), root(j)
            if ri == rj or (cve[ri] and cve[rj] and cve[ri] != cve[rj]):
                return
            parent[rj] = ri
            cve[ri] = cve[ri] or cve[rj]

        by_cve: dict[str, int] = {}
        by_id = {h.advisory_id: i for i, h in enumerate(hits)}
        for i, c in enumerate(list(cve)):
            if c is not None:
                union(by_cve.setdefault(c, i), i)
        for i, hit in enumerate(hits):
            for alias in self._advisories[hit.advisory_id].aliases:
                j = by_id.get(alias)
                if j is not None:
                    union(j, i)
        groups: dict[int, list[Hit]] = {}
        for i, hit in enumerate(hits):
            groups.setdefault(root(i), []).append(hit)
        return list(groups.values())

    def _finding(self, package: Package, group: Sequence[Hit]) -> Finding:
        members = [(self.facts(h.advisory_id), h) for h in group]
        if len(members) > 1:
            members.sort(key=lambda m: m[0].advisory.id)
        os_package = is_os(package.ecosystem)
        cve: str | None = None
        names: set[str] = set()
        ids: list[str] = []
        malicious = False
        distro = rated = per_package = by_cvss = None
        unimportant = eol = wont_fix = False
        cvss: dict[CVSS, None] = {}
        references: dict[str, None] = {}
        fixed: list[str] = []
        for facts, hit in members:
            advisory = facts.advisory
            ids.append(advisory.id)
            names |= facts.names
            cve = cve or facts.cve
            malicious = malicious or facts.malicious
            rated = _worse(rated, facts.rated)
            scores = facts.scores
            override: list[tuple[str, str]] = []
            if facts.ubuntu and not any("p" in e for e in hit.extras):
                distro = _worse(distro, ubuntu_priority(facts.ubuntu))
                unimportant = unimportant or facts.ubuntu == "negligible"
            for extra in hit.extras:
                if "u" in extra:
                    distro = _worse(distro, debian_urgency(extra["u"]))
                    unimportant = unimportant or extra["u"] == "unimportant"
                elif "p" in extra:
                    distro = _worse(distro, ubuntu_priority(extra["p"]))
                if extra.get("p") == "negligible":
                    unimportant = True
                if isinstance(extra.get("d"), str):
                    per_package = _worse(per_package, text_severity(extra["d"]))
                status = extra.get("st")
                eol = eol or status == "end-of-life"
                wont_fix = wont_fix or status == "wont-fix"
                override.extend((k, v) for k, v in extra.get("s", ()))
            if override:  # per-package severity overrides the record's
                scores = _scores(tuple(override))
                by_cvss = _worse(by_cvss, _preferred(scores))
            else:
                by_cvss = _worse(by_cvss, facts.by_cvss)
            cvss.update(dict.fromkeys(scores))
            references.update(dict.fromkeys(advisory.references))
            for f in hit.fixed:
                if f not in fixed:
                    fixed.append(f)
        rule_id = cve or min(ids)
        if len(fixed) > 1:
            evaluator = self._evaluator_for(package.ecosystem)
            fixed.sort(key=lambda v: (0, evaluator.key(v)) if evaluator.key(v) is not None
                       else (1, v))
        if malicious:
            status_value = VulnStatus.UNFIXED
            severity = Severity.CRITICAL
        else:
            status_value = (VulnStatus.UNIMPORTANT if unimportant else VulnStatus.FIXED if fixed
                            else VulnStatus.END_OF_LIFE if eol else VulnStatus.WONT_FIX
                            if wont_fix else VulnStatus.UNFIXED)
            order = ((distro, rated, by_cvss, per_package) if os_package
                     else (by_cvss, rated, per_package, distro))
            severity = next((s for s in order if s is not None), Severity.UNKNOWN)
        name = package.name
        source_note = ""
        if os_package and package.source_name and package.source_name != name:
            source_note = f" (source package {package.source_name})"
        if malicious:
            message = f"{name} {package.version} is a known malicious package ({rule_id})"
            remediation = f"remove {name}; treat the image as compromised and rebuild it"
        else:
            message = f"{name} {package.version}{source_note} is affected by {rule_id}"
            remediation = _remediation(name + source_note, status_value, fixed)
            if fixed:
                message += f"; fixed in {', '.join(fixed)}"
            elif status_value is not VulnStatus.UNIMPORTANT:
                message += f"; {status_value.value.replace('-', ' ')} in {package.ecosystem}"
        names.discard(rule_id)
        title = next((f.title for f, _ in members if f.title), f"{rule_id} in {name}")
        return Finding(
            rule_id=rule_id,
            kind=FindingKind.MALWARE if malicious else FindingKind.VULNERABILITY,
            title=title,
            severity=severity,
            surface=self.surface,
            target=self.target,
            location=package.locations[0] if package.locations else Location(),
            message=message,
            remediation=remediation,
            references=tuple(references),
            aliases=tuple(sorted(names)),
            nist=NIST_MALWARE if malicious else NIST_VULNERABILITY,
            vulnerability=Vulnerability(
                id=rule_id, package=package, installed_version=package.version,
                fixed_versions=tuple(fixed), status=status_value, cvss=tuple(cvss)),
            target_identity=self.target_identity,
            anchor=package.purl or f"{package.ecosystem}/{name}@{package.version}",
        )


def _remediation(name: str, status: VulnStatus, fixed: Sequence[str]) -> str:
    if fixed:
        # the highest of the nearest fixes, so every merged advisory agrees
        return f"upgrade {name} to {fixed[-1]} or later"
    if status is VulnStatus.WONT_FIX:
        return f"the distribution will not fix this in {name}; remove or replace it"
    if status is VulnStatus.END_OF_LIFE:
        return f"{name} is no longer supported in this release; upgrade the base image"
    if status is VulnStatus.UNIMPORTANT:
        return "the distribution rates this as unimportant; no action needed"
    return f"no fixed version of {name} is known yet"
