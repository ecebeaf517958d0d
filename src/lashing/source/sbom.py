"""`sbom:PATH`: packages from a stored CycloneDX or SPDX JSON SBOM.

Reads lashing's own SBOMs and those written by Syft and Trivy; the purl is
the common key. This is what lets stored images be re-scanned without
pulling them again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from lashing.errors import InputError
from lashing.model import Location, OSInfo, Package
from lashing.osinfo import detect_os_fields
from lashing.source.image import load_json

MAX_SBOM_BYTES = 512 * 1024 * 1024

_LANGUAGE = {"pypi": "PyPI", "npm": "npm", "golang": "Go", "maven": "Maven", "cargo": "crates.io",
             "gem": "RubyGems", "composer": "Packagist", "nuget": "NuGet", "hex": "Hex",
             "pub": "Pub", "cocoapods": "CocoaPods", "swift": "SwiftURL"}


@dataclass(frozen=True)
class Sbom:
    format: str  # "cyclonedx" or "spdx"
    name: str
    os: OSInfo | None
    packages: tuple[Package, ...]
    image_id: str | None


def read_sbom(path: Path, what: str, max_bytes: int = MAX_SBOM_BYTES) -> Sbom:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"{what}: {size} bytes is over the {max_bytes}-byte SBOM limit")
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what}: no such file") from None
    except OSError as exc:
        raise InputError(f"{what}: cannot read ({exc.strerror})") from None
    doc = load_json(data, what, max_bytes)
    if isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX":
        return _cyclonedx(doc, what)
    if isinstance(doc, dict) and str(doc.get("spdxVersion", "")).startswith("SPDX-"):
        return _spdx(doc, what)
    raise InputError(f"{what}: neither a CycloneDX nor an SPDX JSON document")


def _walk_components(components: Any) -> Iterator[dict[str, Any]]:
    stack = list(components) if isinstance(components, list) else []
    while stack:
        c = stack.pop()
        if isinstance(c, dict):
            yield c
            stack.extend(c.get("components") or [])


def _props(c: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in c.get("properties") or []:
        if isinstance(p, dict) and isinstance(p.get("name"), str):
            out.setdefault(p["name"], str(p.get("value", "")))
    return out


def _cyclonedx(doc: dict[str, Any], what: str) -> Sbom:
    os_info: OSInfo | None = None
    packages = []
    for c in _walk_components(doc.get("components")):
        if c.get("type") == "operating-system":
            os_info = os_info or _os(str(c.get("name", "")), str(c.get("version", "")),
                                     str(c.get("description") or ""))
    for c in _walk_components(doc.get("components")):
        purl = c.get("purl")
        if c.get("type") == "operating-system" or not isinstance(purl, str):
            continue
        props = _props(c)
        paths = [v for k, v in sorted(props.items())
                 if re.fullmatch(r"(syft:location:\d+:path|lashing:location:\d+:path|"
                                 r"aquasecurity:trivy:FilePath)", k)]
        layers = [v for k, v in sorted(props.items())
                  if re.fullmatch(r"(syft:location:\d+:layerID|lashing:location:\d+:layer|"
                                  r"aquasecurity:trivy:LayerDiffID)", k)]
        locations = tuple(Location(path=p, layer=layers[i] if i < len(layers) else None)
                          for i, p in enumerate(paths))
        pkg = _package(purl, c.get("name"), c.get("version"), os_info, locations,
                       props.get("lashing:source:name") or props.get("aquasecurity:trivy:SrcName"),
                       props.get("lashing:source:version") or _trivy_source_version(props),
                       what)
        if pkg is not None:
            packages.append(pkg)
    os_info = os_info or _os_from_purls(packages)
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    subject = meta.get("component") if isinstance(meta, dict) else None
    name = str(subject.get("name")) if isinstance(subject, dict) else what
    image_id = None
    if isinstance(subject, dict):
        props = _props(subject)
        image_id = props.get("lashing:image_id") or props.get("aquasecurity:trivy:ImageID")
    return Sbom("cyclonedx", name, os_info, tuple(packages), image_id)


def _trivy_source_version(props: dict[str, str]) -> str | None:
    """Trivy records a source version as SrcEpoch, SrcVersion and SrcRelease."""
    version = props.get("aquasecurity:trivy:SrcVersion")
    if not version:
        return None
    epoch = props.get("aquasecurity:trivy:SrcEpoch")
    release = props.get("aquasecurity:trivy:SrcRelease")
    return (f"{epoch}:" if epoch and epoch != "0" else "") + version + (
        f"-{release}" if release else "")


def _spdx(doc: dict[str, Any], what: str) -> Sbom:
    packages = []
    os_info: OSInfo | None = None
    image_id: str | None = None
    for p in doc.get("packages") or []:
        if not isinstance(p, dict):
            continue
        if p.get("primaryPackagePurpose") == "OPERATING-SYSTEM":
            os_info = _os(str(p.get("name", "")), str(p.get("versionInfo", "")))
        image_id = image_id or _spdx_image_id(p)
    for p in doc.get("packages") or []:
        if not isinstance(p, dict):
            continue
        purls = [r.get("referenceLocator") for r in p.get("externalRefs") or []
                 if isinstance(r, dict) and r.get("referenceType") == "purl"]
        if not purls or not isinstance(purls[0], str):
            continue
        # Trivy: "built package from: glibc 2.36-9+deb12u4"
        built = re.fullmatch(r"built package from: (\S+) (\S+)", str(p.get("sourceInfo", "")))
        pkg = _package(purls[0], p.get("name"), p.get("versionInfo"), os_info, (),
                       built.group(1) if built else None, built.group(2) if built else None,
                       what)
        if pkg is not None:
            packages.append(pkg)
    os_info = os_info or _os_from_purls(packages)
    return Sbom("spdx", str(doc.get("name") or what), os_info, tuple(packages), image_id)


def _spdx_image_id(p: dict[str, Any]) -> str | None:
    """lashing's target comment ("image id sha256:...") or Trivy's ImageID annotation."""
    texts = [str(p.get("comment") or "")]
    texts += [str(a.get("comment") or "") for a in p.get("annotations") or []
              if isinstance(a, dict)]
    for text in texts:
        m = re.fullmatch(r"(?:image id|ImageID:) (sha256:[0-9a-f]{64})", text.strip())
        if m:
            return m.group(1)
    return None


def _os(name: str, version: str, pretty: str = "") -> OSInfo | None:
    if not name:
        return None
    info, _ = detect_os_fields({"ID": name.lower(), "VERSION_ID": version, "PRETTY_NAME": pretty})
    return info


def _distro_os(purl: PackageURL) -> OSInfo | None:
    """The OS a deb/apk/rpm purl's distro qualifier names (syft: debian-12,
    trivy: debian-12.5, 3.20.3 for apk)."""
    quals = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    m = re.fullmatch(r"(?:([a-z-]+?)-)?(\d[\w.]*)", quals.get("distro", ""))
    return _os(m.group(1) or (purl.namespace or ""), m.group(2)) if m else None


def _os_from_purls(packages: list[Package]) -> OSInfo | None:
    """Without an operating-system entry (Syft's SPDX): the OS the distro
    qualifiers of the OS packages' purls name, when they all name one."""
    found = {_distro_os(purl) for p in packages
             if (purl := PackageURL.from_string(p.purl)).type in ("deb", "apk", "rpm")}
    return found.pop() if len(found) == 1 else None


def _package(purl_text: str, name: Any, version: Any, os_info: OSInfo | None,
             locations: tuple[Location, ...], source_name: str | None,
             source_version: str | None, what: str) -> Package | None:
    try:
        purl = PackageURL.from_string(purl_text)
    except ValueError:
        return None
    quals = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    ecosystem = _ecosystem(purl, quals, os_info)
    if ecosystem is None or not (version or purl.version):
        return None
    pkg_name = purl.name
    if purl.type == "maven" and purl.namespace:
        pkg_name = f"{purl.namespace}:{purl.name}"
    elif purl.type in ("npm", "composer", "golang") and purl.namespace:
        pkg_name = f"{purl.namespace}/{purl.name}"
    upstream = quals.get("upstream")
    if upstream and not source_name:
        src, _, src_version = upstream.partition("@")
        source_name, source_version = src, src_version or None
    version_text = str(purl.version or version)
    if purl.type in ("rpm", "deb") and quals.get("epoch") and ":" not in version_text:
        version_text = f"{quals['epoch']}:{version_text}"
    if purl.type == "deb":  # dpkg's rule: the source defaults to the package and its version
        source_name = source_name or pkg_name
        source_version = source_version or version_text
    return Package(name=pkg_name or str(name), version=version_text, ecosystem=ecosystem,
                   purl=purl_text, found_by="sbom", locations=locations,
                   source_name=source_name, source_version=source_version)


def _ecosystem(purl: PackageURL, quals: dict[str, str], os_info: OSInfo | None) -> str | None:
    if purl.type in _LANGUAGE:
        return _LANGUAGE[purl.type]
    if purl.type not in ("deb", "apk", "rpm"):
        return None
    info = _distro_os(purl)
    if info is not None and info.ecosystem:
        return info.ecosystem
    if os_info is not None and os_info.ecosystem:
        return os_info.ecosystem
    return {"debian": "Debian", "ubuntu": "Ubuntu", "alpine": "Alpine"}.get(
        purl.namespace or "", purl.namespace or purl.type)
