"""`lashing watch` against a real engine: containers with and without bad
settings, execs through the podman CLI on the same storage, a provenance
policy and a `[watch]` exception; and `--once` snapshots."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

import lashing
from watch.watchengine import IMAGE, LATEST, Engine, WatchProcess

from cli_helpers import run

SCHEMA = json.loads((Path(lashing.__file__).parent / "report" / "report.schema.json").read_text())
HARDENED = ("--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--memory", "64m",
            "--pids-limit", "100", "--user", "1000", "--network", "none")
BAD = ("--cap-add", "SYS_ADMIN", "-v", "/etc:/hostetc:ro",
       "--security-opt", "seccomp=unconfined", "--network", "none")

CONFIG = """\
[policy]
allowed_registries = ["registry.example.com"]

[[watch.exceptions]]
container = "runner-*"
rule = "cis-docker-1.6:5.5"
reason = "the build runner is Docker-in-Docker"
"""


def on(name: str, rule_id: str) -> Callable[[dict[str, Any]], bool]:
    def pred(f: dict[str, Any]) -> bool:
        return bool(f["rule_id"] == rule_id
                    and f["location"]["resource"].startswith(f"container/{name}/"))
    return pred


def test_findings_arrive_as_containers_start_and_execs_run(
        engine: Engine, watch_factory: Callable[..., WatchProcess], tmp_path: Path) -> None:
    config = tmp_path / "lashing.toml"
    config.write_text(CONFIG)
    w = watch_factory("--docker-host", engine.url, "--config", str(config))
    bad_id = engine.run("bad", *BAD)
    priv_id = engine.run("priv", "--privileged", "--network", "none")
    engine.run("good", *HARDENED)
    engine.run("runner-1", "--privileged", *HARDENED)

    f = w.wait_finding(on("priv", "LSH-RUN-001"))
    assert f["kind"] == "misconfiguration" and f["surface"] == "image"
    assert f["severity"] == "CRITICAL" and f["target"] == engine.url
    assert f["location"]["resource"] == f"container/priv/{priv_id[:12]}"
    assert f["message"].startswith(f"container priv ({priv_id[:12]}, image {IMAGE}, create at ")
    assert f["message"].endswith(": runs privileged")
    assert "cis-docker-1.6:5.5" in f["aliases"] and "lashing:LSH-K8S-001" in f["aliases"]
    assert all(n.startswith("4.4.") or n.startswith("4.5.") for n in f["nist"])
    assert "suppressed" not in f
    for rule_id in ("LSH-RUN-002", "LSH-RUN-007", "LSH-RUN-009", "LSH-RUN-011"):
        w.wait_finding(on("bad", rule_id))
    mount = w.wait_finding(on("bad", "LSH-RUN-007"))
    assert mount["message"].startswith(f"container bad ({bad_id[:12]}, image {IMAGE}, ")
    assert "mounts /etc (read-only)" in mount["message"]
    caps = w.wait_finding(on("bad", "LSH-RUN-002"))
    assert caps["message"].endswith("adds capabilities SYS_ADMIN (dangerous: SYS_ADMIN)")

    # the provenance policy: the pull event, and the container's image
    pulled = w.wait_finding(lambda f: f["rule_id"] == "LSH-RUN-030"
                            and f["location"]["resource"] == f"image/{IMAGE}")
    assert pulled["kind"] == "provenance" and "pull at" in pulled["message"]
    w.wait_finding(on("good", "LSH-RUN-030"))

    # the [watch] exception: reported, marked suppressed, with its reason
    runner = w.wait_finding(on("runner-1", "LSH-RUN-001"))
    assert runner["suppressed"] == {"kind": "ignore-file",
                                    "reason": "the build runner is Docker-in-Docker"}

    # a shell with a terminal, and a privileged exec that is not a shell
    engine.podman("exec", "-t", "bad", "/bin/sh", "-c", "sleep 3")
    engine.podman("exec", "--privileged", "good", "/bin/sleep", "3")
    shell = w.wait_finding(on("bad", "LSH-RUN-020"))
    assert "exec '/bin/sh -c sleep 3' as user root, TTY asked" in shell["message"]
    assert "(a shell, interactive)" in shell["message"]
    priv = w.wait_finding(on("good", "LSH-RUN-021"))
    assert "exec '/bin/sleep 3' as user 1000" in priv["message"]

    assert w.stop() == 0  # SIGTERM: a clean stop
    assert any(line.startswith("note: stopped:") for line in w.err_lines)
    good = {f["rule_id"] for f in w.findings() if on("good", f["rule_id"])(f)}
    assert good == {"LSH-RUN-030", "LSH-RUN-021"}, good
    fingerprints = [f["fingerprint"] for f in w.findings()]
    assert len(fingerprints) == len(set(fingerprints))  # create and start: reported once


def test_sigint_stops_cleanly(engine: Engine,
                              watch_factory: Callable[..., WatchProcess]) -> None:
    w = watch_factory("--docker-host", engine.url, "--format", "table")
    tabled = engine.run("tabled", "--privileged", *HARDENED)
    line = w.wait_out(lambda line: "LSH-RUN-001" in line)
    assert line.startswith(f"CRITICAL LSH-RUN-001  container tabled ({tabled[:12]}, image ")
    assert line.endswith(": runs privileged")
    w.proc.send_signal(signal.SIGINT)
    assert w.proc.wait(30) == 0
    w.stop()
    assert all(not line.startswith("{") for line in w.out_lines)


def test_once_audits_running_containers(engine: Engine, tmp_path: Path) -> None:
    engine.run("once-bad", "--privileged", "--network", "none")
    engine.run("once-good", *HARDENED)
    engine.create("once-created", "--privileged", "--network", "none")  # not running
    result = run("watch", "--once", "--docker-host", engine.url, "--fail-on", "CRITICAL")
    assert result.code == 1, result.err
    findings = [json.loads(line) for line in result.out.splitlines()]
    # each line is a finding of the published JSON report schema
    jsonschema.validate({"schema_version": 1, "tool": {"name": "lashing", "version": "0"},
                         "targets": [], "findings": findings, "checks": [], "issues": [],
                         "connections": []}, SCHEMA)
    names = {f["location"]["resource"].split("/")[1] for f in findings}
    assert "once-bad" in names and "once-created" not in names
    assert not [f for f in findings if f["location"]["resource"].startswith("container/once-good/")]
    assert all(", running at " in f["message"] for f in findings)
    assert "running container(s)" in result.err

    ok = run("watch", "--once", "--docker-host", engine.url, "--skip-rules",
             "LSH-RUN-001,LSH-RUN-009,cis-docker-1.6:5.6", "--fail-on", "CRITICAL")
    assert ok.code == 0, ok.out

    out = tmp_path / "findings.txt"
    for _ in range(2):
        assert run("watch", "--once", "--docker-host", engine.url, "--format", "table",
                   "--severity", "CRITICAL", "--output", str(out)).code == 0
    lines = out.read_text().splitlines()
    assert lines and all(line.startswith("CRITICAL LSH-RUN-") for line in lines)
    half = len(lines) // 2  # appended: the same findings twice, with their snapshot times
    assert len(lines) == 2 * half
    assert [line.split(", running at ")[0] for line in lines[:half]] == \
        [line.split(", running at ")[0] for line in lines[half:]]


def test_once_latest_and_age_policy(engine: Engine, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[policy]\nallow_latest = false\nmax_age_days = 30\n'
                      'allowed_repositories = ["localhost/approved/**"]\n')
    engine.run("latest-1", "--network", "none", *HARDENED[:-2], image=LATEST)
    result = run("watch", "--once", "--docker-host", engine.url, "--policy", str(policy))
    assert result.code == 0, result.err
    got = {(f["rule_id"], f["location"]["resource"].split("/")[1])
           for f in map(json.loads, result.out.splitlines())}
    assert ("LSH-RUN-033", "latest-1") in got  # :latest
    assert ("LSH-RUN-034", "latest-1") in got  # created 2024-01-01
    assert ("LSH-RUN-031", "latest-1") in got  # repository not approved
    assert not any(r == "LSH-RUN-033" and n != "latest-1" for r, n in got)
