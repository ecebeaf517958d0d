"""RubyGems, NuGet and Composer (Packagist) versions by their own rules."""

from __future__ import annotations

import pytest
from versions_data import check_chain, check_equal, comparator

from lashing.vulndb.versions import InvalidVersion

CHAINS = {
    "RubyGems": [
        # Gem::Version: letters make a pre-release, older than the release
        ["1.0.a.2", "1.0.b1", "1.0.rc1", "1.0", "1.0.1", "1.1.a", "1.1"],
        ["1.0.0-rc1", "1.0.0"],  # "-" is ".pre."
        ["2.7.0.preview1", "2.7.0.rc1", "2.7.0", "2.7.1", "2.10.0", "3.0.0.pre1"],
        ["1.a", "1.a.1", "1.b", "1"],
    ],
    "NuGet": [
        ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-rc.1", "1.0.0", "1.0.0.1",
         "1.0.1", "1.1", "2.0.0.0"],
        ["1.0.0-beta", "1.0.0-BETA.1", "1.0.0-Beta.x", "1.0.0-beta2"],
    ],
    "Packagist": [
        ["1.0.0-dev", "1.0.0-alpha1", "1.0.0-alpha2", "1.0.0-beta1", "1.0.0-RC1", "1.0.0",
         "1.0.0-patch1", "1.0.1", "v1.1.0"],
        ["dev-master", "0.0.1", "1.0", "1.0.0", "1.0.0.1"],
        ["4.3-2beta5", "4.3-2RC1", "4.3-2RC2", "4.3-2", "4.3-2pl1"],
    ],
}

EQUAL = {
    "RubyGems": [["1.0", "1", "1.0.0", "1.00"], ["1.0.a", "1.a", "1.0.0.a"],
                 ["1.0.0-rc1", "1.0.0.pre.rc1"]],
    "NuGet": [["1.0", "1.0.0", "1.0.0.0", "1.0+meta"], ["1.0.01", "1.0.1.0"],
              ["1.0.0-BETA", "1.0.0-beta", "1.0.0-Beta+build.7"]],
    "Packagist": [["1.0.0", "v1.0.0", "V1.0.0"], ["1.0.0-beta1", "1.0.0-b1", "1.0.0-Beta1",
                                                   "1.0.0beta1", "1.0.0.beta.1"],
                  ["1.0.0-RC1", "1.0.0-rc1"], ["1.0.0-patch1", "1.0.0-p1", "1.0.0-pl1"]],
}

INVALID = {
    "RubyGems": ["", "1beta", "junk", "1..2", "1.0 2", "-1"],
    "NuGet": ["", "latest", "x.1"],
    "Packagist": ["", "v", "1.2.3.#"],
}


def _cases(table: dict[str, list[list[str]]]) -> list[tuple[str, list[str]]]:
    return [(ecosystem, versions) for ecosystem, groups in table.items() for versions in groups]


@pytest.mark.parametrize(("ecosystem", "chain"), _cases(CHAINS), ids=lambda v: str(v)[:20])
def test_ordering(ecosystem: str, chain: list[str]) -> None:
    check_chain(ecosystem, chain)


@pytest.mark.parametrize(("ecosystem", "group"), _cases(EQUAL), ids=lambda v: str(v)[:20])
def test_equal(ecosystem: str, group: list[str]) -> None:
    check_equal(ecosystem, group)


@pytest.mark.parametrize(("ecosystem", "version"),
                         [(e, v) for e, versions in INVALID.items() for v in versions])
def test_refused(ecosystem: str, version: str) -> None:
    with pytest.raises(InvalidVersion):
        comparator(ecosystem).key(version)
