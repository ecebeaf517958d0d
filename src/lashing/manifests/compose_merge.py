"""How compose merges files: later files win; mappings merge, most lists append
(unique-key lists such as ports, volumes, secrets and expose merge by their key),
a few attributes are replaced, and `!reset` / `!override` tags say otherwise."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from lashing.manifests.yaml import YMap, YSeq

__all__ = ["as_map", "drop_resets", "merge"]

REPLACED = frozenset({"command", "entrypoint", "test", "env_file", "user", "image"})
# Attributes that are a string or a list of strings: merged as lists.
STRING_OR_LIST = frozenset({"dns", "dns_search", "dns_opt", "tmpfs"})
# Attributes whose list form is a list of names and whose mapping form is keyed by name.
NAMES_OR_MAP = frozenset({"depends_on", "networks"})


def merge(base: Any, over: Any, key: str = "") -> Any:
    if isinstance(base, YMap) and isinstance(over, YMap):
        merged = YMap(base.line, base.source)
        merged.update(base)
        merged.key_lines.update(base.key_lines)
        merged.key_sources.update(base.key_sources)
        merged.key_tags.update(base.key_tags)
        for k, v in over.items():
            tag = over.key_tags.get(k)
            merged.key_tags.pop(k, None)
            if tag == "!reset":  # the value is removed, whatever it was
                merged.pop(k, None)
                merged.key_lines.pop(k, None)
                merged.key_sources.pop(k, None)
                continue
            merged[k] = merge(base[k], v, str(k)) if k in base and tag is None else v
            merged.key_lines[k] = over.line_of(k)
            merged.key_sources[k] = over.source_of(k)
        return merged
    if key in STRING_OR_LIST and isinstance(base, str | YSeq) and isinstance(over, str | YSeq) \
            and not (isinstance(base, YSeq) and isinstance(over, YSeq)):
        return merge(_as_seq(base), _as_seq(over), key)
    if key in NAMES_OR_MAP and isinstance(base, YMap | YSeq) and isinstance(over, YMap | YSeq) \
            and type(base) is not type(over):
        return merge(_names_map(base), _names_map(over), key)
    if isinstance(base, YSeq) and isinstance(over, YSeq) and key not in REPLACED:
        if key in ("environment", "labels"):  # list form: KEY=VALUE, later wins
            return merge(as_map(base), as_map(over), key)
        if key in _UNIQUE:
            return _merge_unique(base, over, _UNIQUE[key])
        merged_seq = YSeq(base.line, base.source)
        merged_seq.extend(base)
        merged_seq.item_lines.extend(base.item_lines)
        for i, v in enumerate(over):
            if v not in merged_seq:
                merged_seq.append(v)
                merged_seq.item_lines.append(over.line_at(i))
        return merged_seq
    if key in ("environment", "labels") and isinstance(base, YMap | YSeq) and isinstance(
            over, YMap | YSeq):
        return merge(as_map(base), as_map(over), key)
    return over


def _as_seq(value: str | YSeq) -> YSeq:
    if isinstance(value, YSeq):
        return value
    out = YSeq()
    out.append(value)
    return out


def _names_map(value: YMap | YSeq) -> YMap:
    """`[a, b]` as `{a: null, b: null}` (the list form of `depends_on` / `networks`)."""
    if isinstance(value, YMap):
        return value
    out = YMap(value.line, value.source)
    for i, item in enumerate(value):
        if isinstance(item, str):
            out[item] = None
            out.key_lines[item] = value.line_at(i)
    return out


def _merge_unique(base: YSeq, over: YSeq, unique: Any) -> YSeq:
    """Append `over`'s entries; an entry whose unique key an earlier one has replaces
    (a string) or is merged into (a mapping) that entry."""
    merged = YSeq(base.line, base.source)
    index: dict[Hashable, int] = {}
    for items in (base, over):
        for i, v in enumerate(items):
            k = unique(v)
            if k is None:  # not understood: kept unless repeated verbatim
                if v in merged:
                    continue
            elif k in index:
                j = index[k]
                old = merged[j]
                merged[j] = merge(old, v) if isinstance(old, YMap) and isinstance(v, YMap) else v
                merged.item_lines[j] = items.line_at(i)
                continue
            else:
                index[k] = len(merged)
            merged.append(v)
            merged.item_lines.append(items.line_at(i))
    return merged


def _port_key(value: Any) -> Hashable | None:
    """Compose's unique key of a port: (host ip, target, published, protocol)."""
    if isinstance(value, dict):
        if value.get("target") is None:
            return None
        return (str(value.get("host_ip") or ""), str(value["target"]),
                str(value.get("published") or ""), str(value.get("protocol") or "tcp").lower())
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text, _, proto = str(value).partition("/")
    ip = ""
    if text.startswith("["):  # [v6]:published:target
        ip, _, text = text[1:].partition("]")
        text = text.removeprefix(":")
    parts = text.split(":")
    if len(parts) > 2:
        ip, parts = ":".join(parts[:-2]), parts[-2:]
    published, target = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
    return ip, target, published, (proto or "tcp").lower()


def _volume_key(value: Any) -> Hashable | None:
    """A mount's unique key: its target path."""
    if isinstance(value, dict):
        target = value.get("target")
        return str(target) if target is not None else None
    if not isinstance(value, str):
        return None
    parts = value.split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _file_key(default_dir: str) -> Any:
    """A secret's or config's unique key: its target path (by default under `default_dir`)."""
    def key(value: Any) -> Hashable | None:
        name = (value.get("target") or value.get("source")) if isinstance(value, dict) else value
        if not isinstance(name, str) or not name:
            return None
        return name if name.startswith("/") else f"{default_dir}/{name}"
    return key


def _expose_key(value: Any) -> Hashable | None:
    """An exposed port, `3306` and `"3306/tcp"` alike."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    port, _, proto = str(value).partition("/")
    return port, (proto or "tcp").lower()


_UNIQUE: dict[str, Any] = {"ports": _port_key, "volumes": _volume_key,
                           "secrets": _file_key("/run/secrets"), "configs": _file_key(""),
                           "expose": _expose_key}


def drop_resets(value: Any, deep: bool = True) -> Any:
    """Remove values tagged `!reset` that no merge consumed (set in the first file)."""
    stack = [value]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, YMap):
            for k, tag in list(node.key_tags.items()):
                if tag == "!reset":
                    node.pop(k, None)
                    del node.key_tags[k]
            if deep:
                stack.extend(v for v in node.values() if isinstance(v, YMap | YSeq))
        elif isinstance(node, YSeq):
            stack.extend(v for v in node if isinstance(v, YMap | YSeq))
    return value


def as_map(value: YMap | YSeq) -> YMap:
    if isinstance(value, YMap):
        return value
    out = YMap(value.line, value.source)
    for i, item in enumerate(value):
        k, _, v = str(item).partition("=")
        out[k] = v if "=" in str(item) else None
        out.key_lines[k] = value.line_at(i)
    return out

