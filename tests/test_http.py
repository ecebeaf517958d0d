"""The HTTP client: retries, timeouts, limits, redirects, CAs and proxies."""

from __future__ import annotations

import email.utils
import time
from pathlib import Path

import pytest

from lashing.errors import EXIT_ENVIRONMENT, InputError, LimitExceededError, RegistryError
from lashing.http import HttpClient, _retry_after

from registry import CdnServer, FakeRegistry, Registry, free_port

pytestmark = pytest.mark.usefixtures("registry_env")


def client(**kw: object) -> HttpClient:
    kw.setdefault("backoff", 0.001)
    kw.setdefault("timeout", 5.0)
    return HttpClient(**kw)  # type: ignore[arg-type]


def test_retries_5xx_then_succeeds(fake_registry: FakeRegistry) -> None:
    fake_registry.fail_status, fake_registry.fail_times = 503, 2
    with client(retries=3) as http:
        r = http.get(f"{fake_registry.url}/v2/")
    assert r.status == 200 and r.content == b"{}"
    assert len(fake_registry.requests) == 3


def test_gives_up_after_the_retries(fake_registry: FakeRegistry) -> None:
    fake_registry.fail_status = 500
    with client(retries=2) as http:
        r = http.get(f"{fake_registry.url}/v2/")
    assert r.status == 500
    assert len(fake_registry.requests) == 3


def test_no_retry_on_client_errors(fake_registry: FakeRegistry) -> None:
    fake_registry.fail_status = 404
    with client(retries=3) as http:
        assert http.get(f"{fake_registry.url}/v2/").status == 404
    assert len(fake_registry.requests) == 1


def test_retry_after_is_honoured_up_to_the_cap(fake_registry: FakeRegistry) -> None:
    fake_registry.fail_status, fake_registry.fail_times = 429, 1
    fake_registry.retry_after = "30"
    start = time.monotonic()
    with client(retries=1, max_delay=0.3) as http:
        assert http.get(f"{fake_registry.url}/v2/").status == 200
    elapsed = time.monotonic() - start
    assert 0.3 <= elapsed < 5


def test_retry_after_forms() -> None:
    assert _retry_after("7") == 7.0
    assert _retry_after(None) is None and _retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 60, usegmt=True)
    delay = _retry_after(later)
    assert delay is not None and 50 < delay <= 60
    assert _retry_after(email.utils.formatdate(0, usegmt=True)) == 0.0


def test_connection_refused_is_exit_3() -> None:
    port = free_port()
    with client(retries=1) as http, pytest.raises(RegistryError) as info:
        http.get(f"http://127.0.0.1:{port}/v2/")
    assert info.value.exit_code == EXIT_ENVIRONMENT
    msg = info.value.message
    assert f"127.0.0.1:{port}" in msg and "cannot connect" in msg and "tried 2 times" in msg


def test_timeout(fake_registry: FakeRegistry) -> None:
    fake_registry.delay = 2.0
    start = time.monotonic()
    with client(retries=0, timeout=0.3) as http, pytest.raises(RegistryError) as info:
        http.get(f"{fake_registry.url}/v2/")
    assert time.monotonic() - start < 1.5
    assert "no answer from" in info.value.message and fake_registry.host in info.value.message
    assert info.value.exit_code == EXIT_ENVIRONMENT


@pytest.mark.parametrize("omit_length", [False, True])
def test_body_limit(fake_registry: FakeRegistry, omit_length: bool) -> None:
    fake_registry.omit_length = omit_length
    fake_registry.blobs["sha256:big"] = b"x" * 5000
    url = f"{fake_registry.url}/v2/r/blobs/sha256:big"
    with client() as http:
        assert len(http.get(url, max_bytes=5000).content) == 5000
        with pytest.raises(LimitExceededError, match="over the 4999-byte limit"):
            http.get(url, max_bytes=4999)


