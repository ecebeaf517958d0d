"""Registries for tests, all on 127.0.0.1.

- `start_registry`: the real Distribution registry (`/usr/bin/docker-registry`)
  with filesystem storage in a temporary directory, optionally with htpasswd
  basic auth or TLS;
- `Pusher`: a tiny client of the Distribution API (monolithic uploads) that
  pushes images built by tests/imagebuilder.py, and image indexes;
- `skopeo_copy` / `skopeo_raw_manifest`: the real tool as an oracle;
- `FakeRegistry`: a small http.server registry for what the real one will
  not do on demand: bearer tokens, 5xx and 429 answers, slow answers, broken
  manifests, redirects, acting as an HTTP proxy; it records every request.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from imagebuilder import BuiltImage

REGISTRY_BIN = Path("/usr/bin/docker-registry")
MEDIA_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json"

# Basic-auth test account; the hash is bcrypt (cost 4) of TEST_PASSWORD, which
# is the only hash format the registry's htpasswd backend accepts.
TEST_USER = "tester"
TEST_PASSWORD = "s3cret-pass"
TEST_BCRYPT = "$2b$04$9pynoonMLVoShsPTJplrTOpZuo8JrJQfEU9f1sXa3mL2/MacZzN6C"

PROXY_VARS = (
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
    "http_proxy", "https_proxy", "all_proxy", "no_proxy",
)  # fmt: skip


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def clean_env() -> dict[str, str]:
    """The environment without proxies, for tools talking to 127.0.0.1."""
    return {k: v for k, v in os.environ.items() if k not in PROXY_VARS}


# -- the real registry --------------------------------------------------------


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    scheme: str
    storage: Path
    process: subprocess.Popen[bytes]
    log: Path
    basic_auth: tuple[str, str] | None = None
    ca_file: Path | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def verify(self) -> ssl.SSLContext | bool:
        if self.ca_file is None:
            return False
        return ssl.create_default_context(cafile=str(self.ca_file))

    def pusher(self) -> Pusher:
        return Pusher(self.url, self.basic_auth, self.verify())

    def blob_path(self, digest: str) -> Path:
        """Where the registry keeps a blob's bytes (for tests that corrupt one)."""
        hexpart = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hexpart[:2] / hexpart / "data"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_registry(
    workdir: Path,
    *,
    basic_auth: bool = False,
    tls: tuple[Path, Path, Path] | None = None,  # (certificate chain, key, CA)
) -> Registry:
    port = free_port()
    storage = workdir / "storage"
    storage.mkdir(parents=True)
    lines = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {storage}",
        "  maintenance:",
        "    uploadpurging:",
        "      enabled: false",
        "http:",
        f"  addr: 127.0.0.1:{port}",
        "  secret: lashing-test-secret",
    ]
    if tls is not None:
        lines += ["  tls:", f"    certificate: {tls[0]}", f"    key: {tls[1]}"]
    if basic_auth:
        htpasswd = workdir / "htpasswd"
        htpasswd.write_text(f"{TEST_USER}:{TEST_BCRYPT}\n")
        lines += ["auth:", "  htpasswd:", "    realm: lashing-test", f"    path: {htpasswd}"]
    config = workdir / "config.yml"
    config.write_text("\n".join(lines) + "\n")
    log = workdir / "registry.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(REGISTRY_BIN), "serve", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=clean_env(),
        )
    registry = Registry(
        host=f"127.0.0.1:{port}",
        scheme="https" if tls else "http",
        storage=storage,
        process=process,
        log=log,
        basic_auth=(TEST_USER, TEST_PASSWORD) if basic_auth else None,
        ca_file=tls[2] if tls else None,
    )
    deadline = time.monotonic() + 15
    with httpx.Client(verify=registry.verify(), trust_env=False, timeout=2) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"{registry.url}/v2/").status_code in (200, 401):
                    return registry
            if time.monotonic() > deadline:
                registry.stop()
                raise RuntimeError(f"docker-registry did not answer: {log.read_text()[-2000:]}")
            time.sleep(0.05)


