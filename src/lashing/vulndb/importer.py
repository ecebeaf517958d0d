"""`lashing db import`: OSV records from zips, directories and single files.

Inputs:
- a zip (OSV's `<ECOSYSTEM>/all.zip`): anything that is not a zip is refused
  before work starts; while it is read, every member's size is held to the
  limits and its CRC checked, and any fault aborts the import;
- a directory: every `.json`, `.yaml` and `.yml` file below it;
- a single `.json` / `.yaml` record (a JSON list of records also works).

Malformed records are skipped and counted, with the first few reasons; the
import itself is all or nothing (see writer.DatabaseWriter).
"""

from __future__ import annotations

import json
import mmap
import struct
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lashing.errors import InputError, LimitExceededError
from lashing.progress import NullProgress, Progress
from lashing.vulndb.records import MalformedRecord, ParsedRecord, parse_record
from lashing.vulndb.writer import DatabaseWriter

__all__ = [
    "ImportResult",
    "RecordLimits",
    "check_input",
    "decode",
    "import_paths",
    "iter_documents",
    "parse_documents",
    "verify_zip",
]

RECORD_SUFFIXES = (".json", ".yaml", ".yml")
MAX_REASONS = 10
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"


@dataclass(frozen=True)
class RecordLimits:
    """Limits on untrusted archives and records."""

    max_record_bytes: int = 16 * 1024**2  # one record file or zip member
    max_zip_bytes: int = 16 * 1024**3  # all members of one zip, uncompressed
    max_yaml_depth: int = 64


@dataclass
class ImportResult:
    records: int = 0  # stored (inserted or replaced)
    withdrawn: int = 0  # withdrawn records (an older copy is removed)
    ignored: int = 0  # valid, but no package a version could be matched against
    skipped: int = 0  # malformed
    reasons: list[str] = field(default_factory=list)  # the first few skip reasons
    ecosystems: Counter[str] = field(default_factory=Counter)  # ecosystem -> records
    seconds: float = 0.0

    @property
    def families(self) -> set[str]:
        return {eco.split(":", 1)[0] for eco in self.ecosystems}

    def skip(self, reason: str) -> None:
        self.skipped += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(reason)


# -- reading ------------------------------------------------------------------


