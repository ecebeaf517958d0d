"""What the language catalogers share: building Packages with purls, bounded
JSON/TOML/YAML loading, type-checked access to parsed documents, and one guard
that turns any parse failure into a CatalogError."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterable
from typing import Any

from packageurl import PackageURL
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from lashing.catalog.base import CatalogContext, CatalogError
from lashing.model import Location, Package

MiB = 1024 * 1024
DEFAULT_MAX_FILE_BYTES = 64 * MiB  # one lockfile or metadata file
DEFAULT_MAX_PACKAGES = 200_000  # packages one file may declare

_BRACKETS = re.compile(r"[\[\]{}]")

# Exceptions a parser over untrusted bytes may raise on a hostile or damaged
# file; `guarded` turns each into a CatalogError naming the problem.
_PARSE_ERRORS: tuple[type[Exception], ...] = (
    ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError,
    UnicodeDecodeError, OverflowError, YAMLError,
)


def guarded(what: str, parse: Callable[[], list[Package]]) -> list[Package]:
    """Run `parse`, turning any parse failure into a CatalogError."""
    try:
        return parse()
    except CatalogError:
        raise
    except RecursionError:
        raise CatalogError(f"{what}: nested too deeply") from None
    except _PARSE_ERRORS as exc:
        raise CatalogError(f"{what}: {type(exc).__name__}: {exc}") from None


def check_size(data: bytes, limit: int, what: str) -> None:
    if len(data) > limit:
        raise CatalogError(f"{what} is {len(data)} bytes, over the limit of {limit}")


def decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{what} is not UTF-8 (byte {exc.start})") from None


def load_json(data: bytes, limit: int, what: str = "JSON") -> Any:
    check_size(data, limit, what)
    try:
        return json.loads(decode(data, what))
    except RecursionError:
        raise CatalogError(f"{what}: nested too deeply") from None
    except ValueError as exc:
        raise CatalogError(f"invalid {what}: {exc}") from None


def load_toml(data: bytes, limit: int, what: str = "TOML") -> dict[str, Any]:
    check_size(data, limit, what)
    try:
        return tomllib.loads(decode(data, what))
    except RecursionError:
        raise CatalogError(f"{what}: nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"invalid {what}: {exc}") from None


def load_yaml(data: bytes, limit: int, what: str = "YAML", max_depth: int = 64) -> Any:
    """One YAML document through ruamel's safe loader. Aliases are shared,
    never copied, so an alias bomb cannot grow memory; callers walk only the
    top levels they need. Nesting is bounded before parsing (the pure-Python
    parser spends seconds on a few thousand levels): flow brackets beyond
    `max_depth`, or indentation beyond 8 columns per level, are refused."""
    check_size(data, limit, what)
    text = decode(data, what)
    _check_yaml_depth(text, max_depth, what)
    try:
        return YAML(typ="safe", pure=True).load(text)
    except RecursionError:
        raise CatalogError(f"{what}: nested too deeply") from None
    except YAMLError as exc:
        first = str(exc).strip().splitlines()
        raise CatalogError(f"invalid {what}: {' '.join(first[:3])}") from None


def _check_yaml_depth(text: str, max_depth: int, what: str) -> None:
    depth = 0
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group() in "[{" else -1
        if depth > max_depth:
            raise CatalogError(f"{what}: nested deeper than {max_depth}")
    indent = max((len(line) - len(line.lstrip(" ")) for line in text.splitlines()), default=0)
    if indent > 8 * max_depth:
        raise CatalogError(f"{what}: indented {indent} columns, nested too deeply")


def as_dict(value: object) -> dict[str, Any]:
    """`value` when it is a mapping with string keys, else an empty dict."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if isinstance(k, str)}
    return {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: object) -> str | None:
    """A non-empty string, or None. Numbers (YAML `version: 1.0`) become text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float):
        return str(value)
    return None


def make_package(cataloger: str, ecosystem: str, purl_type: str, name: str, version: str,
                 path: str, ctx: CatalogContext, *, namespace: str | None = None,
                 purl_name: str | None = None, licenses: Iterable[str] = ()) -> Package:
    """A Package with its purl; `purl_name` when the purl's name part is not
    `name` (npm scopes, Maven group:artifact, Go module paths)."""
    purl = PackageURL(type=purl_type, namespace=namespace, name=purl_name or name,
                      version=version).to_string()
    return Package(name=name, version=version, ecosystem=ecosystem, purl=purl,
                   found_by=cataloger, locations=(Location(path=path, layer=ctx.layer),),
                   licenses=tuple(dict.fromkeys(lic for lic in licenses if lic)))


class Collector:
    """Packages of one file, first occurrence of each (name, version) kept,
    with a limit on how many one file may declare."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: dict[tuple[str, str], Package] = {}

    def add(self, package: Package) -> None:
        key = (package.name, package.version)
        if key in self._seen:
            return
        if len(self._seen) >= self.limit:
            raise CatalogError(f"more than {self.limit} packages in one file")
        self._seen[key] = package

    def result(self) -> list[Package]:
        return list(self._seen.values())


__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_MAX_PACKAGES",
    "Collector",
    "MiB",
    "as_dict",
    "as_list",
    "as_str",
    "check_size",
    "decode",
    "guarded",
    "load_json",
    "load_toml",
    "load_yaml",
    "make_package",
]
