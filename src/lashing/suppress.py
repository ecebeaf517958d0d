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

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from lashing.config import SECTIONS, check_keys, get_str, get_table, read_toml, resolve_path
from lashing.errors import InputError
from lashing.fs import want_globs
from lashing.model import Finding, Issue, Location, Report, Suppression, SuppressionKind

STAGE = "suppress"
MAX_VEX_BYTES = 32 * 1024 * 1024

IGNORE_KEYS = ("rules",)
RULE_KEYS = ("id", "reason", "expires", "purl", "path")

VEX_STATUSES = ("not_affected", "affected", "fixed", "under_investigation")
VEX_SUPPRESSING = ("not_affected", "fixed")
VEX_JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)
_DOC_KEYS = ("@context", "@id", "author", "role", "timestamp", "last_updated", "version",
             "tooling", "statements")
_STATEMENT_KEYS = ("@id", "version", "vulnerability", "timestamp", "last_updated", "products",
                   "status", "supplier", "status_notes", "justification", "impact_statement",
                   "action_statement", "action_statement_timestamp")
_VULN_KEYS = ("@id", "name", "description", "aliases")
_PRODUCT_KEYS = ("@id", "identifiers", "hashes", "subcomponents")
_SUBCOMPONENT_KEYS = ("@id", "identifiers", "hashes")
_IDENTIFIER_KEYS = ("purl", "cpe22", "cpe23")


# ---------------------------------------------------------------------------
# Package URLs
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Purl:
    """A parsed purl, normalised by packageurl (PyPI names are PEP 503)."""

    type: str
    namespace: str | None
    name: str
    version: str | None
    qualifiers: tuple[tuple[str, str], ...] = ()
    text: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str) -> Purl:
        """Raises ValueError when `text` is not a purl."""
        p = PackageURL.from_string(text.strip())
        quals = p.qualifiers if isinstance(p.qualifiers, dict) else {}
        return cls(type=p.type.lower(), namespace=p.namespace or None, name=p.name,
                   version=p.version or None,
                   qualifiers=tuple(sorted((str(k), str(v)) for k, v in quals.items())),
                   text=text.strip())

    def matches(self, other: Purl, qualifiers: bool = True) -> bool:
        """Does this pattern purl cover `other` (a package's purl)? A pattern
        without version covers every version; with `qualifiers`, each of the
        pattern's qualifiers must be on `other` too."""
        if (self.type, self.namespace, self.name) != (other.type, other.namespace, other.name):
            return False
        if self.version is not None and self.version != other.version:
            return False
        return not qualifiers or set(self.qualifiers) <= set(other.qualifiers)


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
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class VexStatement:
    index: int  # 1-based
    ids: frozenset[str]  # casefolded vulnerability name, @id and aliases
    name: str
    status: str
    purls: tuple[Purl, ...]  # products' and subcomponents' purls
    all_products: bool  # no `products`: applies to every package
    time: datetime
    justification: str | None = None
    impact_statement: str | None = None
    status_notes: str | None = None

    def reason(self) -> str:
        text = self.status
        if self.justification:
            text += f": {self.justification}"
        detail = self.impact_statement or self.status_notes
        if detail:
            text += f" ({detail})" if self.justification else f": {detail}"
        return text

    def matches(self, ids: set[str], purl: Purl | None) -> bool:
        if not self.ids & ids:
            return False
        if self.all_products:
            return True
        return purl is not None and any(p.matches(purl, qualifiers=False) for p in self.purls)


@dataclass(frozen=True)
class VexDocument:
    path: str
    id: str
    author: str
    statements: tuple[VexStatement, ...]
    unmatchable: tuple[str, ...] = ()  # products/subcomponents without a purl


