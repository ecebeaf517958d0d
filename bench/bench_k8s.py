#!/usr/bin/env python3
"""Benchmark `lashing scan --scanners misconfig` against Checkov on Kubernetes manifests.

Run with the project's virtualenv so that `lashing` is the working tree's:

    .venv/bin/python bench/bench_k8s.py [--runs 1] [--files 5000]

The data set is --files manifests (default 5,000) copied round-robin from the
real fixtures under ../shared/data (checkov-kubernetes, polaris, kube-score,
kubesec, kube-linter, k8s-examples: every *.yaml, *.yml and *.json holding
`apiVersion`) into numbered subdirectories of bench/.work/k8s-N/, built once
and reused while its recipe is unchanged.

Checkov is installed from PyPI into bench/.work/checkov-venv when missing.
Each timed run wraps the command in GNU `/usr/bin/time -f "%U %S %M"`: user
and system CPU seconds and the peak RSS (KiB) it reports; the wall time is
measured around it here. Ratios are checkov/lashing (above 1: lashing is
faster or smaller). The target is lashing at least 5x faster (wall time).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"
SHARED = ROOT.parent / "shared" / "data"
SOURCES = ("checkov-kubernetes", "polaris", "kube-score", "kubesec", "kube-linter", "k8s-examples")
SUFFIXES = (".yaml", ".yml", ".json")
PER_DIR = 100  # files per numbered subdirectory
CHECKOV_VENV = WORK / "checkov-venv"
GNU_TIME = Path("/usr/bin/time")
TARGET_SPEEDUP = 5.0
RUN_TIMEOUT = 3600  # seconds for one run of one tool


class BenchError(Exception):
    pass


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- data set


def source_files() -> dict[str, list[Path]]:
    if not SHARED.is_dir():
        raise BenchError(f"{SHARED} is absent: the Kubernetes fixtures live there "
                         "(checkov-kubernetes, polaris, kube-score, kubesec, kube-linter, "
                         "k8s-examples); this benchmark cannot build its data set without them")
    found: dict[str, list[Path]] = {}
    for name in SOURCES:
        base = SHARED / name
        if not base.is_dir():
            raise BenchError(f"{base} is absent")
        files = []
        for path in sorted(base.rglob("*")):
            if path.suffix.lower() not in SUFFIXES or not path.is_file():
                continue
            try:
                if b"apiVersion" in path.read_bytes():
                    files.append(path)
            except OSError:
                continue
        if not files:
            raise BenchError(f"{base} holds no manifest (*.yaml/*.yml/*.json with apiVersion)")
        found[name] = files
    return found


def build_dataset(count: int) -> tuple[Path, dict[str, int]]:
    """Copy fixtures round-robin until `count` files exist; reuse a matching cache."""
    sources = source_files()
    recipe = hashlib.sha256()
    recipe.update(f"{count} {PER_DIR}\n".encode())
    for name, files in sources.items():
        for path in files:
            recipe.update(f"{name} {path.relative_to(SHARED)} {path.stat().st_size}\n".encode())
    digest = recipe.hexdigest()
    dest = WORK / f"k8s-{count}"
    stamp = dest / ".recipe.json"
    per_source = {name: 0 for name in sources}
    if stamp.is_file():
        try:
            saved = json.loads(stamp.read_text())
        except ValueError:
            saved = {}
        if saved.get("digest") == digest:
            log(f"reusing {dest}")
            return dest, saved["per_source"]
    if dest.exists():
        shutil.rmtree(dest)
    log(f"building {dest}: {count} manifests")
    names = list(sources)
    cursor = {name: 0 for name in names}
    for index in range(count):
        name = names[index % len(names)]
        files = sources[name]
        src = files[cursor[name] % len(files)]
        cursor[name] += 1
        per_source[name] += 1
        sub = dest / f"{index // PER_DIR:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, sub / f"{index:05d}-{name}-{src.name}")
    stamp.write_text(json.dumps({"digest": digest, "per_source": per_source}))
    return dest, per_source


# --------------------------------------------------------------------------- tools


def ensure_checkov() -> Path:
    exe = CHECKOV_VENV / "bin" / "checkov"
    if not exe.exists():
        log(f"installing checkov into {CHECKOV_VENV} (PyPI)")
        try:
            subprocess.run(["python3", "-m", "venv", str(CHECKOV_VENV)], check=True)
            subprocess.run([str(CHECKOV_VENV / "bin" / "pip"), "install", "-q", "checkov"],
                           check=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise BenchError(f"could not install checkov into {CHECKOV_VENV}: {exc}") from exc
    if not exe.exists():
        raise BenchError(f"{exe} missing after installation")
    return exe


def find_lashing() -> Path:
    candidate = Path(sys.executable).parent / "lashing"
    if candidate.exists():
        return candidate
    local = ROOT / ".venv" / "bin" / "lashing"
    if local.exists():
        return local
    found = shutil.which("lashing")
    if not found:
        raise BenchError("lashing not found: run with the project's .venv/bin/python")
    return Path(found)


def version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BenchError(f"{' '.join(cmd)} failed: {exc}") from exc
    if out.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited {out.returncode}: {out.stderr.strip()[-500:]}")
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "?"


# --------------------------------------------------------------------------- runs


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_kib: int


@dataclass
class Tool:
    name: str
    cmd: list[str]
    ok_codes: tuple[int, ...]
    stdout_file: Path | None = None
    samples: list[Sample] = field(default_factory=list)


def measured_run(tool: Tool, cwd: Path) -> Sample:
    with tempfile.NamedTemporaryFile(prefix="time-", dir=WORK, delete=False) as tf:
        time_out = Path(tf.name)
    try:
        with (open(tool.stdout_file, "wb") if tool.stdout_file
              else contextlib.nullcontext(subprocess.DEVNULL)) as stdout:
            start = time.perf_counter()
            proc = subprocess.run([str(GNU_TIME), "-f", "%U %S %M", "-o", str(time_out),
                                   *tool.cmd],
                                  cwd=cwd, stdout=stdout, stderr=subprocess.PIPE,
                                  timeout=RUN_TIMEOUT)
            wall = time.perf_counter() - start
        if proc.returncode not in tool.ok_codes:
            err = proc.stderr.decode(errors="replace").strip()[-1500:]
            raise BenchError(f"{tool.name} exited {proc.returncode}: {err}")
        fields = time_out.read_text().strip().splitlines()[-1].split()
        user, system, rss = float(fields[0]), float(fields[1]), int(fields[2])
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{tool.name} ran longer than {RUN_TIMEOUT} s") from exc
    except (ValueError, IndexError) as exc:
        raise BenchError(f"could not read /usr/bin/time output for {tool.name}: {exc}") from exc
    finally:
        time_out.unlink(missing_ok=True)
    return Sample(wall, user + system, rss)


def lashing_findings(lashing: Path, dataset: Path) -> int:
    out = WORK / "k8s-lashing.json"
    proc = subprocess.run([str(lashing), "scan", ".", "--scanners", "misconfig", "--format",
                           "json", "-o", str(out), "--no-progress"],
                          cwd=dataset, capture_output=True, timeout=RUN_TIMEOUT)
    if proc.returncode != 0:
        raise BenchError(f"lashing exited {proc.returncode}: "
                         f"{proc.stderr.decode(errors='replace').strip()[-1500:]}")
    try:
        return len(json.loads(out.read_text())["findings"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BenchError(f"unreadable lashing JSON {out}: {exc}") from exc


def checkov_summary(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise BenchError(f"unreadable checkov JSON {path}: {exc}") from exc
    reports = data if isinstance(data, list) else [data]
    total = {"failed": 0, "passed": 0, "resource_count": 0, "parsing_errors": 0}
    for report in reports:
        summary = report.get("summary", report)  # an empty scan prints the summary alone
        for key in total:
            total[key] += int(summary.get(key, 0) or 0)
    return total


def fmt_ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b > 0 else "n/a"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time `lashing scan --scanners misconfig` and Checkov on a directory of "
                    "Kubernetes manifests (GNU /usr/bin/time: wall, CPU, peak RSS).")
    parser.add_argument("--runs", type=int, default=1,
                        help="timed runs per tool, interleaved; medians are printed (default 1)")
    parser.add_argument("--files", type=int, default=5000,
                        help="number of manifests in the data set (default 5000)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.files < 1:
        parser.error("--files must be at least 1")

    try:
        if not GNU_TIME.exists():
            raise BenchError(f"{GNU_TIME} (GNU time) is required")
        WORK.mkdir(parents=True, exist_ok=True)
        dataset, per_source = build_dataset(args.files)
        lashing = find_lashing()
        checkov = ensure_checkov()
        lashing_version = version([str(lashing), "--version"])
        checkov_version = version([str(checkov), "--version"])

        checkov_json = WORK / "k8s-checkov.json"
        tools = [
            Tool("lashing", [str(lashing), "scan", ".", "--scanners", "misconfig", "--format",
                             "json", "-o", "/dev/null", "--no-progress"], (0,)),
            # Checkov exits 1 when a check fails. It runs from inside the data set with
            # `-d .`: given a path with a hidden component (bench/.work/...) it scans nothing.
            Tool("checkov", [str(checkov), "-d", ".", "--framework", "kubernetes",
                             "--skip-download", "--quiet", "--compact", "-o", "json"], (0, 1),
                 stdout_file=checkov_json),
        ]

        print(f"lashing: {lashing_version}")
        print(f"checkov: {checkov_version}")
        print(f"data set: {dataset.relative_to(ROOT)}: {args.files} manifests "
              f"({', '.join(f'{k} {v}' for k, v in per_source.items())})")
        print(f"cpus: {os.cpu_count()}, load average before: "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"runs: {args.runs}", flush=True)

        log("warm-up / findings run of lashing")
        lashing_count = lashing_findings(lashing, dataset)
        for run in range(1, args.runs + 1):
            for tool in tools:
                log(f"run {run}/{args.runs}: {tool.name}")
                sample = measured_run(tool, dataset)
                tool.samples.append(sample)
                log(f"  {sample.wall:.2f} s wall, {sample.cpu:.2f} s CPU, "
                    f"{sample.rss_kib / 1024:.0f} MiB")
        checkov_counts = checkov_summary(checkov_json)
    except BenchError as exc:
        print(f"bench_k8s: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench_k8s: interrupted", file=sys.stderr)
        return 130

    med = {t.name: Sample(statistics.median(s.wall for s in t.samples),
                          statistics.median(s.cpu for s in t.samples),
                          int(statistics.median(s.rss_kib for s in t.samples))) for t in tools}
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    print(f"{'tool':<9} {'wall s':>9} {'CPU s':>9} {'peak RSS MiB':>13} {'files/s':>9}")
    for name, s in med.items():
        print(f"{name:<9} {s.wall:>9.2f} {s.cpu:>9.2f} {s.rss_kib / 1024:>13.0f} "
              f"{args.files / s.wall:>9.0f}")
    lash, chk = med["lashing"], med["checkov"]
    print(f"{'ratio':<9} {fmt_ratio(chk.wall, lash.wall):>9} {fmt_ratio(chk.cpu, lash.cpu):>9} "
          f"{fmt_ratio(chk.rss_kib, lash.rss_kib):>13}   (checkov/lashing)")
    print()
    speedup = chk.wall / lash.wall if lash.wall > 0 else float("inf")
    verdict = "met" if speedup >= TARGET_SPEEDUP else "NOT met"
    print(f"target: lashing at least {TARGET_SPEEDUP:.0f}x faster than checkov (wall): "
          f"{speedup:.1f}x, {verdict}")
    print()
    print("findings:")
    print(f"  lashing: {lashing_count} findings (len(findings) in its JSON)")
    print(f"  checkov: {checkov_counts['failed']} failed checks "
          f"({checkov_counts['passed']} passed, {checkov_counts['resource_count']} resources, "
          f"{checkov_counts['parsing_errors']} parsing errors)")
    print("  The counts are not comparable one to one: the two tools run different rule sets")
    print("  and count differently (checkov: one failed check per resource and check;")
    print("  lashing: one finding per problem, per container where it applies).")
    print("  Rule-level agreement is measured by the tests in tests/rules/kubernetes/.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
