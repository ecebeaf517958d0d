"""Options shared by the sources and the filesystem stage."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lashing.source.image import DEFAULT_MAX_JSON_BYTES, Platform

GiB = 1024**3
MiB = 1024**2


@dataclass(frozen=True)
class Limits:
    """Limits on untrusted input. Every one is configurable and tested small."""

    max_uncompressed_bytes: int = 10 * GiB  # all layers of one image, decompressed
    max_file_in_memory: int = 64 * MiB  # one file's content kept for a consumer
    max_spooled_bytes: int = 2 * GiB  # all kept contents spooled to the private temp dir
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES  # manifests, configs, indexes
    max_archive_bytes: int = 64 * GiB  # an archive read from stdin and spooled
    symlink_hops: int = 40


def default_cache_dir() -> Path:
    env = os.environ.get("LASHING_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lashing"


@dataclass(frozen=True)
class SourceOptions:
    platform: Platform = field(default_factory=Platform)
    platform_explicit: bool = False  # the user named --platform
    insecure_registries: tuple[str, ...] = ()  # HOST[:PORT] spoken to over plain HTTP
    ca_file: Path | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    cache_max_bytes: int = 20 * GiB
    offline: bool = False
    timeout: float = 30.0
    retries: int = 4
    limits: Limits = field(default_factory=Limits)
