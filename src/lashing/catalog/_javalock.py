"""Maven `pom.xml` and Gradle lockfiles, read into Maven coordinates.

pom.xml: the `<dependencies>` of the project (not of plugins or profiles).
A version is taken literally, or from `${name}` placeholders defined in the
same file (`<properties>`, `project.version`, `project.parent.version`), or
from the same file's `<dependencyManagement>`. Anything still unresolved
(a property from a parent pom, a range like `[1.0,2.0)`) is skipped: the
effective version is only known to Maven with the parent poms at hand.
Scope `test` is a development dependency. A document type declaration is
refused, so no entity is ever expanded.

gradle.lockfile: `group:artifact:version=configuration,...` lines; an
entry used only by test configurations is a development dependency.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

from lashing.catalog.base import CatalogError

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class Coordinate:
    group: str
    artifact: str
    version: str
    dev: bool = False


def pom(data: bytes) -> Iterator[Coordinate]:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise CatalogError("pom.xml with a document type declaration is refused")
    try:
        root = ET.fromstring(data)  # noqa: S314 - no DTD, so no entity expansion
    except ET.ParseError as exc:
        raise CatalogError(f"invalid XML: {exc}") from None
    if _local(root.tag) != "project":
        raise CatalogError(f"not a Maven pom (root element {_local(root.tag)!r})")
    props = _properties(root)
    managed: dict[tuple[str, str], str] = {}
    for dep in _path(root, "dependencyManagement", "dependencies", "dependency"):
        group, artifact, version = (_text(dep, "groupId"), _text(dep, "artifactId"),
                                    _text(dep, "version"))
        if group and artifact and version:
            managed[(group, artifact)] = version
    for dep in _path(root, "dependencies", "dependency"):
        group = _resolve(_text(dep, "groupId"), props)
        artifact = _resolve(_text(dep, "artifactId"), props)
        if not group or not artifact:
            continue
        version = _text(dep, "version") or managed.get((group, artifact))
        version = _resolve(version, props)
        if not version or version[0] in "[(" or "," in version:
            continue
        yield Coordinate(group, artifact, version, dev=_text(dep, "scope") == "test")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(elem: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in elem if _local(child.tag) == name]


def _path(elem: ET.Element, *names: str) -> list[ET.Element]:
    found = [elem]
    for name in names:
        found = [child for parent in found for child in _children(parent, name)]
    return found


def _text(elem: ET.Element, name: str) -> str | None:
    for child in _children(elem, name):
        text = (child.text or "").strip()
        return text or None
    return None


def _properties(root: ET.Element) -> dict[str, str]:
    props: dict[str, str] = {}
    for block in _children(root, "properties"):
        for child in block:
            if child.text and child.text.strip():
                props[_local(child.tag)] = child.text.strip()
    parent = _children(root, "parent")
    parent_version = _text(parent[0], "version") if parent else None
    parent_group = _text(parent[0], "groupId") if parent else None
    version = _text(root, "version") or parent_version
    group = _text(root, "groupId") or parent_group
    for key, value in (("project.version", version), ("version", version),
                       ("pom.version", version), ("project.groupId", group),
                       ("project.parent.version", parent_version),
                       ("project.parent.groupId", parent_group)):
        if value:
            props.setdefault(key, value)
    return props


def _resolve(value: str | None, props: dict[str, str], rounds: int = 10) -> str | None:
    """`value` with `${name}` placeholders replaced (properties may refer to
    properties); None when one stays unknown."""
    for _ in range(rounds):
        if value is None or "${" not in value or len(value) > 1000:
            break
        expanded = _PLACEHOLDER.sub(lambda m: props.get(m.group(1), m.group(0)), value)
        if expanded == value:
            break
        value = expanded
    if value is None or "${" in value or len(value) > 1000:
        return None
    return value


def gradle(data: bytes) -> Iterator[Coordinate]:
    for raw in data.decode("utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("empty="):
            continue
        coordinate, _sep, configurations = line.partition("=")
        parts = coordinate.split(":")
        if len(parts) != 3 or not all(parts):
            continue
        configs = [c for c in configurations.split(",") if c]
        dev = bool(configs) and all(c.lower().startswith("test") for c in configs)
        yield Coordinate(parts[0], parts[1], parts[2], dev=dev)
