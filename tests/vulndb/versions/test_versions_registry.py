"""comparator_for: every OSV ecosystem string maps to its family's scheme,
unknown ones to None; the public API's contract (errors, keys, caching,
speed)."""

from __future__ import annotations

import json
import random
import time

import pytest
from versions_data import SHARED_DATA, need

from lashing.vulndb.versions import (
    MAX_VERSION_LENGTH,
    SCHEMES,
    Comparator,
    InvalidVersion,
    KeyComparator,
    comparator_for,
    compare,
    families,
)

# (OSV ecosystem string, family, scheme)
KNOWN = [
    ("Debian", "Debian", "dpkg"),
    ("Debian:12", "Debian", "dpkg"),
    ("Debian:sid", "Debian", "dpkg"),
    ("Ubuntu:22.04:LTS", "Ubuntu", "dpkg"),
    ("Ubuntu:Pro:18.04:LTS", "Ubuntu", "dpkg"),
    ("Ubuntu:24.10", "Ubuntu", "dpkg"),
    ("Alpine:v3.20", "Alpine", "apk"),
    ("Alpine:v3.9", "Alpine", "apk"),
    ("Wolfi", "Wolfi", "apk"),
    ("Chainguard", "Chainguard", "apk"),
    ("Alpaquita:23", "Alpaquita", "apk"),
    ("Alpaquita:stream", "Alpaquita", "apk"),
    ("BellSoft Hardened Containers:stream", "BellSoft Hardened Containers", "apk"),
    ("MinimOS", "MinimOS", "apk"),
    ("AlmaLinux:9", "AlmaLinux", "rpm"),
    ("AlmaLinux", "AlmaLinux", "rpm"),
    ("Rocky Linux:9", "Rocky Linux", "rpm"),
    ("Red Hat:enterprise_linux:9::appstream", "Red Hat", "rpm"),
    ("Red Hat:rhel_aus:8.4::appstream", "Red Hat", "rpm"),
    ("SUSE:SUSE Linux Enterprise Server 15 SP5", "SUSE", "rpm"),
    ("openSUSE:Tumbleweed", "openSUSE", "rpm"),
    ("openSUSE:Leap 15.5", "openSUSE", "rpm"),
    ("Mageia:9", "Mageia", "rpm"),
    ("Photon OS:5.0", "Photon OS", "rpm"),
    ("Azure Linux:3", "Azure Linux", "rpm"),
    ("openEuler:22.03-LTS-SP4", "openEuler", "rpm"),
    ("PyPI", "PyPI", "pep440"),
    ("npm", "npm", "semver"),
    ("Go", "Go", "semver"),
    ("crates.io", "crates.io", "semver"),
    ("Hex", "Hex", "semver"),
    ("SwiftURL", "SwiftURL", "semver"),
    ("Bitnami", "Bitnami", "semver"),
    ("Kubernetes", "Kubernetes", "semver"),
    ("Pub", "Pub", "pub"),
    ("Maven", "Maven", "maven"),
    ("Maven:https://maven.google.com", "Maven", "maven"),
    ("RubyGems", "RubyGems", "rubygems"),
    ("NuGet", "NuGet", "nuget"),
    ("Packagist", "Packagist", "packagist"),
    ("Packagist:https://packages.drupal.org/8", "Packagist", "packagist"),
    (" Debian:12 ", "Debian", "dpkg"),
    # Root's patched images name the family they rebuild
    ("Root:Alpine:3.18", "Alpine", "apk"),
    ("Root:Debian:12", "Debian", "dpkg"),
    ("Root:PyPI", "PyPI", "pep440"),
]

UNKNOWN = [
    "", ":", "debian:12", "DEBIAN", "pypi", "NPM", "Root", "Root:", "Root:Nothing",
    "Echo", "CRAN", "Hackage", "GHC", "Bioconductor", "ConanCenter", "Julia", "opam",
    "Linux", "Android", "OSS-Fuzz", "GIT", "GitHub Actions", "VSCode", "FreeBSD:ports",
    "TuxCare", "CleanStart", "Docker Hardened Images", "NotAnEcosystem",
]

