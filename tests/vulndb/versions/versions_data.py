"""Where the version comparator tests find their ground truth, and the small
helpers they share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from lashing.vulndb.versions import Comparator, comparator_for

ROOT = Path(__file__).resolve().parents[3]
SHARED_DATA = ROOT.parent / "shared" / "data"
VERSION_FIXTURES = SHARED_DATA / "version-compare-fixtures" / "semantic" / "testdata"
BUILT = ROOT / "build" / "fixtures" / "versions"  # tests/fixtures/build.d/30-versions.sh

OPS = {"<": -1, "=": 0, ">": 1}


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    expected: int  # -1, 0, 1
    line: str


def need(path: Path) -> Path:
    """Skip the test when shared data is absent (a checkout without ../shared)."""
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data beside the project)")
    return path


def read_pairs(name: str) -> tuple[Pair, ...]:
    """The `a op b` lines of a version-compare fixture file; lines starting
    with `#` or `//` are comments."""
    return _read_pairs(need(VERSION_FIXTURES / name))


@cache
def _read_pairs(path: Path) -> tuple[Pair, ...]:
    pairs = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "//")):
            continue
        a, op, b = line.split(" ")
        pairs.append(Pair(a, b, OPS[op], line))
    return tuple(pairs)


def comparator(ecosystem: str) -> Comparator:
    found = comparator_for(ecosystem)
    assert found is not None, ecosystem
    return found


def chain_pairs(chain: Sequence[str]) -> list[tuple[str, str]]:
    """Every ordered pair of a chain written oldest first."""
    return [(chain[i], chain[j]) for i in range(len(chain)) for j in range(i + 1, len(chain))]


def check_chain(ecosystem: str, chain: Sequence[str]) -> None:
    """Each version is older than every later one, and sorting by key
    restores the chain from any order."""
    cmp = comparator(ecosystem)
    wrong = [(a, b) for a, b in chain_pairs(chain)
             if cmp.compare(a, b) != -1 or cmp.compare(b, a) != 1]
    assert not wrong, f"{ecosystem}: not older: {wrong}"
    assert sorted(reversed(chain), key=cmp.key) == list(chain)


def check_equal(ecosystem: str, group: Sequence[str]) -> None:
    """Every version of the group equals every other, keys included."""
    cmp = comparator(ecosystem)
    wrong = [(a, b) for a, b in chain_pairs(group) if cmp.compare(a, b) != 0]
    assert not wrong, f"{ecosystem}: not equal: {wrong}"
    assert len({cmp.key(v) for v in group}) == 1