def _is_zip(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(4)
    return head in (ZIP_MAGIC, EMPTY_ZIP_MAGIC)


def verify_zip(path: Path, limits: RecordLimits = RecordLimits(), *, deep: bool = False) -> None:
    """Refuse anything that is not a complete zip within the limits:
    InputError naming the file. The central directory must read back, and
    member sizes must be within the limits; `deep` also decompresses every
    member and checks its CRC (imports check each CRC as they read anyway,
    and abort on a bad member)."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for info in archive.infolist():
                if info.is_dir():
                    continue
                if info.file_size > limits.max_record_bytes and info.filename.endswith(
                        RECORD_SUFFIXES):
                    raise LimitExceededError(
                        f"{path}: member {info.filename} is {info.file_size} bytes, over the "
                        f"{limits.max_record_bytes}-byte limit for one record")
                total += info.file_size
            if total > limits.max_zip_bytes:
                raise LimitExceededError(
                    f"{path}: members add up to {total} bytes, over the "
                    f"{limits.max_zip_bytes}-byte limit")
            bad = archive.testzip() if deep else None
    except zipfile.BadZipFile as exc:
        raise InputError(f"{path}: not a valid zip archive ({exc})",
                         "give an OSV all.zip, a directory of records, or a record file") from None
    except (OSError, EOFError, zlib.error, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise InputError(f"{path}: cannot read zip archive ({exc})") from None
    if bad is not None:
        raise InputError(f"{path}: member {bad} is corrupt (CRC mismatch)")


_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # zip local file header, 30 bytes


def _zip_members(path: Path, limits: RecordLimits) -> Iterator[tuple[str, bytes, int]]:
    """Every record member of a zip, each checked against the limits, its
    CRC and its size (a bad member aborts the import with an InputError).

    Stored and deflated members are read straight from a memory map (the
    zipfile module's per-member file objects cost more than the inflating);
    anything else goes through zipfile."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(f"{path}: not a valid zip archive ({exc})",
                         "give an OSV all.zip, a directory of records, or a record file") from None
    with archive, path.open("rb") as raw:
        size = raw.seek(0, 2)
        view = mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        total = 0
        try:
            for info in archive.infolist():
                if info.is_dir() or not info.filename.endswith(RECORD_SUFFIXES):
                    continue
                total += info.file_size
                if info.file_size > limits.max_record_bytes or total > limits.max_zip_bytes:
                    raise LimitExceededError(
                        f"{path}: member {info.filename} is over the limits "
                        f"({limits.max_record_bytes} bytes for one record, "
                        f"{limits.max_zip_bytes} for all)")
                try:
                    data = _member(archive, view, info)
                except (zipfile.BadZipFile, zlib.error, EOFError, OSError, struct.error,
                        NotImplementedError) as exc:
                    raise InputError(f"{path}: member {info.filename} is corrupt ({exc})",
                                     "get a fresh copy of the archive") from None
                yield f"{path}:{info.filename}", data, info.compress_size
        finally:
            if view is not None:
                view.close()


def _member(archive: zipfile.ZipFile, view: mmap.mmap | None, info: zipfile.ZipInfo) -> bytes:
    if view is None or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) \
            or info.flag_bits & 0x1:  # encrypted: let zipfile refuse it
        return archive.read(info)
    start = info.header_offset
    header = _LOCAL_HEADER.unpack_from(view, start)
    if header[0] != b"PK\x03\x04":
        raise zipfile.BadZipFile("bad local file header")
    begin = start + _LOCAL_HEADER.size + header[9] + header[10]
    chunk = view[begin:begin + info.compress_size]
    if len(chunk) != info.compress_size:
        raise zipfile.BadZipFile("truncated member")
    if info.compress_type == zipfile.ZIP_DEFLATED:  # bounded by the declared size
        data = zlib.decompressobj(-15).decompress(chunk, info.file_size + 1)
    else:
        data = chunk
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile("CRC or size mismatch")
    return data


def iter_documents(path: Path, limits: RecordLimits = RecordLimits()
                   ) -> Iterator[tuple[str, bytes, int]]:
    """(where, content, bytes consumed) for every record file in `path`."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.suffix in RECORD_SUFFIXES):
            if not file.is_file():
                continue
            size = file.stat().st_size
            if size > limits.max_record_bytes:
                raise LimitExceededError(
                    f"{file}: {size} bytes, over the {limits.max_record_bytes}-byte limit "
                    "for one record")
            yield str(file), file.read_bytes(), size
        return
    if path.suffix.lower() == ".zip" or _is_zip(path):
        yield from _zip_members(path, limits)
        return
    if path.suffix.lower() not in RECORD_SUFFIXES:
        raise InputError(f"{path}: not a zip, a directory or a .json/.yaml record",
                         "give an OSV all.zip, a directory of records, or a record file")
    size = path.stat().st_size
    if size > limits.max_record_bytes:
        raise LimitExceededError(
            f"{path}: {size} bytes, over the {limits.max_record_bytes}-byte limit for one record")
    yield str(path), path.read_bytes(), size


def check_input(path: Path, limits: RecordLimits = RecordLimits()) -> None:
    """InputError unless `path` is a directory, a record file or an intact zip."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        return
    if path.suffix.lower() == ".zip" or _is_zip(path):
        if not zipfile.is_zipfile(path):  # the end record; members are checked as read
            raise InputError(f"{path}: not a valid zip archive",
                             "give an OSV all.zip, a directory of records, or a record file")
    elif path.suffix.lower() not in RECORD_SUFFIXES:
        raise InputError(f"{path}: not a zip, a directory or a .json/.yaml record",
                         "give an OSV all.zip, a directory of records, or a record file")


