"""Maven versions: the ordered lists and equalities of Maven's own
ComparableVersionTest, and the examples of the POM reference's "Version
Order Specification"."""

from __future__ import annotations

import pytest
from versions_data import check_chain, check_equal, comparator

# ComparableVersionTest.VERSIONS_QUALIFIER (maven-artifact 3.8)
VERSIONS_QUALIFIER = [
    "1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11",
    "1-rc", "1-cr2", "1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc", "1-def",
    "1-pom-1", "1-1-snapshot", "1-1", "1-2", "1-123",
]

# ComparableVersionTest.VERSIONS_NUMBER (maven-artifact 3.8)
VERSIONS_NUMBER = [
    "2.0", "2-1", "2.0.a", "2.0.0.a", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c",
    "2.1-1", "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11",
    "11", "11.a", "11b", "11c", "11m",
]

# ComparableVersionTest.testVersionsEqual, grouped
EQUAL = [
    ["1", "1.0", "1.0.0", "1-0", "1.0-0", "1ga", "1final", "1Ga", "1GA", "1Final", "1FinaL",
     "1FINAL", "1release", "1-ga", "1.ga", "1-final"],
    ["1a", "1-a", "1.0-a", "1.0.0-a", "1.0a", "1.0.0a", "1A"],
    ["1x", "1-x", "1.0-x", "1.0.0-x", "1.0x", "1.0.0x", "1X"],
    ["1cr", "1rc", "1Cr", "1Rc", "1cR", "1rC"],
    ["1a1", "1-alpha-1", "1alpha1", "1-a1"],
    ["1b2", "1-beta-2"],
    ["1m3", "1-milestone-3", "1Milestone3", "1MileStone3", "1MILESTONE3"],
]

# POM reference, "Version Order Specification" examples
SPEC_CHAINS = [
    ["1", "1.1"],
    ["1-snapshot", "1", "1-sp"],
    ["1-foo2", "1-foo10"],
    ["1-foo", "1-1", "1.1"],
    ["1-ga", "1-sp"],
    ["1-ga.1", "1-sp.1"],
    ["1-sp-1", "1-ga-1"],
    # the usual release train
    ["1.0-alpha-1", "1.0-alpha-2", "1.0-beta-1", "1.0-M1", "1.0-RC1", "1.0-SNAPSHOT", "1.0",
     "1.0-sp1", "1.0-1", "1.0.1"],
]
SPEC_EQUAL = [["1.ga", "1-ga", "1-0", "1.0", "1"], ["1-a1", "1-alpha-1"]]


def test_versions_qualifier() -> None:
    check_chain("Maven", VERSIONS_QUALIFIER)


def test_versions_number() -> None:
    check_chain("Maven", VERSIONS_NUMBER)


@pytest.mark.parametrize("group", EQUAL + SPEC_EQUAL, ids=lambda g: g[0])
def test_equal(group: list[str]) -> None:
    check_equal("Maven:https://repo.maven.apache.org/maven2", group)


@pytest.mark.parametrize("chain", SPEC_CHAINS, ids=lambda c: "<".join(c[:2]))
def test_specification_examples(chain: list[str]) -> None:
    check_chain("Maven", chain)


def test_where_implementation_and_specification_text_differ() -> None:
    """Two examples of the specification text are not what ComparableVersion
    3.8 does: `1.foo` = `1-foo` is Maven 3.9's reading of a trailing `.X` as
    `-X` (which 3.9 pays for with 4.1.0.M1 > 4.1.0.RC), and in `1-ga-1` the
    `ga-1` sub-list sorts below the number 1 of `1-1` (in Maven 4 as well).
    lashing follows 3.8."""
    maven = comparator("Maven")
    assert maven.compare("1.foo", "1-foo") == -1
    assert maven.compare("1-ga-1", "1-1") == -1


def test_large_numbers() -> None:
    check_chain("Maven", ["20190126.230843", "1234567890.12345", "123456789012345.1H.5-beta",
                          "12345678901234567890.1H.5-beta"])
