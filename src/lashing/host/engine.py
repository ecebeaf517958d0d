"""Running containers from a Docker-compatible engine API (dockerd, or
`podman system service`) over its Unix socket or TCP (plain or TLS, see
engine_url): `GET /version`, `GET /info`, then `GET /containers/json?all=1` and
`GET /containers/{id}/json` for each one."""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lashing.errors import EnvironmentFailure, InputError
from lashing.host.engine_url import parse_endpoint, tls_context

MIN_API = (1, 24)  # Docker 1.12: the oldest API whose inspect output the rules read
TIMEOUT = 10.0


@dataclass(frozen=True)
class Container:
    """One container as `GET /containers/{id}/json` describes it."""

    id: str
    name: str
    inspect: Mapping[str, Any]

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.short_id})" if self.name else self.short_id

    @property
    def host_config(self) -> Mapping[str, Any]:
        return _mapping(self.inspect.get("HostConfig"))

    @property
    def config(self) -> Mapping[str, Any]:
        return _mapping(self.inspect.get("Config"))

    @property
    def state(self) -> Mapping[str, Any]:
        return _mapping(self.inspect.get("State"))

    @property
    def status(self) -> str:
        return str(self.state.get("Status") or "")

    @classmethod
    def from_inspect(cls, inspect: Mapping[str, Any]) -> Container:
        return cls(str(inspect.get("Id") or ""), str(inspect.get("Name") or "").lstrip("/"),
                   inspect)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class EngineState:
    """What the engine API said: who answered, and every container it knows."""

    endpoint: str
    engine: str = ""  # "Docker Engine 24.0.7", "Podman Engine 4.3.1"
    api_version: str = ""
    containers: tuple[Container, ...] = ()
    notes: tuple[str, ...] = field(default=())
    transport: str = "unix"  # "unix", "tcp" (plain HTTP) or "tls"
    # GET /info SecurityOptions: "name=apparmor", "name=selinux", "name=seccomp,profile=…"
    security_options: tuple[str, ...] = ()

    def supports(self, name: str) -> bool:
        """Whether the engine reports the security feature `name` (apparmor, selinux)."""
        return any(opt.split(",")[0] == f"name={name}" for opt in self.security_options)


def socket_path(url: str, where: str = "--docker-host") -> str:
    """The socket path of a unix:// engine URL (a bare absolute path is accepted too)."""
    endpoint = parse_endpoint(url, where)
    if endpoint.socket is None:
        raise InputError(f"{where} {url!r}: not a unix:// socket")
    return endpoint.socket


def _api_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        return ()


class EngineClient:
    """A minimal HTTP client for the engine API on a Unix socket or over TCP."""

    def __init__(self, url: str, where: str = "--docker-host", timeout: float = TIMEOUT,
                 tlsverify: bool = False, cert_dir: Path | None = None) -> None:
        self.url = url
        self.where = where
        self.endpoint = parse_endpoint(url, where, tlsverify)
        if self.endpoint.socket is not None:
            transport = httpx.HTTPTransport(uds=self.endpoint.socket)
            self._client = httpx.Client(transport=transport, base_url=self.endpoint.base_url,
                                        timeout=timeout)
        else:
            verify: ssl.SSLContext | bool = False
            if self.endpoint.tls:
                verify = tls_context(cert_dir or Path.home() / ".docker")
            # never through an HTTP proxy: the engine is named exactly
            self._client = httpx.Client(base_url=self.endpoint.base_url, timeout=timeout,
                                        verify=verify, trust_env=False)

    @property
    def transport(self) -> str:
        return "tls" if self.endpoint.tls else ("tcp" if self.endpoint.tcp else "unix")

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> EngineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        try:
            response = self._client.get(path, params=params)
        except httpx.TransportError as exc:
            sock = self.endpoint.socket
            if sock is not None and not Path(sock).exists():
                reason = "no such socket"
            elif isinstance(exc.__context__, ssl.SSLError) or "SSL" in str(exc):
                reason = f"TLS handshake failed ({exc})"
            else:
                reason = str(exc) or type(exc).__name__
            raise EnvironmentFailure(
                f"container engine at {self.url} is unreachable: {reason}",
                "start the engine (systemctl start docker, podman system service), or "
                f"check {self.where}; without it the running-container checks are "
                "not applicable") from None
        if response.status_code != 200:
            text = response.text.strip()[:200]
            raise EnvironmentFailure(f"container engine at {self.url}: GET {path} answered "
                                     f"{response.status_code}: {text}")
        try:
            return response.json()
        except ValueError:
            raise EnvironmentFailure(f"container engine at {self.url}: GET {path} did not "
                                     "answer JSON") from None

    def version(self) -> tuple[str, str]:
        """(engine, API version); EnvironmentFailure when the API is too old."""
        doc = self.get("/version")
        if not isinstance(doc, Mapping):
            raise EnvironmentFailure(f"container engine at {self.url}: /version is not an "
                                     "object")
        api = str(doc.get("ApiVersion") or "")
        if not api or _api_tuple(api) < MIN_API:
            raise EnvironmentFailure(
                f"container engine at {self.url} speaks API {api or 'unknown'}; lashing "
                f"needs {'.'.join(map(str, MIN_API))} or newer")
        name = "Docker Engine"
        components = doc.get("Components")
        if isinstance(components, Sequence) and components:
            first = components[0]
            if isinstance(first, Mapping) and first.get("Name"):
                name = str(first["Name"])
        return f"{name} {doc.get('Version') or ''}".strip(), api

    def security_options(self, api: str) -> tuple[str, ...]:
        doc = self.get(f"/v{api}/info")
        opts = doc.get("SecurityOptions") if isinstance(doc, Mapping) else None
        return tuple(str(o) for o in opts) if isinstance(opts, list) else ()

    def containers(self, api: str) -> list[Container]:
        listing = self.get(f"/v{api}/containers/json", {"all": "1"})
        if not isinstance(listing, list):
            raise EnvironmentFailure(f"container engine at {self.url}: the container list "
                                     "is not an array")
        found = []
        for entry in listing:
            cid = str(entry.get("Id") or "") if isinstance(entry, Mapping) else ""
            if not cid:
                continue
            try:
                inspect = self.get(f"/v{api}/containers/{cid}/json")
            except EnvironmentFailure:
                continue  # removed between the list and the inspect
            if isinstance(inspect, Mapping):
                found.append(Container.from_inspect(inspect))
        return sorted(found, key=lambda c: (c.name, c.id))


def read_engine(url: str, where: str = "--docker-host", tlsverify: bool = False,
                cert_dir: Path | None = None) -> EngineState:
    """Every container the engine at `url` knows; EnvironmentFailure when unreachable.
    TLS (https://, or tcp:// with `tlsverify`) uses ca.pem, cert.pem, key.pem in
    `cert_dir` (default ~/.docker)."""
    with EngineClient(url, where, tlsverify=tlsverify, cert_dir=cert_dir) as client:
        engine, api = client.version()
        options = client.security_options(api)
        containers = client.containers(api)
        transport = client.transport
    how = {"unix": "", "tcp": " over plain TCP", "tls": " over TLS"}[transport]
    notes = (f"{engine} (API {api}) at {url}{how}: {len(containers)} container(s)",)
    return EngineState(url, engine, api, tuple(containers), notes, transport, options)
