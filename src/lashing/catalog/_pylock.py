"""The Python source-tree formats: requirements files and the poetry,
Pipfile, uv and pdm lockfiles, each read into (name, version, dev) pins."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement

from lashing.catalog._common import as_dict, as_list, as_str, load_json, load_toml

_OPTION = re.compile(r"\s--?[A-Za-z]")
_COMMENT = re.compile(r"(^|\s)#.*$")


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    dev: bool = False


def requirements(data: bytes) -> Iterator[Pin]:
    """Exact pins of a pip requirements file. Lines that pip would read as
    options, includes, editables, URLs or version ranges are skipped."""
    text = data.decode("utf-8", errors="replace")
    for line in _logical_lines(text):
        if not line or line.startswith("-"):
            continue  # -r, -c, -e, --index-url, --hash continuations
        option = _OPTION.search(line)
        if option:
            line = line[:option.start()].strip()  # per-requirement --hash options
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.url:
            continue
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
            continue
        yield Pin(req.name, specs[0].version)


def _logical_lines(text: str) -> Iterator[str]:
    pending = ""
    for raw in text.splitlines():
        line = _COMMENT.sub("", raw).rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield (pending + line).strip()
        pending = ""
    if pending.strip():
        yield pending.strip()


def poetry(data: bytes, limit: int) -> Iterator[Pin]:
    doc = load_toml(data, limit, "poetry.lock")
    for entry in map(as_dict, as_list(doc.get("package"))):
        name, version = as_str(entry.get("name")), as_str(entry.get("version"))
        if not name or not version:
            continue
        if as_str(as_dict(entry.get("source")).get("type")) == "directory":
            continue  # a local project, not a release
        yield Pin(name, version, dev=entry.get("category") == "dev")


def pipfile(data: bytes, limit: int) -> Iterator[Pin]:
    doc = as_dict(load_json(data, limit, "Pipfile.lock"))
    for section, dev in (("default", False), ("develop", True)):
        for name, entry in as_dict(doc.get(section)).items():
            version = as_str(as_dict(entry).get("version"))
            if version and version.startswith("=="):
                yield Pin(name, version.lstrip("="), dev=dev)


def uv(data: bytes, limit: int) -> Iterator[Pin]:
    doc = load_toml(data, limit, "uv.lock")
    for entry in map(as_dict, as_list(doc.get("package"))):
        name, version = as_str(entry.get("name")), as_str(entry.get("version"))
        source = as_dict(entry.get("source"))
        if not name or not version or {"editable", "virtual", "directory"} & source.keys():
            continue
        yield Pin(name, version)


def pdm(data: bytes, limit: int) -> Iterator[Pin]:
    doc = load_toml(data, limit, "pdm.lock")
    for entry in map(as_dict, as_list(doc.get("package"))):
        name, version = as_str(entry.get("name")), as_str(entry.get("version"))
        if not name or not version or "path" in entry or entry.get("editable") is True:
            continue
        groups = [g for g in as_list(entry.get("groups")) if isinstance(g, str)]
        yield Pin(name, version, dev=bool(groups) and "default" not in groups)
