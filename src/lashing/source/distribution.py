"""A client of one repository on a registry, over the Distribution API v2.

Ping `/v2/`; on a 401 answer the `WWW-Authenticate` challenge decides:
`Bearer` gets a token from the realm (anonymously, or with the credentials
of source/auth.py) for `repository:NAME:pull`, reused for the repository and
fetched again when a request is refused; `Basic` sends the credentials.
Credentials are looked up only when a registry asks for them, and never
appear in messages.

Manifests and blobs are verified against their digests and kept in the blob
cache, so whatever is named by digest and cached needs no network at all
(which is also what `--offline` can still do).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlencode

import httpx

from lashing.cache import BlobCache
from lashing.errors import (
    DigestMismatchError,
    EnvironmentFailure,
    InputError,
    LimitExceededError,
    ManifestUnknownError,
    RegistryError,
)
from lashing.http import HttpClient, StreamedResponse, host_port
from lashing.options import SourceOptions
from lashing.progress import Progress
from lashing.source.auth import Credentials, find_credentials
from lashing.source.image import INDEX_TYPES, MANIFEST_TYPES, load_json
from lashing.source.manifest import Descriptor
from lashing.source.reference import Reference

SCHEMA1_TYPES = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
ACCEPT_MANIFESTS = ", ".join((*INDEX_TYPES, *MANIFEST_TYPES))
MAX_ERROR_BODY = 64 * 1024
CREDENTIALS_HINT = (
    "the repository may not exist, or it needs credentials: `docker login`, "
    "`podman login`, or LASHING_REGISTRY_USERNAME and LASHING_REGISTRY_PASSWORD"
)


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "bearer" or "basic", lowercase
    params: dict[str, str]


_PARAM = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')


def parse_challenge(header: str | None) -> Challenge | None:
    """Parse `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(rest):
        value = match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[match.group(1).lower()] = value
    return Challenge(scheme.lower(), params)


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _printable(text: str, limit: int = 200) -> str:
    clean = "".join(c if c.isprintable() else " " for c in text).strip()
    return clean if len(clean) <= limit else clean[:limit] + "..."


class RegistryClient:
    """One repository on one registry: its requests and authorisation state."""

    def __init__(
        self, ref: Reference, options: SourceOptions, http: HttpClient, cache: BlobCache
    ) -> None:
        self.ref = ref
        self.offline = options.offline
        self.http = http
        self.cache = cache
        self.max_json = options.limits.max_json_bytes
        insecure = http.is_insecure(ref.registry) or http.is_insecure(ref.api_host)
        self.base = f"{'http' if insecure else 'https'}://{ref.api_host}/v2/"
        self._pinged = False
        self._challenge: Challenge | None = None
        self._authorization: str | None = None
        self._tokens: dict[tuple[str, str, str], str] = {}
        self._credentials: Credentials | None = None
        self._credentials_loaded = False

    # -- manifests and blobs ------------------------------------------------

    def manifest(
        self, reference: str, expected: str | None, what: str
    ) -> tuple[bytes, str, dict[str, Any]]:
        """(exact bytes, their digest, parsed object) of the manifest or index named
        by `reference` (a tag or digest); `expected` is the digest it must have."""
        body = self.cache.read(expected) if expected else None
        if body is None:
            body = self._fetch_manifest(reference, expected, what)
        doc = load_json(body, f"{what}: manifest", self.max_json)
        if not isinstance(doc, dict):
            raise InputError(f"{what}: manifest is not a JSON object")
        return body, _sha256(body), doc

    def _fetch_manifest(self, reference: str, expected: str | None, what: str) -> bytes:
        url = f"{self.base}{self.ref.repository}/manifests/{reference}"
        with self._request(url, what, ACCEPT_MANIFESTS) as response:
            if response.status == 404:
                raise ManifestUnknownError(
                    f"manifest unknown: {what} was not found on {self.ref.registry}",
                    "check the repository name and tag",
                )
            if response.status != 200:
                raise self._status_error(response, what)
            content_type = response.headers.get("content-type", "").split(";")[0].strip()
            if content_type in SCHEMA1_TYPES:
                raise schema1_error(what)
            try:
                body = response.read(self.max_json)
            except LimitExceededError:
                raise LimitExceededError(
                    f"{what}: manifest is over the {self.max_json}-byte limit for JSON"
                ) from None
            header = response.headers.get("docker-content-digest", "")
        digest = _sha256(body)
        if expected and digest != expected:
            raise DigestMismatchError(
                f"{what}: manifest from {url} does not match its digest {expected} (got {digest})"
            )
        if header.startswith("sha256:") and header != digest:
            raise DigestMismatchError(
                f"{what}: manifest digest {digest} differs from the registry's "
                f"Docker-Content-Digest {header}"
            )
        self.cache.put(digest, body, url)
        return body

    def _blob_url(self, digest: str) -> str:
        return f"{self.base}{self.ref.repository}/blobs/{digest}"

    def json_blob(self, desc: Descriptor, what: str) -> bytes:
        """A JSON blob (the config): from the cache, or fetched within the JSON limit."""
        cached = self.cache.read(desc.digest)
        if cached is not None:
            return cached
        if desc.size > self.max_json:
            raise LimitExceededError(
                f"{what}: {desc.size} bytes is over the {self.max_json}-byte limit for JSON"
            )
        with self.download(desc, what, None) as f:
            return f.read()

    def open_blob(self, desc: Descriptor, what: str, progress: Progress | None) -> IO[bytes]:
        """The blob opened for reading: from the cache, or downloaded into it first."""
        cached = self.cache.open(desc.digest)
        return cached if cached is not None else self.download(desc, what, progress)

    def download(self, desc: Descriptor, what: str, progress: Progress | None) -> IO[bytes]:
        """Stream the blob into the cache, verifying size and digest; progress
        advances by bytes. Returns the verified blob opened for reading."""
        url = self._blob_url(desc.digest)
        with self._request(url, what) as response:
            if response.status == 404:
                raise RegistryError(f"blob unknown: {what} was not found on {self.ref.registry}")
            if response.status != 200:
                raise self._status_error(response, what)
            task = progress.task(f"{desc.digest[:19]}", desc.size) if progress else None
            with self.cache.writer(desc.digest, url, desc.size) as writer:
                for chunk in response.iter_bytes():
                    writer.write(chunk)
                    if task is not None:
                        task.advance(len(chunk))
                reader = writer.commit()
            if task is not None:
                task.finish()
            return reader

    # -- requests and authorisation -----------------------------------------

    @contextlib.contextmanager
    def _request(
        self, url: str, what: str, accept: str | None = None
    ) -> Iterator[StreamedResponse]:
        if self.offline:
            raise EnvironmentFailure(
                f"offline: cannot pull {self.ref} ({what} is not in the cache)",
                "run once without --offline to fill the cache, or name the image by digest",
            )
        self._ping()
        if self._authorization is None and self._challenge is not None:
            self._authorize(self._challenge, refresh=False)
        retried = False
        while True:
            headers = {"Accept": accept} if accept else {}
            if self._authorization:
                headers["Authorization"] = self._authorization
            with contextlib.ExitStack() as stack:
                response = stack.enter_context(self.http.stream(url, headers=headers))
                if response.status == 401 and not retried:
                    challenge = parse_challenge(response.headers.get("www-authenticate"))
                    if challenge is not None and challenge.scheme in ("bearer", "basic"):
                        retried = True
                        stack.close()
                        self._authorize(challenge, refresh=True)
                        continue
                if response.status in (401, 403):
                    raise self._denied(response.status)
                yield response
                return

    def _ping(self) -> None:
        if self._pinged:
            return
        with self.http.stream(self.base) as response:
            status = response.status
            if status == 401:
                self._challenge = parse_challenge(response.headers.get("www-authenticate"))
            elif status == 404:
                raise RegistryError(
                    f"{self.ref.registry} does not serve the registry API v2 ({self.base})"
                )
            elif status != 200:
                raise self._status_error(response, f"{self.ref.registry} ({self.base})")
        self._pinged = True

    def _creds(self) -> Credentials | None:
        if not self._credentials_loaded:
            self._credentials = find_credentials(self.ref.registry, self.ref.repository)
            self._credentials_loaded = True
        return self._credentials

    def _authorize(self, challenge: Challenge, *, refresh: bool) -> None:
        if challenge.scheme == "basic":
            creds = self._creds()
            if creds is None:
                raise RegistryError(
                    f"{self.ref.registry}: unauthorized to pull {self.ref.repository_name} "
                    "(the registry wants a user name and password)",
                    CREDENTIALS_HINT,
                )
            pair = f"{creds.username}:{creds.password}".encode()
            self._authorization = "Basic " + base64.b64encode(pair).decode()
            return
        if challenge.scheme != "bearer":
            raise RegistryError(
                f"{self.ref.registry}: unsupported authentication scheme {challenge.scheme!r}"
            )
        realm = challenge.params.get("realm", "")
        service = challenge.params.get("service", "")
        scope = challenge.params.get("scope") or f"repository:{self.ref.repository}:pull"
        key = (realm, service, scope)
        token = None if refresh else self._tokens.get(key)
        if token is None:
            token = self._fetch_token(realm, service, scope)
            self._tokens[key] = token
        self._authorization = f"Bearer {token}"

    def _fetch_token(self, realm: str, service: str, scope: str) -> str:
        registry = self.ref.registry
        try:
            realm_url = httpx.URL(realm)
        except httpx.InvalidURL:
            realm_url = None
        if realm_url is None or realm_url.scheme not in ("http", "https") or not realm_url.host:
            raise RegistryError(f"{registry}: the token realm {_printable(realm)!r} is not a URL")
        query = {k: v for k, v in (("service", service), ("scope", scope)) if v}
        url = f"{realm}{'&' if '?' in realm else '?'}{urlencode(query)}" if query else realm
        headers: dict[str, str] = {}
        creds = self._creds()
        if creds is not None:
            if realm_url.scheme == "http" and not self.http.is_insecure(host_port(realm_url)):
                raise RegistryError(
                    f"{registry}: refusing to send credentials to the plain-HTTP token "
                    f"service {realm_url.host}",
                    f"pass --insecure-registry {host_port(realm_url)} if that is intended",
                )
            pair = f"{creds.username}:{creds.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        response = self.http.get(url, headers=headers, max_bytes=self.max_json)
        if response.status in (401, 403):
            who = f"the credentials from {creds.source}" if creds else "anonymous access"
            raise RegistryError(
                f"{registry}: unauthorized: the token service {realm_url.host} refused "
                f"{who} to {self.ref.repository_name} (HTTP {response.status})",
                CREDENTIALS_HINT,
            )
        if response.status != 200:
            raise RegistryError(
                f"{registry}: the token service {realm_url.host} answered HTTP {response.status}"
            )
        doc = load_json(response.content, f"{registry}: token service answer", self.max_json)
        token = (doc.get("token") or doc.get("access_token")) if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{registry}: the token service {realm_url.host} gave no token")
        return token

    # -- errors -------------------------------------------------------------

    def _denied(self, status: int) -> RegistryError:
        verb = "unauthorized" if status == 401 else "denied"
        creds = self._creds() if status == 401 else self._credentials
        used = f" with the credentials from {creds.source}" if creds and creds.source else ""
        return RegistryError(
            f"{self.ref.registry}: {verb} to pull {self.ref.repository_name}{used} (HTTP {status})",
            CREDENTIALS_HINT,
        )

    def _status_error(self, response: StreamedResponse, what: str) -> RegistryError:
        detail = ""
        try:
            body = response.read(MAX_ERROR_BODY)
            doc = load_json(body, "registry error", MAX_ERROR_BODY)
            errors = doc.get("errors") if isinstance(doc, dict) else None
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                code = str(errors[0].get("code", ""))
                message = str(errors[0].get("message", ""))
                detail = ": " + _printable(f"{code} {message}")
        except (InputError, RegistryError):
            pass
        return RegistryError(f"{what}: {self.ref.registry} answered HTTP {response.status}{detail}")


def schema1_error(what: str) -> InputError:
    return InputError(
        f"{what}: Docker image manifest schema 1 is unsupported",
        "schema 1 is deprecated; push the image again with a current client",
    )
