"""`lashing host --docker-host`: the running-container rules against a real engine
API, `podman system service` on a private storage root, with containers
created (not started) from an image built in code."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from lashing.commands.host import audit
from lashing.host.engine import read_engine, socket_path
from lashing.model import CheckStatus, Report
from lashing.rules.host import running

from cli_helpers import run
from imagebuilder import build, write_docker_archive

PODMAN = shutil.which("podman")
IMAGE = "localhost/lashing-engine-test:1"
RUNNING_IDS = {r.id for r in running.RULES}

BAD = ("--privileged", "--pid", "host", "--cap-add", "SYS_ADMIN",
       "-v", "/var/run:/var/run:ro", "--network", "none")
HARDENED = ("--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--memory", "64m", "--pids-limit", "100", "--user", "1000", "--network", "none",
            "--cpu-shares", "512", "--health-cmd", "/bin/true", "--restart", "on-failure:3")
# Capabilities added without --privileged, a port on every interface, restart always.
EXPOSED = ("--cap-add", "NET_ADMIN", "-p", "8080:80", "--restart", "always",
           "--user", "1000")


@dataclass(frozen=True)
class Engine:
    url: str
    ids: dict[str, str]  # container name -> id


def _podman(base: list[str], *args: str) -> str:
    done = subprocess.run([*base, *args], capture_output=True, text=True, timeout=60,
                          check=False)
    if done.returncode != 0:
        pytest.skip(f"podman {' '.join(args[:2])} failed here: {done.stderr.strip()[-300:]}")
    return done.stdout.strip()


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    if PODMAN is None:
        pytest.skip("needs podman (scripts/system-deps.sh --test)")
    if os.geteuid() != 0:
        pytest.skip("a rootful podman with a private --root needs uid 0 (rootless podman "
                    "needs /etc/subuid ranges for the test user)")
    # podman refuses a --runroot longer than 50 characters: pytest's tmp paths are too long
    d = Path(tempfile.mkdtemp(prefix="lsh-pm-", dir="/tmp" if Path("/tmp").is_dir() else None))
    try:
        yield from _engine(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _engine(d: Path) -> Iterator[Engine]:
    assert PODMAN is not None
    base = [PODMAN, "--root", str(d / "root"), "--runroot", str(d / "run"),
            "--tmpdir", str(d / "tmp"), "--storage-driver", "vfs",
            "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
    img = build([{"bin/true": b"#!/bin/true\n"}], config={"Cmd": ["/bin/true"]})
    archive = write_docker_archive(d / "image.tar", [(img, [IMAGE])])
    _podman(base, "load", "-i", str(archive))
    ids = {name: _podman(base, "create", "--name", name, *flags, IMAGE)
           for name, flags in (("bad", BAD), ("hardened", HARDENED), ("exposed", EXPOSED))}
    sock = d / "podman.sock"
    log = (d / "service.log").open("wb")
    proc = subprocess.Popen([*base, "system", "service", "--time=0", f"unix://{sock}"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while not sock.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.skip("podman system service did not start: "
                            + (d / "service.log").read_text()[-300:])
            time.sleep(0.05)
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)),
                          base_url="http://engine", timeout=5) as client:
            while True:  # the socket file appears just before the API serves
                try:
                    client.get("/version")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        yield Engine(f"unix://{sock}", ids)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def by_container(report: Report) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in report.findings:
        if f.rule_id in RUNNING_IDS:
            assert f.location.resource is not None
            out.setdefault(f.location.resource.removeprefix("container/"), set()).add(
                f.rule_id)
    return out


def test_engine_lists_and_inspects_containers(engine: Engine) -> None:
    state = read_engine(engine.url)
    assert state.engine.startswith("Podman Engine")
    assert state.api_version
    assert {c.name: c.id for c in state.containers} == engine.ids
    bad = next(c for c in state.containers if c.name == "bad")
    assert bad.host_config["Privileged"] is True


def test_live_checks_fire_on_bad_not_on_hardened(engine: Engine, tmp_path: Path) -> None:
    report, sources = audit(tmp_path, packages=False, docker_host=engine.url)
    got = by_container(report)
    assert {"LSH-HOST-100", "LSH-HOST-102", "LSH-HOST-105", "LSH-HOST-106", "LSH-HOST-107",
            "LSH-HOST-109", "LSH-HOST-110", "LSH-HOST-112", "LSH-HOST-113"} <= got["bad"]
    assert {"LSH-HOST-104", "LSH-HOST-111", "LSH-HOST-114"} <= got["exposed"]
    assert "hardened" not in got, got.get("hardened")
    assert "LSH-HOST-113" not in got["exposed"]  # --user 1000
    mount = next(f for f in report.findings if f.rule_id == "LSH-HOST-105")
    assert mount.message.startswith(f"container bad ({engine.ids['bad'][:12]}): mounts "
                                    "/var/run (read-only)")
    caps = next(f for f in report.findings if f.rule_id == "LSH-HOST-104")
    assert "NET_ADMIN" in caps.message
    assert any(s.startswith("engine: Podman Engine") and "3 container(s)" in s
               for s in sources)
    checks = {c.rule_id: c.status for c in report.checks}
    assert all(checks[i] is CheckStatus.FAIL for i in ("LSH-HOST-100", "LSH-HOST-105"))


def test_cli_table_and_docker_host_env(engine: Engine, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", engine.url)
    result = run("host", "--root", str(tmp_path), "--skip-packages", "--fail-on", "CRITICAL")
    assert result.code == 1, result.err
    assert "[running containers]" in result.out
    assert f"container bad ({engine.ids['bad'][:12]}): runs privileged" in result.out
    assert "container hardened" not in result.out
    doc = run("host", "--root", str(tmp_path), "--skip-packages", "--docker-host",
              engine.url, "--format", "json").json()
    assert any(f["rule_id"] == "LSH-HOST-102" for f in doc["findings"])


def test_without_docker_host_checks_not_applicable(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    report, _ = audit(tmp_path, packages=False)
    statuses = {c.rule_id: c for c in report.checks if c.rule_id in RUNNING_IDS}
    assert set(statuses) == RUNNING_IDS
    assert all(c.status is CheckStatus.NOT_APPLICABLE and "--docker-host" in (c.reason or "")
               for c in statuses.values())


def test_unreachable_socket_exits_3(tmp_path: Path) -> None:
    sock = tmp_path / "missing.sock"
    result = run("host", "--root", str(tmp_path), "--skip-packages", "--docker-host",
                 f"unix://{sock}")
    assert result.code == 3
    assert f"container engine at unix://{sock} is unreachable: no such socket" in result.err


def test_socket_that_refuses_exits_3(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "dead.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))  # bound, never listening: connections are refused
    try:
        result = run("host", "--root", str(tmp_path), "--skip-packages", "--docker-host",
                     f"unix://{path}")
    finally:
        s.close()
    assert result.code == 3
    assert "is unreachable" in result.err


def test_docker_host_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert socket_path("unix:///var/run/docker.sock") == "/var/run/docker.sock"
    assert socket_path("unix:///run/user/1000/podman/podman.sock") == \
        "/run/user/1000/podman/podman.sock"
    assert run("host", "--root", str(tmp_path), "--skip-packages", "--docker-host",
               "tcp://127.0.0.1:2375").code == 2
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")  # not ours: noted, not fatal
    doc = run("host", "--root", str(tmp_path), "--skip-packages", "--format", "json").json()
    assert any("DOCKER_HOST" in i["message"] for i in doc["issues"])