def test_authorization_does_not_follow_a_redirect_to_another_host(
    fake_registry: FakeRegistry,
) -> None:
    with CdnServer() as cdn:
        cdn.blobs["sha256:abc"] = b"layer"
        fake_registry.blob_redirect = cdn.url
        with client() as http:
            r = http.get(
                f"{fake_registry.url}/v2/r/blobs/sha256:abc",
                headers={"Authorization": "Bearer secret"},
            )
        assert r.content == b"layer"
        assert fake_registry.requests[0].headers.get("Authorization") == "Bearer secret"
        assert "Authorization" not in cdn.requests[0].headers


def test_authorization_kept_on_a_same_origin_redirect(fake_registry: FakeRegistry) -> None:
    fake_registry.blob_redirect = fake_registry.url
    with client() as http:
        r = http.get(f"{fake_registry.url}/v2/r/blobs/x", headers={"Authorization": "Bearer s"})
    assert r.status == 404
    assert [s.path for s in fake_registry.requests] == ["/v2/r/blobs/x", "/cdn/x"]
    assert fake_registry.requests[1].headers.get("Authorization") == "Bearer s"


def test_https_to_a_plain_http_server(fake_registry: FakeRegistry) -> None:
    with client(retries=3) as http, pytest.raises(RegistryError) as info:
        http.get(f"https://{fake_registry.host}/v2/")
    assert "TLS handshake" in info.value.message
    assert f"--insecure-registry {fake_registry.host}" in (info.value.hint or "")
    assert len(fake_registry.requests) == 0  # a TLS failure is not retried


def test_untrusted_certificate(tls_registry: Registry) -> None:
    with client(retries=2) as http, pytest.raises(RegistryError) as info:
        http.get(f"{tls_registry.url}/v2/")
    assert "not trusted" in info.value.message and tls_registry.host in info.value.message
    assert "--ca-file" in (info.value.hint or "")


def test_ca_file(tls_registry: Registry) -> None:
    with client(ca_file=tls_registry.ca_file) as http:
        assert http.get(f"{tls_registry.url}/v2/").status == 200


def test_certs_d_directory_of_the_host(tls_registry: Registry, tmp_path: Path) -> None:
    assert tls_registry.ca_file is not None
    ca = tls_registry.ca_file.read_bytes()
    (tmp_path / "other.example.com").mkdir()
    (tmp_path / "other.example.com" / "ca.crt").write_bytes(ca)
    with client(certs_dirs=(tmp_path,), retries=0) as http, pytest.raises(RegistryError):
        http.get(f"{tls_registry.url}/v2/")  # another host's CA does not apply
    (tmp_path / tls_registry.host).mkdir()
    (tmp_path / tls_registry.host / "ca.crt").write_bytes(ca)
    with client(certs_dirs=(tmp_path / "missing", tmp_path)) as http:
        assert http.get(f"{tls_registry.url}/v2/").status == 200


def test_insecure_host_skips_verification(tls_registry: Registry) -> None:
    with client(insecure_hosts=(tls_registry.host,)) as http:
        assert http.is_insecure(tls_registry.host)
        assert http.get(f"{tls_registry.url}/v2/").status == 200


def test_bad_ca_file(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(InputError, match="--ca-file"):
        HttpClient(ca_file=bad)


def test_proxy_from_the_environment(
    fake_registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", fake_registry.url)
    with client() as http:
        r = http.get("http://registry.invalid:5000/v2/")
    assert r.status == 200
    assert fake_registry.requests[0].proxied
    monkeypatch.setenv("NO_PROXY", "registry.invalid")
    with client(retries=0) as http, pytest.raises(RegistryError, match=r"registry\.invalid"):
        http.get("http://registry.invalid:5000/v2/")


def test_messages_never_show_user_info() -> None:
    port = free_port()
    with client(retries=0) as http, pytest.raises(RegistryError) as info:
        http.get(f"http://user:hunter2@127.0.0.1:{port}/db.tar")
    assert "hunter2" not in info.value.diagnostics()
    assert f"127.0.0.1:{port}/db.tar" in info.value.message
