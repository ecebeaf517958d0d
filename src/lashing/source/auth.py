"""Registry credentials, looked up where Docker and podman keep them.

Order, first match wins:

1. `LASHING_REGISTRY_USERNAME` / `LASHING_REGISTRY_PASSWORD`;
2. the containers auth file: `REGISTRY_AUTH_FILE`, else
   `${XDG_RUNTIME_DIR}/containers/auth.json` (podman, skopeo, buildah):
   `credHelpers[host]`, then `auths` (repository-specific keys first);
3. the Docker config `config.json` in `DOCKER_CONFIG` or `~/.docker`:
   `credHelpers[host]`, then `auths[host]` (`auth` as base64 `user:password`,
   or `username`/`password`), then `credsStore`.

Helpers speak the docker-credential-helpers protocol: `docker-credential-NAME
get` reads the server URL on stdin and prints `{"Username": ..., "Secret":
...}`; "credentials not found" means anonymous access.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lashing.errors import EnvironmentFailure, InputError

DOCKER_HUB = "docker.io"
DOCKER_HUB_SERVER = "https://index.docker.io/v1/"  # how Docker names Hub in its config
_HUB_NAMES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
HELPER_TIMEOUT = 60.0
MAX_CONFIG_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)
    source: str = ""  # where they came from, for messages (never the secret)


def normalise_host(key: str) -> str:
    """Reduce a config key (`https://index.docker.io/v1/`, `host:5000/ns`) to
    the registry name it stands for (`docker.io`, `host:5000`)."""
    text = key.strip()
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
            break
    host = text.split("/", 1)[0].lower()
    return DOCKER_HUB if host in _HUB_NAMES else host


def _helper_server_url(registry: str) -> str:
    return DOCKER_HUB_SERVER if normalise_host(registry) == DOCKER_HUB else registry


def find_credentials(
    registry: str, repository: str = "", env: Mapping[str, str] | None = None
) -> Credentials | None:
    """Credentials for `registry` (as in a Reference, e.g. `docker.io`), or None
    for anonymous access. `repository` (`library/alpine`) lets the containers
    auth file's repository-specific entries apply."""
    environ = os.environ if env is None else env
    host = normalise_host(registry)
    username = environ.get("LASHING_REGISTRY_USERNAME")
    if username:
        return Credentials(
            username, environ.get("LASHING_REGISTRY_PASSWORD", ""), "LASHING_REGISTRY_USERNAME"
        )
    auth_file = _containers_auth_file(environ)
    if auth_file is not None:
        doc = _read_config(auth_file)
        if doc is not None:
            decided, creds = _from_config(
                doc, auth_file, host, repository, environ, creds_store=False
            )
            if decided:
                return creds
    docker_file = _docker_config_file(environ)
    doc = _read_config(docker_file)
    if doc is not None:
        decided, creds = _from_config(doc, docker_file, host, "", environ, creds_store=True)
        if decided:
            return creds
    return None


def _containers_auth_file(environ: Mapping[str, str]) -> Path | None:
    explicit = environ.get("REGISTRY_AUTH_FILE")
    if explicit:
        return Path(explicit)
    runtime = environ.get("XDG_RUNTIME_DIR")
    return Path(runtime) / "containers" / "auth.json" if runtime else None


def _docker_config_file(environ: Mapping[str, str]) -> Path:
    directory = environ.get("DOCKER_CONFIG")
    base = Path(directory) if directory else Path(environ.get("HOME") or Path.home()) / ".docker"
    return base / "config.json"


def _read_config(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot read registry credentials ({exc.strerror})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InputError(f"{path}: over {MAX_CONFIG_BYTES} bytes; not a credentials file")
    if not data.strip():
        return None
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})", "fix or remove the file") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: expected a JSON object", "fix or remove the file")
    return doc


def _mapping(doc: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = doc.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"{path}: {key!r} must be a JSON object")
    return value


