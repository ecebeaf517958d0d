"""Helpers for the `lashing watch` tests. A real engine: `podman system service` on a private
storage root (runc, cgroupfs, file event log), an image built in code from
the host's own `sleep` and `dash` with their C library, and a `lashing
watch` subprocess whose output lines are read with bounded waits."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from imagebuilder import BuiltImage, F, build, write_docker_archive

PODMAN = shutil.which("podman")
RUNC = shutil.which("runc") or ("/usr/sbin/runc" if Path("/usr/sbin/runc").exists() else None)
IMAGE = "localhost/lashing-watch-test:1"
LATEST = "localhost/lashing-watch-test:latest"
ROOT = Path(__file__).resolve().parents[2]
# The host's binaries, with the C library they need, make the image's userland.
HOST_FILES = {"bin/sleep": "/bin/sleep", "bin/sh": "/bin/dash", "bin/true": "/bin/true",
              "lib/x86_64-linux-gnu/libc.so.6": "/lib/x86_64-linux-gnu/libc.so.6",
              "lib64/ld-linux-x86-64.so.2": "/lib64/ld-linux-x86-64.so.2"}
LIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000")
STARTUP = 120.0  # seconds for `python -m lashing watch` to say it is watching (a busy machine)
ARRIVAL = 60.0  # seconds for a finding to arrive


@dataclass
class Engine:
    dir: Path
    base: list[str]  # podman with this storage
    sock: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.sock}"

    def podman(self, *args: str, check: bool = True) -> str:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True,
                              timeout=120, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: {done.stderr.strip()[-500:]}")
        return done.stdout.strip()

    def run(self, name: str, *flags: str, image: str = IMAGE) -> str:
        """Start a container that sleeps; its id."""
        return self.podman("run", "-d", "--name", name, *LIMITS, *flags, image,
                           "/bin/sleep", "600")

    def create(self, name: str, *flags: str) -> str:
        return self.podman("create", "--name", name, *LIMITS, *flags, IMAGE, "/bin/sleep", "600")

    def start_service(self) -> None:
        log = (self.dir / "service.log").open("ab")
        self.proc = subprocess.Popen([*self.base, "system", "service", "--time=0", self.url],
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 30
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(self.sock)),
                          base_url="http://engine", timeout=5) as client:
            while True:
                try:
                    if client.get("/version").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    pytest.skip("podman system service did not start: "
                                + (self.dir / "service.log").read_text()[-300:])
                time.sleep(0.05)

    def stop_service(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None
        self.sock.unlink(missing_ok=True)

    def inspect(self, name: str) -> dict[str, Any]:
        """`GET /containers/{name}/json` as the service answers it (recorded, not written)."""
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(self.sock)),
                          base_url="http://engine", timeout=10) as client:
            doc = client.get(f"/v1.41/containers/{name}/json").json()
        assert isinstance(doc, dict)
        return doc


def userland() -> BuiltImage:
    """An image whose /bin/sleep and /bin/sh run: the host's, with their C library."""
    files: dict[str, bytes | str | F] = {p: F(kind="dir") for p in
                                         ("bin", "lib", "lib/x86_64-linux-gnu", "lib64", "tmp")}
    for dest, src in HOST_FILES.items():
        if not Path(src).exists():
            pytest.skip(f"needs {src} on the host to build the test image's userland")
        files[dest] = F(Path(src).read_bytes(), mode=0o755)
    return build([files], config={"Cmd": ["/bin/sleep", "600"], "Env": ["PATH=/bin"]})


def _image(d: Path) -> Path:
    return write_docker_archive(d / "image.tar", [(userland(), [IMAGE, LATEST])])