class Pusher:
    """Pushes blobs and manifests with the Distribution API (monolithic PUT)."""

    def __init__(
        self, url: str, auth: tuple[str, str] | None, verify: ssl.SSLContext | bool
    ) -> None:
        self.url = url
        self.client = httpx.Client(auth=auth, verify=verify, trust_env=False, timeout=30)

    def blob(self, repo: str, data: bytes) -> str:
        digest = sha256(data)
        r = self.client.post(f"{self.url}/v2/{repo}/blobs/uploads/")
        assert r.status_code == 202, (r.status_code, r.text)
        location = httpx.URL(self.url).join(r.headers["location"])
        location = location.copy_merge_params({"digest": digest})
        r = self.client.put(
            location, content=data, headers={"Content-Type": "application/octet-stream"}
        )
        assert r.status_code == 201, (r.status_code, r.text)
        return digest

    def manifest(self, repo: str, ref: str, body: bytes, media_type: str) -> str:
        r = self.client.put(
            f"{self.url}/v2/{repo}/manifests/{ref}",
            content=body,
            headers={"Content-Type": media_type},
        )
        assert r.status_code == 201, (r.status_code, r.text)
        return sha256(body)

    def image(self, repo: str, ref: str, img: BuiltImage) -> str:
        self.blob(repo, img.config)
        for layer in img.layer_blobs:
            self.blob(repo, layer)
        return self.manifest(repo, ref, img.manifest, MEDIA_OCI_MANIFEST)

    def index(
        self, repo: str, tag: str, images: Sequence[tuple[BuiltImage, Mapping[str, str]]]
    ) -> tuple[bytes, str]:
        """Push each (image, platform) by digest, then an OCI index under `tag`."""
        entries = []
        for img, platform in images:
            digest = self.image(repo, sha256(img.manifest), img)
            entries.append(
                {
                    "mediaType": MEDIA_OCI_MANIFEST,
                    "digest": digest,
                    "size": len(img.manifest),
                    "platform": dict(platform),
                }
            )
        body = json.dumps(
            {"schemaVersion": 2, "mediaType": MEDIA_OCI_INDEX, "manifests": entries}
        ).encode()
        return body, self.manifest(repo, tag, body, MEDIA_OCI_INDEX)

    def close(self) -> None:
        self.client.close()


# -- skopeo as an oracle ------------------------------------------------------


def have_skopeo() -> bool:
    return shutil.which("skopeo") is not None


def skopeo_copy(src: str, dest: str) -> None:
    subprocess.run(
        ["skopeo", "--insecure-policy", "copy", "--quiet", "--preserve-digests",
         "--dest-tls-verify=false", src, dest],
        check=True,
        env=clean_env(),
        capture_output=True,
    )  # fmt: skip


def skopeo_raw_manifest(ref: str) -> bytes:
    return subprocess.run(
        ["skopeo", "--insecure-policy", "inspect", "--raw", "--tls-verify=false", ref],
        check=True,
        env=clean_env(),
        capture_output=True,
    ).stdout


# -- a fake registry ----------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str  # path and query, also when the request came as a proxy request
    headers: dict[str, str]
    proxied: bool


