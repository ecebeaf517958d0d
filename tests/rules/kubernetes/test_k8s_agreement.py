"""Agreement with Checkov's and Polaris's own Kubernetes fixtures (../shared/data).

For every fixture whose upstream check is an alias of a lashing rule, the rule
must fire on failure cases and stay silent on passing ones. Fails below 95%."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from lashing.manifests.scan import scan_manifest_file
from lashing.rules import ALL_RULES

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
CHECKOV = DATA / "checkov-kubernetes"
POLARIS = DATA / "polaris" / "test" / "checks"
THRESHOLD = 0.95
# fixture folders CHECK_IDS.tsv does not list (named after a single check upstream)
EXTRA_IDS = {"ImagePullPolicy": "CKV_K8S_15"}
# folders whose fixtures exercise several checks: a FAILED file fails at least one of
# them, a PASSED file none (compared with "any of the aliased rules fires")
GROUPS = {"ShareHost": "CKV_K8S_17+CKV_K8S_18+CKV_K8S_19"}


def _rules_for(alias: str) -> list[str]:
    """Rules aliasing `tool:check`; for a group `tool:A+B+C` one entry "R1+R2+R3" naming
    the rules aliasing any of them."""
    tool, _, checks = alias.partition(":")
    if "+" not in checks:
        return [r.id for r in ALL_RULES if alias in r.aliases]
    rules = [r.id for c in checks.split("+") for r in ALL_RULES if f"{tool}:{c}" in r.aliases]
    return ["+".join(rules)] if rules else []


def _fired(path: Path, rule_ids: str) -> bool:
    findings, _, _ = scan_manifest_file(str(path), path.read_bytes())
    return any(f.rule_id in rule_ids.split("+") for f in findings)


def checkov_cases() -> Iterator[tuple[Path, str, bool]]:
    ids = dict(line.split("\t")[:2] for line in
               (CHECKOV / "CHECK_IDS.tsv").read_text().splitlines()[1:] if "\t" in line)
    ids.update(EXTRA_IDS)
    ids.update(GROUPS)
    for folder in sorted((CHECKOV / "kubernetes" / "checks").glob("example_*")):
        cid = ids.get(folder.name.removeprefix("example_"))
        if cid is None:
            continue
        for f in sorted(folder.rglob("*")):
            if f.suffix not in (".yaml", ".yml", ".json") or not f.is_file():
                continue
            low = f.name.lower()
            if "unkown" in low or "unknown" in low:
                continue
            if re.search(r"fail", low):
                yield f, cid, True
            elif re.search(r"pass|success", low):
                yield f, cid, False


def polaris_cases() -> Iterator[tuple[Path, str, bool]]:
    for folder in sorted(POLARIS.iterdir()):
        for f in sorted(folder.glob("*.y*ml")):
            if f.name.startswith("failure"):
                yield f, folder.name, True
            elif f.name.startswith("success"):
                yield f, folder.name, False


def _agreement(tool: str, cases: Iterator[tuple[Path, str, bool]]) -> tuple[int, int, list[str]]:
    agreed = total = 0
    disagreements = []
    for path, check, fails in cases:
        for rule_id in _rules_for(f"{tool}:{check}"):
            ok = _fired(path, rule_id) is fails
            total += 1
            agreed += ok
            if not ok:
                disagreements.append(f"{rule_id} {'missed' if fails else 'fired on'} "
                                     f"{path.relative_to(DATA)} ({check})")
    return agreed, total, disagreements


@pytest.mark.parametrize(("tool", "where", "cases"), [
    ("checkov", CHECKOV, checkov_cases), ("polaris", POLARIS, polaris_cases)])
def test_agreement(tool: str, where: Path, cases: object,
                   capsys: pytest.CaptureFixture[str]) -> None:
    if not where.is_dir():
        pytest.skip(f"{where} is absent (../shared/data)")
    assert callable(cases)
    agreed, total, disagreements = _agreement(tool, cases())
    with capsys.disabled():
        print(f"\n{tool} agreement: {agreed}/{total} = {agreed / max(total, 1):.1%}")
        for d in disagreements:
            print("  " + d)
    assert total > 0
    assert agreed / total >= THRESHOLD, "\n".join(disagreements)
