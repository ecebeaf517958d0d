"""Bad input for `lashing watch`: sockets that are not an engine, an engine
too old, a broken event stream, wrong options and configuration.

The real engine cannot be made to send malformed events or to claim an old
API, so those cases use a tiny Unix-socket HTTP server started here; every
other test of the watch runs against podman."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lashing.watch.stream import EventStream, NotAnEngine, StreamClosed

from cli_helpers import run

# request target -> raw bytes to send, in pieces (b"": wait a second)
Handler = Callable[[str], list[bytes]]


class UnixServer:
    """Answers each connection on a Unix socket with what `handler` says."""

    def __init__(self, path: Path, handler: Handler, max_events: int = 1000) -> None:
        self.path = path
        self.handler = handler
        self.max_events = max_events
        self.requests: list[str] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            conn.settimeout(5)
            try:
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                return
            first = data.split(b"\r\n", 1)[0].decode("latin-1")
            target = first.split(" ")[1] if " " in first else first
            self.requests.append(target)
            for piece in self.handler(target):
                if not piece:  # a pause: the engine keeps the stream open
                    time.sleep(1.0)
                    continue
                try:
                    conn.sendall(piece)
                except OSError:
                    break
                time.sleep(0.02)
        if sum("/events" in r for r in self.requests) >= self.max_events:
            self.close()  # the engine is gone for good

    def close(self) -> None:
        self.sock.close()
        self.path.unlink(missing_ok=True)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., UnixServer]]:
    servers: list[UnixServer] = []

    def start(handler: Handler, max_events: int = 1000) -> UnixServer:
        server = UnixServer(tmp_path / f"s{len(servers)}.sock", handler, max_events)
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.close()


def http(status: int, body: bytes, ctype: str = "application/json") -> bytes:
    return (f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode() + body


def version(api: str) -> bytes:
    return http(200, json.dumps({"ApiVersion": api, "Version": "20.10.0",
                                 "Components": [{"Name": "Engine"}]}).encode())


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


AT = (time.time_ns() // 1_000_000_000 + 3600) * 1_000_000_000  # later than any watch start
PULL = json.dumps({"Type": "image", "Action": "pull", "Actor": {"ID": "quay.io/x/app:1",
                   "Attributes": {"name": "quay.io/x/app"}}, "scope": "local",
                   "time": AT // 10**9, "timeNano": AT + 1}).encode()
START = json.dumps({"status": "start", "id": "ab" * 32, "Type": "container",
                    "Action": "start", "Actor": {"ID": "ab" * 32, "Attributes": {
                        "name": "vanished", "image": "quay.io/x/app:1"}},
                    "time": AT // 10**9 + 1, "timeNano": AT + 1_000_000_000}).encode()


def broken_engine(target: str) -> list[bytes]:
    if target == "/version" or target.endswith("/version"):
        return [version("1.41")]
    if "/events" in target:
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
        body = [
            b"not json at all\n",
            b'{"Type": "container", "Action": "start", "time": \n',  # truncated
            b"[1, 2, 3]\n",
            b'{"Type": "container"}\n',  # no Action, no time
            PULL[:25], PULL[25:70], PULL[70:] + b"\n" + START[:10],  # split across chunks
            START[10:] + b"\n",
        ]
        return [head, *(chunk(b) for b in body), b"", b"0\r\n\r\n"]
    if "/containers/json" in target:
        return [http(200, b"[]")]
    return [http(404, b'{"message": "no such container"}')]


def test_malformed_events_warn_and_the_watch_goes_on(serve: Callable[..., UnixServer],
                                                     tmp_path: Path) -> None:
    server = serve(broken_engine, max_events=2)
    policy = tmp_path / "policy.toml"
    policy.write_text('[policy]\nallowed_registries = ["registry.example.com"]\n')
    result = run("watch", "--docker-host", f"unix://{server.path}", "--policy", str(policy),
                 "--max-retries", "1")
    # the stream ended twice (replayed from since= the second time), then the engine vanished
    assert result.code == 3, result.err
    assert "gave up after 1 reconnect attempts" in result.err
    warnings = [line for line in result.err.splitlines() if "malformed event" in line]
    assert len(warnings) == 8, result.err  # four bad lines, in each of the two streams
    assert any("not JSON" in w for w in warnings)
    assert any("a JSON list, not an event object" in w for w in warnings)
    assert any("no Type or Action" in w for w in warnings)
    findings = [json.loads(line) for line in result.out.splitlines()]
    assert [f["rule_id"] for f in findings] == ["LSH-RUN-030"]  # not twice
    assert findings[0]["location"]["resource"] == "image/quay.io/x/app:1"
    assert "pull at " in findings[0]["message"]
    assert "container vanished (abababababab) is gone; its start at" in result.err
    since = [r for r in server.requests if "/events" in r]
    assert f"since={AT // 10**9 + 1}.000000000" in since[1]  # from the last event seen


def test_socket_that_is_not_an_engine_exits_2(serve: Callable[..., UnixServer]) -> None:
    ssh = serve(lambda target: [b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"])
    result = run("watch", "--once", "--docker-host", f"unix://{ssh.path}")
    assert result.code == 2, result.err
    assert f"--docker-host unix://{ssh.path} is not a Docker Engine API: answered " \
           "b'SSH-2.0-OpenSSH_9.2p1 Debian-2', not HTTP" in result.err
    web = serve(lambda target: [http(404, b"<h1>not found</h1>", "text/html")])
    result = run("watch", "--once", "--docker-host", f"unix://{web.path}")
    assert result.code == 2
    assert "is not a Docker Engine API: GET /version answered HTTP 404" in result.err
    assert "Traceback" not in result.err


def test_unsupported_api_version_exits_3(serve: Callable[..., UnixServer]) -> None:
    old = serve(lambda target: [version("1.12")])
    result = run("watch", "--docker-host", f"unix://{old.path}")
    assert result.code == 3
    assert "speaks API 1.12; lashing needs 1.24 or newer" in result.err


def test_unreachable_engine_exits_3(tmp_path: Path) -> None:
    result = run("watch", "--once", "--docker-host", f"unix://{tmp_path}/none.sock")
    assert result.code == 3
    assert "is unreachable: no such socket" in result.err


@pytest.mark.parametrize(("args", "message"), [
    (("--docker-host", "tcp://127.0.0.1:2375"), "not a unix:// socket"),
    (("--fail-on", "HIGH"), "--fail-on applies to --once"),
    (("--max-retries", "-1"), "--max-retries '-1': expected a whole number"),
    (("--verify-images",), "--verify-images needs a policy"),
    (("--format", "sarif"), "--format 'sarif': this command writes json, table"),
])
def test_wrong_options_exit_2(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    result = run("watch", "--docker-host", f"unix://{tmp_path}/x.sock", *args)
    assert result.code == 2, result.err
    assert message in result.err


@pytest.mark.parametrize(("text", "message"), [
    ('[[watch.exceptions]]\ncontainer = "a"\nrule = "LSH-RUN-001"\n', "'reason' is required"),
    ('[[watch.exceptions]]\ncontainer = "a"\nrule = "LSH-RUN-999"\nreason = "x"\n',
     "rule 'LSH-RUN-999' is not a lashing rule id or alias"),
    ('[[watch.exceptions]]\nrule = "LSH-RUN-001"\nreason = "x"\n',
     "name a 'container' glob or an 'image' glob"),
    ('[[watch.exceptions]]\ncontainr = "a"\nrule = "LSH-RUN-001"\nreason = "x"\n',
     "unknown key 'containr'"),
    ('[watch]\nexceptions = "all"\n', "watch.exceptions: expected an array of tables"),
    ('[wacth]\n', "unknown key 'wacth'"),
    ('[[watch.exceptions]]\ncontainer = "a"\nrule = "LSH-RUN-001"\nreason = "x"\n'
     'expires = "soon"\n', "expires must be a date"),
])
def test_bad_config_exits_2(text: str, message: str, tmp_path: Path) -> None:
    config = tmp_path / "lashing.toml"
    config.write_text(text)
    result = run("watch", "--config", str(config), "--docker-host",
                 f"unix://{tmp_path}/x.sock")
    assert result.code == 2, result.err
    assert str(config) in result.err and message in result.err


def test_oversized_and_unterminated_lines_are_bounded(serve: Callable[..., UnixServer]) -> None:
    def long_lines(target: str) -> list[bytes]:
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        body = [b"x" * 300, b"y" * 300 + b"\n", PULL + b"\n", b"z" * 700, b'{"Type": "ima']
        return [head, *(chunk(b) for b in body), b"0\r\n\r\n"]

    server = serve(long_lines)
    with EventStream(str(server.path), "/events", max_line=500) as stream:
        lines = []
        with pytest.raises(StreamClosed):
            for _ in range(100):
                lines.extend(stream.poll(0.5))
    assert len(PULL) < 500
    assert [(line.oversized, line.data[:3]) for line in lines] == [
        (True, b"xxx"), (False, PULL[:3]), (True, b"zzz")]
    assert lines[1].data == PULL
    # the stream ended inside a line: that tail was dropped with the oversized one


def test_not_http_at_all_is_refused(serve: Callable[..., UnixServer]) -> None:
    server = serve(lambda target: [b"\x00" * 70000])
    with pytest.raises(NotAnEngine, match="no end of the HTTP headers"):
        EventStream(str(server.path), "/events").close()
