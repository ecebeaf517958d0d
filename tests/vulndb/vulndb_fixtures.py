"""Small OSV records built in code, databases made from them, and the path to
the real records under ../shared/data."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from lashing.model import Finding, Location, Package, Vulnerability
from lashing.vulndb.importer import import_paths

PROJECT = Path(__file__).resolve().parents[2]
SHARED_DATA = PROJECT.parent / "shared" / "data"
DEMO_DATA = PROJECT / "src" / "lashing" / "vulndb" / "data" / "demo"


def shared(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: ../shared/data is not checked out")
    return path


def record(rid: str, ecosystem: str = "PyPI", name: str = "demo", *,
           events: Sequence[dict[str, str]] | None = ({"introduced": "0"}, {"fixed": "2.0"}),
           range_type: str = "ECOSYSTEM", versions: Sequence[str] = (),
           aliases: Sequence[str] = (), severity: Sequence[tuple[str, str]] = (),
           **fields: Any) -> dict[str, Any]:
    """One OSV record with one affected package (extra top-level fields and
    `affected_extra` for the affected entry)."""
    affected: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": name}}
    if events is not None:
        affected["ranges"] = [{"type": range_type, "events": list(events)}]
    if versions:
        affected["versions"] = list(versions)
    affected.update(fields.pop("affected_extra", {}))
    doc: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": rid,
        "modified": "2024-01-01T00:00:00Z",
        "published": "2023-12-01T00:00:00Z",
        "summary": f"{rid} summary",
        "details": f"Details of {rid}.",
        "aliases": list(aliases),
        "affected": [affected],
        "references": [{"type": "WEB", "url": f"https://example.invalid/{rid}"}],
    }
    if severity:
        doc["severity"] = [{"type": t, "score": s} for t, s in severity]
    doc.update(fields)
    return doc


def write_dir(directory: Path, records: Iterable[dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for doc in records:
        (directory / f"{doc['id']}.json").write_text(json.dumps(doc))
    return directory


def write_zip(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for doc in records:
            archive.writestr(f"{doc['id']}.json", json.dumps(doc))
    return path


def build_db(tmp_path: Path, records: Iterable[dict[str, Any]], name: str = "t.db") -> Path:
    db = tmp_path / name
    source = write_dir(tmp_path / f"{name}-records", records)
    import_paths([source], db)
    return db


def pkg(name: str, version: str, ecosystem: str = "PyPI", *, source_name: str | None = None,
        source_version: str | None = None, path: str = "/site-packages") -> Package:
    kind = ecosystem.split(":")[0].lower()
    return Package(name=name, version=version, ecosystem=ecosystem,
                   purl=f"pkg:{kind}/{name}@{version}", found_by="test",
                   locations=(Location(path=path, layer="sha256:" + "ab" * 32),),
                   source_name=source_name, source_version=source_version)


def vuln(finding: Finding) -> Vulnerability:
    assert finding.vulnerability is not None
    return finding.vulnerability
