"""SemVer 2 precedence (npm, crates.io, Go, Hex, ...) and Pub's variant."""

from __future__ import annotations

import pytest
from versions_data import check_chain, check_equal, comparator

from lashing.vulndb.versions import InvalidVersion

# semver.org, item 11
SPEC_ORDER = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
              "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]
SPEC_NUMBERS = ["1.0.0", "2.0.0", "2.1.0", "2.1.1"]

GO_ORDER = [
    "v0.0.0-20190101000000-aaaaaaaaaaaa",  # pseudo-versions sort by their timestamp
    "v0.0.0-20210101000000-abcdef123456",
    "v0.0.0-20220101000000-000000000000",
    "v0.1.0",
    "v1.2.3",
    "v1.2.4-0.20210101000000-abcdef123456",  # a pseudo-version after v1.2.3, before v1.2.4
    "v1.2.4-pre",
    "v1.2.4",
    "v2.0.0+incompatible",
    "v2.0.1",
]

EQUAL = [
    ["1.0.0", "v1.0.0", "1.0.0+build.1", "1.0.0+other", "1.0", "1"],
    ["v2.0.0+incompatible", "v2.0.0"],
    ["1.0.0-rc.1", "1.0.0-rc.1+build.5", "v1.0.0-rc.1"],
]

INVALID = ["", "latest", "x1.0.0", "v", "-1.0.0", "1.0 .0"]


@pytest.mark.parametrize("ecosystem", ["npm", "crates.io", "Go", "Hex", "SwiftURL", "Pub"])
def test_spec_order(ecosystem: str) -> None:
    check_chain(ecosystem, SPEC_ORDER)
    check_chain(ecosystem, SPEC_NUMBERS)


def test_go_module_versions() -> None:
    check_chain("Go", GO_ORDER)


def test_numeric_identifiers_compare_as_numbers() -> None:
    check_chain("npm", ["1.0.0-rc.2", "1.0.0-rc.10", "1.0.0-rc.a", "1.0.0-rc.a.0", "1.0.0-rcb"])
    check_chain("crates.io", ["0.9.99", "0.10.0", "0.10.1-alpha.9", "0.10.1-alpha.10", "0.10.1"])


@pytest.mark.parametrize("group", EQUAL, ids=lambda g: g[0])
def test_build_metadata_ignored(group: list[str]) -> None:
    check_equal("npm", group)


def test_pub_orders_build_metadata() -> None:
    check_chain("Pub", ["1.0.0-pre", "1.0.0-pre+build", "1.0.0", "1.0.0+1", "1.0.0+2",
                        "1.0.0+10", "1.0.0+a", "1.0.0+a.1", "1.0.1"])


@pytest.mark.parametrize("version", INVALID)
def test_refused(version: str) -> None:
    with pytest.raises(InvalidVersion):
        comparator("npm").key(version)
