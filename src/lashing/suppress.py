"""Suppressions: an ignore file and OpenVEX documents mark findings as
suppressed. Suppressed findings stay in the report (JSON `suppressed`, SARIF
`suppressions`) but never trigger the gate.

    ignore = load_ignore_file(Path(".lashing-ignore.toml"))     # or lashing.toml
    vex = [load_vex(Path("app.openvex.json"))]
    findings, issues = apply_suppressions(findings, ignore, vex, date.today())

Ignore file (`--ignore-file FILE`, LASHING_IGNORE_FILE)
--------------------------------------------------------
TOML: a standalone file with an `[ignore]` section, or `lashing.toml` (whose
`[ignore]` section is used; its other sections are left to their readers)::

    [[ignore.rules]]
    id = "CVE-2023-32681"        # required: a finding's rule id or any of its
                                 # aliases (GHSA-..., PYSEC-..., hadolint:DL3008)
    reason = "not reachable: we never use proxies"     # required
    expires = 2027-01-31         # optional TOML date or "YYYY-MM-DD": the entry
                                 # applies up to and including that day; after it
                                 # it suppresses nothing and an Issue says so
    purl = "pkg:pypi/requests@2.25.0"   # optional: only this package; a purl
                                 # without version matches every version, one
                                 # without qualifiers matches any qualifiers
    path = "/usr/local/lib/**"   # optional glob over the finding's location path:
                                 # `*` stays within one segment, `**` crosses them

A `path` starting with `/` or `**` is matched against the path as reported
(paths inside images and scanned directories start with `/`); any other
`path` is relative to the ignore file's directory and matches host files the
finding names (a Dockerfile given on the command line). Every condition given
must hold. Ids are compared case-insensitively.

Missing file, invalid TOML, unknown keys (the nearest valid key is
suggested), entries without `id` or `reason`, bad dates or purls are
InputErrors (exit 2) naming the file and the entry number (1-based).

VEX (`--vex FILE`, repeatable, LASHING_VEX=a.json,b.json)
---------------------------------------------------------
OpenVEX 0.2 JSON. The document needs `@context`, `@id`, `author`,
`timestamp`, `version` and a non-empty `statements` list; each statement a
`vulnerability` with `name` (or `@id`), a `status` among `not_affected`,
`affected`, `fixed`, `under_investigation`, and for `not_affected` a
`justification` (one of the five OpenVEX values) or an `impact_statement`.
Products are matched by purl: the product's `@id` when it is a purl, or
`identifiers.purl`, and likewise for its `subcomponents` (the product itself,
usually the image, is not compared with the scanned image). Qualifiers are
ignored; a purl without version matches every version. A statement without
`products` applies to every package.

A vulnerability finding is matched by its rule id, the vulnerability id or
any alias against the statement's vulnerability `name`, `@id` and `aliases`.
When several statements match, the latest one (statement `last_updated` or
`timestamp`, else the document's) decides; `not_affected` and `fixed`
suppress, `affected` and `under_investigation` do not. The vulnerability's
own status is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from lashing.config import SECTIONS, check_keys, get_str, get_table, read_toml, resolve_path
from lashing.errors import InputError
from lashing.fs import want_globs
from lashing.model import Finding, Issue, Location, Report, Suppression, SuppressionKind
from lashing.vex import VEX_SUPPRESSING, Purl, VexDocument, VexStatement, load_vex, parse_vex

STAGE = "suppress"
IGNORE_KEYS = ("rules",)
RULE_KEYS = ("id", "reason", "expires", "purl", "path")

def _package_purl(f: Finding) -> Purl | None:
    if f.vulnerability is None or not f.vulnerability.package.purl:
        return None
    try:
        return Purl.parse(f.vulnerability.package.purl)
    except ValueError:
        return None


def _ids(f: Finding) -> set[str]:
    ids = {f.rule_id, *f.aliases}
    if f.vulnerability is not None:
        ids.add(f.vulnerability.id)
    return {i.casefold() for i in ids if i}


# ---------------------------------------------------------------------------
# Ignore file
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class IgnoreEntry:
    index: int  # 1-based position in [[ignore.rules]]
    id: str
    reason: str
    expires: date | None = None
    purl: Purl | None = None
    path: str | None = None  # the glob as written
    path_glob: str | None = None  # absolute, relative globs resolved against the file
    _path_match: Callable[[str], bool] | None = field(default=None, compare=False,
                                                       repr=False)

    def label(self) -> str:
        return f"entry {self.index} ({self.id})"

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def matches(self, f: Finding, ids: set[str], purl: Purl | None) -> bool:
        if self.id.casefold() not in ids:
            return False
        if self.purl is not None and (purl is None or not self.purl.matches(purl)):
            return False
        if self._path_match is not None:
            path = f.location.path
            if not path and f.vulnerability is not None and f.vulnerability.package.locations:
                path = f.vulnerability.package.locations[0].path
            if not path:
                return False
            candidates = {path}
            if not path.startswith("/"):
                candidates.add(str(Path(path).absolute()))
            if not any(self._path_match(c) for c in candidates):
                return False
        return True


@dataclass(frozen=True)
class IgnoreList:
    path: str
    entries: tuple[IgnoreEntry, ...] = ()


def _date(value: Any, path: Path, where: str) -> date:
    if isinstance(value, datetime):
        raise InputError(f"{path}: {where}: expires must be a date (2027-01-31), "
                         "not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{path}: {where}: expires {value!r} is not a date",
                     "write a TOML date (expires = 2027-01-31) or \"YYYY-MM-DD\"")


def _entry(raw: Any, index: int, path: Path) -> IgnoreEntry:
    where = f"[[ignore.rules]] entry {index}"
    if not isinstance(raw, dict):
        raise InputError(f"{path}: {where}: expected a table")
    ident = raw.get("id")
    if isinstance(ident, str) and ident.strip():
        where += f" ({ident.strip()})"
    check_keys(raw, RULE_KEYS, path, where)
    rule_id = get_str(raw, "id", path, where, required=True)
    reason = get_str(raw, "reason", path, where, required=True)
    assert rule_id is not None and reason is not None
    expires = _date(raw["expires"], path, where) if "expires" in raw else None
    purl_text = get_str(raw, "purl", path, where)
    purl = None
    if purl_text is not None:
        try:
            purl = Purl.parse(purl_text)
        except ValueError as exc:
            raise InputError(f"{path}: {where}: purl {purl_text!r} is not a package URL: "
                             f"{exc}") from None
    glob = get_str(raw, "path", path, where)
    anchored = None
    if glob is not None:
        anchored = (glob if glob.startswith(("/", "**"))
                    else str(resolve_path(path, glob)))
    return IgnoreEntry(index=index, id=rule_id, reason=reason, expires=expires, purl=purl,
                       path=glob, path_glob=anchored,
                       _path_match=want_globs(anchored) if anchored else None)


def parse_ignore(doc: Mapping[str, Any], path: Path) -> IgnoreList:
    """The [ignore] section of a parsed lashing.toml or standalone ignore file."""
    check_keys(doc, SECTIONS, path)
    section = get_table(doc, "ignore", path)
    if section is None:
        raise InputError(f"{path}: no [ignore] section",
                         'add entries as [[ignore.rules]] with id = "..." and reason = "..."')
    check_keys(section, IGNORE_KEYS, path, "[ignore]")
    rules = section.get("rules", [])
    if not isinstance(rules, list):
        raise InputError(f"{path}: ignore.rules: expected an array of tables "
                         "([[ignore.rules]])")
    return IgnoreList(path=str(path),
                      entries=tuple(_entry(r, i, path) for i, r in enumerate(rules, 1)))


def load_ignore_file(path: Path) -> IgnoreList:
    return parse_ignore(read_toml(path, "--ignore-file"), path)


# ---------------------------------------------------------------------------
# OpenVEX
# Applying
# ---------------------------------------------------------------------------

def _vex_suppression(f: Finding, ids: set[str], purl: Purl | None,
                     vex: Sequence[VexDocument]) -> Suppression | None:
    if f.vulnerability is None:
        return None
    latest: VexStatement | None = None
    order = 0
    best = -1
    for doc in vex:
        for st in doc.statements:
            order += 1
            if not st.matches(ids, purl):
                continue
            if latest is None or (st.time, order) >= (latest.time, best):
                latest, best = st, order
    if latest is None or latest.status not in VEX_SUPPRESSING:
        return None
    return Suppression(kind=SuppressionKind.VEX, reason=latest.reason())


def _ignore_suppression(f: Finding, ids: set[str], purl: Purl | None,
                        entries: Iterable[IgnoreEntry]) -> Suppression | None:
    for entry in entries:
        if entry.matches(f, ids, purl):
            return Suppression(kind=SuppressionKind.IGNORE_FILE, reason=entry.reason,
                               expires=entry.expires.isoformat() if entry.expires else None)
    return None


def apply_suppressions(findings: Sequence[Finding], ignore: IgnoreList | None,
                       vex: Sequence[VexDocument], today: date
                       ) -> tuple[list[Finding], list[Issue]]:
    """Mark findings matched by a VEX statement or a live ignore entry as
    suppressed. A finding already suppressed keeps its suppression; VEX wins
    over the ignore file. Expired ignore entries suppress nothing and each
    yields an Issue; so does each VEX product lashing cannot match (no purl)."""
    issues: list[Issue] = []
    live: list[IgnoreEntry] = []
    if ignore is not None:
        for entry in ignore.entries:
            if entry.expired(today):
                assert entry.expires is not None
                issues.append(Issue(
                    stage=STAGE, plugin="ignore-file", location=Location(path=ignore.path),
                    message=f"{entry.label()} expired on {entry.expires.isoformat()}: it no "
                            "longer suppresses anything; fix the finding, or review the "
                            "entry and extend 'expires'"))
            else:
                live.append(entry)
    for doc in vex:
        if doc.unmatchable:
            issues.append(Issue(
                stage=STAGE, plugin="vex", location=Location(path=doc.path),
                message=f"{len(doc.unmatchable)} product(s) without a purl are never "
                        f"matched (lashing matches VEX products by purl): "
                        f"{', '.join(doc.unmatchable[:3])}"
                        + (", ..." if len(doc.unmatchable) > 3 else "")))
    out: list[Finding] = []
    for f in findings:
        if f.suppression is None and (live or vex):
            ids = _ids(f)
            purl = _package_purl(f)
            suppression = (_vex_suppression(f, ids, purl, vex)
                           or _ignore_suppression(f, ids, purl, live))
            if suppression is not None:
                f = replace(f, suppression=suppression)
        out.append(f)
    return out, issues


def suppress_report(report: Report, ignore: IgnoreList | None, vex: Sequence[VexDocument],
                    today: date) -> Report:
    """apply_suppressions over a whole report; its issues join the report's."""
    if ignore is None and not vex:
        return report
    findings, issues = apply_suppressions(report.findings, ignore, vex, today)
    return replace(report, findings=tuple(findings), issues=report.issues + tuple(issues))


__all__ = [
    "IgnoreEntry",
    "IgnoreList",
    "Purl",
    "VexDocument",
    "VexStatement",
    "apply_suppressions",
    "load_ignore_file",
    "load_vex",
    "parse_ignore",
    "parse_vex",
    "suppress_report",
]
