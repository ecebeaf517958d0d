"""Signature manifests the real registry refuses to store: served by the fake one."""

from __future__ import annotations

from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from lashing.cache import BlobCache
from lashing.errors import RegistryError
from lashing.http import HttpClient
from lashing.options import Limits, SourceOptions
from lashing.trust.cosign import signature_tag
from lashing.trust.policy import Policy, policy_with_keys
from lashing.trust.verify import ImageStatus, ImageVerification, VerifyOptions, verify_image
from trust.cosign_signer import new_signer

from imagebuilder import build
from registry import MEDIA_OCI_MANIFEST, FakeRegistry

pytestmark = pytest.mark.usefixtures("registry_env")


def verify(fake: FakeRegistry, tmp_path: Path, ref: str, policy: Policy,
           limits: Limits | None = None) -> ImageVerification:
    source = SourceOptions(cache_dir=tmp_path / "cache", insecure_registries=(fake.host,),
                           retries=0, limits=limits or Limits())
    options = VerifyOptions(source=source, skip_rules=frozenset({"LSH-TRUST-011"}))
    with HttpClient(timeout=5, retries=0, insecure_hosts=(fake.host,), backoff=0.001) as http:
        return verify_image(ref, policy, options, http, BlobCache(source.cache_dir, 1 << 30))


def setup(fake: FakeRegistry, tmp_path: Path, signature_body: bytes) -> tuple[str, Policy]:
    digest = fake.add_image("team/app", "1", build([{"a.txt": "a\n"}]))
    fake.manifests[f"team/app:{signature_tag(digest)}"] = (signature_body, MEDIA_OCI_MANIFEST)
    key = new_signer().write_public(tmp_path / "k.pub")
    return f"{fake.host}/team/app:1", policy_with_keys(Policy(), [key])


def test_signature_manifest_not_json(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    ref, policy = setup(fake_registry, tmp_path, b"this is not json")
    result = verify(fake_registry, tmp_path, ref, policy)
    assert result.status is ImageStatus.MALFORMED
    assert "not valid JSON" in result.findings[0].message


def test_signature_manifest_over_the_json_limit(fake_registry: FakeRegistry,
                                                tmp_path: Path) -> None:
    ref, policy = setup(fake_registry, tmp_path, b'{"layers": [' + b" " * 5000 + b"]}")
    limits = replace(Limits(), max_json_bytes=4096)
    result = verify(fake_registry, tmp_path, ref, policy, limits)
    assert result.status is ImageStatus.MALFORMED
    assert "limit" in result.findings[0].message


class FailingSignatures(FakeRegistry):
    """Answers 500 for signature tags only."""

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        if h.path.endswith(".sig"):
            self._error(h, 500, "INTERNAL")
            return
        super()._handle(h)


def test_registry_failure_on_the_signature_is_not_unsigned(tmp_path: Path) -> None:
    with FailingSignatures() as fake:
        ref, policy = setup(fake, tmp_path, b"{}")
        with pytest.raises(RegistryError, match="500"):
            verify(fake, tmp_path, ref, policy)
