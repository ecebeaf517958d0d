"""Checkov's Dockerfile fixtures (../shared/data/checkov-dockerfile) as cases.

A case is one Dockerfile (example_<Check>/success|failure/...) or, for graph
checks, one instruction listed in expected.yaml under pass: or fail:.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "checkov-dockerfile"


@dataclass(frozen=True)
class Case:
    checkov_id: str
    path: Path
    line: int | None  # None: the verdict is for the whole file
    fails: bool

    def __str__(self) -> str:
        where = f"{self.path.relative_to(DATA)}" + (f":{self.line}" if self.line else "")
        return f"{self.checkov_id} {'fail' if self.fails else 'pass'} {where}"


def check_ids() -> dict[str, str]:
    with (DATA / "CHECK_IDS.tsv").open(encoding="utf-8") as f:
        return {row["check_name"]: row["checkov_id"] for row in csv.DictReader(f, delimiter="\t")}


def _verdict(name: str) -> bool | None:
    low = name.lower()
    if low.startswith(("failure", "fail")) or "failed" in low:
        return True
    if low.startswith(("success", "pass")) or "passed" in low:
        return False
    return None


def _instruction_lines(path: Path, keyword: str) -> list[int]:
    from lashing.rules.dockerfile import parse

    df = parse(str(path), path.read_text(encoding="utf-8"))
    return [i.line for i in df.instructions if i.keyword == keyword]


def cases() -> list[Case]:
    ids = check_ids()
    out: list[Case] = []
    for example in sorted((DATA / "dockerfile" / "checks").glob("example_*")):
        cid = ids.get(example.name.removeprefix("example_"))
        if cid is None:
            continue
        for sub in sorted(p for p in example.iterdir() if p.is_dir()):
            fails = _verdict(sub.name)
            if fails is None:
                continue
            for f in sorted(sub.iterdir()):
                if f.is_file():
                    out.append(Case(cid, f, None, fails))
    yaml = YAML(typ="safe")
    for expected in sorted((DATA / "dockerfile").glob("graph*/**/expected.yaml")):
        cid = ids.get(expected.parent.name)
        if cid is None:
            continue
        doc = yaml.load(expected.read_text(encoding="utf-8")) or {}
        for verdict, fails in (("pass", False), ("fail", True)):
            for entry, count in Counter(doc.get(verdict) or []).items():
                rel, _, keyword = str(entry).rpartition(".")
                path = expected.parent / rel
                lines = _instruction_lines(path, keyword)
                assert len(lines) == count, f"{entry}: {count} listed, {len(lines)} found"
                out += [Case(cid, path, line, fails) for line in lines]
    return out
