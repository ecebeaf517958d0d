"""Report entries back to model objects: the stored SBOM of a target as the
Packages and Target a re-scan matches and reports."""

from __future__ import annotations

from typing import Any

from lashing.model import LayerInfo, Location, OSInfo, Package, Target, TargetKind
from lashing.store.errors import StoreInputError

__all__ = ["location", "package", "target"]


def _opt(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def location(d: Any) -> Location:
    if not isinstance(d, dict):
        return Location()
    line = d.get("line")
    return Location(path=_opt(d.get("path")), line=line if isinstance(line, int) else None,
                    layer=_opt(d.get("layer")), resource=_opt(d.get("resource")))


def package(d: dict[str, Any]) -> Package:
    source = d.get("source") if isinstance(d.get("source"), dict) else {}
    assert isinstance(source, dict)
    licenses = d.get("licenses") or []
    return Package(
        name=str(d["name"]), version=str(d["version"]), ecosystem=str(d["ecosystem"]),
        purl=str(d["purl"]), found_by=str(d.get("found_by") or ""),
        locations=tuple(location(loc) for loc in d.get("locations") or []),
        source_name=_opt(source.get("name")), source_version=_opt(source.get("version")),
        licenses=tuple(str(x) for x in licenses if isinstance(x, str)))


def _os(d: Any) -> OSInfo | None:
    if not isinstance(d, dict):
        return None
    return OSInfo(family=str(d.get("family") or ""), version=str(d.get("version") or ""),
                  ecosystem=_opt(d.get("ecosystem")), supported=bool(d.get("supported")),
                  name=str(d.get("name") or ""))


def _layer(d: dict[str, Any]) -> LayerInfo:
    size = d.get("size")
    return LayerInfo(diff_id=str(d.get("diff_id") or ""), digest=_opt(d.get("digest")),
                     media_type=str(d.get("media_type") or ""),
                     size=size if isinstance(size, int) else None,
                     created_by=str(d.get("created_by") or ""))


def target(d: dict[str, Any]) -> Target:
    try:
        kind = TargetKind(d["kind"])
    except ValueError:
        raise StoreInputError(f"stored target {d.get('name')!r}: unknown kind "
                              f"{d.get('kind')!r}") from None
    return Target(
        name=str(d["name"]), kind=kind, image_id=_opt(d.get("image_id")),
        manifest_digest=_opt(d.get("manifest_digest")),
        repo_digests=tuple(str(r) for r in d.get("repo_digests") or []),
        platform=_opt(d.get("platform")), os=_os(d.get("os")),
        layers=tuple(_layer(x) for x in d.get("layers") or [] if isinstance(x, dict)),
        packages=tuple(package(p) for p in d.get("packages") or []))
