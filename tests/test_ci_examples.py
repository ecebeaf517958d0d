"""The CI/CD examples in examples/ci: the workflow files parse, every lashing
command line in them is valid for this lashing, and the pre-push hook refuses
and allows real pushes to a bare repository."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lashing.cli import COMMANDS, build_parser
from lashing.manifests.yaml import load_all
from lashing.model import Severity

CI = Path(__file__).resolve().parent.parent / "examples" / "ci"
GITHUB = CI / "github-actions.yml"
GITLAB = CI / "gitlab-ci.yml"
HOOK = CI / "pre-push"


def _load(path: Path) -> dict[str, Any]:
    docs, problems, error = load_all(path.read_text(), str(path))
    assert error is None and not problems, (error, problems)
    assert len(docs) == 1 and isinstance(docs[0], dict)
    return docs[0]


def _github_scripts() -> list[str]:
    jobs = _load(GITHUB)["jobs"]
    return [step["run"] for job in jobs.values() for step in job["steps"] if "run" in step]


def _gitlab_scripts() -> list[str]:
    scripts = []
    for job in _load(GITLAB).values():
        if isinstance(job, dict):
            for key in ("before_script", "script"):
                scripts += job.get(key, [])
    return scripts


def _lashing_commands(scripts: list[str]) -> list[list[str]]:
    commands = []
    for script in scripts:
        for line in script.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "lashing":
                commands.append(words[1:])
    return commands


def _check_command(argv: list[str]) -> None:
    names = {c.name for c in COMMANDS}
    if argv[0] not in names:
        pytest.skip(f"'lashing {argv[0]}' is not in this build yet")
    args = build_parser().parse_args(argv)
    if getattr(args, "format", None):
        assert args.format in args.format_choices, (argv, args.format_choices)
    if getattr(args, "fail_on", None):
        Severity.parse(args.fail_on)


def test_github_workflow_scans_after_build_uploads_sarif_and_rescans() -> None:
    doc = _load(GITHUB)
    triggers = doc["on"]
    assert "schedule" in triggers and "pull_request" in triggers
    jobs = doc["jobs"]
    steps = jobs["build-and-scan"]["steps"]
    names = [s.get("name", s.get("uses", "")) for s in steps]
    build = names.index("Build the image")
    scan = next(i for i, s in enumerate(steps) if "lashing scan" in s.get("run", ""))
    upload = next(i for i, s in enumerate(steps)
                  if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert build < scan < upload
    assert "--format sarif" in steps[scan]["run"]
    assert steps[upload]["with"]["sarif_file"] in steps[scan]["run"]
    assert jobs["build-and-scan"]["permissions"]["security-events"] == "write"
    rescan = " ".join(s.get("run", "") for s in jobs["rescan"]["steps"])
    assert "lashing rescan" in rescan and "schedule" in jobs["rescan"]["if"]


def test_gitlab_ci_writes_a_container_scanning_report_and_rescans() -> None:
    doc = _load(GITLAB)
    job = doc["container_scanning"]
    report = job["artifacts"]["reports"]["container_scanning"]
    assert job["artifacts"]["when"] == "always"
    command = " ".join(job["script"])
    assert "--format gitlab" in command and report in command
    assert job["needs"] == ["build"]
    rescan = doc["lashing_rescan"]
    assert rescan["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert any("lashing rescan" in line for line in rescan["script"])


@pytest.mark.parametrize("argv", _lashing_commands(_github_scripts() + _gitlab_scripts()),
                         ids=lambda argv: " ".join(argv[:2]))
def test_every_lashing_command_line_is_valid(argv: list[str]) -> None:
    _check_command(argv)


def test_the_command_check_catches_mistakes() -> None:
    from lashing.errors import LashingError

    with pytest.raises(LashingError):
        _check_command(["scan", "x", "--no-such-option"])
    with pytest.raises(AssertionError):
        _check_command(["scan", "x", "--format", "pdf"])


def test_hook_command_line_is_valid() -> None:
    text = HOOK.read_text()
    line = next(ln for ln in text.replace("\\\n", " ").splitlines() if '"$lashing" scan' in ln)
    words = shlex.split(line.split('"$lashing"', 1)[1].split(">&2")[0].replace(
        '"$fail_on"', "HIGH"))
    _check_command(words)
    assert os.access(HOOK, os.X_OK)


# --- the pre-push hook, for real ------------------------------------------------------------

BAD = "FROM python:3.12-slim\nRUN useradd app\nUSER root\nCMD [\"python\", \"-m\", \"app\"]\n"
GOOD = BAD.replace("USER root", "USER app")


def _git(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "lashing"  # the lashing under test, as the hook finds it on PATH
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m lashing "$@"\n')
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LASHING_", "GIT_"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", HOME=str(tmp_path),
               GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="Dev", GIT_AUTHOR_EMAIL="dev@example.com",
               GIT_COMMITTER_NAME="Dev", GIT_COMMITTER_EMAIL="dev@example.com",
               LASHING_CACHE_DIR=str(tmp_path / "cache"))
    remote, work = tmp_path / "remote.git", tmp_path / "work"
    assert _git(tmp_path, env, "init", "-q", "--bare", str(remote)).returncode == 0
    assert _git(tmp_path, env, "init", "-q", "-b", "main", str(work)).returncode == 0
    assert _git(work, env, "remote", "add", "origin", str(remote)).returncode == 0
    shutil.copy(HOOK, work / ".git" / "hooks" / "pre-push")
    return work, remote, env


def _commit(work: Path, env: dict[str, str], dockerfile: str, message: str) -> None:
    (work / "Dockerfile").write_text(dockerfile)
    assert _git(work, env, "add", "Dockerfile").returncode == 0
    assert _git(work, env, "commit", "-q", "-m", message).returncode == 0


def test_hook_refuses_a_push_over_the_gate_and_allows_the_fix(
        repo: tuple[Path, Path, dict[str, str]]) -> None:
    work, remote, env = repo
    _commit(work, env, BAD, "image runs as root")
    refused = _git(work, env, "push", "origin", "main")
    assert refused.returncode != 0
    assert "LSH-DF-020" in refused.stderr and "push refused" in refused.stderr
    assert _git(remote, env, "rev-parse", "--verify", "-q", "refs/heads/main").returncode != 0

    _commit(work, env, GOOD, "run as app")
    allowed = _git(work, env, "push", "origin", "main")
    assert allowed.returncode == 0, allowed.stderr
    head = _git(work, env, "rev-parse", "HEAD").stdout.strip()
    assert _git(remote, env, "rev-parse", "refs/heads/main").stdout.strip() == head


def test_hook_gate_is_configurable_and_deleting_a_branch_is_not_scanned(
        repo: tuple[Path, Path, dict[str, str]]) -> None:
    work, remote, env = repo
    _commit(work, env, BAD, "image runs as root")
    relaxed = _git(work, env | {"LASHING_FAIL_ON": "CRITICAL"}, "push", "origin", "main")
    assert relaxed.returncode == 0, relaxed.stderr
    deleted = _git(work, env, "push", "origin", ":main")
    assert deleted.returncode == 0, deleted.stderr
    assert "scanning" not in deleted.stderr
    assert _git(remote, env, "rev-parse", "--verify", "-q", "refs/heads/main").returncode != 0
