"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# ---------------------------------------------------------------------------
# Registries (tests/registry.py): the real Distribution registry on 127.0.0.1,
# plain, with basic auth, and with TLS; a fake registry; a clean environment.
# ---------------------------------------------------------------------------
from registry import (
    PROXY_VARS,
    REGISTRY_BIN,
    FakeRegistry,
    Registry,
    start_registry,
)


def _need_registry() -> None:
    if not REGISTRY_BIN.exists():
        pytest.skip(f"needs {REGISTRY_BIN} (Debian package docker-registry)")


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """The real registry, anonymous, plain HTTP."""
    _need_registry()
    reg = start_registry(tmp_path_factory.mktemp("registry"))
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """The real registry with htpasswd basic auth (registry.TEST_USER)."""
    _need_registry()
    reg = start_registry(tmp_path_factory.mktemp("auth-registry"), basic_auth=True)
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """The real registry over HTTPS with a certificate from a test CA."""
    _need_registry()
    import trustme

    workdir = tmp_path_factory.mktemp("tls-registry")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    chain, key, ca_file = workdir / "cert.pem", workdir / "key.pem", workdir / "ca.pem"
    cert.private_key_pem.write_to_path(str(key))
    chain.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    ca.cert_pem.write_to_path(str(ca_file))
    reg = start_registry(workdir / "run", tls=(chain, key, ca_file))
    yield reg
    reg.stop()


@pytest.fixture
def fake_registry() -> Iterator[FakeRegistry]:
    with FakeRegistry() as fake:
        yield fake


@pytest.fixture
def registry_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No proxies, no credentials from the machine: empty Docker and podman
    configs under a temporary HOME, which is returned."""
    for var in (*PROXY_VARS, "LASHING_REGISTRY_USERNAME", "LASHING_REGISTRY_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("DOCKER_CONFIG", str(home / ".docker"))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(home / "auth.json"))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    return home


# ---------------------------------------------------------------------------
