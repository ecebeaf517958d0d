"""A guarded YAML reader for untrusted manifests, keeping line numbers.

Documents are built from a YAML event stream without recursion, so hostile
input cannot exhaust the stack, and with limits on
the input size, the nesting depth, the number of aliases and the number of
nodes aliases expand to (YAML bombs). Mappings and sequences come back as
`YMap` / `YSeq`: plain dicts and lists that also know their 1-based line,
the line of each key or item, and the file they came from. Scalars are
plain Python values (str, int, float, bool, None; YAML 1.2 core schema).

Problems that leave the rest of the input usable (duplicate keys) are
reported as `YamlProblem`s; anything else raises `YamlError` with the
file and line. Documents completed before a syntax error are kept.

The events come from libyaml (through PyYAML's C parser) when it is there:
it parses 20-30 times faster than a pure-Python parser (bench: the 430
manifests of netpol-nca, 0.8 MB, in 0.3 s instead of 8.5 s). ruamel.yaml's
pure parser is the fallback. Either way only the syntax comes from the
parser; scalars are resolved here with ruamel's YAML 1.2 resolver, so both
give the same values.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml as pyyaml  # type: ignore[import-untyped,unused-ignore]
from ruamel.yaml import YAML
from ruamel.yaml import events as rev
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

from lashing.errors import InputError

__all__ = ["YMap", "YSeq", "YamlError", "YamlLimits", "YamlProblem", "line_of", "load_all"]


@dataclass(frozen=True)
class YamlLimits:
    """Limits on one YAML input (a file or stdin)."""

    max_bytes: int = 8 * 1024 * 1024
    max_depth: int = 64
    max_aliases: int = 1000
    max_expanded_nodes: int = 500_000


class YamlError(InputError):
    """The input is not YAML, or breaks a limit. Names the file and line."""

    def __init__(self, name: str, line: int | None, message: str) -> None:
        where = f"{name}:{line}" if line else name
        super().__init__(f"{where}: {message}")
        self.name = name
        self.line = line
        self.reason = message


@dataclass(frozen=True)
class YamlProblem:
    name: str
    line: int | None
    message: str


class YMap(dict[Any, Any]):
    """A YAML mapping: a dict with its line, its keys' lines and its file."""

    line: int
    source: str
    key_lines: dict[Any, int]
    key_sources: dict[Any, str]  # keys set by another file (compose overrides)
    key_tags: dict[Any, str]  # compose's merge tags on values (`!reset`, `!override`)

    def __init__(self, line: int = 0, source: str = "") -> None:
        super().__init__()
        self.line = line
        self.source = source
        self.key_lines = {}
        self.key_sources = {}
        self.key_tags = {}

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)

    def source_of(self, key: Any) -> str:
        return self.key_sources.get(key, self.source)


