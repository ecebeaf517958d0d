"""Re-scan: the stored package inventories against the current vulnerability
database, without pulling any image.

For every target identity the store knows, its latest SBOM is matched again;
each finding whose fingerprint the previous run of that target did not have
is new. Suppressions (VEX, ignore file, baseline) the previous run applied to
a finding carry over until they expire.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from lashing import __version__
from lashing.model import (
    Finding,
    Issue,
    Location,
    Report,
    Suppression,
    SuppressionKind,
    Surface,
    Target,
    TargetKind,
    VulnStatus,
)
from lashing.report.json import to_document
from lashing.store import rebuild
from lashing.store.store import Store, StoredTarget
from lashing.vulndb import Database, database_info, match, staleness_warning

__all__ = ["RescanOptions", "RescanResult", "TargetResult", "rescan"]


@dataclass(frozen=True)
class RescanOptions:
    show_unimportant: bool = False
    ignore_unfixed: bool = False
    today: date | None = None


@dataclass(frozen=True)
class TargetResult:
    name: str
    identity: str
    sbom_run: int  # the run the package inventory comes from
    previous_run: int | None  # the run the findings were compared with
    packages: int
    findings: int
    new: int


@dataclass(frozen=True)
class RescanResult:
    report: Report
    new: frozenset[str]  # fingerprints of findings new since their target's previous run
    targets: tuple[TargetResult, ...]
    fingerprint_identities: dict[str, str]  # target identity -> what fingerprints hash

    def record(self, store: Store) -> int:
        """Record the re-scan as a run of kind "rescan"; its id."""
        return store.record(to_document(self.report), kind="rescan",
                            fingerprint_identities=self.fingerprint_identities)


def _surface(kind: TargetKind) -> Surface:
    return Surface.BUILD_HOST if kind is TargetKind.HOST else Surface.APPLICATION


def _carried(previous: dict[str, Any] | None, today: date) -> Suppression | None:
    """The previous run's suppression of the same finding, unless it expired."""
    s = previous.get("suppressed") if previous else None
    if not isinstance(s, dict):
        return None
    try:
        kind = SuppressionKind(str(s.get("kind")))
    except ValueError:
        return None
    expires = s.get("expires") if isinstance(s.get("expires"), str) else None
    if expires is not None:
        try:
            if date.fromisoformat(expires) < today:
                return None
        except ValueError:
            return None
    return Suppression(kind, str(s.get("reason") or ""), expires)


def _hidden(options: RescanOptions) -> set[VulnStatus]:
    hidden = set()
    if options.ignore_unfixed:
        hidden.add(VulnStatus.UNFIXED)
    if not options.show_unimportant:
        hidden.add(VulnStatus.UNIMPORTANT)
    return hidden


def _one(stored: StoredTarget, target: Target, store: Store, db: Database,
         options: RescanOptions, today: date) -> tuple[list[Finding], list[Issue], set[str],
                                                      TargetResult]:
    found, issues = match(target.packages, db, target=target.name,
                          target_identity=stored.fingerprint_identity,
                          surface=_surface(target.kind))
    hidden = _hidden(options)
    found = [f for f in found if f.vulnerability is None or f.vulnerability.status not in hidden]
    previous_run, previous = store.previous_findings(stored.identity)
    new: set[str] = set()
    out: list[Finding] = []
    for f in found:
        before = previous.get(f.fingerprint)
        if before is None:
            new.add(f.fingerprint)
        suppression = _carried(before, today)
        out.append(replace(f, suppression=suppression) if suppression else f)
    result = TargetResult(target.name, stored.identity, stored.run_id, previous_run,
                          len(target.packages), len(out), len(new))
    return out, issues, new, result


def rescan(store: Store, db: Database, options: RescanOptions | None = None) -> RescanResult:
    """Match every stored target's latest SBOM against `db`."""
    options = options or RescanOptions()
    today = options.today or date.today()
    targets: list[Target] = []
    findings: list[Finding] = []
    issues: list[Issue] = []
    new: set[str] = set()
    results: list[TargetResult] = []
    ecosystems: set[str] = set()
    identities: dict[str, str] = {}
    for stored in store.targets_with_packages():
        identities[stored.identity] = stored.fingerprint_identity
        target = rebuild.target(stored.document)
        targets.append(target)
        ecosystems.update(p.ecosystem for p in target.packages if p.ecosystem)
        f, i, n, r = _one(stored, target, store, db, options, today)
        findings.extend(f)
        issues.extend(i)
        new |= n
        results.append(r)
    stale = staleness_warning(db, ecosystems=ecosystems) if targets else None
    if stale:
        issues.append(Issue(stage="vulndb", plugin="database",
                            location=Location(path=str(db.path)), message=stale))
    report = Report(targets=tuple(targets), findings=tuple(findings), issues=tuple(issues),
                    tool_version=__version__, database=database_info(db))
    return RescanResult(report, frozenset(new), tuple(results), identities)
