"""SPDX 2.3 JSON through spdx-tools: Report -> text (validated while written)."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime

from spdx_tools.spdx.model.actor import Actor, ActorType
from spdx_tools.spdx.model.document import CreationInfo, Document
from spdx_tools.spdx.model.package import (
    ExternalPackageRef,
    ExternalPackageRefCategory,
    Package,
)
from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from lashing import __version__
from lashing.model import Report, Target, TargetKind


def _spdx_id(text: str, used: set[str]) -> str:
    base = "SPDXRef-" + (re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-") or "package")
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    used.add(candidate)
    return candidate


def render(report: Report, created: datetime | None = None) -> str:
    created = created or datetime.now(UTC).replace(microsecond=0)
    name = ", ".join(t.name for t in report.targets) or "lashing"
    digest = hashlib.sha256(
        "\n".join(p.purl for p in report.packages).encode() + name.encode()).hexdigest()[:16]
    info = CreationInfo(
        spdx_version="SPDX-2.3", spdx_id="SPDXRef-DOCUMENT", name=name,
        document_namespace=f"https://lashing.invalid/spdx/{digest}",
        creators=[Actor(ActorType.TOOL, f"lashing-{__version__}")], created=created,
    )
    used: set[str] = {"SPDXRef-DOCUMENT"}
    packages: list[Package] = []
    relationships: list[Relationship] = []
    for t in report.targets or (Target(name=name, kind=TargetKind.FILESYSTEM),):
        root_id = _spdx_id(f"target-{t.name}", used)
        packages.append(Package(spdx_id=root_id, name=t.name, download_location=SpdxNoAssertion(),
                                files_analyzed=False,
                                comment=f"image id {t.image_id}" if t.image_id else None))
        relationships.append(Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, root_id))
        for p in sorted(t.packages, key=lambda p: (p.purl, p.name, p.version)):
            pid = _spdx_id(f"{p.name}-{p.version}", used)
            refs = [ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", p.purl)]
            where = "; ".join(f"{loc.path} ({loc.layer})" if loc.layer else str(loc.path)
                              for loc in p.locations if loc.path)
            packages.append(Package(
                spdx_id=pid, name=p.name, version=p.version, download_location=SpdxNoAssertion(),
                files_analyzed=False, external_references=refs if p.purl else [],
                source_info=f"found by lashing {p.found_by} in {where}" if where else None,
            ))
            relationships.append(Relationship(root_id, RelationshipType.CONTAINS, pid))
    doc = Document(creation_info=info, packages=packages, relationships=relationships)
    out = io.StringIO()
    write_document_to_stream(doc, out, validate=True)
    return out.getvalue() + "\n"