class YSeq(list[Any]):
    """A YAML sequence: a list with its line, its items' lines and its file."""

    line: int
    source: str
    item_lines: list[int]

    def __init__(self, line: int = 0, source: str = "") -> None:
        super().__init__()
        self.line = line
        self.source = source
        self.item_lines = []

    def line_at(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


# Event classes of both parsers: the builder only reads the attributes they share
# (anchor, tag, implicit, value, style, start_mark).
_LIBYAML = bool(getattr(pyyaml, "__with_libyaml__", False))
CollectionStartEvent = (rev.CollectionStartEvent, pyyaml.CollectionStartEvent)
MappingStartEvent = (rev.MappingStartEvent, pyyaml.MappingStartEvent)
MappingEndEvent = (rev.MappingEndEvent, pyyaml.MappingEndEvent)
SequenceEndEvent = (rev.SequenceEndEvent, pyyaml.SequenceEndEvent)
ScalarEvent = (rev.ScalarEvent, pyyaml.ScalarEvent)
AliasEvent = (rev.AliasEvent, pyyaml.AliasEvent)
DocumentEndEvent = (rev.DocumentEndEvent, pyyaml.DocumentEndEvent)
_MARKED_ERRORS = (MarkedYAMLError, pyyaml.MarkedYAMLError)
_ERRORS = (YAMLError, pyyaml.YAMLError)


def _events(text: str, fast: bool = _LIBYAML) -> Iterator[Any]:
    """The event stream of `text`: libyaml's when available, else ruamel's pure parser."""
    if fast:
        return iter(pyyaml.parse(text, Loader=pyyaml.CSafeLoader))
    return iter(YAML(typ="safe", pure=True).parse(io.StringIO(text)))


def line_of(value: Any, default: int = 0) -> int:
    return value.line if isinstance(value, YMap | YSeq) else default


_RESOLVER = VersionedResolver()
_MERGE = "<<"
# Local tags compose gives meaning to when merging files; the tagged value is
# read as if untagged and the tag is kept in its mapping's `key_tags`.
MERGE_TAGS = frozenset({"!reset", "!override"})


def _scalar(event: Any) -> Any:
    value: str = event.value
    if event.tag in MERGE_TAGS:  # resolved as a plain scalar
        tag = (_RESOLVER.resolve(ScalarNode, value, (True, False))
               if event.style in (None, "") else "tag:yaml.org,2002:str")
    elif event.tag not in (None, "!"):
        tag = event.tag
    elif event.style not in (None, "") or event.implicit is None or not event.implicit[0]:
        return value
    else:
        tag = _RESOLVER.resolve(ScalarNode, value, event.implicit)
    try:
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return value.lower() in ("true", "yes", "on", "y")
        if tag == "tag:yaml.org,2002:int":
            text = value.replace("_", "")
            if text.lower().startswith(("0o", "-0o", "+0o")):
                return int(text.replace("o", "").replace("O", ""), 8)
            return int(text, 0) if text.lower().startswith(("0x", "0b")) else int(text)
        if tag == "tag:yaml.org,2002:float":
            low = value.lower()
            if low in (".inf", "+.inf"):
                return float("inf")
            if low == "-.inf":
                return float("-inf")
            if low == ".nan":
                return float("nan")
            return float(value.replace("_", ""))
    except ValueError:
        return value
    return value


def _size(value: Any) -> int:
    """Nodes in a built value (aliases already counted where they were built)."""
    if isinstance(value, dict):
        return 1 + sum(_size(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_size(v) for v in value)
    return 1


@dataclass
class _Builder:
    name: str
    limits: YamlLimits
    problems: list[YamlProblem]
    # open containers: (container, pending key, key line)
    stack: list[tuple[Any, Any, int]] = field(default_factory=list)
    anchors: dict[str, tuple[Any, int]] = field(default_factory=dict)  # value, size
    anchored: list[tuple[str, Any]] = field(default_factory=list)
    aliases: int = 0
    expanded: int = 0
    merges: list[tuple[YMap, Any]] = field(default_factory=list)
    tags: dict[int, str] = field(default_factory=dict)  # id(open container) -> merge tag

    def fail(self, line: int | None, message: str) -> YamlError:
        return YamlError(self.name, line, message)

    def add(self, value: Any, line: int, size: int = 1, tag: str | None = None) -> Any:
        """Attach `value` to the open container; return it when it ends a document."""
        self.expanded += size
        if self.expanded > self.limits.max_expanded_nodes:
            raise self.fail(line, f"more than {self.limits.max_expanded_nodes} nodes after "
                            "alias expansion (a YAML bomb?)")
        if not self.stack:
            return value
        container, key, key_line = self.stack[-1]
        if isinstance(container, YSeq):
            container.append(value)
            container.item_lines.append(line)
        elif key is _NO_KEY:
            if isinstance(value, dict | list):
                value = _freeze_key(value)
            self.stack[-1] = (container, value, line)
        else:
            if key == _MERGE and isinstance(key, str):
                self.merges.append((container, value))
            else:
                if key in container:
                    self.problems.append(YamlProblem(
                        self.name, key_line, f"duplicate key {key!r} (line "
                        f"{container.key_lines.get(key)}); the last value is used"))
                try:
                    container[key] = value
                    container.key_lines[key] = key_line
                    if tag in MERGE_TAGS:
                        container.key_tags[key] = tag
                except TypeError:
                    raise self.fail(key_line, "unhashable mapping key") from None
            self.stack[-1] = (container, _NO_KEY, 0)
        return _NO_KEY

    def events(self, events: Iterator[Any]) -> Iterator[Any]:
        for event in events:
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            if isinstance(event, CollectionStartEvent):
                if len(self.stack) >= self.limits.max_depth:
                    raise self.fail(line, f"nesting deeper than {self.limits.max_depth} levels")
                container: YMap | YSeq = (YMap(line or 0, self.name)
                                          if isinstance(event, MappingStartEvent)
                                          else YSeq(line or 0, self.name))
                if event.anchor:
                    self.anchored.append((event.anchor, container))
                if event.tag in MERGE_TAGS:
                    self.tags[id(container)] = event.tag
                self.stack.append((container, _NO_KEY, 0))
            elif isinstance(event, MappingEndEvent + SequenceEndEvent):
                done, _, _ = self.stack.pop()
                self._resolve_merges(done)
                for i, (anchor, value) in enumerate(self.anchored):
                    if value is done:
                        self.anchors[anchor] = (done, _size(done))
                        del self.anchored[i]
                        break
                top = self.add(done, done.line, tag=self.tags.pop(id(done), None))
                if top is not _NO_KEY:
                    yield top
            elif isinstance(event, ScalarEvent):
                value = _scalar(event)
                if event.anchor:
                    self.anchors[event.anchor] = (value, 1)
                top = self.add(value, line or 0, tag=event.tag)
                if top is not _NO_KEY:
                    yield top
            elif isinstance(event, AliasEvent):
                self.aliases += 1
                if self.aliases > self.limits.max_aliases:
                    raise self.fail(line, f"more than {self.limits.max_aliases} aliases")
                if event.anchor not in self.anchors:
                    raise self.fail(line, f"alias *{event.anchor} names no complete anchor")
                value, size = self.anchors[event.anchor]
                top = self.add(value, line or 0, size)
                if top is not _NO_KEY:
                    yield top
            elif isinstance(event, DocumentEndEvent):
                self.anchors.clear()

    def _resolve_merges(self, done: Any) -> None:
        if not isinstance(done, YMap):
            return
        pending = [(m, v) for m, v in self.merges if m is done]
        if not pending:
            return
        self.merges = [(m, v) for m, v in self.merges if m is not done]
        for _, value in pending:
            sources = value if isinstance(value, list) else [value]
            for source in sources:
                if not isinstance(source, dict):
                    raise self.fail(done.line, "a merge key (<<) needs a mapping")
                for k, v in source.items():
                    if k not in done:
                        done[k] = v
                        done.key_lines[k] = (source.key_lines.get(k, done.line)
                                             if isinstance(source, YMap) else done.line)


class _NoKey:
    pass


_NO_KEY: Any = _NoKey()


def _freeze_key(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((str(k), _freeze_key(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze_key(v) for v in value)
    return value


def load_all(text: str | bytes, name: str, limits: YamlLimits | None = None,
             fast: bool = _LIBYAML) -> tuple[list[Any], list[YamlProblem], YamlError | None]:
    """Every document of `text` (empty documents dropped), the non-fatal
    problems, and the error that stopped reading (documents before it are kept).

    Raises YamlError only when the input is over the size limit or not UTF-8."""
    limits = limits or YamlLimits()
    if len(text) > limits.max_bytes:
        raise YamlError(name, None, f"{len(text)} bytes is over the {limits.max_bytes}-byte "
                        "limit for a YAML document")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise YamlError(name, None, "not UTF-8 text") from None
    problems: list[YamlProblem] = []
    builder = _Builder(name, limits, problems)
    docs: list[Any] = []
    try:
        for doc in builder.events(_events(text, fast)):
            if doc is not None:
                docs.append(doc)
    except YamlError as exc:
        return docs, problems, exc
    except _MARKED_ERRORS as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = exc.problem or exc.context or "invalid YAML"
        if line is not None and any("\t" in _indent(text, n) for n in (line - 1, line, line + 1)):
            message = "a tab is used for indentation (YAML allows spaces only)"
        return docs, problems, YamlError(name, line, message)
    except (*_ERRORS, RecursionError, ValueError) as exc:
        return docs, problems, YamlError(name, None, f"invalid YAML ({exc})")
    return docs, problems, None


def _line(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _indent(text: str, line: int) -> str:
    current = _line(text, line)
    return current[: len(current) - len(current.lstrip(" \t"))]
