"""`lashing host --docker-host`: the running-container rules against a real engine
API, `podman system service` on a private storage root, with containers
created (not started) from an image built in code."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tlsfront import TlsFront, make_certs

from lashing.commands.host import audit
from lashing.host.engine import read_engine, socket_path
from lashing.model import CheckStatus, Report
from lashing.rules.host import isolation, running

from cli_helpers import run
from imagebuilder import build, write_docker_archive

PODMAN = shutil.which("podman")
IMAGE = "localhost/lashing-engine-test:1"
RUNNING_IDS = {r.id for r in (*running.RULES, *isolation.RULES)}

BAD = ("--privileged", "--pid", "host", "--cap-add", "SYS_ADMIN",
       "-v", "/var/run:/var/run:ro", "--network", "none")
HARDENED = ("--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--memory", "64m", "--pids-limit", "100", "--user", "1000", "--network", "none",
            "--cpu-shares", "512", "--health-cmd", "/bin/true", "--restart", "on-failure:3")
# Isolation switched off one piece at a time, on the default network.
WEAK = ("--security-opt", "apparmor=unconfined", "--security-opt", "seccomp=unconfined",
        "--security-opt", "label=disable", "--device", "/dev/null:/dev/xnull", "--uts", "host",
        "--ulimit", "nproc=-1:-1", "--cgroup-parent", "/lashing-test",
        "-v", "/srv:/srv:rshared", "--user", "1000")
# Capabilities added without --privileged, a port on every interface, restart always.
EXPOSED = ("--cap-add", "NET_ADMIN", "-p", "8080:80", "--restart", "always",
           "--user", "1000")


@dataclass(frozen=True)
class Engine:
    url: str
    ids: dict[str, str]  # container name -> id
    tcp_url: str = ""  # the same engine served on a loopback TCP port, plain HTTP


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
           for name, flags in (("bad", BAD), ("hardened", HARDENED), ("exposed", EXPOSED),
                               ("weak", WEAK))}
    sock = d / "podman.sock"
    with socket.socket() as probe:  # a free loopback port for the TCP service
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tcp_url = f"tcp://127.0.0.1:{port}"
    logs = [(d / f"service-{n}.log").open("wb") for n in ("unix", "tcp")]
    procs = [subprocess.Popen([*base, "system", "service", "--time=0", url], stdout=log,
                              stderr=subprocess.STDOUT)
             for url, log in ((f"unix://{sock}", logs[0]), (tcp_url, logs[1]))]
    try:
        deadline = time.monotonic() + 20
        for client in (httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)),
                                    base_url="http://engine", timeout=5),
                       httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5,
                                    trust_env=False)):
            with client:
                while True:  # the service needs a moment before the API serves
                    try:
                        client.get("/version")
                        break
                    except httpx.TransportError:
                        if any(p.poll() is not None for p in procs) \
                                or time.monotonic() > deadline:
                            pytest.skip("podman system service did not start: " + " ".join(
                                (d / f"service-{n}.log").read_text()[-300:]
                                for n in ("unix", "tcp")))
                        time.sleep(0.05)
        yield Engine(f"unix://{sock}", ids, tcp_url)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for log in logs:
            log.close()


@pytest.fixture(scope="module")
def tls_front(engine: Engine, tmp_path_factory: pytest.TempPathFactory,
              ) -> Iterator[tuple[str, Path]]:
    """The engine behind TLS with client certificates: (tcp:// URL, certificate dir)."""
    certs = make_certs(tmp_path_factory.mktemp("certs"))
    front = TlsFront(certs, engine.url.removeprefix("unix://"))
    try:
        yield f"tcp://127.0.0.1:{front.port}", certs
    finally:
        front.close()


@pytest.fixture(scope="module")
def unix_audit(engine: Engine, tmp_path_factory: pytest.TempPathFactory,
               ) -> tuple[Report, list[str]]:
    """One audit of an empty host tree with the engine's Unix socket, shared."""
    return audit(tmp_path_factory.mktemp("empty-root"), packages=False,
                 docker_host=engine.url)


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


def test_live_checks_fire_on_bad_not_on_hardened(
        engine: Engine, unix_audit: tuple[Report, list[str]]) -> None:
    report, sources = unix_audit
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
    assert any(s.startswith("engine: Podman Engine") and "4 container(s)" in s
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
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    for url, why in (("ssh://builder", "only unix://, tcp://"), ("tcp://", "no host name"),
                     ("tcp://127.0.0.1:x", "not a number"),
                     ("tcp://127.0.0.1:2375/v1.40", "scheme://HOST:PORT only"),
                     ("unix://relative.sock", "must be absolute")):
        bad = run("host", "--root", str(tmp_path), "--skip-packages", "--docker-host", url)
        assert bad.code == 2, url
        assert why in bad.err, bad.err
    assert run("host", "--root", str(tmp_path), "--skip-packages", "--docker-host",
               "http://127.0.0.1:2375", "--tlsverify").code == 2
    monkeypatch.setenv("DOCKER_HOST", "ssh://builder")  # not ours: noted, not fatal
    doc = run("host", "--root", str(tmp_path), "--skip-packages", "--format", "json").json()
    assert any("DOCKER_HOST" in i["message"] for i in doc["issues"])


def test_isolation_checks_fire_on_weak_not_on_hardened(
        engine: Engine, unix_audit: tuple[Report, list[str]]) -> None:
    report, _ = unix_audit
    got = by_container(report)
    # AppArmor, SELinux and seccomp off, a device, UTS host, unlimited nproc, a cgroup
    # parent, rshared propagation, and Podman's default network
    assert {f"LSH-HOST-{n}" for n in range(115, 124)} <= got["weak"], got["weak"]
    assert "hardened" not in got, got.get("hardened")
    assert "LSH-HOST-123" in got["exposed"]  # -p on the default network
    assert "LSH-HOST-123" not in got["bad"]  # --network none
    messages = {f.rule_id: f.message for f in report.findings
                if f.location.resource == "container/weak"}
    prefix = f"container weak ({engine.ids['weak'][:12]}): "
    assert messages["LSH-HOST-118"] == prefix + "has host devices /dev/null:/dev/xnull:rwm"
    assert messages["LSH-HOST-119"] == prefix + "mounts /srv on /srv with rshared propagation"
    assert messages["LSH-HOST-121"] == prefix + "sets unlimited RLIMIT_NPROC"
    assert messages["LSH-HOST-122"] == prefix + "runs under cgroup parent /lashing-test"
    assert messages["LSH-HOST-123"] == prefix + "is on the default network podman"


def test_plain_tcp_engine(engine: Engine, unix_audit: tuple[Report, list[str]],
                          tmp_path: Path) -> None:
    report, sources = audit(tmp_path, packages=False, docker_host=engine.tcp_url)
    unix, _ = unix_audit
    assert by_container(report) == by_container(unix)  # the same containers, either way
    [plain] = [f for f in report.findings if f.rule_id == "LSH-HOST-124"]
    assert plain.location.resource == f"engine/{engine.tcp_url}"
    assert "over plain TCP, without TLS" in plain.message
    assert any("over plain TCP: 4 container(s)" in s for s in sources)
    # the Unix socket is not TCP: the check passes there
    assert {c.rule_id: c.status for c in unix.checks}["LSH-HOST-124"] is CheckStatus.PASS


def test_tls_engine_with_client_certificates(engine: Engine, tls_front: tuple[str, Path],
                                            tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    url, certs = tls_front
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("DOCKER_CERT_PATH", str(certs))
    doc = run("host", "--root", str(tmp_path), "--skip-packages", "--docker-host", url,
              "--tlsverify", "--format", "json").json()
    checks = {c["rule_id"]: c["status"] for c in doc["checks"]}
    assert checks["LSH-HOST-124"] == "pass"
    assert checks["LSH-HOST-100"] == "fail"  # the containers were read over TLS
    # DOCKER_TLS_VERIFY does what --tlsverify does; DOCKER_HOST names the engine
    monkeypatch.setenv("DOCKER_HOST", url)
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    table = run("host", "--root", str(tmp_path), "--skip-packages")
    assert table.code == 0, table.err
    assert f"container weak ({engine.ids['weak'][:12]}): runs with seccomp unconfined" \
        in table.out


def test_tls_refusals(engine: Engine, tls_front: tuple[str, Path], tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    url, certs = tls_front
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    base = ("host", "--root", str(tmp_path), "--skip-packages", "--docker-host")
    # a server certificate from another CA: not trusted
    other = make_certs(tmp_path / "other")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(other))
    wrong_ca = run(*base, url, "--tlsverify")
    assert wrong_ca.code == 3 and "TLS handshake failed" in wrong_ca.err, wrong_ca.err
    # TLS to a plain-HTTP engine port
    monkeypatch.setenv("DOCKER_CERT_PATH", str(certs))
    plain = run(*base, engine.tcp_url, "--tlsverify")
    assert plain.code == 3 and "unreachable" in plain.err, plain.err
    # plain HTTP to the TLS port: the server drops the connection
    assert run(*base, url).code == 3
    # no client key: an input error naming the file
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "ca.pem").write_bytes((certs / "ca.pem").read_bytes())
    monkeypatch.setenv("DOCKER_CERT_PATH", str(empty))
    missing = run(*base, url, "--tlsverify")
    assert missing.code == 2
    assert f"{empty}/cert.pem: missing" in missing.err
    (empty / "cert.pem").write_text("not a certificate")
    (empty / "key.pem").write_text("not a key")
    garbage = run(*base, url, "--tlsverify")
    assert garbage.code == 2 and "not a matching PEM certificate and key" in garbage.err