@dataclass
class FakeRegistry:
    """Serves manifests and blobs from dicts; every knob is a plain attribute."""

    manifests: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # "repo:ref"
    blobs: dict[str, bytes] = field(default_factory=dict)  # digest -> bytes
    requests: list[Seen] = field(default_factory=list)
    bearer: bool = False  # require a token from /token
    token_user: tuple[str, str] | None = None  # basic credentials the token endpoint wants
    token: str = "fake-token-1"
    fail_status: int | None = None  # answer every request with this status ...
    fail_times: int = -1  # ... this many times (-1: always)
    retry_after: str | None = None
    delay: float = 0.0  # seconds to sleep before answering
    omit_length: bool = False  # close-delimited bodies without Content-Length
    digest_header: str | None = None  # Docker-Content-Digest to send for manifests
    blob_redirect: str | None = None  # base URL to redirect blob GETs to
    _server: ThreadingHTTPServer | None = None

    @property
    def host(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def add_image(self, repo: str, tag: str | None, img: BuiltImage) -> str:
        digest = sha256(img.manifest)
        self.blobs[img.image_id] = img.config
        for blob in img.layer_blobs:
            self.blobs[sha256(blob)] = blob
        self.manifests[f"{repo}:{digest}"] = (img.manifest, MEDIA_OCI_MANIFEST)
        if tag:
            self.manifests[f"{repo}:{tag}"] = (img.manifest, MEDIA_OCI_MANIFEST)
        return digest

    def paths(self, method: str = "GET") -> list[str]:
        return [s.path for s in self.requests if s.method == method]

    def start(self) -> FakeRegistry:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self)

            def do_HEAD(self) -> None:
                fake._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        server = self._server
        threading.Thread(target=lambda: server.serve_forever(0.02), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeRegistry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answering ----------------------------------------------------------

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        if not self.omit_length:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _error(self, h: BaseHTTPRequestHandler, status: int, code: str) -> None:
        body = json.dumps({"errors": [{"code": code, "message": code.lower()}]}).encode()
        self._send(h, status, body, {"Content-Type": "application/json"})

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.requests.append(Seen(h.command, path, dict(h.headers.items()), bool(parts.scheme)))
        if self.delay:
            time.sleep(self.delay)
        if self.fail_status is not None and self.fail_times != 0:
            self.fail_times -= 1
            extra = {"Retry-After": self.retry_after} if self.retry_after else {}
            self._send(h, self.fail_status, b"{}", extra)
            return
        if parts.path == "/token":
            self._token(h, parse_qs(parts.query))
            return
        if not parts.path.startswith("/v2/"):
            self._error(h, 404, "NOT_FOUND")
            return
        if self.bearer and h.headers.get("Authorization") != f"Bearer {self.token}":
            scope = ""
            repo = parts.path[4:].rsplit("/", 2)[0]
            if parts.path != "/v2/":
                scope = f',scope="repository:{repo}:pull"'
            challenge = f'Bearer realm="{self.url}/token",service="fake"{scope}'
            body = json.dumps({"errors": [{"code": "UNAUTHORIZED"}]}).encode()
            self._send(h, 401, body, {"WWW-Authenticate": challenge})
            return
        if parts.path == "/v2/":
            self._send(h, 200, b"{}", {"Content-Type": "application/json"})
            return
        repo, kind, ref = parts.path[4:].rsplit("/", 2)
        if kind == "manifests":
            found = self.manifests.get(f"{repo}:{ref}")
            if found is None:
                self._error(h, 404, "MANIFEST_UNKNOWN")
                return
            body, media = found
            headers = {"Content-Type": media, "Docker-Content-Digest": sha256(body)}
            if self.digest_header is not None:
                headers["Docker-Content-Digest"] = self.digest_header
            self._send(h, 200, body, headers)
        elif kind == "blobs":
            if self.blob_redirect:
                self._send(h, 307, b"", {"Location": f"{self.blob_redirect}/cdn/{ref}"})
                return
            blob = self.blobs.get(ref)
            if blob is None:
                self._error(h, 404, "BLOB_UNKNOWN")
                return
            self._send(h, 200, blob, {"Content-Type": "application/octet-stream"})
        else:
            self._error(h, 404, "NOT_FOUND")

    def _token(self, h: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        if self.token_user is not None:
            user, password = self.token_user
            expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            if h.headers.get("Authorization") != expected:
                self._error(h, 401, "UNAUTHORIZED")
                return
        body = json.dumps({"token": self.token, "scope": query.get("scope", [""])[0]})
        self._send(h, 200, body.encode(), {"Content-Type": "application/json"})


class CdnServer(FakeRegistry):
    """Serves `/cdn/<digest>` from `blobs`: the target of a blob redirect."""

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        self.requests.append(Seen(h.command, parts.path, dict(h.headers.items()), False))
        blob = self.blobs.get(parts.path.rsplit("/", 1)[-1])
        if blob is None:
            self._error(h, 404, "BLOB_UNKNOWN")
        else:
            self._send(h, 200, blob, {"Content-Type": "application/octet-stream"})


@contextlib.contextmanager
def fake_registry() -> Iterator[FakeRegistry]:
    with FakeRegistry() as fake:
        yield fake
