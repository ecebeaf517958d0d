"""PyPI versions: `packaging` is the reference, so these check the wrapper:
PEP 440's own ordering example, normalisation, and refusals."""

from __future__ import annotations

import random

import pytest
from packaging.version import Version
from versions_data import check_chain, check_equal, comparator, read_pairs

from lashing.vulndb.versions import InvalidVersion

PYPI = comparator("PyPI")

# PEP 440, "Summary of permitted suffixes and relative ordering"
PEP440_ORDER = [
    "1.dev0", "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456",
    "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0",
    "1.0+abc.5", "1.0+abc.7", "1.0+5", "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1",
]

EQUAL = [
    ["1.0", "1.0.0", "1", "v1.0", "1.0.0.0"],
    ["1.0rc1", "1.0RC1", "1.0c1", "1.0-rc.1", "1.0.rc1"],
    ["1.0.post1", "1.0-1", "1.0.post-1", "1.0-r1", "1.0rev1"],
    ["1.0a1", "1.0alpha1", "1.0.alpha.1"],
]

INVALID = ["", "latest", "0.1-bulbasaur", "1.0-foo", "1.0.x", "1..0", "2.0.0-dev.abc"]


def test_pep440_order() -> None:
    check_chain("PyPI", PEP440_ORDER)


def test_epoch_beats_everything() -> None:
    check_chain("PyPI", ["2024.1", "1!0.1", "1!1.0", "2!0.0.1"])


@pytest.mark.parametrize("group", EQUAL, ids=lambda g: g[0])
def test_equal(group: list[str]) -> None:
    check_equal("PyPI", group)


@pytest.mark.parametrize("version", INVALID)
def test_refused(version: str) -> None:
    with pytest.raises(InvalidVersion):
        PYPI.key(version)


def test_agrees_with_packaging_on_real_versions() -> None:
    versions = sorted({v for p in read_pairs("pypi-versions-generated.txt") for v in (p.a, p.b)
                       if not _legacy(v)})
    assert len(versions) > 5_000
    rng = random.Random(440)
    versions = rng.sample(versions, 3_000)
    assert sorted(versions, key=PYPI.key) == sorted(versions, key=Version)


def _legacy(version: str) -> bool:
    try:
        Version(version)
    except ValueError:
        return True
    return False
