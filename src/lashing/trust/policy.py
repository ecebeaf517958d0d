"""Provenance policy: which images may be used, and what they must prove.

A policy is the `[policy]` section of `lashing.toml`, or the same section in a
standalone file given to `--policy`. Its top-level keys are defaults for every
image; each `[policy.images."GLOB"]` table overrides them for the images whose
normalised repository (`docker.io/library/nginx`, no tag or digest) the glob
matches. `*` stays within one path segment, `**` crosses segments, and the
most specific glob wins (the one with the most literal characters; ties go
to fewer wildcards). Only that one table applies, on top of the defaults.

    [policy]
    allowed_registries = ["registry.example.com", "docker.io"]
    forbidden_registries = ["registry.untrusted.example"]
    require_digest = false          # references must name a digest (@sha256:...)
    allow_latest = true             # false: `:latest` and untagged references are findings
    max_age_days = 180              # image config `created` older than this is stale

    [policy.images."registry.example.com/team/**"]
    allowed_repositories = ["registry.example.com/team/**"]
    forbidden_repositories = ["registry.example.com/team/experimental/*"]
    require_digest = true
    keys = ["keys/release.pub"]     # PEM public keys, relative to this file
    mode = "enforce"                # or "warn": report, but do not fail verify
    check_docker_reference = true   # the signed payload must name this repository
    signature_repository = "registry.example.com/signatures/app"

    [policy.images."docker.io/library/*"]
    keys = []                       # no signature requirement for official images

Fields (all optional):

- `allowed_registries`: registry hosts (`host[:port]`, `docker.io` for Docker
  Hub) images may come from; empty means any.
- `forbidden_registries`: registry hosts images must not come from.
- `allowed_repositories` / `forbidden_repositories`: repository globs, as
  above.
- `require_digest`: the reference must be pinned by digest.
- `allow_latest`: when false, a `:latest` (or untagged) reference is a finding.
- `max_age_days`: the image's configuration `created` time may be at most
  this many days old.
- `keys`: public keys (ECDSA P-256/P-384, RSA, Ed25519; PEM
  `PUBLIC KEY`) a cosign signature must verify with; empty means signatures
  are not required.
- `mode`: `enforce` (default) makes a missing or bad signature fail
  `lashing verify`; `warn` reports it without failing.
- `check_docker_reference`: the payload's `critical.identity.docker-reference`
  must name the image's repository.
- `signature_repository`: where signatures live, like cosign's
  `COSIGN_REPOSITORY` (default: the image's own repository).
- `keyless`: Sigstore keyless identities (`lashing.trust.identity`): one
  table or a list of tables `{ issuer = "...", subject = "glob" }` (or
  `issuer_regex` / `subject_regex`). A signature whose Fulcio certificate
  chains to `trusted_root`, names a matching identity and is logged in Rekor
  (a verified signed entry timestamp) is accepted, offline.
- `trusted_root`: a Sigstore `trusted_root.json` (Fulcio CAs, Rekor keys and
  their validity), relative to this file; required with `keyless`.

A signature is required when `keys` or `keyless` is not empty; one that
verifies with any key or any identity is enough.

Unknown keys are errors that suggest the nearest valid key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from lashing.config import check_keys, read_toml, resolve_path
from lashing.errors import InputError
from lashing.source.reference import parse_reference
from lashing.trust.identity import KeylessIdentity, parse_identities

MODES = ("enforce", "warn")
IMAGE_KEYS = (
    "allowed_registries",
    "forbidden_registries",
    "allowed_repositories",
    "forbidden_repositories",
    "require_digest",
    "allow_latest",
    "max_age_days",
    "keys",
    "mode",
    "check_docker_reference",
    "signature_repository",
    "keyless",
    "trusted_root",
)
POLICY_KEYS = (*IMAGE_KEYS, "images")


@dataclass(frozen=True)
class ImagePolicy:
    """The policy for one image: defaults merged with the most specific glob."""

    allowed_registries: tuple[str, ...] = ()
    forbidden_registries: tuple[str, ...] = ()
    allowed_repositories: tuple[str, ...] = ()
    forbidden_repositories: tuple[str, ...] = ()
    require_digest: bool = False
    allow_latest: bool = True
    max_age_days: int | None = None
    keys: tuple[Path, ...] = ()
    mode: str = "enforce"
    check_docker_reference: bool = False
    signature_repository: str | None = None
    keyless: tuple[KeylessIdentity, ...] = ()
    trusted_root: Path | None = None
    glob: str | None = None  # which [policy.images] table applied, if any
    source: str = ""  # the file the policy came from, for messages

    @property
    def enforced(self) -> bool:
        return self.mode == "enforce"

    @property
    def requires_signature(self) -> bool:
        return bool(self.keys or self.keyless)


@dataclass(frozen=True)
class Policy:
    defaults: ImagePolicy = field(default_factory=ImagePolicy)
    images: tuple[tuple[str, ImagePolicy], ...] = ()  # (glob, full policy), file order

    def for_repository(self, repository_name: str) -> ImagePolicy:
        """The policy for a normalised repository (`docker.io/library/nginx`)."""
        best: tuple[tuple[int, int, int], str, ImagePolicy] | None = None
        for glob, pol in self.images:
            if glob_matches(glob, repository_name):
                key = specificity(glob)
                if best is None or key > best[0]:
                    best = (key, glob, pol)
        return best[2] if best is not None else self.defaults

    def for_reference(self, text: str) -> ImagePolicy:
        return self.for_repository(parse_reference(text).repository_name)


def specificity(glob: str) -> tuple[int, int, int]:
    """Higher is more specific: literal characters, then fewer `**`, fewer `*`."""
    doubles = glob.count("**")
    singles = glob.count("*") - 2 * doubles
    literal = len(glob.replace("*", ""))
    return (literal, -doubles, -singles)


@lru_cache(maxsize=512)
def _glob_regex(glob: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("(?:/.*)?")  # `team/**` also matches `team` itself
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_matches(glob: str, repository_name: str) -> bool:
    return _glob_regex(glob).match(repository_name) is not None


# -- loading ------------------------------------------------------------------


def load_policy(path: Path) -> Policy:
    """Read a policy: the `[policy]` section of a `lashing.toml`-style file.

    Every problem is an InputError naming the file and the key."""
    doc = read_toml(path, "policy file")
    if "policy" not in doc:
        raise InputError(f"{path}: no [policy] section", "see the policy example in the README")
    check_keys(doc, ("scan", "policy", "ignore", "audit", "store"), path)
    table = doc["policy"]
    if not isinstance(table, dict):
        raise InputError(f"{path}: policy: expected a table ([policy])")
    return policy_from_mapping(table, path)


def policy_from_mapping(table: Mapping[str, Any], path: Path) -> Policy:
    """Build a Policy from the `[policy]` table of `path` (paths resolve against it)."""
    check_keys(table, POLICY_KEYS, path, "policy")
    defaults = _image_policy(table, ImagePolicy(source=str(path)), path, "policy")
    images_table = table.get("images", {})
    if not isinstance(images_table, dict):
        raise InputError(f"{path}: policy.images: expected a table of image globs")
    images: list[tuple[str, ImagePolicy]] = []
    for glob, sub in images_table.items():
        where = f'policy.images."{glob}"'
        _check_glob(glob, path, where)
        if not isinstance(sub, dict):
            raise InputError(f"{path}: {where}: expected a table")
        check_keys(sub, IMAGE_KEYS, path, where)
        images.append((glob, replace(_image_policy(sub, defaults, path, where), glob=glob)))
    return Policy(defaults=defaults, images=tuple(images))


def _check_glob(glob: str, path: Path, where: str) -> None:
    if not glob or glob != glob.strip() or "@" in glob or "***" in glob:
        raise InputError(f"{path}: {where}: not an image glob",
                         "write a normalised repository such as docker.io/library/* "
                         "or registry.example.com/team/**")
    first = glob.split("/", 1)[0]
    if "*" in first:  # `**`, `*.example.com/**`: any registry
        return
    if "/" not in glob or not ("." in first or ":" in first or first == "localhost"
                               or "*" in first):
        raise InputError(f"{path}: {where}: the glob must start with a registry host",
                         f"globs match normalised names; for Docker Hub write "
                         f"docker.io/library/{glob.rsplit('/', 1)[-1]}")


def _strings(table: Mapping[str, Any], key: str, path: Path, where: str) -> tuple[str, ...]:
    value = table[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(f"{path}: {where}: {key!r} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _bool(table: Mapping[str, Any], key: str, path: Path, where: str) -> bool:
    value = table[key]
    if not isinstance(value, bool):
        raise InputError(f"{path}: {where}: {key!r} must be true or false")
    return value


def _image_policy(table: Mapping[str, Any], base: ImagePolicy, path: Path,
                  where: str) -> ImagePolicy:
    changes: dict[str, Any] = {}
    for key in ("allowed_registries", "forbidden_registries"):
        if key in table:
            changes[key] = tuple(_registry(r, path, where, key)
                                 for r in _strings(table, key, path, where))
    for key in ("allowed_repositories", "forbidden_repositories"):
        if key in table:
            globs = _strings(table, key, path, where)
            for g in globs:
                _check_glob(g, path, f"{where}: {key}")
            changes[key] = globs
    for key in ("require_digest", "allow_latest", "check_docker_reference"):
        if key in table:
            changes[key] = _bool(table, key, path, where)
    if "max_age_days" in table:
        age = table["max_age_days"]
        if isinstance(age, bool) or not isinstance(age, int) or age < 1:
            raise InputError(f"{path}: {where}: 'max_age_days' must be a positive integer")
        changes["max_age_days"] = age
    if "keys" in table:
        keys = []
        for text in _strings(table, "keys", path, where):
            key_path = resolve_path(path, text)
            if not key_path.is_file():
                raise InputError(f"{path}: {where}: key file {key_path}: no such file")
            keys.append(key_path)
        changes["keys"] = tuple(keys)
    if "mode" in table:
        mode = table["mode"]
        if mode not in MODES:
            raise InputError(f"{path}: {where}: 'mode' must be \"enforce\" or \"warn\", "
                             f"not {mode!r}")
        changes["mode"] = mode
    if "signature_repository" in table:
        repo = table["signature_repository"]
        if not isinstance(repo, str) or not repo.strip():
            raise InputError(f"{path}: {where}: 'signature_repository' must be a repository")
        changes["signature_repository"] = _repository(repo.strip(), path, where)
    if "keyless" in table:
        changes["keyless"] = parse_identities(table["keyless"], path, where)
    if "trusted_root" in table:
        text = table["trusted_root"]
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{path}: {where}: 'trusted_root' must be a path to "
                             "trusted_root.json")
        root = resolve_path(path, text.strip())
        if not root.is_file():
            raise InputError(f"{path}: {where}: trusted root {root}: no such file")
        changes["trusted_root"] = root
    merged = replace(base, **changes)
    if merged.keyless and merged.trusted_root is None:
        raise InputError(f"{path}: {where}: 'keyless' needs 'trusted_root'",
                         "set trusted_root to a Sigstore trusted_root.json (the Fulcio CAs "
                         "and Rekor keys signatures are checked against, offline)")
    return merged


def _registry(text: str, path: Path, where: str, key: str) -> str:
    host = text.lower()
    if host in ("index.docker.io", "registry-1.docker.io"):
        host = "docker.io"
    if "/" in host or not re.fullmatch(r"[a-z0-9.\-\[\]:]+", host):
        raise InputError(f"{path}: {where}: {key}: {text!r} is not a registry host[:port]")
    return host


def _repository(text: str, path: Path, where: str) -> str:
    try:
        ref = parse_reference(text)
    except InputError as exc:
        raise InputError(f"{path}: {where}: 'signature_repository': {exc.message}") from None
    if ref.digest or ":" in text.rsplit("/", 1)[-1]:
        raise InputError(f"{path}: {where}: 'signature_repository' names a repository, "
                         "without tag or digest")
    return ref.repository_name


def policy_with_keys(policy: Policy, keys: Sequence[Path], mode: str | None = None) -> Policy:
    """`--key` on the command line: these keys (and mode) for every image."""
    def apply(p: ImagePolicy) -> ImagePolicy:
        return replace(p, keys=tuple(keys) if keys else p.keys, mode=mode or p.mode)

    return Policy(apply(policy.defaults), tuple((g, apply(p)) for g, p in policy.images))
