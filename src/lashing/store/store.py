"""The results store: every recorded run with its targets, SBOMs, findings
and checks, on SQLite or PostgreSQL.

A run is written in one transaction (`record`), so a reader sees it whole or
not at all, and a process killed while recording leaves the earlier runs as
they were. Documents come back exactly as they were recorded (`document`).
Identical package lists (the same image in run after run) are stored once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lashing.model import Severity
from lashing.store.backend import Backend
from lashing.store.errors import StoreInputError
from lashing.store.identity import fingerprint_identity, target_identity
from lashing.store.report import check_report
from lashing.store.schema import ensure_schema

__all__ = ["RunInfo", "Store", "StoredTarget"]

BATCH = 2000
_KIND = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_SEVERITIES = tuple(s.value for s in Severity)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dumps(value: Any) -> str:
    """Compact JSON, ASCII only: NUL characters and lone surrogates from a
    hostile input are escapes here, never bytes a database refuses."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def _col(value: Any) -> str:
    """A string for an indexed column: what PostgreSQL refuses (NUL) or UTF-8
    cannot encode (a lone surrogate) replaced. The documents keep the original."""
    text = str(value)
    if text.isascii() and "\x00" not in text:
        return text
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True)
class RunInfo:
    id: int
    kind: str
    started: str
    recorded: str
    tool_version: str
    db_built: str | None
    targets: int
    packages: int
    findings: int  # live (not suppressed) findings
    suppressed: int
    counts: dict[str, int] = field(default_factory=dict)  # live findings per severity


@dataclass(frozen=True)
class StoredTarget:
    """The latest package inventory of one target identity."""

    run_id: int
    identity: str  # image id, else name
    fingerprint_identity: str
    name: str
    kind: str
    image_id: str | None
    document: dict[str, Any]  # the target entry of the report, packages included

    @property
    def packages(self) -> list[dict[str, Any]]:
        return list(self.document.get("packages") or [])


