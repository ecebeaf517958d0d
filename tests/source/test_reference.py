"""Image references: Docker's normalisation, table-driven."""

from __future__ import annotations

import pytest

from lashing.errors import EXIT_INPUT, InputError
from lashing.source.reference import Reference, looks_like_reference, parse_reference

D = "sha256:" + "ab" * 32

VALID = [
    # text, registry, repository, tag, digest
    ("alpine", "docker.io", "library/alpine", "latest", None),
    ("alpine:3.20", "docker.io", "library/alpine", "3.20", None),
    ("user/app", "docker.io", "user/app", "latest", None),
    ("user/app:v1.2_rc-3", "docker.io", "user/app", "v1.2_rc-3", None),
    ("docker.io/alpine", "docker.io", "library/alpine", "latest", None),
    ("docker.io/library/alpine:edge", "docker.io", "library/alpine", "edge", None),
    ("index.docker.io/user/app", "docker.io", "user/app", "latest", None),
    ("registry-1.docker.io/library/nginx", "docker.io", "library/nginx", "latest", None),
    ("localhost/app", "localhost", "app", "latest", None),
    ("localhost:5000/team/app:1.0", "localhost:5000", "team/app", "1.0", None),
    ("registry:5000/app:1.2", "registry:5000", "app", "1.2", None),
    ("127.0.0.1:5000/a/b/c", "127.0.0.1:5000", "a/b/c", "latest", None),
    ("[::1]:5000/app", "[::1]:5000", "app", "latest", None),
    ("registry.example.com/a/b", "registry.example.com", "a/b", "latest", None),
    (f"registry.example.com/a/b@{D}", "registry.example.com", "a/b", None, D),
    (f"app@{D}", "docker.io", "library/app", None, D),
    (f"app:1.0@{D}", "docker.io", "library/app", "1.0", D),
    (f"quay.io/org/app:1.0@{D}", "quay.io", "org/app", "1.0", D),
    ("ghcr.io/o/my_app__x.y-z", "ghcr.io", "o/my_app__x.y-z", "latest", None),
    ("my-registry.local:443/team/app", "my-registry.local:443", "team/app", "latest", None),
    ("docker://alpine:3", "docker.io", "library/alpine", "3", None),
]


@pytest.mark.parametrize(("text", "registry", "repository", "tag", "digest"), VALID)
def test_parse_valid(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(text)
    assert ref == Reference(registry, repository, tag, digest)
    # the printed form parses back to the same reference
    assert parse_reference(str(ref)) == ref


INVALID = [
    ("", "empty"),
    ("Alpine", "lowercase"),
    ("gcr.io/Project/app", "lowercase"),
    ("user/App:1", "lowercase"),
    ("alpine:", "not a valid tag"),
    ("alpine:-x", "not a valid tag"),
    ("alpine:" + "x" * 129, "not a valid tag"),
    ("alpine@sha256:abc", "not a digest"),
    ("alpine@sha256:" + "AB" * 32, "lowercase hex"),
    ("alpine@sha512:" + "ab" * 64, "not supported"),
    ("alpine@", "not a digest"),
    ("a//b", "not a valid repository name component"),
    ("a/b/", "not a valid repository name component"),
    ("-app", "not a valid repository name component"),
    ("app-", "not a valid repository name component"),
    ("my registry/app", "not a valid repository name component"),
    ("exa_mple.com/app", "not a valid registry host"),
    ("-bad.com/app", "not a valid registry host"),
    ("reg.io/", "missing"),
    ("ab" * 32, "image ID"),
    ("a/" * 130 + "b", "longer than"),
]


@pytest.mark.parametrize(("text", "why"), INVALID)
def test_parse_invalid(text: str, why: str) -> None:
    with pytest.raises(InputError) as info:
        parse_reference(text)
    assert why in info.value.message
    assert repr(text) in info.value.message  # the message names the input
    assert info.value.exit_code == EXIT_INPUT


@pytest.mark.parametrize(
    ("text", "printed", "name", "api_host", "pull_ref"),
    [
        ("alpine", "docker.io/library/alpine:latest", "docker.io/library/alpine",
         "registry-1.docker.io", "latest"),
        ("nginx:1.27", "docker.io/library/nginx:1.27", "docker.io/library/nginx",
         "registry-1.docker.io", "1.27"),
        (f"localhost:5000/a@{D}", f"localhost:5000/a@{D}", "localhost:5000/a",
         "localhost:5000", D),
        (f"reg.io/a:t@{D}", f"reg.io/a:t@{D}", "reg.io/a", "reg.io", D),
    ],
)  # fmt: skip
def test_names(text: str, printed: str, name: str, api_host: str, pull_ref: str) -> None:
    ref = parse_reference(text)
    assert str(ref) == printed
    assert ref.repository_name == name
    assert ref.api_host == api_host
    assert ref.reference == pull_ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alpine", True),
        ("alpine:3.20", True),
        ("registry:5000/app:1.2", True),
        (f"app@{D}", True),
        ("team/app", True),
        ("image.tar", False),  # a missing file, not an image
        ("scan/out.json", False),
        ("k8s/deploy.yaml", False),
        ("./app", False),
        ("../app", False),
        ("/abs/path", False),
        ("~/x", False),
        ("Dockerfile", False),  # uppercase: never a repository
        ("dir\\file", False),
        ("", False),
        ("not a ref", False),
    ],
)
def test_looks_like_reference(text: str, expected: bool) -> None:
    assert looks_like_reference(text) is expected
