"""The npm and yarn lockfiles: package-lock.json (v1-v3) and yarn.lock
(classic v1 and berry), each read into (name, version, dev) entries (pnpm's
are in `_pnpm`). Links, workspaces, local directories and non-registry
version strings are skipped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lashing.catalog._common import as_dict, as_str, check_size, decode, load_json
from lashing.catalog.base import CatalogError

_LOCAL_PROTOCOLS = ("file:", "link:", "workspace:", "portal:")


@dataclass(frozen=True)
class Locked:
    name: str
    version: str
    dev: bool = False


def registry_version(version: str) -> bool:
    """A plain version, not a file:, git, URL or alias reference."""
    return ":" not in version and "/" not in version and not version.startswith(".")


def _split_alias(name: str, version: str) -> tuple[str, str]:
    """`npm:real-name@1.2.3` (an alias's version in v1 locks) -> real name and version."""
    if version.startswith("npm:"):
        rest = version[4:]
        at = rest.rfind("@")
        if at > 0:
            return rest[:at], rest[at + 1:]
    return name, version


# -- package-lock.json / npm-shrinkwrap.json -------------------------------

def package_lock(data: bytes, limit: int, max_depth: int) -> Iterator[Locked]:
    doc = as_dict(load_json(data, limit, "package-lock.json"))
    packages = as_dict(doc.get("packages"))
    if packages:
        yield from _lock_packages(packages)
    else:
        yield from _lock_dependencies(as_dict(doc.get("dependencies")), max_depth)


def _lock_packages(packages: dict[str, Any]) -> Iterator[Locked]:
    """v2/v3: {"node_modules/a/node_modules/@s/b": {"version": ...}}."""
    for key, value in packages.items():
        entry = as_dict(value)
        at = key.rfind("node_modules/")
        if at < 0 or entry.get("link") is True:
            continue  # the root project, a workspace member, or a link to one
        name = as_str(entry.get("name")) or key[at + len("node_modules/"):]
        version = as_str(entry.get("version"))
        if not version:
            continue
        name, version = _split_alias(name, version)
        if registry_version(version):
            yield Locked(name, version, dev=entry.get("dev") is True)


def _lock_dependencies(top: dict[str, Any], max_depth: int) -> Iterator[Locked]:
    """v1: a tree of {"name": {"version": ..., "dev": ..., "dependencies": {...}}}."""
    stack: list[tuple[dict[str, Any], int]] = [(top, 0)]
    while stack:
        deps, depth = stack.pop()
        if depth > max_depth:
            raise CatalogError(f"dependencies nested deeper than {max_depth}")
        for name, value in deps.items():
            entry = as_dict(value)
            version = as_str(entry.get("version"))
            if version:
                real, version = _split_alias(name, version)
                if registry_version(version):
                    yield Locked(real, version, dev=entry.get("dev") is True)
            nested = as_dict(entry.get("dependencies"))
            if nested:
                stack.append((nested, depth + 1))


# -- yarn.lock ---------------------------------------------------------------

def yarn(data: bytes, limit: int) -> Iterator[Locked]:
    """Classic (`version "1.2.3"`) and berry (`version: 1.2.3`, `resolution:`)."""
    check_size(data, limit, "yarn.lock")
    text = decode(data, "yarn.lock")
    key: str | None = None
    fields: dict[str, str] = {}
    for line in [*text.splitlines(), ""]:
        if line.startswith("#"):
            continue
        if line and not line[0].isspace():
            if key is not None:
                yield from _yarn_entry(key, fields)
            key, fields = line.rstrip().rstrip(":"), {}
            continue
        if key is None:
            continue
        stripped = line.strip()
        if line.startswith("  ") and not line.startswith("   ") and stripped:
            name, _, value = stripped.partition(" ")
            fields[name.rstrip(":")] = value.strip().strip('"')
        elif not stripped and key is not None:
            yield from _yarn_entry(key, fields)
            key, fields = None, {}


def _yarn_entry(key: str, fields: dict[str, str]) -> Iterator[Locked]:
    if key == "__metadata":
        return
    version = fields.get("version")
    spec = key.split(",")[0].strip().strip('"')
    at = spec.find("@", 1)
    if not version or at < 0:
        return
    name, spec_range = spec[:at], spec[at + 1:]
    resolution = fields.get("resolution")
    if resolution:  # berry: "name@npm:1.2.3", "name@workspace:.", "name@patch:..."
        rat = resolution.find("@", 1)
        if rat > 0:
            name, spec_range = resolution[:rat], resolution[rat + 1:]
    if spec_range.startswith(_LOCAL_PROTOCOLS):
        return
    if spec_range.startswith("npm:") and not resolution:
        alias = spec_range[4:]
        aat = alias.find("@", 1)
        if aat > 0:
            name = alias[:aat]
    if registry_version(version):
        yield Locked(name, version)
