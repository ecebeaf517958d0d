"""SBOM output is valid CycloneDX 1.6 and SPDX 2.3, and reads back."""

from __future__ import annotations

import json
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.json import json_parser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from lashing.model import Location, OSInfo, Package, Report, Target, TargetKind
from lashing.report import cyclonedx, spdx
from lashing.source.sbom import read_sbom

LAYER = "sha256:" + "ab" * 32
PACKAGES = (
    Package("libssl3", "3.0.9-1", "Debian:12",
            "pkg:deb/debian/libssl3@3.0.9-1?arch=amd64&distro=debian-12&upstream=openssl",
            "dpkg", (Location("/var/lib/dpkg/status", layer=LAYER),), "openssl", "3.0.9-1",
            ("Apache-2.0",)),
    Package("requests", "2.25.0", "PyPI", "pkg:pypi/requests@2.25.0", "python",
            (Location("/usr/lib/python3/requests-2.25.0.dist-info/METADATA", layer=LAYER),)),
    Package("@babel/core", "7.22.0", "npm", "pkg:npm/%40babel/core@7.22.0", "npm"),
    Package("org.apache.commons:commons-lang3", "3.12.0", "Maven",
            "pkg:maven/org.apache.commons/commons-lang3@3.12.0", "java"),
)
REPORT = Report(targets=(Target(
    name="oci:demo:1.0", kind=TargetKind.IMAGE, image_id="sha256:" + "cd" * 32,
    os=OSInfo("debian", "12", "Debian:12", True, "Debian GNU/Linux 12 (bookworm)"),
    packages=PACKAGES),), tool_version="0.1.0")


def key(p: Package) -> tuple[str, str, str, str]:
    return (p.name, p.version, p.ecosystem, p.purl)


def test_cyclonedx_is_valid_and_round_trips(tmp_path: Path) -> None:
    text = cyclonedx.render(REPORT)
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert errors is None, errors
    doc = json.loads(text)
    assert doc["specVersion"] == "1.6"
    path = tmp_path / "bom.json"
    path.write_text(text)
    sbom = read_sbom(path, "sbom:bom.json")
    assert sbom.format == "cyclonedx"
    assert sbom.image_id == "sha256:" + "cd" * 32
    assert sbom.os is not None and sbom.os.ecosystem == "Debian:12"
    assert sorted(map(key, sbom.packages)) == sorted(map(key, PACKAGES))
    ssl = next(p for p in sbom.packages if p.name == "libssl3")
    assert (ssl.source_name, ssl.source_version) == ("openssl", "3.0.9-1")
    assert ssl.locations == (Location("/var/lib/dpkg/status", layer=LAYER),)


def test_spdx_is_valid_and_round_trips(tmp_path: Path) -> None:
    text = spdx.render(REPORT)
    path = tmp_path / "bom.spdx.json"
    path.write_text(text)
    document = json_parser.parse_from_file(str(path))
    assert validate_full_spdx_document(document) == []
    sbom = read_sbom(path, "sbom:bom.spdx.json")
    assert sbom.format == "spdx"
    got = sorted((p.name, p.version, p.purl) for p in sbom.packages)
    assert got == sorted((p.name, p.version, p.purl) for p in PACKAGES)
    by_name = {p.name: p for p in sbom.packages}
    assert by_name["libssl3"].ecosystem == "Debian:12"  # from the purl's distro qualifier
    assert by_name["libssl3"].source_name == "openssl"  # from the upstream qualifier


def test_empty_report_is_valid() -> None:
    text = cyclonedx.render(Report())
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    json.loads(spdx.render(Report()))
