"""Where a Docker-compatible engine API answers, as the docker CLI names it:
`unix:///var/run/docker.sock` (or a bare socket path), `tcp://HOST:PORT` (plain
HTTP, or TLS with --tlsverify / DOCKER_TLS_VERIFY), `http://` and `https://`.

TLS uses the docker CLI's files: ca.pem, cert.pem and key.pem in the
certificate directory ($DOCKER_CERT_PATH, else ~/.docker). The server must
present a certificate signed by ca.pem for the host named in the URL; the
client presents cert.pem.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from lashing.errors import InputError

DEFAULT_PORTS = {False: 2375, True: 2376}  # plain, TLS
TLS_FILES = ("ca.pem", "cert.pem", "key.pem")
EXAMPLES = ("e.g. unix:///var/run/docker.sock, unix:///run/podman/podman.sock or "
            "tcp://127.0.0.1:2376 with --tlsverify")


@dataclass(frozen=True)
class Endpoint:
    """A parsed engine URL."""

    url: str  # as given
    socket: str | None = None  # the Unix socket path, for unix://
    base_url: str = "http://engine"  # what HTTP requests go to
    tls: bool = False

    @property
    def tcp(self) -> bool:
        return self.socket is None


def parse_endpoint(url: str, where: str = "--docker-host", tlsverify: bool = False,
                   ) -> Endpoint:
    """The engine endpoint `url` names; InputError for a scheme or form we cannot use."""
    if url.startswith("/"):
        return Endpoint(url, socket=url)
    parts = urlsplit(url)
    if parts.scheme == "unix":
        path = (parts.netloc + parts.path) if parts.netloc else parts.path
        if not path.startswith("/"):
            raise InputError(f"{where} {url!r}: the socket path must be absolute")
        return Endpoint(url, socket=path)
    if parts.scheme not in ("tcp", "http", "https"):
        raise InputError(f"{where} {url!r}: only unix://, tcp://, http:// and https:// "
                         "engine URLs are supported", EXAMPLES)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise InputError(f"{where} {url!r}: the port is not a number") from None
    if not host:
        raise InputError(f"{where} {url!r}: no host name", EXAMPLES)
    if parts.path not in ("", "/") or parts.query or parts.username:
        raise InputError(f"{where} {url!r}: an engine URL is scheme://HOST:PORT only")
    tls = parts.scheme == "https" or (parts.scheme == "tcp" and tlsverify)
    if parts.scheme == "http" and tlsverify:
        raise InputError(f"{where} {url!r}: http:// with --tlsverify; use tcp:// or https://")
    name = f"[{host}]" if ":" in host else host
    port = port or DEFAULT_PORTS[tls]
    return Endpoint(url, base_url=f"{'https' if tls else 'http'}://{name}:{port}", tls=tls)


def tls_context(cert_dir: Path) -> ssl.SSLContext:
    """A client TLS context from the docker CLI's certificate directory; InputError
    naming the file that is missing or not PEM."""
    ca, cert, key = (cert_dir / name for name in TLS_FILES)
    for path in (ca, cert, key):
        if not path.is_file():
            raise InputError(f"{path}: missing; TLS to the engine needs ca.pem, cert.pem and "
                             f"key.pem in {cert_dir}",
                             "set DOCKER_CERT_PATH to the directory holding them")
    try:
        ctx = ssl.create_default_context(cafile=str(ca))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise InputError(f"{ca}: not a PEM CA certificate ({exc})") from None
    try:
        ctx.load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise InputError(f"{cert}, {key}: not a matching PEM certificate and key "
                         f"({exc})") from None
    return ctx
