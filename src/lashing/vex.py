"""OpenVEX 0.2 documents (`--vex`): read, checked against the format's rules,
and turned into statements that suppress matching vulnerability findings.
Also the purl pattern type the ignore file shares."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from lashing.config import check_keys
from lashing.errors import InputError

STAGE = "suppress"
MAX_VEX_BYTES = 32 * 1024 * 1024


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