# OSV ecosystems lashing deliberately has no comparator for: the caller
# reports their packages as not covered.
UNSUPPORTED = {
    "Android", "Bioconductor", "CRAN", "CleanStart", "ConanCenter", "Docker Hardened Images",
    "Echo", "FreeBSD", "GHC", "GIT", "GitHub Actions", "Hackage", "Julia", "Linux",
    "OSS-Fuzz", "Root", "TuxCare", "VSCode", "opam",
}

# one valid version per scheme, for the generic checks
SAMPLE = {"dpkg": "1:2.36-9+deb12u4", "apk": "3.0.13-r1", "rpm": "1:3.0.7-27.el9",
          "pep440": "2.31.0", "semver": "v1.2.3-rc.1", "pub": "1.2.3+4", "maven": "1.2.3-SNAPSHOT",
          "rubygems": "7.0.8.1", "nuget": "6.0.0-preview.7", "packagist": "v5.4.0-RC1"}


@pytest.mark.parametrize(("ecosystem", "family", "scheme"), KNOWN)
def test_known(ecosystem: str, family: str, scheme: str) -> None:
    found = comparator_for(ecosystem)
    assert isinstance(found, KeyComparator)
    assert (found.ecosystem, found.scheme) == (family, scheme)


@pytest.mark.parametrize("ecosystem", UNKNOWN)
def test_unknown(ecosystem: str) -> None:
    assert comparator_for(ecosystem) is None
    with pytest.raises(ValueError, match="no version comparator"):
        compare(ecosystem, "1", "2")


def test_every_osv_ecosystem_is_decided() -> None:
    """Each ecosystem the OSV schema defines has a comparator or is on the
    list of those lashing leaves uncovered; a new one fails this test."""
    schema = json.loads(need(SHARED_DATA / "osv-schema" / "ecosystems.json").read_text())
    undecided = set(schema) - families() - UNSUPPORTED
    assert not undecided
    assert not families() & UNSUPPORTED


def test_every_scheme_has_a_sample() -> None:
    assert set(SAMPLE) == set(SCHEMES)


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_key_contract(scheme: str) -> None:
    _key, names = SCHEMES[scheme]
    cmp = comparator_for(names[0])
    assert cmp is not None
    version = SAMPLE[scheme]
    key = cmp.key(version)
    assert cmp.key(version) is key  # cached
    assert hash(key) == hash(cmp.key(version))
    assert cmp.compare(version, version) == 0
    with pytest.raises(InvalidVersion):
        cmp.key("1" * (MAX_VERSION_LENGTH + 1))
    with pytest.raises(InvalidVersion):
        cmp.key("")


def test_compare_function() -> None:
    assert compare("Debian:12", "1.0~rc1", "1.0") == -1
    assert compare("PyPI", "1.0", "1.0.0") == 0
    assert compare("npm", "2.0.0", "1.9.9") == 1
    with pytest.raises(InvalidVersion):
        compare("PyPI", "1.0", "not a version")
    assert issubclass(InvalidVersion, ValueError)


def test_satisfies_the_protocol() -> None:
    found: Comparator | None = comparator_for("Go")
    assert found is not None
    assert found.ecosystem == "Go"
    assert "Go" in repr(found)


def test_many_packages_against_many_ranges_is_fast() -> None:
    """1,000 installed versions against 50 ranges of 3 bounds each: 150,000
    comparisons, with the keys cached as matching uses them."""
    rng = random.Random(7)
    cmp = comparator_for("Debian:12")
    assert cmp is not None
    versions = [f"{rng.randint(0, 3)}.{rng.randint(0, 40)}.{rng.randint(0, 9)}-{rng.randint(1, 9)}"
                f"+deb12u{rng.randint(1, 5)}" for _ in range(1000)]
    bounds = [f"{rng.randint(0, 3)}.{rng.randint(0, 40)}-{rng.randint(1, 9)}" for _ in range(150)]
    start = time.perf_counter()
    hits = sum(cmp.compare(v, b) < 0 for v in versions for b in bounds)
    elapsed = time.perf_counter() - start
    assert 0 < hits < len(versions) * len(bounds)
    assert elapsed < 5.0, f"150,000 comparisons took {elapsed:.2f}s"
