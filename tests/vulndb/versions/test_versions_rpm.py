"""RPM versions against rpm itself: every pair goes through one `rpm --eval`
run of a Lua script calling `rpm.vercmp` (rpm >= 4.16 parses both sides as
[epoch:]version[-release], as rpmverCmp does). The pairs: the shared Red Hat
fixtures, hand-written edge cases, and real AlmaLinux 9 versions from the
shared OSV data sorted by lashing's key (every neighbour pair, and random
pairs)."""

from __future__ import annotations

import itertools
import json
import random
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from versions_data import SHARED_DATA, VERSION_FIXTURES, check_chain, comparator, read_pairs

from lashing.vulndb.versions import InvalidVersion

RPM = comparator("Red Hat:enterprise_linux:9::appstream")

TRICKY = [
    # tilde: before everything, even the end
    ("1.0~rc1", "1.0"), ("1.0~rc1", "1.0~rc2"), ("1.0~rc1~git1", "1.0~rc1"), ("1.0~", "1.0"),
    ("1.0~~", "1.0~"), ("1.0~rc1", "1.0~rc1"),
    # caret: after the end, before anything else
    ("1.0", "1.0^"), ("1.0^", "1.0^git1"), ("1.0^git1", "1.0.1"), ("1.0^git1", "1.0^git2"),
    ("1.0^git1~pre", "1.0^git1"), ("1.0~rc1", "1.0~rc1^git1"), ("1.0^20160101", "1.0^20160101.1"),
    # epochs
    ("1:1.0", "2.0"), ("0:1.0", "1.0"), ("01:1.0", "1:1.0"), ("10:1", "9:2"), (":1.0", "1.0"),
    ("a:1", "b:1"), ("1.m+e2:1", "4.m+e1:1"),
    # releases: a missing one sorts first, even before an empty one
    ("1.0", "1.0-1"), ("1.0", "1.0-"), ("1.0-", "1.0-0"), ("1.0-1", "1.0-1.el9"),
    ("1-2-3", "1-2-4"), ("1-2-3", "1-2.3"), ("1.0-1.el9", "1.0-1.el9_1"),
    ("4.18.0-553.el8_10", "4.18.0-553.1.2.el8_10"), ("3.10.0-229.el7", "3.10.0-229.1.2.ael7b"),
    ("1.0-1.module+el8.5.0+1234+abcdef12", "1.0-1.module+el8.6.0+1000+abcdef12"),
    # digits and letters, leading zeros, separators
    ("1.01", "1.1"), ("1.001", "1.1"), ("1.0010", "1.10"), ("0001", "1"), ("1.a", "1.1"),
    ("1a", "1.1"), ("a", "1"), ("1.0a", "1.0"), ("1.0a", "1.0.1"), ("abc", "abd"), ("ABC", "abc"),
    ("1.0.0", "1.0"), ("1..0", "1.0"), ("1_0", "1.0"), ("1.0+", "1.0"), ("1.0", "1.0.0.0"),
    ("2.el9", "2.el9_1"), ("1.1.\u03b1", "1.1.\u03b2"), ("1.1.\u03b1", "1.1.a"),
    ("18446744073709551616", "18446744073709551615"), ("5.5p1", "5.5p10"), ("10xyz", "10.1xyz"),
]

CHAINS = [
    ["1.0~rc1~git1", "1.0~rc1", "1.0~rc2", "1.0", "1.0^git1", "1.0.1"],
    ["1.0", "1.0-", "1.0-0", "1.0-1", "1.0-1.el9", "1.0-1.el9_1", "1.0-2", "1:0.1"],
]


def _lua_string(text: str) -> str:
    """A Lua string literal, every byte outside a safe set as a \\ddd escape."""
    safe = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_~^:+")
    return '"' + "".join(chr(b) if b in safe else f"\\{b:03d}" for b in text.encode()) + '"'


def rpm_vercmp_many(pairs: Sequence[tuple[str, str]], workdir: Path) -> list[int]:
    """rpm.vercmp for every pair, in one rpm run."""
    script = workdir / "vercmp.lua"
    data = ",\n".join(f"{_lua_string(a)}, {_lua_string(b)}" for a, b in pairs)
    script.write_text(
        f"local d = {{\n{data}\n}}\nlocal r = {{}}\n"
        "for i = 1, #d, 2 do r[#r + 1] = rpm.vercmp(d[i], d[i + 1]) end\n"
        'print(table.concat(r, "\\n"))\n',
        encoding="utf-8",
    )
    run = subprocess.run(["rpm", "--eval", f'%{{lua: dofile("{script}")}}'],
                         capture_output=True, text=True, check=True)
    results = [int(x) for x in run.stdout.split()]
    assert len(results) == len(pairs), run.stderr
    return results


def _need_rpm(workdir: Path) -> None:
    if shutil.which("rpm") is None:
        pytest.skip("needs rpm (Debian package rpm, scripts/system-deps.sh --test)")
    if rpm_vercmp_many([("1:1", "2")], workdir) != [1]:
        pytest.skip("this rpm's rpm.vercmp does not parse epochs (rpm < 4.16)")


def _almalinux_versions() -> list[str]:
    root = SHARED_DATA / "osv-almalinux" / "advisories"
    found: set[str] = set()
    for path in root.rglob("*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        for affected in record.get("affected", []):
            found.update(affected.get("versions", []))
            for rng in affected.get("ranges", []):
                for event in rng.get("events", []):
                    found.update(v for v in event.values() if v != "0")
    return sorted(found)


def test_against_rpm(tmp_path: Path) -> None:
    _need_rpm(tmp_path)
    pairs = list(TRICKY)
    sources = {"hand-written": len(pairs)}
    if VERSION_FIXTURES.exists():
        fixture = [(p.a, p.b) for p in read_pairs("redhat-versions.txt")]
        pairs += fixture
        sources["fixture"] = len(fixture)
    real = sorted(_almalinux_versions(), key=RPM.key)
    if real:
        rng = random.Random(9)
        sampled = list(itertools.pairwise(real))
        sampled += [(rng.choice(real), rng.choice(real)) for _ in range(1500)]
        pairs += sampled
        sources["AlmaLinux 9"] = len(sampled)
    pairs += [(b, a) for a, b in pairs]
    verdicts = rpm_vercmp_many(pairs, tmp_path)
    wrong = [f"{a} vs {b}: rpm says {v}, lashing {RPM.compare(a, b)}"
             for (a, b), v in zip(pairs, verdicts, strict=True) if RPM.compare(a, b) != v]
    assert not wrong, f"{len(wrong)} of {len(pairs)} disagree ({sources}):\n" + "\n".join(wrong)
    print(f"rpm agrees on all {len(pairs)} ordered pairs: {sources}, each both ways")
    if real:
        assert len(real) >= 1_000


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: c[0])
def test_ordering(chain: list[str]) -> None:
    check_chain("Rocky Linux:9", chain)


def test_empty_is_refused() -> None:
    with pytest.raises(InvalidVersion):
        RPM.key(" ")
