"""Reading a lashing JSON report back: `load_report(path)` for `lashing diff`
and baselines, and `check_report(doc, what)` for documents from anywhere.
The output of `lashing rescan --format json` is read as the report it wraps.

The check is structural, not the whole JSON Schema: the keys and types every
consumer of a stored or compared report relies on (tool, targets with their
packages, findings with severity and fingerprint, checks). Anything else is
kept as it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lashing.errors import InputError
from lashing.model import Severity

__all__ = ["MAX_REPORT_BYTES", "check_report", "load_report", "parse_report"]

MAX_REPORT_BYTES = 512 * 1024 * 1024
SCHEMA_VERSION = 1
_SEVERITIES = frozenset(s.value for s in Severity)
_LISTS = ("targets", "findings", "checks", "issues", "connections")


def load_report(path: str | Path, max_bytes: int = MAX_REPORT_BYTES) -> dict[str, Any]:
    """Read and check a lashing JSON report; InputError naming the file when it
    is missing, too large, not JSON or not a lashing report."""
    what = str(path)
    p = Path(path)
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise InputError(f"{what}: a directory, not a lashing JSON report")
        if size > max_bytes:
            raise InputError(f"{what}: {size} bytes is over the {max_bytes}-byte limit for "
                             "a report")
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what}: no such file") from None
    except OSError as exc:
        raise InputError(f"{what}: cannot read ({exc.strerror})") from None
    return parse_report(data, what, max_bytes)


def parse_report(data: bytes, what: str, max_bytes: int = MAX_REPORT_BYTES) -> dict[str, Any]:
    """A report from bytes (a file's content, standard input)."""
    if len(data) > max_bytes:
        raise InputError(f"{what}: {len(data)} bytes is over the {max_bytes}-byte limit for "
                         "a report")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{what}: not a lashing JSON report (not UTF-8 text)") from None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{what}: not a lashing JSON report (not valid JSON: {exc})") from None
    except RecursionError:
        raise InputError(f"{what}: not a lashing JSON report (nested too deeply)") from None
    if isinstance(doc, dict) and isinstance(doc.get("rescan"), dict) and "report" in doc:
        doc = doc["report"]  # the output of `lashing rescan --format json`
    return check_report(doc, what)


def _kind_hint(doc: dict[str, Any]) -> str:
    if isinstance(doc.get("runs"), list) and doc.get("version") == "2.1.0":
        return "a SARIF log; use --format json for a lashing report"
    if doc.get("bomFormat") == "CycloneDX" or "spdxVersion" in doc:
        return "an SBOM; scan it with 'lashing scan sbom:PATH --format json' first"
    if "added" in doc and "fixed" in doc and "unchanged" in doc:
        return "the output of 'lashing diff', not a report"
    return ""


def check_report(doc: Any, what: str) -> dict[str, Any]:
    """`doc` itself when it has the shape of a lashing report, else InputError."""

    def bad(problem: str) -> InputError:
        return InputError(f"{what}: not a lashing JSON report ({problem})")

    if not isinstance(doc, dict):
        raise bad(f"the top level is a JSON {type(doc).__name__}, not an object")
    tool = doc.get("tool")
    if not isinstance(tool, dict) or tool.get("name") != "lashing":
        hint = _kind_hint(doc)
        raise bad(hint or "no \"tool\": {\"name\": \"lashing\"}")
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise bad(f"schema_version {version!r}; this lashing reads {SCHEMA_VERSION}")
    if not isinstance(tool.get("version"), str):
        raise bad("tool.version is not a string")
    for key in _LISTS:
        if not isinstance(doc.get(key), list):
            raise bad(f"\"{key}\" is not a list")
    for i, t in enumerate(doc["targets"]):
        _fields(t, ("name", "kind"), f"targets[{i}]", bad)
        packages = t.get("packages", [])
        if not isinstance(packages, list):
            raise bad(f"targets[{i}].packages is not a list")
        for j, p in enumerate(packages):
            _fields(p, ("name", "version", "ecosystem", "purl"), f"targets[{i}].packages[{j}]",
                    bad)
    for i, f in enumerate(doc["findings"]):
        _fields(f, ("rule_id", "kind", "title", "severity", "surface", "target", "fingerprint"),
                f"findings[{i}]", bad)
        if f["severity"] not in _SEVERITIES:
            raise bad(f"findings[{i}].severity {f['severity']!r} is not one of "
                      + ", ".join(sorted(_SEVERITIES)))
        if "suppressed" in f and not isinstance(f["suppressed"], dict):
            raise bad(f"findings[{i}].suppressed is not an object")
        if "vulnerability" in f and not isinstance(f["vulnerability"], dict):
            raise bad(f"findings[{i}].vulnerability is not an object")
    for i, c in enumerate(doc["checks"]):
        _fields(c, ("rule_id", "target", "status"), f"checks[{i}]", bad)
    return doc


def _fields(item: Any, names: tuple[str, ...], where: str, bad: Any) -> None:
    if not isinstance(item, dict):
        raise bad(f"{where} is not an object")
    for name in names:
        if not isinstance(item.get(name), str):
            raise bad(f"{where}.{name} is missing or not a string")
