"""Agreement with Checkov's own Dockerfile fixtures (../shared/data/checkov-dockerfile).

For every case whose Checkov id is an alias of some lashing rule, that rule
must fire on failure cases and stay silent on success cases (per file for
`example_*` fixtures, per instruction for graph checks). Fails below 95%.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from checkov_cases import DATA, Case, cases

from lashing.model import Finding
from lashing.rules import ALL_RULES
from lashing.rules.dockerfile import scan_dockerfile

THRESHOLD = 0.95


def _fired(rule_id: str, case: Case, findings: list[Finding]) -> bool:
    return any(f.rule_id == rule_id and (case.line is None or f.location.line == case.line)
               for f in findings)


def agreement() -> tuple[int, int, list[str], dict[str, Any]]:
    by_file: dict[Path, list[Finding]] = {}
    agreed = total = 0
    disagreements: list[str] = []
    per_check: dict[str, list[int]] = {}
    for case in cases():
        rules = [r for r in ALL_RULES if f"checkov:{case.checkov_id}" in r.aliases]
        if not rules:
            continue
        if case.path not in by_file:
            by_file[case.path] = scan_dockerfile(str(case.path),
                                                 case.path.read_text(encoding="utf-8"))[0]
        for r in rules:
            ok = _fired(r.id, case, by_file[case.path]) is case.fails
            total += 1
            agreed += ok
            counts = per_check.setdefault(case.checkov_id, [0, 0])
            counts[0] += ok
            counts[1] += 1
            if not ok:
                disagreements.append(f"{r.id} vs {case}")
    return agreed, total, disagreements, per_check


def test_checkov_agreement(capsys: pytest.CaptureFixture[str]) -> None:
    if not DATA.is_dir():
        pytest.skip(f"{DATA} is absent (../shared/data)")
    agreed, total, disagreements, per_check = agreement()
    with capsys.disabled():
        print(f"\ncheckov agreement: {agreed}/{total} = {agreed / total:.1%}")
        for cid, (ok, n) in sorted(per_check.items()):
            print(f"  {cid:16} {ok}/{n}")
        for d in disagreements:
            print(f"  DISAGREE {d}")
    assert total >= 100, "too few cases: is the data complete?"
    assert agreed / total >= THRESHOLD, "\n".join(disagreements)
