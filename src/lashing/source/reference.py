"""Image references, parsed and normalised the way Docker does.

`alpine` is `docker.io/library/alpine:latest`; `user/app` is
`docker.io/user/app:latest`; the first path component names a registry when
it contains `.` or `:` or is `localhost`. A reference with a digest keeps its
tag (`name:tag@sha256:...`) but is pulled by the digest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lashing.errors import InputError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DEFAULT_TAG = "latest"
MAX_NAME_LENGTH = 255

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?"
)
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
# A plain argument ending like a file is a file that does not exist, not an image.
_FILE_SUFFIXES = (
    ".tar", ".tgz", ".gz", ".zst", ".xz", ".bz2", ".zip", ".json", ".yaml", ".yml",
    ".toml", ".lock", ".txt", ".sbom", ".spdx", ".cdx",
)  # fmt: skip


@dataclass(frozen=True)
class Reference:
    registry: str  # "docker.io", "localhost:5000", "registry.example.com"
    repository: str  # "library/alpine", "team/app"
    tag: str | None = None
    digest: str | None = None  # "sha256:<64 hex>"

    @property
    def repository_name(self) -> str:
        """The normalised name without tag or digest: `docker.io/library/nginx`."""
        return f"{self.registry}/{self.repository}"

    @property
    def api_host(self) -> str:
        """HOST[:PORT] to send Distribution API requests to."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def reference(self) -> str:
        """What to ask the registry's manifest endpoint for: the digest, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def __str__(self) -> str:
        text = self.repository_name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_reference(text: str) -> Reference:
    """Parse and normalise an image reference; InputError names the text."""
    original = text
    text = text.strip()
    if text.startswith("docker://"):
        text = text[len("docker://") :]
        if text.startswith("//"):
            text = text[2:]

    def bad(why: str) -> InputError:
        return InputError(
            f"{original!r} is not a valid image reference: {why}",
            "expected [REGISTRY[:PORT]/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. alpine:3.20",
        )

    if not text:
        raise bad("it is empty")
    name, at, digest = text.partition("@")
    if at:
        if not _DIGEST.fullmatch(digest):
            raise bad(f"{digest!r} is not a digest")
        if not digest.startswith("sha256:"):
            raise bad(f"digest algorithm {digest.split(':', 1)[0]!r} is not supported")
        if not _SHA256.fullmatch(digest):
            raise bad("a sha256 digest has 64 lowercase hex digits")
    tag: str | None = None
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise bad(f"{tag!r} is not a valid tag")
    if not name:
        raise bad("the repository name is missing")
    if len(name) > MAX_NAME_LENGTH:
        raise bad(f"the name is longer than {MAX_NAME_LENGTH} characters")

    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        if not _DOMAIN.fullmatch(first):
            raise bad(f"{first!r} is not a valid registry host")
        registry, path = first, rest
    else:
        registry, path = DOCKER_HUB, name
    if registry.lower() in _HUB_ALIASES:
        registry = DOCKER_HUB
    if not path:
        raise bad("the repository name is missing")
    if path != path.lower() and all(_PATH_COMPONENT.fullmatch(c) for c in path.lower().split("/")):
        raise bad("the repository name must be lowercase")
    for component in path.split("/"):
        if not _PATH_COMPONENT.fullmatch(component):
            raise bad(f"{component!r} is not a valid repository name component")
    if registry == DOCKER_HUB and "/" not in path:
        if _HEX64.fullmatch(path):
            raise bad("a 64-character hex string is an image ID, not a name")
        path = f"library/{path}"
    if tag is None and not at:
        tag = DEFAULT_TAG
    return Reference(registry=registry, repository=path, tag=tag, digest=digest if at else None)


def looks_like_reference(text: str) -> bool:
    """True when a plain argument that is not an existing path reads as an image
    reference rather than a mistyped file name."""
    stripped = text.strip()
    if not stripped or stripped.startswith(("/", "./", "../", "~", ".")) or "\\" in stripped:
        return False
    if stripped.lower().endswith(_FILE_SUFFIXES):
        return False
    try:
        parse_reference(stripped)
    except InputError:
        return False
    return True