def input_size(path: Path) -> int | None:
    """About the bytes iter_documents() will report for `path` (a progress total)."""
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*")
                       if p.suffix in RECORD_SUFFIXES and p.is_file())
        return path.stat().st_size
    except OSError:
        return None


def _load_yaml(data: bytes) -> Any:
    """YAML with every scalar kept as a string (versions like 1.10 must not
    become numbers), through libyaml when available."""
    if _CBaseLoader is not None:
        # BaseLoader builds only str, list and dict: nothing is instantiated
        return _pyyaml.load(data, Loader=_CBaseLoader)  # noqa: S506
    from ruamel.yaml import YAML

    return YAML(typ="base", pure=True).load(data)


try:  # libyaml through PyYAML is ~10x faster than pure-Python YAML parsing
    import yaml as _pyyaml  # type: ignore[import-untyped,unused-ignore]

    _CBaseLoader: Any = getattr(_pyyaml, "CBaseLoader", None)
except ImportError:  # pragma: no cover - depends on the environment
    _CBaseLoader = None


def _check_shape(doc: Any, max_depth: int) -> None:
    """Refuse YAML aliases (shared nodes) and deep nesting."""
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > max_depth:
                raise MalformedRecord(f"nested deeper than {max_depth} levels")
            if id(node) in seen:
                raise MalformedRecord("uses YAML aliases")
            seen.add(id(node))
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)


def decode(where: str, data: bytes, limits: RecordLimits = RecordLimits()) -> list[Any]:
    """The records in one file's content (JSON by its name, else YAML)."""
    if where.endswith(".json"):
        doc = json.loads(data)
    else:
        doc = _load_yaml(data)
        _check_shape(doc, limits.max_yaml_depth)
    return doc if isinstance(doc, list) else [doc]


def parse_documents(documents: Iterable[tuple[str, bytes, int]], result: ImportResult,
                    limits: RecordLimits = RecordLimits(),
                    advance: Any = None) -> Iterator[ParsedRecord]:
    """Parse and check documents, counting into `result`; yields what to store."""
    for where, data, consumed in documents:
        if advance is not None:
            advance(consumed)
        try:
            docs = decode(where, data, limits)
        except MalformedRecord as exc:
            result.skip(f"{where}: {exc}")
            continue
        except Exception as exc:  # any parser error: JSON, YAML, bad UTF-8
            result.skip(f"{where}: not valid {'JSON' if where.endswith('.json') else 'YAML'} "
                        f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})")
            continue
        for doc in docs:
            try:
                record = parse_record(doc)
            except MalformedRecord as exc:
                result.skip(f"{where}: {exc}")
                continue
            if record.withdrawn:
                result.withdrawn += 1
            elif not record.affected:
                result.ignored += 1
                continue
            else:
                result.records += 1
                result.ecosystems.update({a.ecosystem for a in record.affected})
            yield record


# -- importing ------------------------------------------------------------------


def import_paths(paths: Sequence[Path], db_path: Path, *,
                 progress: Progress | None = None,
                 limits: RecordLimits = RecordLimits()) -> ImportResult:
    """Import records from `paths` into the database at `db_path` (created if
    missing), replacing records with the same id. Atomic: on any error the
    old database stays as it was."""
    progress = progress or NullProgress()
    for path in paths:  # refuse bad inputs before any work
        check_input(path, limits)
    started = time.monotonic()
    result = ImportResult()
    with DatabaseWriter(db_path) as writer:
        for path in paths:
            task = progress.task(f"importing {path.name}", input_size(path))
            writer.write(parse_documents(iter_documents(path, limits), result, limits,
                                         task.advance))
            task.finish()
        for fam in sorted(result.families):
            writer.set_source(fam, ", ".join(str(p) for p in paths))
        writer.commit()
    result.seconds = time.monotonic() - started
    return result

