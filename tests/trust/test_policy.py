"""The provenance policy: loading, globs, and the network-free checks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from lashing.errors import InputError
from lashing.model import Location
from lashing.trust.check import check_reference, check_reference_with_checks
from lashing.trust.policy import Policy, glob_matches, load_policy, specificity
from trust.cosign_signer import new_signer

from cli_helpers import run


def write(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("glob", "name", "matches"),
    [
        ("docker.io/library/*", "docker.io/library/nginx", True),
        ("docker.io/library/*", "docker.io/library/a/b", False),
        ("registry.example.com/team/**", "registry.example.com/team/a/b/c", True),
        ("registry.example.com/team/**", "registry.example.com/team", True),
        ("registry.example.com/team/**", "registry.example.com/teams/x", False),
        ("registry.example.com/*/app", "registry.example.com/x/app", True),
        ("registry.example.com/*/app", "registry.example.com/x/y/app", False),
        ("**", "quay.io/anything/at/all", True),
        ("ghcr.io/org/app-*", "ghcr.io/org/app-web", True),
        ("ghcr.io/org/app.v1", "ghcr.io/org/appxv1", False),  # dots are literal
    ],
)
def test_globs(glob: str, name: str, matches: bool) -> None:
    assert glob_matches(glob, name) is matches


def test_most_specific_glob_wins(tmp_path: Path) -> None:
    path = write(tmp_path, """
[policy]
require_digest = false
max_age_days = 365
[policy.images."**"]
allow_latest = false
[policy.images."registry.example.com/team/**"]
require_digest = true
[policy.images."registry.example.com/team/web/*"]
max_age_days = 7
""")
    policy = load_policy(path)
    web = policy.for_reference("registry.example.com/team/web/app:1")
    assert web.glob == "registry.example.com/team/web/*"
    assert web.max_age_days == 7 and not web.require_digest  # defaults, not the other glob
    team = policy.for_reference("registry.example.com/team/api:1")
    assert team.require_digest and team.max_age_days == 365
    other = policy.for_reference("alpine")
    assert other.glob == "**" and not other.allow_latest
    assert specificity("a.io/x/*") > specificity("a.io/**")


def test_typo_suggests_the_nearest_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[policy]\nrequire_digets = true\n')
    with pytest.raises(InputError) as exc:
        load_policy(path)
    assert str(path) in exc.value.message and "require_digets" in exc.value.message
    assert exc.value.hint == "did you mean 'require_digest'?"
    path = write(tmp_path, '[policy.images."docker.io/library/*"]\nmax_age = 3\n', "b.toml")
    with pytest.raises(InputError) as exc:
        load_policy(path)
    assert 'policy.images."docker.io/library/*"' in exc.value.message
    assert exc.value.hint == "did you mean 'max_age_days'?"


def test_cli_policy_typo_is_exit_2_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[policy]\nallowed_registry = ["ghcr.io"]\n')
    r = run("verify", "--policy", str(path), "ghcr.io/x/app:1")
    assert r.code == 2
    assert str(path) in r.err and "did you mean 'allowed_registries'?" in r.err


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[policy]\nkeyless = [{subject = "x", issuer = "y"}]\n', "'keyless' needs 'trusted_root'"),
        ('[policy]\nkeyless = []\ntrusted_root = "policy.toml"\n', "empty list"),
        ('[policy]\nkeyless = {subject = "x"}\ntrusted_root = "policy.toml"\n',
         "exactly one of 'issuer' and 'issuer_regex'"),
        ('[policy]\nkeyless = {subject = "x", subject_regex = "y", issuer = "z"}\n'
         'trusted_root = "policy.toml"\n', "exactly one of 'subject'"),
        ('[policy]\nkeyless = {subject_regex = "(", issuer = "z"}\ntrusted_root = "policy.toml"\n',
         "not a regular expression"),
        ('[policy]\nkeyless = {subject = "x", issuer = "z", isuer = "q"}\n'
         'trusted_root = "policy.toml"\n', "unknown key 'isuer'"),
        ('[policy]\nkeyless = "someone"\ntrusted_root = "policy.toml"\n', "expected a table"),
        ('[policy]\ntrusted_root = "missing.json"\n', "missing.json: no such file"),
        ('[policy]\nmode = "audit"\n', "'mode' must be"),
        ('[policy]\nkeys = ["missing.pub"]\n', "missing.pub: no such file"),
        ('[policy]\nmax_age_days = 0\n', "positive integer"),
        ('[policy]\nrequire_digest = "yes"\n', "true or false"),
        ('[policy]\nallowed_registries = "ghcr.io"\n', "list of non-empty strings"),
        ('[policy]\nallowed_registries = ["ghcr.io/org"]\n', "not a registry host"),
        ('[policy.images."nginx"]\nrequire_digest = true\n', "must start with a registry"),
        ('[policy.images."ghcr.io/x"]\nnope = 1\n', "unknown key 'nope'"),
        ("[scan]\n", "no [policy] section"),
        ("[policy\n", "invalid TOML"),
        ('[polcy]\n', "no [policy] section"),
    ],
)
def test_bad_policies_are_clear_errors(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as exc:
        load_policy(path)
    assert needle in exc.value.message and str(path) in exc.value.message


def test_keys_are_relative_to_the_policy_file(tmp_path: Path) -> None:
    keys = tmp_path / "conf" / "keys"
    keys.mkdir(parents=True)
    new_signer("ed25519").write_public(keys / "release.pub")
    path = write(tmp_path / "conf", '[policy]\nkeys = ["keys/release.pub"]\n')
    assert load_policy(path).defaults.keys == (keys / "release.pub",)


def test_check_reference_without_network(tmp_path: Path) -> None:
    path = write(tmp_path, """
