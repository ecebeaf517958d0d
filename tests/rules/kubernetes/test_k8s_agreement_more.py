"""Agreement with kube-score, kubesec and kube-linter fixtures (../shared/data).

kube-score names checks by display name and kubesec by bats test title; the
tables below map the ones lashing covers to lashing rules. kube-linter cases
compare the number of reports. Each source fails below 95%."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lashing.manifests.scan import scan_manifest_file

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
THRESHOLD = 0.95

# kube-score display name -> lashing rule (an alias of it)
KUBE_SCORE = {
    "Container Image Pull Policy": "LSH-K8S-032",
    "Container Image Tag": "LSH-K8S-030",
}
# kubesec test title (regex) -> lashing rule; the verdict is the score's sign
KUBESEC = (
    (r"CAP_SYS_ADMIN", "LSH-K8S-003"),
    (r"securityContext\.privileged", "LSH-K8S-001"),
    (r"docker\.sock", "LSH-K8S-015"),
    (r"apparmor", "LSH-K8S-018"),
    (r"seccomp", "LSH-K8S-017"),
    (r"hostNetwork", "LSH-K8S-012"),
    (r"hostPid", "LSH-K8S-010"),
    (r"allowPrivilegeEscalation", "LSH-K8S-002"),
    (r"automountServiceAccountToken set to false", "LSH-K8S-046"),
)
KUBE_LINTER = {
    "privileged-container": "LSH-K8S-001", "host-ipc": "LSH-K8S-011",
    "host-network": "LSH-K8S-012", "host-pid": "LSH-K8S-010", "latest-tag": "LSH-K8S-030",
    "sensitive-host-mounts": "LSH-K8S-015", "docker-sock": "LSH-K8S-015",
    "unsafe-sysctls": "LSH-K8S-021", "no-read-only-root-fs": "LSH-K8S-009",
    "env-var-secret": "LSH-K8S-048",
}


def _findings(path: Path, rule_id: str) -> int:
    findings, _, _ = scan_manifest_file(str(path), path.read_bytes())
    return len([f for f in findings if f.rule_id == rule_id])


def _report(tool: str, agreed: int, total: int, disagreements: list[str]) -> None:
    print(f"\n{tool} agreement: {agreed}/{total} = {agreed / max(total, 1):.1%}")
    for d in disagreements:
        print("  " + d)
    assert total > 0
    assert agreed / total >= THRESHOLD, "\n".join(disagreements)


def _rows(name: str) -> list[list[str]]:
    return [line.split("\t") for line in
            (DATA / name / "EXPECTED.tsv").read_text(encoding="utf-8").splitlines()[1:]]


def test_kube_score(capsys: pytest.CaptureFixture[str]) -> None:
    if not (DATA / "kube-score").is_dir():
        pytest.skip("../shared/data/kube-score is absent")
    agreed = total = 0
    disagreements = []
    for file, check, grade, *_ in _rows("kube-score"):
        rule_id = KUBE_SCORE.get(check)
        path = DATA / "kube-score" / "score" / "testdata" / file
        if rule_id is None or not path.is_file():
            continue
        fails = grade in ("GradeCritical", "GradeWarning")
        ok = (_findings(path, rule_id) > 0) is fails
        total += 1
        agreed += ok
        if not ok:
            disagreements.append(f"{rule_id} vs {file} ({check}: {grade})")
    with capsys.disabled():
        _report("kube-score", agreed, total, disagreements)


def test_kubesec(capsys: pytest.CaptureFixture[str]) -> None:
    if not (DATA / "kubesec").is_dir():
        pytest.skip("../shared/data/kubesec is absent")
    agreed = total = 0
    disagreements = []
    for file, title, assertion, *_ in _rows("kubesec"):
        path = DATA / "kubesec" / "test" / "asset" / file
        # a negative score is a kubesec critical finding, a positive one a pass; zero
        # points only means no hardening was credited, which no lashing rule mirrors
        verdict = {"assert_lt_zero_points": "fails",
                   "assert_gt_zero_points": "passes"}.get(assertion)
        if verdict is None or not path.is_file():
            continue
        for pattern, rule_id in KUBESEC:
            if re.search(pattern, title, re.IGNORECASE):
                ok = (_findings(path, rule_id) > 0) is (verdict == "fails")
                total += 1
                agreed += ok
                if not ok:
                    disagreements.append(f"{rule_id} vs {file} ({title})")
                break
    with capsys.disabled():
        _report("kubesec", agreed, total, disagreements)


def test_kube_linter(capsys: pytest.CaptureFixture[str]) -> None:
    where = DATA / "kube-linter"
    if not where.is_dir():
        pytest.skip("../shared/data/kube-linter is absent")
    expected = json.loads((where / "EXPECTED.json").read_text(encoding="utf-8"))
    agreed = total = 0
    disagreements = []
    for file, tests in sorted(expected.items()):
        path = where / "tests" / "checks" / file
        for t in tests:
            checks = t["include_checks"]
            if len(checks) != 1 or checks[0] not in KUBE_LINTER or t["config"]:
                continue
            if not path.is_file():
                continue
            rule_id = KUBE_LINTER[checks[0]]
            got = _findings(path, rule_id)
            ok = got == t["expected_report_count"]
            total += 1
            agreed += ok
            if not ok:
                disagreements.append(f"{rule_id} vs {file}: {got} findings, kube-linter "
                                     f"{t['expected_report_count']}")
    with capsys.disabled():
        _report("kube-linter", agreed, total, disagreements)
