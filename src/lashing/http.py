"""The one HTTP client of the project (registries, database downloads).

- proxies come from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY);
- certificates are checked against the system store and certifi, plus
  `--ca-file`, plus the per-host directories Docker and podman use
  (`/etc/containers/certs.d/HOST[:PORT]/*.crt`, `/etc/docker/certs.d/...`),
  which are trusted for that host only;
- 429, 5xx answers and connection errors are retried with exponential
  backoff, honouring `Retry-After` up to a small cap;
- redirects are followed by hand so that each hop gets its own host's
  certificates, `Authorization` never leaves its origin, and https is never
  downgraded to http.

A connection failure or timeout raises RegistryError (exit 3) naming the URL.
"""

from __future__ import annotations

import email.utils
import ssl
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import certifi
import httpx

from lashing import __version__
from lashing.errors import InputError, LimitExceededError, RegistryError

CERTS_DIRS: tuple[Path, ...] = (Path("/etc/containers/certs.d"), Path("/etc/docker/certs.d"))
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})  # safe to send again
USER_AGENT = f"lashing/{__version__}"
CHUNK = 256 * 1024


@dataclass(frozen=True)
class HttpResponse:
    """A response whose body was read completely (within a size limit)."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes


class StreamedResponse:
    """A response whose body is read in chunks; transport errors while reading
    become RegistryError like everywhere else."""

    def __init__(self, response: httpx.Response, method: str) -> None:
        self._response = response
        self._method = method

    @property
    def url(self) -> str:
        return display_url(self._response.url)

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self._response.headers

    def iter_bytes(self, chunk_size: int = CHUNK) -> Iterator[bytes]:
        try:
            yield from self._response.iter_bytes(chunk_size)
        except httpx.TimeoutException:
            host = self._response.url.netloc.decode()
            raise RegistryError(
                f"{self._method} {self.url}: {host} stopped sending (timed out)"
            ) from None
        except httpx.HTTPError as exc:
            raise RegistryError(f"{self._method} {self.url}: transfer failed ({exc})") from None

    def read(self, max_bytes: int | None = None) -> bytes:
        length = self.headers.get("content-length")
        if max_bytes is not None and length and length.isdigit() and int(length) > max_bytes:
            raise LimitExceededError(
                f"{self.url}: answer of {length} bytes is over the {max_bytes}-byte limit"
            )
        parts: list[bytes] = []
        total = 0
        for chunk in self.iter_bytes():
            total += len(chunk)
            if max_bytes is not None and total > max_bytes:
                raise LimitExceededError(f"{self.url}: answer is over the {max_bytes}-byte limit")
            parts.append(chunk)
        return b"".join(parts)


def host_port(url: httpx.URL) -> str:
    """HOST or HOST:PORT (port only when not the scheme's default), as in certs.d."""
    host = url.host
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{host}:{url.port}" if url.port is not None else host


def display_url(url: httpx.URL | str) -> str:
    """The URL for messages: without user info, which may hold a password."""
    u = httpx.URL(url)
    return str(u.copy_with(userinfo=b"")) if u.userinfo else str(u)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


class HttpClient:
    """Synchronous HTTP client; one connection pool per HTTPS host."""

    def __init__(
        self,
        timeout: float = 30.0,
        retries: int = 4,
        ca_file: Path | None = None,
        insecure_hosts: tuple[str, ...] = (),
        *,
        backoff: float = 0.5,
        max_delay: float = 10.0,
        certs_dirs: tuple[Path, ...] = CERTS_DIRS,
        max_redirects: int = 10,
    ) -> None:
        self.timeout = timeout
        self.retries = max(0, retries)
        self.ca_file = ca_file
        self.insecure_hosts = frozenset(h.lower() for h in insecure_hosts)
        self.backoff = backoff
        self.max_delay = max_delay
        self.certs_dirs = certs_dirs
        self.max_redirects = max_redirects
        self._clients: dict[str, httpx.Client] = {}
        if ca_file is not None:
            self._load_ca_file(ssl.create_default_context())

    # -- public -------------------------------------------------------------

    def is_insecure(self, host: str) -> bool:
        """True when HOST[:PORT] was named as insecure (plain HTTP, no TLS checks)."""
        return host.lower() in self.insecure_hosts

    def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> HttpResponse:
        """GET and read the whole body, refusing bodies over `max_bytes`."""
        with self.stream(url, headers=headers) as response:
            content = response.read(max_bytes)
            return HttpResponse(response.url, response.status, response.headers, content)

    @contextmanager
    def stream(
        self, url: str, *, headers: Mapping[str, str] | None = None, method: str = "GET"
    ) -> Iterator[StreamedResponse]:
        """Send a request (following redirects, retrying) and stream the answer."""
        response = self._open(method, httpx.URL(url), dict(headers or {}))
        try:
            yield StreamedResponse(response, method)
        finally:
            response.close()

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- redirects and retries ----------------------------------------------

    def _open(self, method: str, url: httpx.URL, headers: dict[str, str]) -> httpx.Response:
        if url.scheme not in ("http", "https"):
            raise RegistryError(f"{display_url(url)}: only http and https URLs are supported")
        for _ in range(self.max_redirects + 1):
            response = self._send(method, url, headers)
            location = response.headers.get("location")
            if response.status_code not in REDIRECT_STATUSES or not location:
                return response
            response.close()
            where = f"{method} {display_url(url)}"
            try:
                target = url.join(location)
            except httpx.InvalidURL:
                raise RegistryError(f"{where}: redirect to an invalid URL") from None
            if target.scheme not in ("http", "https"):
                raise RegistryError(f"{where}: redirect to a non-HTTP URL refused")
            if url.scheme == "https" and target.scheme == "http":
                raise RegistryError(f"{where}: redirect to plain http ({target.host}) refused")
            if _origin(target) != _origin(url):
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            if response.status_code == 303:
                method = "GET"
            url = target
        raise RegistryError(
            f"{method} {display_url(url)}: more than {self.max_redirects} redirects"
        )

    def _send(self, method: str, url: httpx.URL, headers: dict[str, str]) -> httpx.Response:
        client = self._client_for(url)
        retries = self.retries if method in IDEMPOTENT else 0
        attempt = 0
        while True:
            try:
                request = client.build_request(method, url, headers=headers)
                response = client.send(request, stream=True)
            except httpx.TransportError as exc:
                if not _retryable(exc) or attempt >= retries:
                    raise self._transport_error(method, url, exc, attempt + 1) from None
                delay = self._backoff(attempt)
            else:
                if response.status_code not in RETRY_STATUSES or attempt >= retries:
                    return response
                after = _retry_after(response.headers.get("retry-after"))
                delay = self._backoff(attempt) if after is None else after
                response.close()
            time.sleep(min(delay, self.max_delay))
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff * (2**attempt), self.max_delay))

    def _transport_error(
        self, method: str, url: httpx.URL, exc: httpx.TransportError, tries: int
    ) -> RegistryError:
        host = host_port(url)
        where = f"{method} {display_url(url)}"
        tried = f" (tried {tries} times)" if tries > 1 else ""
        if isinstance(exc, httpx.TimeoutException):
            return RegistryError(
                f"{where}: no answer from {host} within {self.timeout:g}s{tried}",
                "check the network, or raise the timeout",
            )
        ssl_exc = _ssl_cause(exc)
        if isinstance(ssl_exc, ssl.SSLCertVerificationError):
            return RegistryError(
                f"{where}: the TLS certificate of {host} is not trusted "
                f"({ssl_exc.verify_message or ssl_exc.reason})",
                f"pass --ca-file, or put the CA in /etc/containers/certs.d/{host}/ca.crt",
            )
        if ssl_exc is not None:
            return RegistryError(
                f"{where}: TLS handshake with {host} failed ({ssl_exc.reason or ssl_exc})",
                f"if {host} speaks plain HTTP, pass --insecure-registry {host}",
            )
        if isinstance(exc, httpx.ConnectError):
            return RegistryError(f"{where}: cannot connect to {host} ({exc}){tried}")
        return RegistryError(f"{where}: {type(exc).__name__} ({exc}){tried}")

    # -- per-host clients ---------------------------------------------------

    def _client_for(self, url: httpx.URL) -> httpx.Client:
        key = host_port(url).lower() if url.scheme == "https" else ""
        client = self._clients.get(key)
        if client is None:
            verify: ssl.SSLContext | bool = True
            if key:
                verify = False if key in self.insecure_hosts else self._ssl_context(key)
            client = httpx.Client(
                verify=verify,
                trust_env=True,  # proxies from the environment
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,  # done by hand in _open
                headers={"User-Agent": USER_AGENT},
            )
            self._clients[key] = client
        return client

    def _ssl_context(self, host: str) -> ssl.SSLContext:
        # the system store (honours SSL_CERT_FILE / SSL_CERT_DIR), then certifi
        ctx = ssl.create_default_context()
        ctx.load_verify_locations(cafile=certifi.where())
        if self.ca_file is not None:
            self._load_ca_file(ctx)
        for base in self.certs_dirs:
            directory = base / host
            if not directory.is_dir():
                continue
            for crt in sorted(directory.glob("*.crt")):
                try:
                    ctx.load_verify_locations(cafile=str(crt))
                except (OSError, ssl.SSLError) as exc:
                    raise InputError(f"{crt}: cannot load CA certificate ({exc})") from None
        return ctx

    def _load_ca_file(self, ctx: ssl.SSLContext) -> None:
        try:
            ctx.load_verify_locations(cafile=str(self.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise InputError(
                f"--ca-file {self.ca_file}: cannot load CA certificates ({exc})",
                "give a PEM file with one or more CA certificates",
            ) from None


def _ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _retryable(exc: httpx.TransportError) -> bool:
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.ProxyError):
        return False
    return _ssl_cause(exc) is None


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