[policy]
forbidden_registries = ["quay.io"]
allow_latest = false
[policy.images."registry.example.com/**"]
require_digest = true
max_age_days = 30
allowed_repositories = ["registry.example.com/team/**"]
""")
    policy = load_policy(path)

    def ids(ref: str, **kw: object) -> list[str]:
        return sorted(f.rule_id for f in check_reference(ref, policy, **kw))  # type: ignore[arg-type]

    assert ids("quay.io/org/app:1") == ["LSH-TRUST-006"]
    assert ids("nginx") == ["LSH-TRUST-009"]  # docker.io/library/nginx:latest
    assert ids("nginx:1.27") == []
    assert ids("registry.example.com/team/app:1") == ["LSH-TRUST-008"]
    assert ids("registry.example.com/other/app@sha256:" + "a" * 64) == ["LSH-TRUST-007"]
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert ids("registry.example.com/team/app@sha256:" + "a" * 64,
               created="2024-01-01T00:00:00Z", now=now) == ["LSH-TRUST-010"]
    assert ids("registry.example.com/team/app@sha256:" + "a" * 64,
               created="2024-12-20T00:00:00.123456789Z", now=now) == []


def test_check_reference_location_and_checks(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, '[policy]\nrequire_digest = true\n'))
    where = Location(path="deploy.yaml", line=12, resource="Deployment/default/web")
    findings, checks = check_reference_with_checks("ghcr.io/x/web:2", policy, location=where,
                                                   target="deploy.yaml")
    assert [f.rule_id for f in findings] == ["LSH-TRUST-008"]
    assert findings[0].location == where and findings[0].target == "deploy.yaml"
    assert findings[0].kind.value == "provenance" and findings[0].nist == ("4.1.5",)
    status = {c.rule_id: c.status.value for c in checks}
    assert status["LSH-TRUST-008"] == "fail"
    assert status["LSH-TRUST-006"] == "not-applicable"
    assert status["LSH-TRUST-010"] == "not-applicable"
    with pytest.raises(InputError):
        check_reference("Not A Ref", policy)
    assert check_reference("ghcr.io/x/web:2", Policy()) == []


def test_verify_needs_a_key_or_a_policy() -> None:
    r = run("verify", "ghcr.io/x/app:1")
    assert r.code == 2 and "--key" in r.err


def test_verify_rejects_private_and_bad_keys(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    signer = new_signer()
    private = tmp_path / "cosign.key"
    private.write_bytes(signer.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    r = run("verify", "--offline", "--key", str(private), "ghcr.io/x/app@sha256:" + "a" * 64)
    assert r.code == 2 and "private key" in r.err and "ghcr.io/x/app" in r.err
    garbage = tmp_path / "garbage.pub"
    garbage.write_text("hello\n")
    r = run("verify", "--offline", "--key", str(garbage), "ghcr.io/x/app@sha256:" + "a" * 64)
    assert r.code == 2 and "not a PEM public key" in r.err
    r = run("verify", "--key", str(tmp_path / "absent.pub"), "ghcr.io/x/app:1")
    assert r.code == 2 and "absent.pub: no such file" in r.err


def test_signature_repository_field(tmp_path: Path) -> None:
    path = write(tmp_path, '[policy]\nsignature_repository = "registry.example.com/sigs"\n')
    assert load_policy(path).defaults.signature_repository == "registry.example.com/sigs"
    path = write(tmp_path, '[policy]\nsignature_repository = "registry.example.com/sigs:1"\n')
    with pytest.raises(InputError, match="without tag or digest"):
        load_policy(path)
