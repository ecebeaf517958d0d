"""Registry credentials from each place Docker and podman keep them."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from lashing.errors import EXIT_ENVIRONMENT, EnvironmentFailure, InputError
from lashing.source.auth import Credentials, find_credentials, normalise_host

# A docker-credential-helpers style program: the server URL comes on stdin.
HELPER = """#!/bin/sh
[ "$1" = get ] || exit 2
read -r url
echo "$url" >> "$(dirname "$0")/asked"
case "$url" in
  "https://index.docker.io/v1/") echo '{"ServerURL":"x","Username":"hub-user","Secret":"hub-pw"}';;
  "reg.example.com") echo '{"ServerURL":"x","Username":"helper-user","Secret":"helper-pw"}';;
  "broken.example.com") echo 'storage is locked' >&2; exit 1;;
  "garbage.example.com") echo 'not json';;
  *) echo "credentials not found in native keychain"; exit 1;;
esac
"""


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment with a temporary HOME, a helper on PATH, nothing configured."""
    home = tmp_path / "home"
    (home / ".docker").mkdir(parents=True)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-fake"
    helper.write_text(HELPER)
    helper.chmod(0o755)
    return {"HOME": str(home), "PATH": f"{bindir}{os.pathsep}/usr/bin:/bin"}


def write_json(path: Path, doc: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def docker_config(env: dict[str, str], doc: object) -> Path:
    return write_json(Path(env["HOME"]) / ".docker" / "config.json", doc)


def pair(c: Credentials | None) -> tuple[str, str] | None:
    return None if c is None else (c.username, c.password)


def test_nothing_configured_is_anonymous(env: dict[str, str]) -> None:
    assert find_credentials("docker.io", env=env) is None


def test_environment_variables_first(env: dict[str, str]) -> None:
    docker_config(env, {"auths": {"reg.example.com": {"auth": b64("file:pw")}}})
    env |= {"LASHING_REGISTRY_USERNAME": "env-user", "LASHING_REGISTRY_PASSWORD": "env-pw"}
    found = find_credentials("reg.example.com", env=env)
    assert pair(found) == ("env-user", "env-pw")
    assert found is not None and "env-pw" not in repr(found)  # never printed


def test_docker_config_auths_base64(env: dict[str, str]) -> None:
    docker_config(env, {"auths": {"reg.example.com": {"auth": b64("alice:pa:ss")}}})
    found = find_credentials("reg.example.com", env=env)
    assert pair(found) == ("alice", "pa:ss")
    assert found is not None and "config.json" in found.source
    assert find_credentials("other.example.com", env=env) is None


def test_docker_config_username_password_fields(env: dict[str, str]) -> None:
    docker_config(env, {"auths": {"https://reg.example.com": {"username": "u", "password": "p"}}})
    assert pair(find_credentials("reg.example.com", env=env)) == ("u", "p")


@pytest.mark.parametrize(
    "key", ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"]
)
def test_docker_hub_keys(env: dict[str, str], key: str) -> None:
    docker_config(env, {"auths": {key: {"auth": b64("hub:pw")}}})
    assert pair(find_credentials("docker.io", env=env)) == ("hub", "pw")


def test_docker_config_dir_override(env: dict[str, str], tmp_path: Path) -> None:
    write_json(tmp_path / "cfg" / "config.json", {"auths": {"r.io": {"auth": b64("d:c")}}})
    env["DOCKER_CONFIG"] = str(tmp_path / "cfg")
    assert pair(find_credentials("r.io", env=env)) == ("d", "c")


def test_registry_auth_file(env: dict[str, str], tmp_path: Path) -> None:
    auth = write_json(tmp_path / "auth.json", {"auths": {"r.io": {"auth": b64("podman:pw")}}})
    docker_config(env, {"auths": {"r.io": {"auth": b64("docker:pw")}}})
    env["REGISTRY_AUTH_FILE"] = str(auth)
    assert pair(find_credentials("r.io", env=env)) == ("podman", "pw")
    # nothing for this host in the auth file: the Docker config is next
    docker_config(env, {"auths": {"s.io": {"auth": b64("docker:pw")}}})
    assert pair(find_credentials("s.io", env=env)) == ("docker", "pw")


def test_xdg_runtime_auth_file_and_repository_keys(env: dict[str, str], tmp_path: Path) -> None:
    write_json(
        tmp_path / "run" / "containers" / "auth.json",
        {
            "auths": {
                "r.io": {"auth": b64("host:pw")},
                "r.io/team": {"auth": b64("team:pw")},
                "r.io/team/app": {"auth": b64("app:pw")},
            }
        },
    )
    env["XDG_RUNTIME_DIR"] = str(tmp_path / "run")
    assert pair(find_credentials("r.io", "team/app", env=env)) == ("app", "pw")
    assert pair(find_credentials("r.io", "team/other", env=env)) == ("team", "pw")
    assert pair(find_credentials("r.io", "teamx/app", env=env)) == ("host", "pw")
    assert pair(find_credentials("r.io", env=env)) == ("host", "pw")


def test_cred_helpers_before_auths(env: dict[str, str]) -> None:
    docker_config(
        env,
        {
            "credHelpers": {"reg.example.com": "fake"},
            "auths": {"reg.example.com": {"auth": b64("file:pw")}},
        },
    )
    assert pair(find_credentials("reg.example.com", env=env)) == ("helper-user", "helper-pw")
    asked = (Path(env["PATH"].split(os.pathsep)[0]) / "asked").read_text()
    assert asked == "reg.example.com\n"


def test_creds_store_for_docker_hub(env: dict[str, str]) -> None:
    # `docker login` with a store leaves an empty placeholder in auths
    docker_config(env, {"auths": {"https://index.docker.io/v1/": {}}, "credsStore": "fake"})
    found = find_credentials("docker.io", env=env)
    assert pair(found) == ("hub-user", "hub-pw")
    assert found is not None and found.source == "docker-credential-fake"


def test_auths_before_creds_store(env: dict[str, str]) -> None:
    docker_config(env, {"auths": {"r.io": {"auth": b64("file:pw")}}, "credsStore": "fake"})
    assert pair(find_credentials("r.io", env=env)) == ("file", "pw")


def test_helper_credentials_not_found_means_anonymous(env: dict[str, str]) -> None:
    docker_config(env, {"credsStore": "fake"})
    assert find_credentials("unknown.example.com", env=env) is None


def test_helper_in_auth_file(env: dict[str, str], tmp_path: Path) -> None:
    auth = write_json(tmp_path / "auth.json", {"credHelpers": {"reg.example.com": "fake"}})
    env["REGISTRY_AUTH_FILE"] = str(auth)
    assert pair(find_credentials("reg.example.com", env=env)) == ("helper-user", "helper-pw")


@pytest.mark.parametrize(
    ("host", "helper", "message"),
    [
        ("r.io", "missing", "docker-credential-missing is not installed"),
        ("broken.example.com", "fake", "storage is locked"),
        ("garbage.example.com", "fake", "not JSON"),
    ],
)
def test_helper_failures(env: dict[str, str], host: str, helper: str, message: str) -> None:
    docker_config(env, {"credHelpers": {host: helper}})
    with pytest.raises(EnvironmentFailure) as info:
        find_credentials(host, env=env)
    assert message in info.value.message
    assert info.value.exit_code == EXIT_ENVIRONMENT


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"auths": []}', "'auths' must be a JSON object"),
        ('{"auths": {"r.io": {"auth": "%%%"}}}', "not valid base64"),
        ('{"auths": {"r.io": {"auth": "' + b64("nocolon") + '"}}}', "USER:PASSWORD"),
        ('{"credHelpers": {"r.io": 3}}', "must be a helper name"),
    ],
)
def test_malformed_config_names_the_file(env: dict[str, str], text: str, message: str) -> None:
    path = Path(env["HOME"]) / ".docker" / "config.json"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        find_credentials("r.io", env=env)
    assert str(path) in info.value.message
    assert message in info.value.message


def test_empty_config_file_is_ignored(env: dict[str, str]) -> None:
    (Path(env["HOME"]) / ".docker" / "config.json").write_text("")
    assert find_credentials("r.io", env=env) is None


@pytest.mark.parametrize(
    ("key", "host"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("http://Reg.Example.com:5000/v2/", "reg.example.com:5000"),
        ("quay.io/org/repo", "quay.io"),
        ("localhost:5000", "localhost:5000"),
    ],
)
def test_normalise_host(key: str, host: str) -> None:
    assert normalise_host(key) == host
