"""dpkg itself as the oracle for Debian version order.

Run as a script by tests/fixtures/build.d/30-versions.sh, it asks
`dpkg --compare-versions` about every Debian pair of the shared
version-compare fixtures and about pairs of real Debian versions of this
machine, once, and writes the verdicts where the tests read them:

    OUT/dpkg-oracle.tsv        source <TAB> a <TAB> b <TAB> -1|0|1
    OUT/debian-versions.txt    the real versions, one a line

Standard library only: it runs before (and without) the project's venv.
The tests import `dpkg_compare_many` for the pairs they pick at run time.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SHARED_FIXTURES = (ROOT.parent / "shared" / "data" / "version-compare-fixtures" / "semantic"
                   / "testdata")
DEBIAN_FIXTURE_FILES = ("debian-versions.txt", "debian-versions-generated.txt")
ORACLE_TSV = "dpkg-oracle.tsv"
VERSIONS_TXT = "debian-versions.txt"

# how many real-version pairs the builder asks about
NEIGHBOUR_PAIRS = 4000
RANDOM_PAIRS = 2000


def have_dpkg() -> bool:
    return shutil.which("dpkg") is not None


def dpkg_compare(a: str, b: str) -> int:
    """-1, 0 or 1 from `dpkg --compare-versions` (one or two runs)."""
    if subprocess.run(["dpkg", "--compare-versions", a, "lt", b],
                      stderr=subprocess.DEVNULL, check=False).returncode == 0:
        return -1
    if subprocess.run(["dpkg", "--compare-versions", a, "eq", b],
                      stderr=subprocess.DEVNULL, check=False).returncode == 0:
        return 0
    return 1


def dpkg_compare_many(pairs: Sequence[tuple[str, str]]) -> list[int]:
    """dpkg's verdict for every pair, a few dpkg processes at a time."""
    workers = max(2, 2 * (os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda pair: dpkg_compare(*pair), pairs))


def fixture_pairs(directory: Path = SHARED_FIXTURES) -> list[tuple[str, str]]:
    """Every `a op b` pair of the Debian fixture files (empty if absent)."""
    pairs: list[tuple[str, str]] = []
    for name in DEBIAN_FIXTURE_FILES:
        path = directory / name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 3 and not line.startswith(("#", "//")):
                pairs.append((parts[0], parts[2]))
    return pairs


def machine_versions() -> list[str]:
    """Every distinct Debian version this machine knows: installed packages
    and the package lists apt has (apt-cache reads them compressed or not)."""
    found: set[str] = set()
    query = subprocess.run(["dpkg-query", "-W", "-f=${Version}\\n"],
                           capture_output=True, text=True, check=False)
    found.update(query.stdout.split())
    if shutil.which("apt-cache"):
        dump = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True,
                              check=False)
        found.update(line[len("Version: "):].strip() for line in dump.stdout.splitlines()
                     if line.startswith("Version: "))
    found.discard("")
    return sorted(found)


def _natural(version: str) -> list[tuple[int, int | str]]:
    # a rough order (digit runs as numbers) that puts near versions side by side
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"([0-9]+)", version) if p]


def real_pairs(versions: Sequence[str], seed: int = 440) -> list[tuple[str, str]]:
    """Neighbours in a rough order (the hard cases: 2.36-9+deb12u3 against
    2.36-9+deb12u4) and random pairs."""
    ordered = sorted(versions, key=_natural)
    neighbours = list(itertools.pairwise(ordered))
    step = max(1, len(neighbours) // NEIGHBOUR_PAIRS)
    rng = random.Random(seed)
    pairs = neighbours[::step]
    if len(versions) > 1:
        pairs += [(rng.choice(versions), rng.choice(versions)) for _ in range(RANDOM_PAIRS)]
    return pairs


def write_lines(path: Path, lines: Iterable[str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    tmp.replace(path)


def build(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    versions = machine_versions()
    write_lines(out / VERSIONS_TXT, versions)
    labelled = [("fixture", pair) for pair in fixture_pairs()]
    labelled += [("machine", pair) for pair in real_pairs(versions)]
    verdicts = dpkg_compare_many([pair for _, pair in labelled])
    write_lines(out / ORACLE_TSV, (f"{source}\t{a}\t{b}\t{verdict}"
                                   for (source, (a, b)), verdict in zip(labelled, verdicts,
                                                                        strict=True)))
    print(f"{len(labelled)} pairs ({len(versions)} real versions) asked of dpkg")


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: dpkg_oracle.py OUT_DIR", file=sys.stderr)
        return 2
    if not have_dpkg():
        print("no dpkg on this machine; nothing to build")
        return 0
    build(Path(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