def _from_config(
    doc: dict[str, Any],
    path: Path,
    host: str,
    repository: str,
    environ: Mapping[str, str],
    *,
    creds_store: bool,
) -> tuple[bool, Credentials | None]:
    """(True, credentials or None for anonymous) when this file decides, else
    (False, None): nothing here for `host`."""
    for key, helper in _mapping(doc, "credHelpers", path).items():
        if normalise_host(key) == host:
            if not isinstance(helper, str) or not helper:
                raise InputError(f"{path}: credHelpers[{key!r}] must be a helper name")
            return True, run_helper(helper, _helper_server_url(host), path, environ)
    auths = _mapping(doc, "auths", path)
    for key, entry in _matching_auths(auths, host, repository):
        found = _decode_entry(entry, key, path)
        if found is not None:
            return True, found
    store = doc.get("credsStore")
    if creds_store and store:
        if not isinstance(store, str):
            raise InputError(f"{path}: 'credsStore' must be a helper name")
        return True, run_helper(store, _helper_server_url(host), path, environ)
    return False, None


def _matching_auths(auths: dict[str, Any], host: str, repository: str) -> list[tuple[str, Any]]:
    """Entries for `host`; `host/ns/repo` and `host/ns` keys (containers auth
    files) before the plain host, most specific first."""
    scoped: list[tuple[int, str, Any]] = []
    plain: list[tuple[str, Any]] = []
    for key, entry in auths.items():
        if normalise_host(key) != host:
            continue
        bare = key.split("://", 1)[-1].rstrip("/")
        _, _, path = bare.partition("/")
        if not path or path == "v1" or "://" in key:
            plain.append((key, entry))
        elif repository == path or repository.startswith(path + "/"):
            scoped.append((len(path), key, entry))
    scoped.sort(key=lambda t: -t[0])
    return [(k, e) for _, k, e in scoped] + plain


def _decode_entry(entry: Any, key: str, path: Path) -> Credentials | None:
    if not isinstance(entry, dict):
        raise InputError(f"{path}: auths[{key!r}] must be a JSON object")
    source = f"{path} (auths[{key!r}])"
    auth = entry.get("auth")
    if auth:
        if not isinstance(auth, str):
            raise InputError(f"{path}: auths[{key!r}].auth must be a string")
        try:
            decoded = base64.b64decode(auth, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise InputError(f"{path}: auths[{key!r}].auth is not valid base64") from None
        username, colon, password = decoded.partition(":")
        if not colon or not username:
            raise InputError(f"{path}: auths[{key!r}].auth is not base64 of USER:PASSWORD")
        return Credentials(username, password, source)
    user = entry.get("username")
    if isinstance(user, str) and user:
        secret = entry.get("password")
        return Credentials(user, secret if isinstance(secret, str) else "", source)
    return None


def run_helper(
    name: str, server_url: str, config: Path, env: Mapping[str, str] | None = None
) -> Credentials | None:
    """Ask `docker-credential-NAME` for the credentials of `server_url`."""
    program = f"docker-credential-{name}"
    environ = dict(os.environ if env is None else env)
    executable = shutil.which(program, path=environ.get("PATH"))
    if executable is None:
        raise EnvironmentFailure(
            f"{config}: credential helper {program} is not installed (not on PATH)",
            f"install {program}, or remove it from {config}",
        )
    try:
        proc = subprocess.run(
            [executable, "get"],
            input=server_url.encode(),
            capture_output=True,
            timeout=HELPER_TIMEOUT,
            env=environ,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise EnvironmentFailure(
            f"credential helper {program} gave no answer within {HELPER_TIMEOUT:g}s"
        ) from None
    except OSError as exc:
        raise EnvironmentFailure(f"cannot run credential helper {program} ({exc})") from None
    out = proc.stdout.decode(errors="replace").strip()
    if proc.returncode != 0:
        message = out or proc.stderr.decode(errors="replace").strip()
        if "credentials not found" in message.lower():
            return None
        first = message.splitlines()[0][:200] if message else f"exit status {proc.returncode}"
        raise EnvironmentFailure(f"credential helper {program} failed for {server_url}: {first}")
    try:
        doc = json.loads(out)
    except ValueError:
        raise EnvironmentFailure(
            f"credential helper {program} printed something that is not JSON"
        ) from None
    if not isinstance(doc, dict):
        raise EnvironmentFailure(f"credential helper {program} printed no JSON object")
    username, secret = doc.get("Username"), doc.get("Secret")
    if not isinstance(username, str) or not isinstance(secret, str):
        raise EnvironmentFailure(f"credential helper {program} gave no Username/Secret")
    if not username and not secret:
        return None
    return Credentials(username, secret, program)
