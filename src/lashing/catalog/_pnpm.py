"""pnpm-lock.yaml (lockfile versions 5, 6 and 9), read into (name, version,
dev) entries.

pnpm writes its lockfile in one fixed YAML layout: two-space indentation,
top-level sections, one `  key:` line per package under `packages:` and
plain or quoted scalars below it. That layout is read line by line, because
the pure-Python YAML parser needs about half a minute for a 1.5 MB
lockfile. A file that strays from the layout (hand-edited, re-indented,
flow style, or not YAML at all) goes through ruamel's safe loader instead,
so it is read with full YAML semantics or refused as invalid.

Keys: `/name/1.0.0_peer@2` (v5), `/name@1.0.0(peer@2)` (v6),
`name@1.0.0` (v9). Entries for tarballs and git repositories carry `name`
and `version` fields, which win over the key. v5 and v6 mark development
dependencies with `dev: true`; v9 does not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from lashing.catalog._common import as_dict, as_str, check_size, decode, load_yaml
from lashing.catalog._jslock import Locked, registry_version
from lashing.catalog.base import CatalogError

Entry = tuple[str, dict[str, str]]  # a packages key and its name/version/dev fields
_FIELDS = ("name", "version", "dev")
_PLAIN_KEY = re.compile(r"([^'\"#\s].*?):(?:\s+(.*))?$")


def pnpm(data: bytes, limit: int) -> Iterator[Locked]:
    check_size(data, limit, "pnpm-lock.yaml")
    fast = _read_layout(decode(data, "pnpm-lock.yaml"))
    version, entries = fast if fast is not None else _read_yaml(data, limit)
    try:
        major = int(version.split(".")[0])
    except ValueError:
        raise CatalogError(f"pnpm-lock.yaml: unknown lockfileVersion {version!r}") from None
    for key, fields in entries:
        name, ver = _pnpm_key(key, major)
        name = fields.get("name") or name
        ver = fields.get("version") or ver
        if name and ver and registry_version(ver):
            yield Locked(name, ver, dev=fields.get("dev") == "true")


def _read_yaml(data: bytes, limit: int) -> tuple[str, list[Entry]]:
    doc = as_dict(load_yaml(data, limit, "pnpm-lock.yaml"))
    entries: list[Entry] = []
    for key, value in as_dict(doc.get("packages")).items():
        entry = as_dict(value)
        fields = {f: as_str(entry.get(f)) for f in ("name", "version")}
        found = {k: v for k, v in fields.items() if v}
        dev = entry.get("dev")
        if isinstance(dev, bool):
            found["dev"] = "true" if dev else "false"
        entries.append((key, found))
    return as_str(doc.get("lockfileVersion")) or "", entries


def _read_layout(text: str) -> tuple[str, list[Entry]] | None:
    """The lockfile version and packages of a file in pnpm's own layout, or
    None as soon as a line does not fit it."""
    version: str | None = None
    section: str | None = None
    entries: list[Entry] = []
    current: dict[str, str] | None = None
    for line in text.splitlines():
        content = line.lstrip(" ")
        if not content or content.startswith("#"):
            continue
        if content[0] == "\t" or content.startswith(("- ", "? ")) or content == "-":
            return None
        indent = len(line) - len(content)
        if indent == 0:
            pair = _key_value(content)
            if pair is None:
                return None
            section, value = pair
            if section == "lockfileVersion":
                version = _scalar(value)
            elif section == "packages" and value not in ("", "{}"):
                return None
            current = None
        elif section != "packages":
            continue
        elif indent == 2:
            pair = _key_value(content)
            if pair is None or pair[1] not in ("", "{}"):
                return None
            current = {}
            entries.append((pair[0], current))
        elif current is None or indent < 4:
            return None
        elif indent == 4:
            pair = _key_value(content)
            if pair is None:
                return None
            if pair[0] in _FIELDS:
                scalar = _scalar(pair[1])
                if scalar is None:
                    return None
                current[pair[0]] = scalar
    if version is None:
        return None
    return version, entries


def _key_value(text: str) -> tuple[str, str] | None:
    """`key: value` with a plain, 'single' or "double" quoted key."""
    if text[0] in "'\"":
        key = _scalar_prefix(text)
        if key is None:
            return None
        key_text, rest = key
        if not rest.startswith(":") or (len(rest) > 1 and rest[1] != " "):
            return None
        return key_text, rest[1:].strip()
    match = _PLAIN_KEY.match(text)
    if match is None or re.search(r"\s#", match.group(1)):
        return None
    return match.group(1).rstrip(), (match.group(2) or "").strip()


def _scalar(text: str) -> str | None:
    """A plain or quoted scalar value; None for anything more (flow, block)."""
    if not text:
        return ""
    if text[0] in "'\"":
        quoted = _scalar_prefix(text)
        rest = quoted[1].strip() if quoted is not None else ""
        if quoted is None or (rest and not rest.startswith("#")):
            return None
        return quoted[0]
    if text[0] in "[{&*!|>%@`":
        return None
    return re.split(r"\s#", text, maxsplit=1)[0].strip()


def _scalar_prefix(text: str) -> tuple[str, str] | None:
    """A quoted scalar at the start of `text`, and what follows it."""
    if text[0] == "'":
        i, out = 1, []
        while i < len(text):
            if text[i] == "'":
                if text.startswith("''", i):
                    out.append("'")
                    i += 2
                    continue
                return "".join(out), text[i + 1:]
            out.append(text[i])
            i += 1
        return None
    try:
        value, end = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return None
    return (value, text[end:]) if isinstance(value, str) else None


def _pnpm_key(key: str, major: int) -> tuple[str | None, str | None]:
    key = key.removeprefix("/")
    if major < 6:
        name, slash, version = key.rpartition("/")
        if not slash or not name:
            return None, None
        return name, version.split("_")[0]
    key = key.split("(")[0]
    at = key.rfind("@")
    if at <= 0:
        return None, None
    return key[:at], key[at + 1:]
