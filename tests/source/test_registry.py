"""Pulling images over the Distribution API: the real registry for the main
paths (anonymous, basic auth, TLS, indexes, corrupt storage; skopeo as the
oracle for digests), a fake one for bearer tokens and misbehaviour."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from lashing.errors import (
    EXIT_ENVIRONMENT,
    EXIT_INPUT,
    DigestMismatchError,
    EnvironmentFailure,
    InputError,
    LimitExceededError,
    RegistryError,
)
from lashing.http import HttpClient
from lashing.options import Limits, SourceOptions
from lashing.progress import NullProgress, Task
from lashing.source.distribution import parse_challenge
from lashing.source.image import Image, Platform
from lashing.source.registry import open_registry_image

from cli_helpers import run
from imagebuilder import BuiltImage, build, write_oci_layout
from registry import (
    TEST_PASSWORD,
    TEST_USER,
    FakeRegistry,
    Registry,
    have_skopeo,
    sha256,
    skopeo_copy,
    skopeo_raw_manifest,
)

pytestmark = [pytest.mark.registry, pytest.mark.usefixtures("registry_env")]


def image(
    name: str, layers: int = 2, arch: str = "amd64", variant: str | None = None
) -> BuiltImage:
    """A small image whose content is unique to `name`."""
    return build(
        [{f"{name}/layer{i}.txt": f"{name} {i}\n" * 50} for i in range(layers)],
        arch=arch,
        variant=variant,
    )


def options(tmp_path: Path, *insecure: str, **kw: object) -> SourceOptions:
    return replace(
        SourceOptions(cache_dir=tmp_path / "cache", insecure_registries=insecure, retries=2),
        **kw,  # type: ignore[arg-type]
    )


def http(opts: SourceOptions, **kw: object) -> HttpClient:
    return HttpClient(
        timeout=opts.timeout,
        retries=opts.retries,
        ca_file=opts.ca_file,
        insecure_hosts=opts.insecure_registries,
        backoff=0.001,
        **kw,  # type: ignore[arg-type]
    )


def pull(text: str, opts: SourceOptions, **kw: object) -> Image:
    return open_registry_image(text, opts, NullProgress(), http=http(opts, **kw))


def read_layers(img: Image) -> list[bytes]:
    out = []
    for layer in img.layers:
        with layer.opener() as f:
            out.append(f.read())
    return out


def assert_same(img: Image, built: BuiltImage) -> None:
    assert img.image_id == built.image_id
    assert [layer.diff_id for layer in img.layers] == built.diff_ids
    assert [layer.digest for layer in img.layers] == [sha256(b) for b in built.layer_blobs]
    assert [layer.size for layer in img.layers] == [len(b) for b in built.layer_blobs]
    assert list(img.config.diff_ids) == built.diff_ids
    assert read_layers(img) == built.layer_blobs


def cached_files(opts: SourceOptions) -> list[str]:
    d = opts.cache_dir / "blobs" / "sha256"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


# -- the real registry --------------------------------------------------------


@pytest.mark.tools
@pytest.mark.skipif(not have_skopeo(), reason="needs skopeo")
def test_pull_by_tag_and_by_digest_match_skopeo(registry: Registry, tmp_path: Path) -> None:
    built = image("skopeo")
    layout = write_oci_layout(tmp_path / "oci", [(built, "1.0")])
    dest = f"docker://{registry.host}/test/skopeo:1.0"
    skopeo_copy(f"oci:{layout}:1.0", dest)
    pushed = sha256(skopeo_raw_manifest(dest))
    assert pushed == built.manifest_digest

    opts = options(tmp_path, registry.host)
    by_tag = pull(f"{registry.host}/test/skopeo:1.0", opts)
    assert_same(by_tag, built)
    assert by_tag.manifest_digest == pushed
    assert by_tag.repo_digests == (f"{registry.host}/test/skopeo@{pushed}",)
    assert by_tag.repo_tags == (f"{registry.host}/test/skopeo:1.0",)
    assert by_tag.reference == f"{registry.host}/test/skopeo:1.0"
    assert by_tag.platform == Platform("linux", "amd64")

    by_digest = pull(
        f"docker://{registry.host}/test/skopeo@{pushed}", options(tmp_path / "2", registry.host)
    )
    assert_same(by_digest, built)
    assert by_digest.manifest_digest == pushed and by_digest.repo_tags == ()

    # The merged file tree is the same as from the layout the image came from.
    from lashing.fs import tree_from_image, want_globs
    from lashing.source.oci_layout import open_oci_dir

    def listing(img: Image) -> list[tuple[object, ...]]:
        with tree_from_image(img, want_globs("**")) as tree:
            return [(e.path, e.kind, e.mode, e.uid, e.gid, e.size, e.link_target, e.layer,
                     tree.read(e.path) if tree.has_content(e.path) else None)
                    for e in tree.walk()]

    local = open_oci_dir(layout, "1.0", SourceOptions(), f"oci:{layout}:1.0")
    assert listing(by_tag) == listing(local)


def test_index_selects_the_platform(registry: Registry, tmp_path: Path) -> None:
    amd, arm = image("multi-amd"), image("multi-arm", arch="arm64", variant="v8")
    pusher = registry.pusher()
    _, index_digest = pusher.index(
        "test/multi",
        "2.0",
        [
            (amd, {"os": "linux", "architecture": "amd64"}),
            (arm, {"os": "linux", "architecture": "arm64", "variant": "v8"}),
            (image("attestation", 1), {"os": "unknown", "architecture": "unknown"}),
        ],
    )
    pusher.close()
    ref = f"{registry.host}/test/multi:2.0"

    default = pull(ref, options(tmp_path, registry.host))
    assert_same(default, amd)
    assert default.manifest_digest == amd.manifest_digest  # the platform's manifest
    assert default.repo_digests == (f"{registry.host}/test/multi@{index_digest}",)  # the index

    opts = options(tmp_path, registry.host, platform=Platform("linux", "arm64"))
    arm64 = pull(ref, replace(opts, platform_explicit=True))
    assert_same(arm64, arm)
    assert arm64.platform == Platform("linux", "arm64", "v8")

    wanted = Platform("linux", "s390x")
    with pytest.raises(InputError) as info:
        pull(ref, options(tmp_path, registry.host, platform=wanted, platform_explicit=True))
    assert "linux/s390x" in info.value.message
    assert "available: linux/amd64, linux/arm64/v8" in info.value.message
    assert "unknown" not in info.value.message
    assert info.value.exit_code == EXIT_INPUT


def test_single_platform_index_is_taken_unless_a_platform_was_named(
    registry: Registry, tmp_path: Path
) -> None:
    arm = image("only-arm", arch="arm64")
    pusher = registry.pusher()
    pusher.index("test/only-arm", "1", [(arm, {"os": "linux", "architecture": "arm64"})])
    pusher.close()
    ref = f"{registry.host}/test/only-arm:1"
    assert_same(pull(ref, options(tmp_path, registry.host)), arm)
    with pytest.raises(InputError, match="available: linux/arm64"):
        pull(ref, options(tmp_path, registry.host, platform_explicit=True))


def test_manifest_unknown_is_exit_3(registry: Registry, tmp_path: Path) -> None:
    for ref in (
        f"{registry.host}/test/nothing:1",
        f"{registry.host}/test/nothing@{'sha256:' + '0' * 64}",
    ):
        with pytest.raises(RegistryError) as info:
            pull(ref, options(tmp_path, registry.host))
        assert "manifest unknown" in info.value.message and "test/nothing" in info.value.message
        assert info.value.exit_code == EXIT_ENVIRONMENT


def test_corrupt_layer_is_refused_and_not_cached(registry: Registry, tmp_path: Path) -> None:
    built = image("corrupt")
    pusher = registry.pusher()
    pusher.image("test/corrupt", "1", built)
    pusher.close()
    victim = sha256(built.layer_blobs[1])
    data = bytearray(registry.blob_path(victim).read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different bytes
    registry.blob_path(victim).write_bytes(bytes(data))

    opts = options(tmp_path, registry.host)
    img = pull(f"{registry.host}/test/corrupt:1", opts)
    with img.layers[0].opener() as f:
        assert f.read() == built.layer_blobs[0]
    with pytest.raises(DigestMismatchError) as info:
        img.layers[1].opener()
    assert victim in info.value.message
    assert info.value.exit_code == EXIT_INPUT
    assert victim[7:] not in cached_files(opts)
    assert not [n for n in cached_files(opts) if n.startswith(".tmp")]


def test_basic_auth(
    auth_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = image("basic")
    pusher = auth_registry.pusher()
    pusher.image("test/basic", "1", built)
    pusher.close()
    ref = f"{auth_registry.host}/test/basic:1"
    opts = options(tmp_path, auth_registry.host)

    with pytest.raises(RegistryError) as info:  # no credentials anywhere
        pull(ref, opts)
    assert "unauthorized" in info.value.message and auth_registry.host in info.value.message
    assert info.value.exit_code == EXIT_ENVIRONMENT

    monkeypatch.setenv("LASHING_REGISTRY_USERNAME", TEST_USER)
    monkeypatch.setenv("LASHING_REGISTRY_PASSWORD", TEST_PASSWORD)
    assert_same(pull(ref, opts), built)

    monkeypatch.setenv("LASHING_REGISTRY_PASSWORD", "wrong-password")
    with pytest.raises(RegistryError) as info:
        pull(ref, options(tmp_path / "2", auth_registry.host))
    assert "unauthorized" in info.value.message
    assert "LASHING_REGISTRY_USERNAME" in info.value.message  # where the credentials came from
    assert "wrong-password" not in info.value.diagnostics()
    assert info.value.exit_code == EXIT_ENVIRONMENT


def test_basic_auth_from_docker_config(
    auth_registry: Registry, tmp_path: Path, registry_env: Path
) -> None:
    built = image("basic-config")
    pusher = auth_registry.pusher()
    pusher.image("test/basic-config", "1", built)
    pusher.close()
    (registry_env / ".docker").mkdir()
    token = base64.b64encode(f"{TEST_USER}:{TEST_PASSWORD}".encode()).decode()
    (registry_env / ".docker" / "config.json").write_text(
        json.dumps({"auths": {auth_registry.host: {"auth": token}}})
    )
    assert_same(
        pull(f"{auth_registry.host}/test/basic-config:1", options(tmp_path, auth_registry.host)),
        built,
    )


def test_tls_registry(tls_registry: Registry, tmp_path: Path) -> None:
    built = image("tls")
    pusher = tls_registry.pusher()
    pusher.image("test/tls", "1", built)
    pusher.close()
    ref = f"{tls_registry.host}/test/tls:1"
    with pytest.raises(RegistryError, match="not trusted"):
        pull(ref, options(tmp_path))
    assert_same(pull(ref, options(tmp_path, ca_file=tls_registry.ca_file)), built)

    certs = tmp_path / "certs.d"
    (certs / tls_registry.host).mkdir(parents=True)
    assert tls_registry.ca_file is not None
    (certs / tls_registry.host / "ca.crt").write_bytes(tls_registry.ca_file.read_bytes())
    assert_same(pull(ref, options(tmp_path / "2"), certs_dirs=(certs,)), built)


def test_scan_command_pulls(registry: Registry, tmp_path: Path) -> None:
    built = image("cli")
    pusher = registry.pusher()
    digest = pusher.image("test/cli", "1", built)
    pusher.close()
    r = run(
        "scan", f"docker://{registry.host}/test/cli:1", "--insecure-registry", registry.host,
        "--cache-dir", str(tmp_path), "--format", "json",
    )  # fmt: skip
    assert r.code == 0, r.err
    target = r.json()["targets"][0]
    assert target["image_id"] == built.image_id
    assert target["manifest_digest"] == digest
    r = run("scan", f"{registry.host}/test/cli:2", "--insecure-registry", registry.host,
            "--cache-dir", str(tmp_path))  # fmt: skip
    assert r.code == EXIT_ENVIRONMENT and "manifest unknown" in r.err


# -- a fake registry: bearer tokens and misbehaviour ---------------------------


def fake_image(fake: FakeRegistry, name: str) -> tuple[BuiltImage, str]:
    built = image(name)
    return built, fake.add_image("team/app", "1.0", built)


def test_bearer_token_anonymous(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    fake_registry.bearer = True
    built, _ = fake_image(fake_registry, "bearer")
    img = pull(f"{fake_registry.host}/team/app:1.0", options(tmp_path, fake_registry.host))
    assert_same(img, built)
    tokens = [s for s in fake_registry.requests if s.path.startswith("/token")]
    assert len(tokens) == 1  # one token for the repository, reused
    assert "scope=repository%3Ateam%2Fapp%3Apull" in tokens[0].path
    assert "service=fake" in tokens[0].path
    assert "Authorization" not in tokens[0].headers
    after = fake_registry.requests[fake_registry.requests.index(tokens[0]) + 1 :]
    assert after and all(s.headers.get("Authorization") == "Bearer fake-token-1" for s in after)


def test_bearer_token_with_credentials(
    fake_registry: FakeRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_registry.bearer = True
    fake_registry.token_user = ("alice", "alice-pw")
    built, _ = fake_image(fake_registry, "bearer-creds")
    ref = f"{fake_registry.host}/team/app:1.0"
    with pytest.raises(RegistryError) as info:
        pull(ref, options(tmp_path, fake_registry.host))
    assert "refused anonymous access" in info.value.message
    assert info.value.exit_code == EXIT_ENVIRONMENT

    monkeypatch.setenv("LASHING_REGISTRY_USERNAME", "alice")
    monkeypatch.setenv("LASHING_REGISTRY_PASSWORD", "alice-pw")
    fake_registry.requests.clear()
    assert_same(pull(ref, options(tmp_path, fake_registry.host)), built)
    for seen in fake_registry.requests:  # the password goes to the token service only
        auth = seen.headers.get("Authorization", "")
        assert auth.startswith("Basic") == seen.path.startswith("/token")

    monkeypatch.setenv("LASHING_REGISTRY_PASSWORD", "nope")
    with pytest.raises(RegistryError) as info:
        pull(ref, options(tmp_path / "2", fake_registry.host))
    assert "refused the credentials from LASHING_REGISTRY_USERNAME" in info.value.message
    assert "nope" not in info.value.diagnostics()


def test_unauthorized_without_a_challenge(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    fake_registry.fail_status = 401
    with pytest.raises(RegistryError) as info:
        pull(f"{fake_registry.host}/team/app:1.0", options(tmp_path, fake_registry.host))
    assert "unauthorized to pull" in info.value.message
    assert "credentials" in (info.value.hint or "")


def test_server_error_retried_then_exit_3(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    fake_registry.fail_status = 500
    with pytest.raises(RegistryError) as info:
        pull(f"{fake_registry.host}/team/app:1.0", options(tmp_path, fake_registry.host))
    assert "HTTP 500" in info.value.message
    assert info.value.exit_code == EXIT_ENVIRONMENT
    assert len(fake_registry.requests) == 3  # retries=2


def test_server_error_then_recovery(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    built, _ = fake_image(fake_registry, "flaky")
    fake_registry.fail_status, fake_registry.fail_times = 503, 2
    assert_same(
        pull(f"{fake_registry.host}/team/app:1.0", options(tmp_path, fake_registry.host)), built
    )


def test_timeout_is_exit_3(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    fake_registry.delay = 2.0
    opts = options(tmp_path, fake_registry.host, timeout=0.2, retries=0)
    with pytest.raises(RegistryError) as info:
        pull(f"{fake_registry.host}/team/app:1.0", opts)
    assert "no answer" in info.value.message
    assert info.value.exit_code == EXIT_ENVIRONMENT


def put_manifest(fake: FakeRegistry, body: bytes, media: str = "application/json") -> str:
    fake.manifests["team/app:bad"] = (body, media)
    return f"{fake.host}/team/app:bad"


@pytest.mark.parametrize(
    ("body", "media", "error", "message"),
    [
        (b"<html>oops</html>", "text/html", InputError, "not valid JSON"),
        (b"[1, 2]", "application/json", InputError, "not a JSON object"),
        (b'{"schemaVersion": 1, "name": "team/app", "fsLayers": []}',
         "application/vnd.docker.distribution.manifest.v1+prettyjws", InputError,
         "schema 1 is unsupported"),
        (b'{"schemaVersion": 1, "name": "team/app", "fsLayers": []}',
         "application/json", InputError, "schema 1 is unsupported"),
        (b'{"schemaVersion": 2, "mediaType": "application/vnd.cncf.helm.chart"}',
         "application/json", InputError, "not a container image manifest"),
        (b'{"schemaVersion": 2, "config": {"digest": "sha256:nope", "size": 1}, "layers": []}',
         "application/json", InputError, "not a sha256 digest"),
    ],
)  # fmt: skip
def test_bad_manifests(
    fake_registry: FakeRegistry,
    tmp_path: Path,
    body: bytes,
    media: str,
    error: type[Exception],
    message: str,
) -> None:
    ref = put_manifest(fake_registry, body, media)
    with pytest.raises(error) as info:
        pull(ref, options(tmp_path, fake_registry.host))
    assert message in str(info.value)
    assert isinstance(info.value, InputError) and info.value.exit_code == EXIT_INPUT


@pytest.mark.parametrize("omit_length", [False, True])
def test_manifest_over_the_size_limit(
    fake_registry: FakeRegistry, tmp_path: Path, omit_length: bool
) -> None:
    fake_registry.omit_length = omit_length
    ref = put_manifest(fake_registry, b'{"schemaVersion": 2, "pad": "' + b"x" * 5000 + b'"}')
    opts = options(tmp_path, fake_registry.host, limits=Limits(max_json_bytes=4096))
    with pytest.raises(LimitExceededError, match="over the 4096-byte limit"):
        pull(ref, opts)


def test_manifest_digest_checks(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    _, digest = fake_image(fake_registry, "digests")
    opts = options(tmp_path, fake_registry.host)
    fake_registry.digest_header = "sha256:" + "1" * 64
    with pytest.raises(DigestMismatchError, match="Docker-Content-Digest"):
        pull(f"{fake_registry.host}/team/app:1.0", opts)
    fake_registry.digest_header = None
    other = image("other")
    fake_registry.manifests[f"team/app:{digest}"] = (other.manifest, "application/json")
    with pytest.raises(DigestMismatchError) as info:
        pull(f"{fake_registry.host}/team/app@{digest}", opts)
    assert digest in info.value.message
    assert cached_files(opts) == []


def test_config_digest_mismatch(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    built, _ = fake_image(fake_registry, "config")
    fake_registry.blobs[built.image_id] = built.config.replace(b"amd64", b"arm64")
    with pytest.raises(DigestMismatchError, match=built.image_id):
        pull(f"{fake_registry.host}/team/app:1.0", options(tmp_path, fake_registry.host))


def test_missing_layer_blob(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    built, _ = fake_image(fake_registry, "nolayer")
    del fake_registry.blobs[sha256(built.layer_blobs[0])]
    img = pull(f"{fake_registry.host}/team/app:1.0", options(tmp_path, fake_registry.host))
    with pytest.raises(RegistryError, match="blob unknown"):
        img.layers[0].opener()


def test_second_pull_reads_the_cache(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    built, digest = fake_image(fake_registry, "cached")
    opts = options(tmp_path, fake_registry.host)
    assert_same(pull(f"{fake_registry.host}/team/app:1.0", opts), built)
    blob_gets = [p for p in fake_registry.paths() if "/blobs/" in p]
    assert len(blob_gets) == 1 + len(built.layer_blobs)  # config and layers, once each

    fake_registry.requests.clear()
    assert_same(pull(f"{fake_registry.host}/team/app:1.0", opts), built)
    assert fake_registry.paths() == ["/v2/", "/v2/team/app/manifests/1.0"]  # a tag can move

    fake_registry.requests.clear()
    assert_same(pull(f"{fake_registry.host}/team/app@{digest}", opts), built)
    assert fake_registry.requests == []  # by digest: no network at all

    offline = replace(opts, offline=True)
    assert_same(pull(f"{fake_registry.host}/team/app@{digest}", offline), built)
    with pytest.raises(EnvironmentFailure) as info:
        pull(f"{fake_registry.host}/team/app:1.0", offline)
    assert "offline" in info.value.message and info.value.exit_code == EXIT_ENVIRONMENT
    assert fake_registry.requests == []


def test_offline_without_cache(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    with pytest.raises(EnvironmentFailure, match="offline: cannot pull"):
        pull(f"{fake_registry.host}/team/app:1.0", options(tmp_path, offline=True))
    assert fake_registry.requests == []


class Recorder:
    def __init__(self) -> None:
        self.tasks: list[tuple[str, int | None, list[int], list[bool]]] = []

    def task(self, description: str, total: int | None) -> Task:
        entry: tuple[str, int | None, list[int], list[bool]] = (description, total, [], [])
        self.tasks.append(entry)

        class T:
            def advance(self, amount: int) -> None:
                entry[2].append(amount)

            def finish(self) -> None:
                entry[3].append(True)

        return T()


def test_layer_download_reports_progress(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    built, _ = fake_image(fake_registry, "progress")
    progress = Recorder()
    opts = options(tmp_path, fake_registry.host)
    img = open_registry_image(f"{fake_registry.host}/team/app:1.0", opts, progress, http=http(opts))
    assert progress.tasks == []  # nothing downloaded before a layer is opened
    read_layers(img)
    assert [(t[1], sum(t[2]), t[3]) for t in progress.tasks] == [
        (len(b), len(b), [True]) for b in built.layer_blobs
    ]


@pytest.mark.parametrize(
    ("header", "scheme", "params"),
    [
        ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
         'scope="repository:library/alpine:pull"', "bearer",
         {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
          "scope": "repository:library/alpine:pull"}),
        ('Basic realm="Registry Realm"', "basic", {"realm": "Registry Realm"}),
        ('bearer realm="https://a/t", scope="repository:a:pull,push"', "bearer",
         {"realm": "https://a/t", "scope": "repository:a:pull,push"}),
        ("Bearer realm=https://a/t,service=svc", "bearer",
         {"realm": "https://a/t", "service": "svc"}),
        ('Bearer realm="a \\"quoted\\" realm"', "bearer", {"realm": 'a "quoted" realm'}),
    ],
)  # fmt: skip
def test_parse_challenge(header: str, scheme: str, params: dict[str, str]) -> None:
    challenge = parse_challenge(header)
    assert challenge is not None
    assert (challenge.scheme, challenge.params) == (scheme, params)


def test_manifest_bytes_are_what_was_hashed(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    """The manifest digest is of the exact bytes, whitespace and key order included."""
    built = image("exact")
    doc = json.loads(built.manifest)
    body = json.dumps(doc, indent=3).encode()
    fake_registry.blobs[built.image_id] = built.config
    for blob in built.layer_blobs:
        fake_registry.blobs[sha256(blob)] = blob
    fake_registry.manifests["team/app:pretty"] = (
        body,
        "application/vnd.oci.image.manifest.v1+json",
    )
    img = pull(f"{fake_registry.host}/team/app:pretty", options(tmp_path, fake_registry.host))
    assert img.manifest_digest == "sha256:" + hashlib.sha256(body).hexdigest()
    assert img.manifest_digest != built.manifest_digest
