"""Engine URLs as the docker CLI writes them, and the TLS files they need."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tlsfront import make_certs

from lashing.errors import InputError
from lashing.host.engine_url import parse_endpoint, tls_context


@pytest.mark.parametrize(("url", "tlsverify", "base", "tls", "sock"), [
    ("unix:///var/run/docker.sock", False, "http://engine", False, "/var/run/docker.sock"),
    ("/run/podman/podman.sock", False, "http://engine", False, "/run/podman/podman.sock"),
    ("tcp://127.0.0.1:2375", False, "http://127.0.0.1:2375", False, None),
    ("tcp://10.0.0.5", False, "http://10.0.0.5:2375", False, None),
    ("tcp://10.0.0.5", True, "https://10.0.0.5:2376", True, None),
    ("tcp://[::1]:2376", True, "https://[::1]:2376", True, None),
    ("https://builder.example.com", False, "https://builder.example.com:2376", True, None),
    ("http://127.0.0.1:8080/", False, "http://127.0.0.1:8080", False, None),
])
def test_engine_urls(url: str, tlsverify: bool, base: str, tls: bool, sock: str | None,
                     ) -> None:
    e = parse_endpoint(url, tlsverify=tlsverify)
    assert (e.base_url, e.tls, e.socket) == (base, tls, sock)


@pytest.mark.parametrize(("url", "message"), [
    ("ssh://ci@builder", "only unix://, tcp://, http:// and https://"),
    ("npipe:////./pipe/docker_engine", "only unix://"),
    ("tcp://:2375", "no host name"),
    ("tcp://host:99999", "not a number"),
    ("tcp://u:p@host:2375", "scheme://HOST:PORT only"),
    ("tcp://host:2375?x=1", "scheme://HOST:PORT only"),
])
def test_refused_urls(url: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)) as exc:
        parse_endpoint(url)
    assert url in exc.value.message and "\n" not in exc.value.message


def test_tls_files(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    assert tls_context(certs).verify_mode.name == "CERT_REQUIRED"
    (certs / "key.pem").unlink()
    with pytest.raises(InputError, match=re.escape("key.pem: missing")):
        tls_context(certs)
    (certs / "key.pem").write_bytes((certs / "server-key.pem").read_bytes())  # wrong key
    with pytest.raises(InputError, match="not a matching PEM certificate and key"):
        tls_context(certs)
    (certs / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\ngarbage\n")
    with pytest.raises(InputError, match=re.escape("ca.pem: not a PEM CA certificate")):
        tls_context(certs)
