"""The engine's `GET /events` response, read line by line off a Unix socket.

The Docker Engine API streams one JSON object per line, usually with
`Transfer-Encoding: chunked`; a chunk may end in the middle of a line and
one chunk may carry several lines. `EventStream` speaks just enough
HTTP/1.1 for that: it sends one GET, reads the status line and headers, then
decodes chunks (or reads to the end of the connection) and hands out whole
lines as they complete. `poll(timeout)` never blocks longer than `timeout`,
so the watch loop can notice signals and deadlines between events.

Untrusted input is bounded: the header block, a chunk-size line and a single
event line each have a limit; a line over the limit is dropped (and
reported), never buffered without end.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

MAX_HEADER_BYTES = 64 * 1024
MAX_LINE_BYTES = 1024 * 1024
RECV = 64 * 1024


class StreamClosed(Exception):
    """The engine closed the connection (or it broke)."""


class NotAnEngine(Exception):
    """What answered on the socket does not speak HTTP/1.x."""


@dataclass(frozen=True)
class Line:
    """One complete line of the response body, or a note that one was dropped."""

    data: bytes
    oversized: bool = False  # data holds only the first bytes of a dropped line


class EventStream:
    """One streaming HTTP GET over a Unix socket."""

    def __init__(self, path: str, target: str, params: Mapping[str, str] | None = None,
                 connect_timeout: float = 5.0, max_line: int = MAX_LINE_BYTES) -> None:
        self.max_line = max_line
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(connect_timeout)
        try:
            self._sock.connect(path)
            query = f"?{urlencode(params)}" if params else ""
            request = (f"GET {target}{query} HTTP/1.1\r\nHost: engine\r\n"
                       "Accept: application/json\r\nConnection: close\r\n\r\n")
            self._sock.sendall(request.encode())
        except OSError:
            self._sock.close()
            raise
        self._raw = b""  # bytes received and not yet decoded
        self._body = b""  # decoded body bytes not yet split into lines
        self._dropping = False  # inside a line that is over the limit
        self._chunked = False
        self._chunk_left = 0  # bytes of the current chunk still to come
        self._need_crlf = False  # a chunk's trailing CRLF is still to come
        self._ended = False  # the body is complete (last chunk, or EOF)
        self.status = 0
        self.headers: dict[str, str] = {}
        self._read_head(connect_timeout)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------

    def _recv(self, timeout: float) -> bool:
        """Receive what is there within `timeout`; False when nothing came."""
        ready, _, _ = select.select([self._sock], [], [], max(timeout, 0.0))
        if not ready:
            return False
        try:
            data = self._sock.recv(RECV)
        except OSError as exc:
            raise StreamClosed(str(exc) or type(exc).__name__) from None
        if not data:
            self._ended = True
            return True
        self._raw += data
        return True

    def _read_head(self, timeout: float) -> None:
        while b"\r\n\r\n" not in self._raw:
            if len(self._raw) > MAX_HEADER_BYTES:
                raise NotAnEngine(f"no end of the HTTP headers in {MAX_HEADER_BYTES} bytes")
            if self._ended:
                if not self._raw:
                    raise StreamClosed("the connection closed before any answer")
                break
            if not self._recv(timeout):
                raise NotAnEngine(f"no HTTP answer within {timeout:g}s")
        head, sep, rest = self._raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if not sep or len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") \
                or not parts[1].isdigit():
            raise NotAnEngine(f"answered {lines[0][:60]!r}, not HTTP")
        self.status = int(parts[1])
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self._chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        self._raw = rest

    def read_all(self, timeout: float, limit: int = MAX_HEADER_BYTES) -> bytes:
        """The rest of a (short) body, e.g. an error message; at most `limit` bytes."""
        self._decode()
        while not self._ended and len(self._body) < limit:
            if not self._recv(timeout):
                break
            self._decode()
        out, self._body = self._body[:limit], b""
        return out

    def _decode(self) -> None:
        """Move complete body bytes from `_raw` to `_body`, undoing chunked encoding."""
        if not self._chunked:
            self._body += self._raw
            self._raw = b""
            return
        while self._raw:
            if self._need_crlf:
                if len(self._raw) < 2:
                    return
                if self._raw[:2] != b"\r\n":
                    raise StreamClosed("malformed chunked encoding (no CRLF after a chunk)")
                self._raw = self._raw[2:]
                self._need_crlf = False
            if self._chunk_left == 0:
                size_line, sep, rest = self._raw.partition(b"\r\n")
                if not sep:
                    if len(self._raw) > 1024:
                        raise StreamClosed("malformed chunked encoding (chunk size line)")
                    return
                try:
                    size = int(size_line.split(b";", 1)[0].strip() or b"x", 16)
                except ValueError:
                    raise StreamClosed("malformed chunked encoding "
                                       f"(chunk size {size_line[:20]!r})") from None
                self._raw = rest
                if size == 0:
                    self._ended = True
                    self._raw = b""
                    return
                self._chunk_left = size
            take = self._raw[:self._chunk_left]
            self._body += take
            self._raw = self._raw[len(take):]
            self._chunk_left -= len(take)
            if self._chunk_left == 0:
                self._need_crlf = True

    def _lines(self) -> list[Line]:
        out: list[Line] = []
        while True:
            line, sep, rest = self._body.partition(b"\n")
            if not sep:
                if len(self._body) > self.max_line:
                    if not self._dropping:
                        out.append(Line(self._body[:200], oversized=True))
                    self._dropping = True
                    self._body = b""
                break
            self._body = rest
            if self._dropping:
                self._dropping = False
                continue
            if len(line) > self.max_line:
                out.append(Line(line[:200], oversized=True))
                continue
            out.append(Line(line.rstrip(b"\r")))
        return out

    def poll(self, timeout: float) -> list[Line]:
        """Whole lines that arrived within `timeout` seconds (maybe none).

        StreamClosed when the response has ended and every line was handed out."""
        if self._raw or self._body:
            self._decode()
            lines = self._lines()
            if lines:
                return lines
        if self._ended:
            tail, self._body = self._body.strip(), b""
            if tail and not self._dropping:
                return [Line(tail)]  # a last line without its newline
            raise StreamClosed("the engine ended the event stream")
        if self._recv(timeout):
            self._decode()
            return self._lines()
        return []
