"""Alpine versions by apk's documented order (apk-package(5), apk-tools'
version.c); the shared fixtures (test_versions_fixtures.py) hold the
thousands of real pairs. There is no apk on a Debian machine to ask."""

from __future__ import annotations

import pytest
from versions_data import check_chain, check_equal, comparator

from lashing.vulndb.versions import InvalidVersion

CHAINS = [
    # pre-release suffixes < no suffix < post-release suffixes, numbered or not
    ["1.2_alpha", "1.2_alpha1", "1.2_alpha2", "1.2_beta", "1.2_pre1", "1.2_rc1", "1.2_rc2",
     "1.2", "1.2_cvs", "1.2_svn1", "1.2_git20240101", "1.2_hg1", "1.2_p1", "1.2_p2"],
    # where the two differ in kind, the earlier part of the grammar wins
    ["1.2_rc1", "1.2", "1.2-r1", "1.2_p1", "1.2a", "1.2.1"],
    # the package release
    ["1.2-r0", "1.2-r1", "1.2-r2", "1.2-r10", "1.2.1-r0"],
    # numbers, letters, and dotted numbers with leading zeros (like decimal
    # fractions: more zeros sort lower)
    ["1", "1.00", "1.0", "1.05", "1.4", "1.10", "1.10a", "1.10b", "2"],
    ["0.9.8k-r0", "0.9.8y-r0", "1.0.0-r0", "1.0.1a-r0", "1.0.1g-r0", "1.0.2-r0"],
    # openssh: a letter followed by digits, which apk-tools 2 orders
    ["6.6p1-r0", "6.6p1-r1", "6.6.1p1-r0", "6.7p1-r0", "9.6_p1-r0", "9.6_p1-r1", "9.7_p1-r0"],
    # multiple suffixes, a commit hash (which comes before the release)
    ["1.2_rc1_p1", "1.2_rc2", "1.2", "1.2-r1", "1.2~a1", "1.2~a1-r1", "1.2~b0"],
    ["1.2_p", "1.2_p0", "1.2_p1"],
    # real Wolfi / Chainguard versions
    ["3.0.13-r0", "3.0.13-r1", "3.1.0-r0", "3.1.0-r10", "3.3.2-r0"],
]

EQUAL = [
    ["1-r1", "1-r01", "1-r001"],
    ["1.2-r", "1.2-r0"],
]

INVALID = ["", "1.2 -r0", " 1.0"]


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: c[0])
def test_ordering(chain: list[str]) -> None:
    check_chain("Alpine:v3.20", chain)


@pytest.mark.parametrize("group", EQUAL, ids=lambda g: g[0])
def test_equal(group: list[str]) -> None:
    check_equal("Alpine", group)


@pytest.mark.parametrize("version", INVALID)
def test_refused(version: str) -> None:
    with pytest.raises(InvalidVersion):
        comparator("Wolfi").key(version)


@pytest.mark.parametrize(("low", "high"), [
    ("1.2_blah", "1.2"),  # an unknown suffix sorts before the bare version
    ("1.2_blah", "1.2_cvs1"),
    ("1.2.0A", "1.2.0d"),  # junk sorts lowest, after the same leading parts
    ("1-ruff", "1"),
    ("1.2_alpha", "1.2X"),  # except against a pre-release suffix
])
def test_malformed_sorts_low(low: str, high: str) -> None:
    apk = comparator("Chainguard")
    assert apk.compare(low, high) == -1
    assert apk.compare(high, low) == 1
