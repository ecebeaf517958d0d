"""Tolerant image-reference splitting for rules (FROM lines, image references).

Unlike source.reference this never raises: rules see whatever was written.
"""

from __future__ import annotations

from dataclasses import dataclass

DOCKER_HUB = "docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


@dataclass(frozen=True)
class ImageName:
    registry: str  # "docker.io" for Docker Hub
    repository: str
    tag: str | None
    digest: str | None


def split_image(text: str) -> ImageName:
    name, _, digest = text.strip().partition("@")
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    first, sep, remainder = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first.lower(), remainder
    else:
        registry, repository = DOCKER_HUB, name
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
    return ImageName(registry, repository, tag or None, digest or None)


def registry_matches(registry: str, allowed: str) -> bool:
    """`allowed` names a host ("registry.example.com", "localhost:5000"), Docker Hub
    ("docker.io") or a wildcard domain ("*.example.com")."""
    allowed = allowed.strip().lower()
    if allowed in _HUB_ALIASES:
        allowed = DOCKER_HUB
    if allowed.startswith("*."):
        return registry.endswith(allowed[1:])
    return registry == allowed
