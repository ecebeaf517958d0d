"""Debian versions against dpkg itself.

- every pair dpkg was asked about by tests/fixtures/build.d/30-versions.sh
  (all Debian pairs of the shared fixtures, and real versions of this
  machine), from the cached verdicts;
- the real versions of this machine sorted by lashing's key, adjacent and
  random pairs asked of dpkg now;
- deb-version(7)'s rules and dpkg's refusals, by hand.
"""

from __future__ import annotations

import itertools
import random
import subprocess
from collections import Counter

import pytest
from dpkg_oracle import ORACLE_TSV, VERSIONS_TXT, dpkg_compare_many, have_dpkg
from versions_data import BUILT, check_chain, check_equal, comparator

from lashing.vulndb.versions import InvalidVersion

DEBIAN = comparator("Debian:12")
NEIGHBOURS = 300  # neighbour pairs asked of dpkg at run time
RANDOM = 100  # random pairs asked of dpkg at run time

CHAINS = [
    # ~ sorts before everything, even the end
    ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a", "1.0+b1", "1.0.1"],
    # backports and security updates around a release
    ["2.36-9~bpo11+1", "2.36-9", "2.36-9+deb12u1", "2.36-9+deb12u3", "2.36-9+deb12u10"],
    # letters before other characters, numbers compare as numbers
    ["1.0a", "1.0z", "1.0+", "1.0.", "1.00001", "1.2", "1.10"],
    # the epoch wins over everything else
    ["9.9-9", "1:0.1-1", "1:0.1-2", "2:0.0.1"],
    # Ubuntu's and Debian's revisions of one upstream version
    ["3.0.2-0ubuntu1", "3.0.2-0ubuntu1.10", "3.0.2-1", "3.0.2-1ubuntu1"],
]

EQUAL = [
    ["1.0", "0:1.0", "1.0-0", "1.0-00", "0:1.0-0"],
    ["1.01", "1.1", "1.001"],
    ["2:1.2-3", "2:1.2-03", "02:1.2-3"],
]

INVALID = ["", "   ", "1:", ":1.0", "a:1.0", "1.0-", "-1", "1.0 2", "1.0-1!", "1.0_1",
           "99999999999:1.0", "1.0-r\u00e9v", "1.0\tbeta"]


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: c[0])
def test_ordering(chain: list[str]) -> None:
    check_chain("Debian", chain)


@pytest.mark.parametrize("group", EQUAL, ids=lambda g: g[0])
def test_equal(group: list[str]) -> None:
    check_equal("Debian", group)


@pytest.mark.parametrize("version", INVALID)
def test_refused(version: str) -> None:
    with pytest.raises(InvalidVersion):
        DEBIAN.key(version)


def test_surrounding_whitespace_is_ignored() -> None:
    assert DEBIAN.compare(" 1.0-1\n", "1.0-1") == 0


def test_cached_dpkg_verdicts() -> None:
    """Every pair tests/fixtures/build.d/30-versions.sh asked dpkg about."""
    path = BUILT / ORACLE_TSV
    if not path.is_file():
        pytest.skip(f"needs {path}: run scripts/build-fixtures.sh")
    counts: Counter[str] = Counter()
    wrong = []
    for line in path.read_text(encoding="utf-8").splitlines():
        source, a, b, verdict = line.split("\t")
        counts[source] += 1
        if DEBIAN.compare(a, b) != int(verdict):
            wrong.append(f"{a} vs {b}: dpkg says {verdict}")
    assert not wrong, f"{len(wrong)} disagreements with dpkg:\n" + "\n".join(wrong[:30])
    assert counts["machine"] >= 1_000
    if (BUILT.parents[2].parent / "shared").exists():
        assert counts["fixture"] >= 14_000


def _machine_versions() -> list[str]:
    cached = BUILT / VERSIONS_TXT
    if cached.is_file():
        return cached.read_text(encoding="utf-8").split()
    query = subprocess.run(["dpkg-query", "-W", "-f=${Version}\\n"], capture_output=True,
                           text=True, check=True)
    return sorted(set(query.stdout.split()))


def test_sorted_by_key_as_dpkg_sorts() -> None:
    """This machine's real versions sorted by lashing's key: neighbours (where
    an ordering slip would show) and random pairs, asked of dpkg now."""
    if not have_dpkg():
        pytest.skip("needs dpkg")
    versions = sorted(set(_machine_versions()), key=DEBIAN.key)
    assert len(versions) >= 100
    neighbours = list(itertools.pairwise(versions))
    pairs = neighbours[:: max(1, len(neighbours) // NEIGHBOURS)]
    rng = random.Random(12)
    pairs += [(rng.choice(versions), rng.choice(versions)) for _ in range(RANDOM)]
    verdicts = dpkg_compare_many(pairs)
    wrong = [f"{a} vs {b}: dpkg says {v}" for (a, b), v in zip(pairs, verdicts, strict=True)
             if DEBIAN.compare(a, b) != v]
    assert not wrong, "\n".join(wrong[:30])
    # the key sorted them: no neighbour pair is reversed
    assert all(v <= 0 for v in verdicts[: len(pairs) - RANDOM])
