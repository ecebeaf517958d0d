"""CycloneDX 1.6 JSON through cyclonedx-python-lib: Report -> text."""

from __future__ import annotations

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import LicenseExpression
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from packageurl import PackageURL

from lashing import __version__
from lashing.model import Package, Report, Target, TargetKind

PROPERTY_PREFIX = "lashing:"


def _component(p: Package, ref: str) -> Component:
    props = [Property(name=f"{PROPERTY_PREFIX}ecosystem", value=p.ecosystem),
             Property(name=f"{PROPERTY_PREFIX}found_by", value=p.found_by)]
    for i, loc in enumerate(p.locations):
        if loc.path:
            props.append(Property(name=f"{PROPERTY_PREFIX}location:{i}:path", value=loc.path))
        if loc.layer:
            props.append(Property(name=f"{PROPERTY_PREFIX}location:{i}:layer", value=loc.layer))
    if p.source_name:
        props.append(Property(name=f"{PROPERTY_PREFIX}source:name", value=p.source_name))
    if p.source_version:
        props.append(Property(name=f"{PROPERTY_PREFIX}source:version", value=p.source_version))
    licenses = [LicenseExpression(value=lic) for lic in p.licenses if lic]
    return Component(
        name=p.name, version=p.version, type=ComponentType.LIBRARY, bom_ref=ref,
        purl=PackageURL.from_string(p.purl) if p.purl else None,
        properties=props, licenses=licenses,
    )


def _subject(t: Target) -> Component:
    kind = ComponentType.CONTAINER if t.kind is TargetKind.IMAGE else ComponentType.FILE
    props = []
    if t.image_id:
        props.append(Property(name=f"{PROPERTY_PREFIX}image_id", value=t.image_id))
    if t.manifest_digest:
        props.append(Property(name=f"{PROPERTY_PREFIX}manifest_digest", value=t.manifest_digest))
    return Component(name=t.name, type=kind, bom_ref=f"target:{t.name}", properties=props)


def render(report: Report) -> str:
    bom = Bom()
    bom.metadata.tools.components.add(
        Component(name="lashing", version=__version__, type=ComponentType.APPLICATION))
    root = Component(name="lashing scan", type=ComponentType.APPLICATION, bom_ref="root")
    if len(report.targets) == 1:
        root = _subject(report.targets[0])
    bom.metadata.component = root
    seen: set[str] = set()
    for t in report.targets:
        if t.os is not None:
            ref = f"os:{t.os.family}:{t.os.version}"
            if ref not in seen:
                seen.add(ref)
                bom.components.add(Component(
                    name=t.os.family, version=t.os.version, bom_ref=ref,
                    type=ComponentType.OPERATING_SYSTEM, description=t.os.name))
        for p in sorted(t.packages, key=lambda p: (p.purl, p.name, p.version)):
            ref = p.purl or f"{p.ecosystem}/{p.name}@{p.version}"
            n = 1
            base = ref
            while ref in seen:  # one package found in two places keeps both
                n += 1
                ref = f"{base}#{n}"
            seen.add(ref)
            bom.components.add(_component(p, ref))
    bom.register_dependency(root, bom.components)
    outputter = make_outputter(bom, OutputFormat.JSON, SchemaVersion.V1_6)
    return outputter.output_as_string(indent=2) + "\n"
