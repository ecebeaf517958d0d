"""Target syntax: what the user named, resolved as DESIGN's table says.

Explicit transports first; a plain argument that exists as a path is sniffed
by its content; a plain argument that does not exist is an image reference.
"""

from __future__ import annotations

import json
import re
import tarfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

from lashing.errors import InputError
from lashing.fs.stream import GZIP_MAGIC, ZSTD_MAGIC


class TargetType(StrEnum):
    DOCKER_ARCHIVE = "docker-archive"
    OCI_DIR = "oci"
    OCI_ARCHIVE = "oci-archive"
    REGISTRY = "docker"
    DIRECTORY = "dir"
    SBOM = "sbom"
    STDIN_MANIFESTS = "stdin"
    KUBERNETES = "kubernetes"
    COMPOSE = "compose"
    DOCKERFILE = "dockerfile"


IMAGE_TYPES = (TargetType.DOCKER_ARCHIVE, TargetType.OCI_DIR, TargetType.OCI_ARCHIVE,
               TargetType.REGISTRY)


@dataclass(frozen=True)
class ResolvedTarget:
    type: TargetType
    text: str  # what the user wrote
    path: Path | None = None  # None for registry references and stdin
    tag: str | None = None  # docker-archive REPO:TAG, OCI TAG
    reference: str | None = None  # registry reference
    stdin: bool = False


_SNIFF_BYTES = 64 * 1024
_DOCKERFILE = re.compile(r"^(?:Dockerfile|Containerfile)(?:\..+)?$|.+\.(?:Dockerfile|dockerfile)$")


def _split_path(rest: str) -> tuple[str, str | None]:
    """`PATH[:REF]`: the longest prefix that exists is the path."""
    if Path(rest).exists():
        return rest, None
    for i in reversed([m.start() for m in re.finditer(":", rest)]):
        if Path(rest[:i]).exists():
            return rest[:i], rest[i + 1:] or None
    head, sep, tail = rest.partition(":")
    return head, (tail or None) if sep else None


def resolve(text: str) -> ResolvedTarget:
    if not text:
        raise InputError("empty target", "name an image, an archive, a directory or a file")
    if text == "-":
        return ResolvedTarget(TargetType.STDIN_MANIFESTS, text, stdin=True)
    transport, sep, rest = text.partition(":")
    if sep and transport in ("docker-archive", "oci", "oci-archive"):
        if not rest:
            raise InputError(f"{text}: missing path after '{transport}:'")
        kind = {"docker-archive": TargetType.DOCKER_ARCHIVE, "oci": TargetType.OCI_DIR,
                "oci-archive": TargetType.OCI_ARCHIVE}[transport]
        if kind is TargetType.DOCKER_ARCHIVE and (rest == "-" or rest.startswith("-:")):
            tag = rest[2:] or None
            return ResolvedTarget(kind, text, tag=tag, stdin=True)
        path, tag = _split_path(rest)
        return ResolvedTarget(kind, text, path=Path(path), tag=tag)
    if sep and transport == "docker" and rest.startswith("//"):
        ref = rest[2:]
        if not ref:
            raise InputError(f"{text}: missing image reference after 'docker://'")
        return ResolvedTarget(TargetType.REGISTRY, text, reference=ref)
    if sep and transport in ("dir", "sbom"):
        if not rest:
            raise InputError(f"{text}: missing path after '{transport}:'")
        kind = TargetType.DIRECTORY if transport == "dir" else TargetType.SBOM
        return ResolvedTarget(kind, text, path=Path(rest))
    plain = Path(text)
    if plain.exists():
        return _sniff(plain, text)
    from lashing.source.reference import looks_like_reference

    if looks_like_reference(text):
        return ResolvedTarget(TargetType.REGISTRY, text, reference=text)
    raise InputError(f"{text}: no such file or directory, and not an image reference")


def _sniff(path: Path, text: str) -> ResolvedTarget:
    if path.is_dir():
        if (path / "oci-layout").is_file():
            return ResolvedTarget(TargetType.OCI_DIR, text, path=path)
        return ResolvedTarget(TargetType.DIRECTORY, text, path=path)
    if _DOCKERFILE.match(path.name):
        return ResolvedTarget(TargetType.DOCKERFILE, text, path=path)
    try:
        with path.open("rb") as f:
            head = f.read(_SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{text}: cannot read ({exc.strerror})") from None
    if len(head) >= 262 and head[257:262] == b"ustar":
        return ResolvedTarget(_sniff_tar(path, text, "r:"), text, path=path)
    if head[:2] == GZIP_MAGIC:  # docker save | gzip > app.tar.gz
        return ResolvedTarget(_sniff_tar(path, text, "r|gz"), text, path=path)
    if head[:4] == ZSTD_MAGIC:
        raise InputError(f"{text}: a zstd-compressed archive; name its form explicitly",
                         "use docker-archive:PATH or oci-archive:PATH")
    kind = _sniff_document(head)
    if kind is None:
        raise InputError(f"{text}: cannot tell what this file is",
                         "use an explicit form such as docker-archive:PATH or sbom:PATH")
    return ResolvedTarget(kind, text, path=path)


def _sniff_tar(path: Path, text: str, mode: Literal["r:", "r|gz"]) -> TargetType:
    try:
        with tarfile.open(path, mode=mode) as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if name == "manifest.json":
                    return TargetType.DOCKER_ARCHIVE
                if name == "oci-layout":
                    return TargetType.OCI_ARCHIVE
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InputError(f"{text}: unreadable tar archive ({exc})") from None
    raise InputError(f"{text}: a tar archive with neither manifest.json nor oci-layout",
                     "lashing reads docker-archive and oci-archive tarballs")


def _sniff_document(head: bytes) -> TargetType | None:
    text = head.decode("utf-8", "replace")
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        keys = set(doc) if isinstance(doc, dict) else set()
        if not keys:  # too large to parse from the head: look at the text
            keys = set(re.findall(r'"(bomFormat|spdxVersion|apiVersion|kind|services)"\s*:', text))
        if "bomFormat" in keys or "spdxVersion" in keys:
            return TargetType.SBOM
        if {"apiVersion", "kind"} <= keys:
            return TargetType.KUBERNETES
        if "services" in keys:
            return TargetType.COMPOSE
        return None
    top = set(re.findall(r"^([A-Za-z_][\w-]*)\s*:", text, re.M))
    if {"apiVersion", "kind"} <= top:
        return TargetType.KUBERNETES
    if "services" in top:
        return TargetType.COMPOSE
    return None