class _VexReader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, message: str, hint: str | None = None) -> InputError:
        prefix = f"--vex {self.path}: " + (f"{where}: " if where else "")
        return InputError(prefix + message, hint or "the file must be an OpenVEX 0.2 document")

    def keys(self, obj: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
        try:
            check_keys(obj, allowed, self.path, where)
        except InputError as exc:
            raise InputError("--vex " + exc.message, exc.hint) from None

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "expected an object")
        return value

    def string(self, obj: Mapping[str, Any], key: str, where: str,
               required: bool = False) -> str | None:
        value = obj.get(key)
        if value is None:
            if required:
                raise self.fail(where, f"{key!r} is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"{key!r} must be a non-empty string")
        return value.strip()

    def time(self, obj: Mapping[str, Any], key: str, where: str,
             required: bool = False) -> datetime | None:
        text = self.string(obj, key, where, required)
        if text is None:
            return None
        try:
            t = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(where, f"{key} {text!r} is not an RFC 3339 date-time") from None
        return t if t.tzinfo is not None else t.replace(tzinfo=UTC)

    def version(self, obj: Mapping[str, Any], where: str, required: bool) -> None:
        value = obj.get("version")
        if value is None and not required:
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(where, "'version' must be an integer of at least 1")

    def component(self, raw: Any, where: str, allowed: Sequence[str],
                  purls: list[Purl], unmatchable: list[str]) -> None:
        comp = self.obj(raw, where)
        self.keys(comp, allowed, where)
        ident = self.string(comp, "@id", where)
        identifiers = comp.get("identifiers")
        if ident is None and identifiers is None:
            raise self.fail(where, "needs '@id' or 'identifiers'")
        found: list[Purl] = []
        if ident is not None and ident.startswith("pkg:"):
            found.append(self.purl(ident, where))
        if identifiers is not None:
            ids = self.obj(identifiers, f"{where}.identifiers")
            self.keys(ids, _IDENTIFIER_KEYS, f"{where}.identifiers")
            if not ids:
                raise self.fail(f"{where}.identifiers", "needs purl, cpe22 or cpe23")
            for key in _IDENTIFIER_KEYS:
                self.string(ids, key, f"{where}.identifiers")
            purl_text = ids.get("purl")
            if isinstance(purl_text, str):
                found.append(self.purl(purl_text, f"{where}.identifiers"))
        if "hashes" in comp:
            hashes = self.obj(comp["hashes"], f"{where}.hashes")
            if not all(isinstance(v, str) for v in hashes.values()):
                raise self.fail(f"{where}.hashes", "hash values must be strings")
        if found:
            purls.extend(found)
        else:
            unmatchable.append(ident or json.dumps(identifiers, sort_keys=True))

    def purl(self, text: str, where: str) -> Purl:
        try:
            return Purl.parse(text)
        except ValueError as exc:
            raise self.fail(where, f"{text!r} is not a package URL: {exc}") from None

    def statement(self, raw: Any, index: int, doc_time: datetime,
                  unmatchable: list[str]) -> VexStatement:
        where = f"statements[{index - 1}]"
        st = self.obj(raw, where)
        self.keys(st, _STATEMENT_KEYS, where)
        if "vulnerability" not in st:
            raise self.fail(where, "'vulnerability' is required")
        vuln = self.obj(st["vulnerability"], f"{where}.vulnerability")
        self.keys(vuln, _VULN_KEYS, f"{where}.vulnerability")
        name = self.string(vuln, "name", f"{where}.vulnerability")
        vid = self.string(vuln, "@id", f"{where}.vulnerability")
        if name is None and vid is None:
            raise self.fail(f"{where}.vulnerability", "'name' is required")
        self.string(vuln, "description", f"{where}.vulnerability")
        aliases = vuln.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise self.fail(f"{where}.vulnerability", "'aliases' must be a list of strings")
        ids = {a.strip() for a in aliases if a.strip()}
        for text in (name, vid):
            if text:
                ids.add(text)
                ids.add(text.rstrip("/").rsplit("/", 1)[-1])  # .../CVE-2023-1234
        status = self.string(st, "status", where, required=True)
        if status not in VEX_STATUSES:
            raise self.fail(where, f"status {status!r} is not one of {', '.join(VEX_STATUSES)}")
        justification = self.string(st, "justification", where)
        if justification is not None and justification not in VEX_JUSTIFICATIONS:
            raise self.fail(where, f"justification {justification!r} is not one of "
                                   f"{', '.join(VEX_JUSTIFICATIONS)}")
        impact = self.string(st, "impact_statement", where)
        if status == "not_affected" and justification is None and impact is None:
            raise self.fail(where, "a not_affected statement needs a 'justification' or an "
                                   "'impact_statement'")
        action = self.string(st, "action_statement", where)
        if status == "affected" and action is None:
            raise self.fail(where, "an affected statement needs an 'action_statement'")
        for key in ("supplier", "status_notes"):
            self.string(st, key, where)
        self.string(st, "@id", where)
        self.version(st, where, required=False)
        self.time(st, "action_statement_timestamp", where)
        time = (self.time(st, "last_updated", where) or self.time(st, "timestamp", where)
                or doc_time)
        purls: list[Purl] = []
        all_products = "products" not in st
        if not all_products:
            products = st["products"]
            if not isinstance(products, list):
                raise self.fail(where, "'products' must be a list")
            for i, p in enumerate(products):
                pw = f"{where}.products[{i}]"
                self.component(p, pw, _PRODUCT_KEYS, purls, unmatchable)
                subs = p.get("subcomponents", [])
                if not isinstance(subs, list):
                    raise self.fail(pw, "'subcomponents' must be a list")
                for j, s in enumerate(subs):
                    self.component(s, f"{pw}.subcomponents[{j}]", _SUBCOMPONENT_KEYS, purls,
                                   unmatchable)
        return VexStatement(index=index, ids=frozenset(i.casefold() for i in ids),
                            name=name or vid or "", status=status, purls=tuple(purls),
                            all_products=all_products, time=time,
                            justification=justification, impact_statement=impact,
                            status_notes=self.string(st, "status_notes", where))

    def document(self, raw: Any) -> VexDocument:
        doc = self.obj(raw, "")
        self.keys(doc, _DOC_KEYS, "")
        context = self.string(doc, "@context", "", required=True)
        assert context is not None
        if not context.startswith("https://openvex.dev/ns"):
            raise self.fail("", f"@context {context!r} is not OpenVEX "
                                "(https://openvex.dev/ns/v0.2.0)")
        doc_id = self.string(doc, "@id", "", required=True)
        author = self.string(doc, "author", "", required=True)
        for key in ("role", "tooling"):
            self.string(doc, key, "")
        self.version(doc, "", required=True)
        issued = self.time(doc, "timestamp", "", required=True)
        doc_time = self.time(doc, "last_updated", "") or issued
        assert doc_id is not None and author is not None and doc_time is not None
        statements = doc.get("statements")
        if not isinstance(statements, list) or not statements:
            raise self.fail("", "'statements' must be a non-empty list")
        unmatchable: list[str] = []
        parsed = tuple(self.statement(s, i, doc_time, unmatchable)
                       for i, s in enumerate(statements, 1))
        return VexDocument(path=str(self.path), id=doc_id, author=author, statements=parsed,
                           unmatchable=tuple(unmatchable))


def parse_vex(data: bytes, path: Path) -> VexDocument:
    """An OpenVEX 0.2 document; anything else is an InputError naming `path`."""
    reader = _VexReader(path)
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise reader.fail("", f"not JSON: {exc}") from None
    except RecursionError:
        raise reader.fail("", "nested too deeply") from None
    return reader.document(raw)


def load_vex(path: Path, max_bytes: int = MAX_VEX_BYTES) -> VexDocument:
    try:
        if not path.is_file():
            raise InputError(f"--vex {path}: no such file" if not path.exists()
                             else f"--vex {path}: not a regular file")
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"--vex {path}: {size} bytes is larger than the limit of "
                             f"{max_bytes}")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"--vex {path}: cannot read ({exc.strerror})") from None
    return parse_vex(data, path)


# ---------------------------------------------------------------------------
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
