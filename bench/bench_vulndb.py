#!/usr/bin/env python3
"""Benchmark the vulnerability database: import rate and match time.

    .venv/bin/python bench/bench_vulndb.py [--records 300000] [--packages 1000]

1. generate (or reuse) a synthetic OSV export under bench/.work/vulndb/: a zip
   of N JSON records shaped like osv.dev's: Debian:12 source-package records
   (introduced 0, fixed), PyPI records with ECOSYSTEM ranges and versions
   lists, npm SEMVER records, each with aliases, references and CVSS vectors;
2. time `lashing db import` of that zip into a fresh database (records/s);
3. time `match()` of P packages (half of them affected) against it, cold (a
   fresh connection) and warm, and count the findings.

4. with --scan (the default when the bench image and Trivy exist, see
   bench_scan.py): time `lashing scan --scanners vuln --db <that database>` of
   the Debian 12 bench image against Trivy's cold CycloneDX listing of the same
   image in one run. Trivy cannot download its vulnerability database here, so
   its row is package listing only; lashing's row is the full read, catalog and
   matching against the large database. Peak RSS is measured for both.

Targets: import >= 5,000 records/s; matching 1,000 packages against 300,000
records well under one second; the scan's peak RSS under 200 MB with the large
database. Wall and CPU time are both printed: on a shared machine the CPU
figure is the stable one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from lashing import __version__
from lashing.model import Location, Package
from lashing.vulndb import match, open_database
from lashing.vulndb.importer import import_paths

WORK = Path(__file__).resolve().parent / ".work" / "vulndb"
CVSS = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:{}"


def _names(rng: random.Random, n: int, prefix: str) -> list[str]:
    return [f"{prefix}{i}-{rng.choice(['lib', 'core', 'utils', 'tools', 'dev'])}"
            for i in range(n)]


def _record(i: int, rng: random.Random, names: dict[str, list[str]]) -> dict[str, object]:
    kind = i % 10
    cve = f"CVE-{2010 + i % 15}-{10000 + i}"
    base: dict[str, object] = {
        "schema_version": "1.6.0",
        "modified": "2025-01-02T03:04:05Z",
        "published": "2024-01-02T03:04:05Z",
        "details": f"A flaw was found in a component that allows attackers to do thing {i}.",
        "references": [{"type": "WEB", "url": f"https://example.invalid/{cve}"}],
        "severity": [{"type": "CVSS_V3", "score": CVSS.format("HLN"[i % 3])}],
    }
    if kind < 6:  # Debian tracker style
        name = rng.choice(names["debian"])
        fixed = f"{rng.randint(1, 9)}.{rng.randint(0, 20)}-{rng.randint(1, 5)}+deb12u{i % 4}"
        events: list[dict[str, str]] = [{"introduced": "0"}]
        if i % 3:
            events.append({"fixed": fixed})
        base.update(id=f"DEBIAN-{cve}", upstream=[cve], affected=[{
            "package": {"ecosystem": "Debian:12", "name": name},
            "ranges": [{"type": "ECOSYSTEM", "events": events}],
            "ecosystem_specific": {"urgency": rng.choice(["low", "medium", "unimportant",
                                                          "not yet assigned"])}}])
    elif kind < 9:  # PyPI
        name = rng.choice(names["pypi"])
        major = rng.randint(0, 5)
        versions = [f"{major}.{m}.{p}" for m in range(3) for p in range(4)]
        base.update(id=f"PYSEC-{2010 + i % 15}-{i}", aliases=[cve, f"GHSA-{i:04x}-aaaa-bbbb"],
                    summary=f"Issue {i} in {name}", affected=[{
                        "package": {"ecosystem": "PyPI", "name": name},
                        "ranges": [{"type": "ECOSYSTEM", "events": [
                            {"introduced": f"{major}.0.0"}, {"fixed": f"{major}.3.0"}]}],
                        "versions": versions}])
    else:  # npm
        name = rng.choice(names["npm"])
        base.update(id=f"GHSA-{i:04x}-cccc-dddd", aliases=[cve],
                    database_specific={"severity": "MODERATE"}, affected=[{
                        "package": {"ecosystem": "npm", "name": name},
                        "ranges": [{"type": "SEMVER", "events": [
                            {"introduced": "0"}, {"fixed": f"{rng.randint(1, 9)}.0.0"}]}]}])
    return base


def build_export(path: Path, count: int) -> dict[str, list[str]]:
    rng = random.Random(1)
    names = {"debian": _names(rng, max(count // 20, 10), "src"),
             "pypi": _names(rng, max(count // 60, 10), "py"),
             "npm": _names(rng, max(count // 60, 10), "js")}
    meta = path.with_suffix(".names.json")
    if path.is_file() and meta.is_file():
        cached = json.loads(meta.read_text())
        if cached.get("count") == count:
            return dict(cached["names"])
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for i in range(count):
            record = _record(i, rng, names)
            archive.writestr(f"{record['id']}.json", json.dumps(record))
    tmp.replace(path)
    meta.write_text(json.dumps({"count": count, "names": names}))
    print(f"generated {count} records in {time.monotonic() - started:.1f}s -> {path}")
    return names


def packages(names: dict[str, list[str]], count: int) -> list[Package]:
    rng = random.Random(2)
    out: list[Package] = []
    for i in range(count):
        kind = i % 3
        if kind == 0:
            src = rng.choice(names["debian"])
            version = f"{rng.randint(1, 9)}.{rng.randint(0, 20)}-{rng.randint(1, 5)}"
            out.append(Package(f"lib{src}", version + "+b1", "Debian:12",
                               f"pkg:deb/debian/lib{src}@{version}", "dpkg",
                               (Location("/var/lib/dpkg/status", None, "sha256:0"),),
                               source_name=src, source_version=version))
        elif kind == 1:
            name = rng.choice(names["pypi"])
            version = f"{rng.randint(0, 5)}.{rng.randint(0, 4)}.{rng.randint(0, 3)}"
            out.append(Package(name, version, "PyPI", f"pkg:pypi/{name}@{version}", "python"))
        else:
            name = rng.choice(names["npm"])
            version = f"{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}"
            out.append(Package(name, version, "npm", f"pkg:npm/{name}@{version}", "npm"))
    return out


def run_measured(cmd: list[str]) -> tuple[float, float, float, int]:
    """(wall s, CPU s, peak RSS MB, exit code) of one command.

    Measured by GNU time, a small process, because a child forked from this
    (large) Python process would count the fork's memory before exec as its own.
    """
    timer = shutil.which("time", path="/usr/bin:/bin")
    if timer is None:
        raise SystemExit("bench_vulndb: GNU time (/usr/bin/time, Debian package time) is needed")
    started = time.perf_counter()
    proc = subprocess.run([timer, "-f", "LASHING-BENCH %U %S %M", *cmd],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          check=False)
    wall = time.perf_counter() - started
    line = [x for x in proc.stderr.splitlines() if x.startswith("LASHING-BENCH ")][-1]
    _, user, system, rss_kib = line.split()
    return wall, float(user) + float(system), int(rss_kib) / 1024, proc.returncode


def scan_comparison(db: Path) -> None:
    """lashing's full scan with the large database against Trivy's listing."""
    image = Path(__file__).resolve().parent / ".work" / "image" / "debian-12.tar"
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        import bench_scan  # the tool installs and the image live there
    except ImportError:
        print("scan comparison skipped: bench_scan.py not importable")
        return
    tools = bench_scan.find_tools()
    lashing = shutil.which("lashing", path=str(Path(sys.executable).parent))
    if not image.exists() or tools is None or lashing is None:
        print("scan comparison skipped: run bench/bench_scan.py first (image and Trivy)")
        return
    trivy = str(tools["trivy"])
    print(f"trivy {bench_scan.version_of([trivy, '--version']).splitlines()[0]}")
    rows = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as cache:
            rows.append(("lashing scan --scanners vuln", run_measured(
                [lashing, "scan", f"docker-archive:{image}", "--scanners", "vuln", "--db", str(db),
                 "--format", "json", "-o", os.devnull, "--no-progress", "--cache-dir", cache])))
            rows.append(("trivy image --format cyclonedx", run_measured(
                [trivy, "image", "--input", str(image), "--format", "cyclonedx", "--cache-dir",
                 cache, "--offline-scan", "--skip-db-update", "--skip-java-db-update",
                 "--output", os.devnull, "--quiet"])))
    for name in dict.fromkeys(r[0] for r in rows):
        mine = sorted(r[1] for r in rows if r[0] == name)
        wall, cpu, rss, code = mine[len(mine) // 2]
        print(f"{name:<32} wall {wall:6.2f}s  cpu {cpu:6.2f}s  peak {rss:6.1f} MB  exit {code}")
    print("(lashing: read, catalog and match against the database above; Trivy: package "
          "listing only, since its vulnerability database cannot be downloaded here)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--packages", type=int, default=1_000)
    parser.add_argument("--no-scan", action="store_true",
                        help="skip the image scan comparison with Trivy")
    args = parser.parse_args()
    print(f"lashing {__version__}, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}, {platform.machine()}")
    export = WORK / f"osv-{args.records}.zip"
    names = build_export(export, args.records)
    db = WORK / "bench.db"
    db.unlink(missing_ok=True)
    cpu = time.process_time()
    result = import_paths([export], db)
    cpu = time.process_time() - cpu
    print(f"import: {result.records} records in {result.seconds:.2f}s wall "
          f"({result.records / result.seconds:,.0f} records/s), {cpu:.2f}s CPU "
          f"({result.records / cpu:,.0f} records/s of CPU); skipped {result.skipped}; "
          f"database {db.stat().st_size / 1e6:.0f} MB")
    pkgs = packages(names, args.packages)
    for label in ("cold", "warm"):
        started, cpu = time.perf_counter(), time.process_time()
        with open_database(db) as database:
            findings, issues = match(pkgs, database)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        affected = len({f.vulnerability.package for f in findings if f.vulnerability})
        print(f"match ({label}): {len(pkgs)} packages against {result.records} records in "
              f"{elapsed * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU; {len(findings)} findings "
              f"on {affected} packages, {len(issues)} issues")
    if not args.no_scan:
        scan_comparison(db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