class Store:
    """Use open_store(spec)."""

    def __init__(self, db: Backend) -> None:
        self._db = db
        self.where = db.where
        self.dialect = db.dialect
        self.schema_version = ensure_schema(db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing ------------------------------------------------------------

    def record(self, document: dict[str, Any], kind: str = "audit",
               progress: Callable[[int], None] | None = None, *,
               fingerprint_identities: Mapping[str, str] | None = None) -> int:
        """Store one run in one transaction; its id. `progress(rows)` is called
        after each batch of rows written. `fingerprint_identities` (target
        identity -> what its fingerprints hash) overrides working it out: a
        re-scan knows it from the stored run."""
        if not _KIND.match(kind):
            raise StoreInputError(f"run kind {kind!r}: expected lower-case letters, digits "
                                  "and '-'")
        check_report(document, "the report to store")
        findings: list[dict[str, Any]] = document["findings"]
        targets: list[dict[str, Any]] = document["targets"]
        counts = {s: 0 for s in _SEVERITIES}
        suppressed = 0
        for f in findings:
            if "suppressed" in f:
                suppressed += 1
            else:
                counts[f["severity"]] += 1
        n_packages = sum(len(t.get("packages") or []) for t in targets)
        summary = {"targets": len(targets), "packages": n_packages,
                   "findings": len(findings) - suppressed, "suppressed": suppressed,
                   "severities": counts}
        rest = {k: (None if k in ("targets", "findings", "checks") else v)
                for k, v in document.items()}
        audit = document.get("audit")
        started = audit.get("started") if isinstance(audit, dict) else None
        tool = document["tool"]
        database = tool.get("database") if isinstance(tool.get("database"), dict) else None
        written = 0
        known = fingerprint_identities or {}

        def advance(n: int) -> None:
            nonlocal written
            written += n
            if progress is not None:
                progress(written)

        db = self._db
        with db.transaction():
            run_id = int(db.query(
                "INSERT INTO lashing_run (kind, started, recorded, tool_version, db_built, "
                "counts, doc) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (kind, _col(started) if isinstance(started, str) else _now(), _now(),
                 _col(tool["version"]),
                 _col(database["built"]) if database and isinstance(database.get("built"), str)
                 else None,
                 _dumps(summary), _dumps(rest)))[0][0])
            target_ids: dict[str, int] = {}
            for position, t in enumerate(targets):
                packages = t.get("packages") or []
                sbom_id = self._sbom(packages, advance)
                entry = {k: (None if k == "packages" else v) for k, v in t.items()}
                identity = target_identity(t)
                tid = int(db.query(
                    "INSERT INTO lashing_target (run_id, position, identity, fp_identity, "
                    "name, kind, image_id, sbom_id, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "RETURNING id",
                    (run_id, position, _col(identity),
                     _col(known.get(_col(identity)) or fingerprint_identity(t, findings)),
                     _col(t["name"]), _col(t["kind"]),
                     _col(t["image_id"]) if isinstance(t.get("image_id"), str) else None,
                     sbom_id, _dumps(entry)))[0][0])
                target_ids.setdefault(t["name"], tid)
            rows = [(run_id, target_ids.get(f["target"]), i, _col(f["fingerprint"]),
                     _col(f["rule_id"]), _col(f["kind"]), f["severity"], _col(f["surface"]),
                     _col(f["target"]), 1 if "suppressed" in f else 0, _dumps(f))
                    for i, f in enumerate(findings)]
            self._batches("lashing_finding", ("run_id", "target_id", "position",
                                              "fingerprint", "rule_id", "kind", "severity",
                                              "surface", "target", "suppressed", "doc"),
                          rows, advance)
            check_rows = [(run_id, i, _col(c["rule_id"]), _col(c["target"]), _col(c["status"]),
                           _dumps(c)) for i, c in enumerate(document["checks"])]
            self._batches("lashing_check", ("run_id", "position", "rule_id", "target",
                                            "status", "doc"), check_rows, advance)
        return run_id

    def _sbom(self, packages: list[dict[str, Any]], advance: Callable[[int], None]) -> int:
        digest = hashlib.sha256(_dumps(packages).encode()).hexdigest()
        db = self._db
        inserted = db.query("INSERT INTO lashing_sbom (digest, packages) VALUES (?, ?) "
                            "ON CONFLICT (digest) DO NOTHING RETURNING id",
                            (digest, len(packages)))
        if not inserted:
            return int(db.query("SELECT id FROM lashing_sbom WHERE digest = ?",
                                (digest,))[0][0])
        sbom_id = int(inserted[0][0])
        rows = [(sbom_id, i, _col(p["name"]), _col(p["version"]), _col(p["ecosystem"]),
                 _col(p["purl"]), _dumps(p)) for i, p in enumerate(packages)]
        self._batches("lashing_package", ("sbom_id", "position", "name", "version",
                                          "ecosystem", "purl", "doc"), rows, advance)
        return sbom_id

    def _batches(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]],
                 advance: Callable[[int], None]) -> None:
        for start in range(0, len(rows), BATCH):
            chunk = rows[start:start + BATCH]
            self._db.insert_many(table, columns, chunk)
            advance(len(chunk))

    def prune(self, keep: int) -> int:
        """Delete all but the newest `keep` runs, never the latest run of a
        target identity (its SBOM is what re-scans read), in one transaction;
        package lists no run uses any more go too. The number of runs deleted."""
        if keep < 1:
            raise StoreInputError(f"keep {keep} runs: keep at least 1")
        db = self._db
        with db.transaction():
            doomed = [int(r[0]) for r in db.query(
                "SELECT id FROM lashing_run WHERE id NOT IN (SELECT id FROM lashing_run "
                "ORDER BY id DESC LIMIT ?) AND id NOT IN (SELECT MAX(run_id) FROM "
                "lashing_target GROUP BY identity)", (keep,))]
            for start in range(0, len(doomed), 500):
                chunk = doomed[start:start + 500]
                marks = ",".join("?" * len(chunk))
                db.execute(f"DELETE FROM lashing_run WHERE id IN ({marks})",  # noqa: S608
                           chunk)
            if doomed:
                db.execute("DELETE FROM lashing_sbom WHERE id NOT IN "
                           "(SELECT sbom_id FROM lashing_target)")
        return len(doomed)

    # --- reading ------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Row counts: runs, targets, sboms (distinct package lists), packages,
        findings, checks."""
        row = self._db.query(
            "SELECT (SELECT COUNT(*) FROM lashing_run), (SELECT COUNT(*) FROM lashing_target), "
            "(SELECT COUNT(*) FROM lashing_sbom), (SELECT COUNT(*) FROM lashing_package), "
            "(SELECT COUNT(*) FROM lashing_finding), (SELECT COUNT(*) FROM lashing_check)")[0]
        names = ("runs", "targets", "sboms", "packages", "findings", "checks")
        return {name: int(n) for name, n in zip(names, row, strict=True)}

    def runs(self, kind: str | None = None) -> list[RunInfo]:
        """Every run, oldest first."""
        sql = ("SELECT id, kind, started, recorded, tool_version, db_built, counts "
               "FROM lashing_run")
        params: tuple[Any, ...] = ()
        if kind is not None:
            sql += " WHERE kind = ?"
            params = (kind,)
        out = []
        for rid, rkind, started, recorded, version, built, counts in \
                self._db.query(sql + " ORDER BY id", params):
            c = json.loads(counts)
            out.append(RunInfo(int(rid), rkind, started, recorded, version, built,
                               c["targets"], c["packages"], c["findings"], c["suppressed"],
                               dict(c["severities"])))
        return out

    def latest_id(self, kind: str | None = None) -> int | None:
        if kind is None:
            rows = self._db.query("SELECT MAX(id) FROM lashing_run")
        else:
            rows = self._db.query("SELECT MAX(id) FROM lashing_run WHERE kind = ?", (kind,))
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def latest(self, kind: str | None = None) -> dict[str, Any] | None:
        """The document of the latest run (of `kind`), or None."""
        rid = self.latest_id(kind)
        return self.document(rid) if rid is not None else None

    def document(self, run_id: int) -> dict[str, Any]:
        """A stored run as the JSON report document it was recorded from."""
        db = self._db
        rows = db.query("SELECT doc FROM lashing_run WHERE id = ?", (run_id,))
        if not rows:
            raise StoreInputError(f"results store {self.where}: no run {run_id}",
                                  "'lashing rescan --list-runs' lists the stored runs")
        doc: dict[str, Any] = json.loads(rows[0][0])
        targets = []
        for doc_text, sbom_id in db.query("SELECT doc, sbom_id FROM lashing_target "
                                          "WHERE run_id = ? ORDER BY position", (run_id,)):
            target = json.loads(doc_text)
            target["packages"] = self._packages(int(sbom_id))
            targets.append(target)
        doc["targets"] = targets
        doc["findings"] = [json.loads(r[0]) for r in db.query(
            "SELECT doc FROM lashing_finding WHERE run_id = ? ORDER BY position", (run_id,))]
        doc["checks"] = [json.loads(r[0]) for r in db.query(
            "SELECT doc FROM lashing_check WHERE run_id = ? ORDER BY position", (run_id,))]
        return doc

    def _packages(self, sbom_id: int) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self._db.query(
            "SELECT doc FROM lashing_package WHERE sbom_id = ? ORDER BY position", (sbom_id,))]

    def targets_with_packages(self) -> list[StoredTarget]:
        """The latest package inventory of every target identity that has one
        (a target whose latest run found no packages is left out)."""
        rows = self._db.query(
            "SELECT t.run_id, t.identity, t.fp_identity, t.name, t.kind, t.image_id, "
            "t.sbom_id, t.doc, s.packages FROM lashing_target t "
            "JOIN lashing_sbom s ON s.id = t.sbom_id "
            "WHERE t.run_id = (SELECT MAX(t2.run_id) FROM lashing_target t2 "
            "WHERE t2.identity = t.identity) ORDER BY t.identity, t.position")
        out: list[StoredTarget] = []
        seen: set[str] = set()
        for run_id, identity, fp_identity, name, kind, image_id, sbom_id, doc, count in rows:
            if identity in seen:
                continue
            seen.add(identity)
            if not count:
                continue
            target = json.loads(doc)
            target["packages"] = self._packages(int(sbom_id))
            out.append(StoredTarget(int(run_id), identity, fp_identity or identity,
                                    str(target.get("name", name)), kind, image_id, target))
        return out

    def previous_findings(self, identity: str, before: int | None = None
                          ) -> tuple[int | None, dict[str, dict[str, Any]]]:
        """The latest run (before run `before`) that has a target of `identity`,
        and that target's findings by fingerprint."""
        sql = "SELECT MAX(run_id) FROM lashing_target WHERE identity = ?"
        params: tuple[Any, ...] = (identity,)
        if before is not None:
            sql += " AND run_id < ?"
            params = (identity, before)
        rows = self._db.query(sql, params)
        if not rows or rows[0][0] is None:
            return None, {}
        run_id = int(rows[0][0])
        found = self._db.query(
            "SELECT f.fingerprint, f.doc FROM lashing_finding f JOIN lashing_target t "
            "ON f.target_id = t.id WHERE t.run_id = ? AND t.identity = ? ORDER BY f.position",
            (run_id, identity))
        return run_id, {fp: json.loads(doc) for fp, doc in found}