def engine_service() -> Iterator[Engine]:
    if PODMAN is None or RUNC is None:
        pytest.skip("needs podman and runc (scripts/system-deps.sh --test)")
    if os.geteuid() != 0:
        pytest.skip("a rootful podman with a private --root needs uid 0")
    # podman refuses a --runroot longer than 50 characters: pytest's tmp paths are too long
    d = Path(tempfile.mkdtemp(prefix="lsh-w-", dir="/tmp"))
    base = [PODMAN, "--root", str(d / "root"), "--runroot", str(d / "run"),
            "--tmpdir", str(d / "tmp"), "--storage-driver", "vfs", "--runtime", RUNC,
            "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
    engine = Engine(d, base, d / "p.sock")
    try:
        done = subprocess.run([*base, "load", "-i", str(_image(d))], capture_output=True,
                              text=True, timeout=120, check=False)
        if done.returncode != 0:
            pytest.skip(f"podman load failed here: {done.stderr.strip()[-300:]}")
        probe = subprocess.run([*base, "run", "--rm", "--network", "none", *LIMITS, IMAGE,
                                "/bin/true"], capture_output=True, text=True, timeout=120,
                               check=False)
        if probe.returncode != 0:
            pytest.skip(f"podman cannot run containers here: {probe.stderr.strip()[-300:]}")
        engine.start_service()
        yield engine
    finally:
        engine.stop_service()
        subprocess.run([*base, "rm", "-af", "-t", "0"], capture_output=True, timeout=120,
                       check=False)
        subprocess.run([*base, "system", "reset", "-f"], capture_output=True, timeout=120,
                       check=False)
        for _ in range(10):  # conmon's exit commands may still touch the storage briefly
            shutil.rmtree(d, ignore_errors=True)
            time.sleep(0.5)
            if not d.exists():
                break


@dataclass
class WatchProcess:
    """`python -m lashing watch ...` with its stdout and stderr lines in queues."""

    proc: subprocess.Popen[str]
    out: queue.Queue[str] = field(default_factory=queue.Queue)
    err: queue.Queue[str] = field(default_factory=queue.Queue)
    out_lines: list[str] = field(default_factory=list)
    err_lines: list[str] = field(default_factory=list)

    def _pump(self, stream: IO[str], q: queue.Queue[str]) -> None:
        for line in stream:
            q.put(line.rstrip("\n"))

    def start_readers(self) -> None:
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for stream, q in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, q), daemon=True).start()

    def _drain(self) -> None:
        for q, lines in ((self.out, self.out_lines), (self.err, self.err_lines)):
            while True:
                try:
                    lines.append(q.get_nowait())
                except queue.Empty:
                    break

    def wait_err(self, pred: Callable[[str], bool], timeout: float = ARRIVAL,
                 count: int = 1) -> str:
        """The `count`-th stderr line for which `pred` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._drain()
            hits = [line for line in self.err_lines if pred(line)]
            if len(hits) >= count:
                return hits[count - 1]
            if self.proc.poll() is not None:
                self._drain()
                break
            time.sleep(0.1)
        raise AssertionError(f"no such stderr line within {timeout}s; stderr: "
                             f"{self.err_lines[-20:]}")

    def wait_out(self, pred: Callable[[str], bool], timeout: float = ARRIVAL) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._drain()
            hit = next((line for line in self.out_lines if pred(line)), None)
            if hit is not None:
                return hit
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self._drain()
        raise AssertionError(f"no such stdout line within {timeout}s; stdout: "
                             f"{self.out_lines[-20:]}; stderr: {self.err_lines[-20:]}")

    def findings(self) -> list[dict[str, Any]]:
        self._drain()
        return [json.loads(line) for line in self.out_lines if line.startswith("{")]

    def wait_finding(self, pred: Callable[[dict[str, Any]], bool],
                     timeout: float = ARRIVAL) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hit = next((f for f in self.findings() if pred(f)), None)
            if hit is not None:
                return hit
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self._drain()
        raise AssertionError(f"no such finding within {timeout}s; got "
                             f"{[(f['rule_id'], f['location']) for f in self.findings()]}; "
                             f"stderr: {self.err_lines[-20:]}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            code = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(5)
        time.sleep(0.2)
        self._drain()
        return code


def start_watch(*args: str) -> WatchProcess:
    """Start the watch and wait until it says it is watching."""
    proc = subprocess.Popen([sys.executable, "-m", "lashing", "watch", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NO_COLOR": "1"})
    w = WatchProcess(proc)
    w.start_readers()
    try:
        w.wait_err(lambda line: line.startswith("note: watching"), STARTUP)
    except AssertionError:
        w.stop()
        raise
    return w
