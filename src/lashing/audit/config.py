"""The `[audit]`, `[scan]` and `[store]` sections of lashing.toml: what
`lashing audit` looks at, how it gates, and where results go.

    cfg = load_audit_config(Path("lashing.toml"))

Paths are relative to the config file. Unknown keys are InputErrors that
suggest the nearest valid key; so are values of the wrong type. The `[policy]`
and `[ignore]` sections are read by their own readers (trust.policy,
suppress) when `[audit]` does not name other files for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lashing.config import (
    SECTIONS,
    check_keys,
    get_str,
    get_table,
    read_toml,
    resolve_path,
    suggest,
)
from lashing.errors import InputError
from lashing.model import Severity, Surface
from lashing.rules.dockerfile.labels import LABEL_TYPES

AUDIT_KEYS = ("images", "dockerfiles", "kubernetes", "compose", "host", "policy",
              "ignore_file", "vex", "fail_on", "verify_images")
SCAN_KEYS = ("db", "scanners", "skip_rules", "ignore_unfixed", "show_unimportant",
             "trusted_registries", "label_schema", "strict_labels")
STORE_KEYS = ("path", "url")
IMAGE_ENTRY_KEYS = ("target", "name")
FAIL_ON_KEYS = tuple(s.value for s in Surface)
# Transports whose rest is a path (relative to the config file).
PATH_TRANSPORTS = ("docker-archive", "oci", "oci-archive", "dir", "sbom")
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class ImageEntry:
    """One image to scan: the target text (paths made absolute) and the names
    workloads use for it (for joining with Kubernetes and compose images)."""

    target: str
    names: tuple[str, ...] = ()
    error: str | None = None  # a glob that matched nothing, and the like


@dataclass(frozen=True)
class ScanSettings:
    db: Path | None = None
    scanners: tuple[str, ...] = ()  # empty: every scanner
    skip_rules: tuple[str, ...] = ()
    ignore_unfixed: bool = False
    show_unimportant: bool = False
    trusted_registries: tuple[str, ...] = ()
    label_schema: tuple[tuple[str, str], ...] = ()  # (label, type), see LABEL_TYPES
    strict_labels: bool = False


@dataclass(frozen=True)
class AuditConfig:
    path: Path
    images: tuple[ImageEntry, ...] = ()
    dockerfiles: tuple[Path, ...] = ()
    kubernetes: tuple[Path, ...] = ()
    compose: tuple[Path, ...] = ()
    host: Path | None = None
    policy: Path | None = None  # a file with a [policy] section (may be this file)
    ignore_file: Path | None = None  # a file with an [ignore] section (may be this file)
    vex: tuple[Path, ...] = ()
    fail_on: dict[Surface, Severity] = field(default_factory=dict)
    verify_images: bool = False  # verify the signatures of the images manifests name
    scan: ScanSettings = field(default_factory=ScanSettings)
    store: str | None = None  # a path (made absolute) or a URL


def _strings(table: Mapping[str, Any], key: str, path: Path, where: str) -> list[str]:
    """A string or a list of strings."""
    value = table.get(key)
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
        raise InputError(f"{path}: {where}.{key}: expected a string or a list of strings")
    return [v.strip() for v in items]


def _bool(table: Mapping[str, Any], key: str, path: Path, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise InputError(f"{path}: {where}.{key}: expected true or false")
    return value


def _expand(path: Path, value: str) -> list[Path] | None:
    """A config path, or every match of a glob (sorted); None when a glob matches nothing."""
    if not _GLOB_CHARS & set(value):
        return [resolve_path(path, value)]
    parts = resolve_path(path, value).parts
    first = next(i for i, part in enumerate(parts) if _GLOB_CHARS & set(part))
    found = sorted(Path(*parts[:first]).glob(str(Path(*parts[first:]))))
    return found or None


def _image_target(path: Path, text: str) -> list[ImageEntry]:
    """Make the path in a target absolute (relative to the config file); expand globs."""
    transport, sep, rest = text.partition(":")
    if sep and transport in PATH_TRANSPORTS and rest and rest != "-" and not rest.startswith("-:"):
        # PATH[:REF]: the longest prefix that exists relative to the file is the path.
        head, tail = rest, ""
        for i in [len(rest), *reversed([k for k, ch in enumerate(rest) if ch == ":"])]:
            if resolve_path(path, rest[:i]).exists():
                head, tail = rest[:i], rest[i:]
                break
        return [ImageEntry(f"{transport}:{resolve_path(path, head)}{tail}")]
    if sep and transport == "docker" and rest.startswith("//"):
        return [ImageEntry(text)]
    if _GLOB_CHARS & set(text) and "@" not in text:
        matches = _expand(path, text)
        if matches is None:
            return [ImageEntry(text, error=f"{text}: no file matches this pattern")]
        return [ImageEntry(str(p)) for p in matches]
    local = resolve_path(path, text)
    return [ImageEntry(str(local) if local.exists() else text)]


def _images(table: Mapping[str, Any], path: Path) -> tuple[ImageEntry, ...]:
    value = table.get("images")
    if value is None:
        return ()
    items = [value] if isinstance(value, (str, dict)) else value
    if not isinstance(items, list):
        raise InputError(f"{path}: audit.images: expected a list of targets")
    out: list[ImageEntry] = []
    for i, item in enumerate(items, 1):
        where = f"audit.images[{i}]"
        if isinstance(item, str) and item.strip():
            out.extend(_image_target(path, item.strip()))
        elif isinstance(item, dict):
            check_keys(item, IMAGE_ENTRY_KEYS, path, where)
            target = get_str(item, "target", path, where, required=True)
            assert target is not None
            names = tuple(_strings(item, "name", path, where))
            out.extend(ImageEntry(e.target, names, e.error)
                       for e in _image_target(path, target))
        else:
            raise InputError(f"{path}: {where}: expected a target string or a table "
                             "{ target = \"...\", name = \"registry/repo:tag\" }")
    return tuple(out)


def _paths(table: Mapping[str, Any], key: str, path: Path) -> tuple[Path, ...]:
    out: list[Path] = []
    for value in _strings(table, key, path, "audit"):
        found = _expand(path, value)
        # A glob that matches nothing is kept as written: the audit reports it as an error item.
        out.extend(found if found is not None else [resolve_path(path, value)])
    return tuple(out)


def _fail_on(table: Mapping[str, Any], path: Path) -> dict[Surface, Severity]:
    gates = get_table(table, "fail_on", path, "audit")
    if gates is None:
        return {}
    check_keys(gates, FAIL_ON_KEYS, path, "audit.fail_on")
    out: dict[Surface, Severity] = {}
    for key, value in gates.items():
        if not isinstance(value, str):
            raise InputError(f"{path}: audit.fail_on.{key}: expected a severity string")
        try:
            out[Surface(key)] = Severity.parse(value)
        except ValueError as exc:
            raise InputError(f"{path}: audit.fail_on.{key}: {exc}") from None
    return out


def _scan(doc: Mapping[str, Any], path: Path) -> ScanSettings:
    table = get_table(doc, "scan", path)
    if table is None:
        return ScanSettings()
    check_keys(table, SCAN_KEYS, path, "[scan]")
    db = get_str(table, "db", path, "scan")
    return ScanSettings(
        db=resolve_path(path, db) if db else None,
        scanners=tuple(_strings(table, "scanners", path, "scan")),
        skip_rules=tuple(_strings(table, "skip_rules", path, "scan")),
        ignore_unfixed=_bool(table, "ignore_unfixed", path, "scan"),
        show_unimportant=_bool(table, "show_unimportant", path, "scan"),
        trusted_registries=tuple(_strings(table, "trusted_registries", path, "scan")),
        label_schema=_label_schema(table, path),
        strict_labels=_bool(table, "strict_labels", path, "scan"),
    )


def _label_schema(table: Mapping[str, Any], path: Path) -> tuple[tuple[str, str], ...]:
    """`label_schema = { version = "semver", ... }`: label names and their types."""
    value = get_table(table, "label_schema", path, "scan")
    if value is None:
        return ()
    return tuple(label_type(label, kind, f"{path}: scan.label_schema.{label}")
                 for label, kind in value.items())


def label_type(label: str, kind: object, where: str) -> tuple[str, str]:
    """A (label, type) pair of a label schema; an InputError naming `where` and
    the nearest valid type when the type is unknown."""
    if not label.strip() or any(c.isspace() for c in label):
        raise InputError(f"{where}: {label!r} is not a label name")
    if not isinstance(kind, str):
        raise InputError(f"{where}: expected a type name ({', '.join(LABEL_TYPES)})")
    if kind not in LABEL_TYPES:
        near = suggest(kind, LABEL_TYPES)
        raise InputError(f"{where}: unknown label type {kind!r}",
                         f"did you mean {near!r}?" if near
                         else f"valid types: {', '.join(LABEL_TYPES)}")
    return label, kind


def load_scan_settings(path: Path) -> ScanSettings:
    """The [scan] section of a config file (`lashing scan --config`); other
    sections are not read, but unknown sections are refused."""
    doc = read_toml(path, "config file")
    check_keys(doc, SECTIONS, path)
    return _scan(doc, path)


def _store(doc: Mapping[str, Any], path: Path) -> str | None:
    table = get_table(doc, "store", path)
    if table is None:
        return None
    check_keys(table, STORE_KEYS, path, "[store]")
    store_path = get_str(table, "path", path, "store")
    url = get_str(table, "url", path, "store")
    if store_path and url:
        raise InputError(f"{path}: [store]: give either path or url, not both")
    if url:
        return url
    return str(resolve_path(path, store_path)) if store_path else None


def _section_file(table: Mapping[str, Any], key: str, doc: Mapping[str, Any], section: str,
                  path: Path) -> Path | None:
    """A file named by `key`, else this file when it has the section, else None."""
    value = get_str(table, key, path, "audit")
    if value:
        return resolve_path(path, value)
    return path if section in doc else None


def parse_audit_config(doc: Mapping[str, Any], path: Path) -> AuditConfig:
    check_keys(doc, SECTIONS, path)
    table = get_table(doc, "audit", path)
    if table is None:
        raise InputError(f"{path}: no [audit] section",
                         "run 'lashing audit --init' for a commented example")
    check_keys(table, AUDIT_KEYS, path, "[audit]")
    host = get_str(table, "host", path, "audit")
    return AuditConfig(
        path=path.resolve(),
        images=_images(table, path),
        dockerfiles=_paths(table, "dockerfiles", path),
        kubernetes=_paths(table, "kubernetes", path),
        compose=_paths(table, "compose", path),
        host=resolve_path(path, host) if host else None,
        policy=_section_file(table, "policy", doc, "policy", path),
        ignore_file=_section_file(table, "ignore_file", doc, "ignore", path),
        vex=tuple(resolve_path(path, v) for v in _strings(table, "vex", path, "audit")),
        fail_on=_fail_on(table, path),
        verify_images=_bool(table, "verify_images", path, "audit"),
        scan=_scan(doc, path),
        store=_store(doc, path),
    )


def load_audit_config(path: Path) -> AuditConfig:
    return parse_audit_config(read_toml(path, "config file"), path)


__all__ = ["AuditConfig", "ImageEntry", "ScanSettings", "label_type", "load_audit_config",
           "load_scan_settings", "parse_audit_config"]
