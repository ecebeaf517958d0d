"""Every pair of ../shared's version-compare fixtures (the upstream test
vectors of the OSV tooling: native-tool orderings of real versions from the
OSV databases, and hand-written edge cases), both ways round.

A few lines record an order that lashing deliberately does not follow; each
is listed below with the reason, and the test fails if one of them starts to
agree (so the list cannot go stale)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from packaging.version import InvalidVersion as PackagingInvalidVersion
from packaging.version import Version
from versions_data import comparator, read_pairs

from lashing.vulndb.versions import InvalidVersion

# (ecosystem, fixture file, fewest pairs the file must hold)
FILES = [
    ("Debian", "debian-versions.txt", 25),
    ("Debian", "debian-versions-generated.txt", 14_000),
    ("Ubuntu:22.04:LTS", "debian-versions.txt", 25),
    ("Alpine:v3.20", "alpine-versions.txt", 700),
    ("Alpine:v3.20", "alpine-versions-generated.txt", 13_000),
    ("Wolfi", "alpine-versions-generated.txt", 13_000),
    ("Red Hat:enterprise_linux:9::baseos", "redhat-versions.txt", 150),
    ("AlmaLinux:9", "redhat-versions.txt", 150),
    ("PyPI", "pypi-versions.txt", 35),
    ("PyPI", "pypi-versions-generated.txt", 12_000),
    ("npm", "semver-versions.txt", 80),
    ("crates.io", "semver-versions.txt", 80),
    ("Go", "semver-versions.txt", 80),
    ("Hex", "semver-versions.txt", 80),
    ("Pub", "pub-versions.txt", 90),
    ("Maven", "maven-versions.txt", 100),
    ("Maven", "maven-versions-generated.txt", 14_000),
    ("RubyGems", "rubygems-versions.txt", 25),
    ("RubyGems", "rubygems-versions-generated.txt", 4_000),
    ("NuGet", "nuget-versions.txt", 30),
    ("Packagist", "packagist-versions.txt", 90),
    ("Packagist", "packagist-versions-generated.txt", 10_000),
]

APK_TOOLS_2_DOTTED_LETTER = (
    "apk-tools 2 reads `.r` as an empty dotted number followed by a letter, which "
    "beats a letter straight after the number; both sides are malformed"
)
MAVEN_38_CYCLE = (
    "maven-artifact 3.8.6 is not transitive here (2.9 < 2.9.0-1 < 2.9.0.RC1 < 2.9): a 0 "
    "before a qualifier beats a sub-list yet equals a missing item; lashing treats the "
    "0 as missing, as Maven 4 does, so the dotted pre-release sorts first"
)
COMPOSER_CASE = (
    "PHP's version_compare matches stability words case-sensitively (ALPHA and BETA "
    "are unknown words, equal); Composer normalises them, so ALPHA < BETA"
)

GENERATED_MAVEN = "maven-versions-generated.txt"
GENERATED_PACKAGIST = "packagist-versions-generated.txt"

# (ecosystem family, fixture file, line) -> (what lashing answers, why)
DIVERGENCES: dict[tuple[str, str, str], tuple[int, str]] = {
    ("Alpine", "alpine-versions.txt", "0.r1 < 0r2"): (1, APK_TOOLS_2_DOTTED_LETTER),
    ("Alpine", "alpine-versions.txt", "0.8.21.r2 < 0.8.21r2"): (1, APK_TOOLS_2_DOTTED_LETTER),
    ("Alpine", "alpine-versions.txt", "1-r0-1 = 1-r-2"): (
        1, "apk-tools 2 reads both as release 0 followed by junk; like apk-tools 3, "
           "lashing refuses `-r` followed by something other than digits right there, "
           "and junk sorts lowest"),
    ("Maven", "maven-versions.txt", "1-1 = 1-ga-1"): (
        1, "the specification text calls these equal, but ComparableVersion (3.8 and 4) "
           "keeps `ga-1` as a sub-list, which sorts below the number 1"),
    ("Maven", GENERATED_MAVEN, "1.0.0-gradle-rework-beta3 < 1.0.0.RC7-3"): (1, MAVEN_38_CYCLE),
    ("Maven", GENERATED_MAVEN, "2.9.0-1 < 2.9.0.RC1"): (1, MAVEN_38_CYCLE),
    ("Maven", GENERATED_MAVEN, "1.1.0-01-glassfish < 1.1.0.Beta1"): (1, MAVEN_38_CYCLE),
    ("Packagist", GENERATED_PACKAGIST, "v1.9.0-ALPHA.1 = v1.9.0-BETA.1"): (-1, COMPOSER_CASE),
    ("Packagist", GENERATED_PACKAGIST, "v1.9.0-BETA.1 < v1.9.0-ALPHA.2"): (1, COMPOSER_CASE),
    ("Packagist", GENERATED_PACKAGIST, "v1.9.0-ALPHA.2 = v1.9.0-BETA.2"): (-1, COMPOSER_CASE),
}


def _pypi_legacy(version: str) -> bool:
    try:
        Version(version)
    except PackagingInvalidVersion:
        return True
    return False


# Versions the fixtures order but lashing refuses (InvalidVersion), per family.
REFUSED: dict[str, Callable[[str], bool]] = {
    # packaging (pip's own parser) has rejected legacy versions since 22.0
    "PyPI": _pypi_legacy,
    # Gem::Version raises "Malformed version number string" for these
    "RubyGems": lambda v: v in {"1beta", "1gamma"},
    # `#` has a number's rank in version_compare, which is not transitive
    "Packagist": lambda v: "#" in v,
}


@pytest.mark.parametrize(("ecosystem", "name", "fewest"), FILES,
                         ids=[f"{e}-{n}" for e, n, _ in FILES])
def test_fixture_file(ecosystem: str, name: str, fewest: int) -> None:
    cmp = comparator(ecosystem)
    family = cmp.ecosystem
    pairs = read_pairs(name)
    assert len(pairs) >= fewest
    wrong: list[str] = []
    stale: list[str] = []
    checked = refused = 0
    seen: set[str] = set()
    for pair in pairs:
        refuse = REFUSED.get(family)
        if refuse is not None and (refuse(pair.a) or refuse(pair.b)):
            with pytest.raises(InvalidVersion):
                cmp.compare(pair.a, pair.b)
            refused += 1
            continue
        got = cmp.compare(pair.a, pair.b), cmp.compare(pair.b, pair.a)
        divergence = DIVERGENCES.get((family, name, pair.line))
        if divergence is not None:
            seen.add(pair.line)
            if got != (divergence[0], -divergence[0]):
                stale.append(pair.line)
            continue
        checked += 1
        if got != (pair.expected, -pair.expected):
            wrong.append(f"{pair.line}  (got {got[0]})")
    assert not stale, f"documented divergences that no longer hold: {stale}"
    listed = {line for (fam, file, line) in DIVERGENCES if (fam, file) == (family, name)}
    assert listed == seen, f"documented divergences not in {name}: {listed - seen}"
    assert not wrong, f"{len(wrong)} of {len(pairs)} pairs disagree:\n" + "\n".join(wrong[:30])
    assert checked + refused > 0
