"""`lashing db update`: fetch OSV's per-ecosystem `all.zip` and import it.

- `<base>/<ECOSYSTEM>/all.zip`, base `https://osv-vulnerabilities.storage.googleapis.com`
  unless a mirror is given (`--mirror`, `LASHING_DB_MIRROR`);
- conditional requests (If-None-Match / If-Modified-Since from the last
  download): a 304 costs one request and changes nothing but the check time;
- resumable: the body goes to `<db dir>/downloads/<ECOSYSTEM>.zip.part`; an
  interrupted download continues with a Range request (If-Range keeps it
  from mixing two versions of the file) when the server supports ranges;
- the zip is verified before use, then every downloaded ecosystem is
  imported in one atomic replacement of the database. The records of an
  updated ecosystem replace its old ones completely.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from lashing.errors import EnvironmentFailure, InputError, LashingError, RegistryError
from lashing.http import HttpClient
from lashing.progress import NullProgress, Progress
from lashing.vulndb.ecosystems import family as family_of
from lashing.vulndb.importer import ImportResult, iter_documents, parse_documents, verify_zip
from lashing.vulndb.store import Database, SourceInfo, open_database
from lashing.vulndb.writer import DatabaseWriter, touch_checked

__all__ = ["DEFAULT_MIRROR", "EcosystemUpdate", "UpdateResult", "download", "update"]

DEFAULT_MIRROR = "https://osv-vulnerabilities.storage.googleapis.com"
# Small enough that an interrupted transfer loses little of what arrived: the
# client hands on data in chunks of this size, and a partial chunk is lost.
DOWNLOAD_CHUNK = 16 * 1024
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


@dataclass(frozen=True)
class Downloaded:
    path: Path
    etag: str | None
    last_modified: str | None
    resumed_from: int  # bytes already on disk when this request started


@dataclass
class EcosystemUpdate:
    family: str
    url: str
    state: str  # "updated", "unchanged" or "failed"
    resumed_from: int = 0
    error: str = ""


@dataclass
class UpdateResult:
    ecosystems: list[EcosystemUpdate] = field(default_factory=list)
    imported: ImportResult = field(default_factory=ImportResult)


def ecosystem_url(base: str, family: str) -> str:
    return f"{base.rstrip('/')}/{quote(family, safe='')}/all.zip"


def _read_state(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} \
        if isinstance(data, dict) else {}


def download(client: HttpClient, url: str, dest: Path, *, etag: str | None = None,
             last_modified: str | None = None, progress: Progress | None = None,
             label: str = "") -> Downloaded | None:
    """Fetch `url` to `dest` (via `dest.part`). None when the server says the
    copy we have (etag / last_modified) is current. Interrupted transfers
    raise EnvironmentFailure and leave the part file for the next attempt."""
    progress = progress or NullProgress()
    part = dest.with_name(dest.name + ".part")
    state_file = dest.with_name(dest.name + ".part.json")
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    elif last_modified:
        headers["If-Modified-Since"] = last_modified
    offset = 0
    state = _read_state(state_file)
    validator = state.get("etag") or state.get("last_modified")
    if part.is_file() and state.get("url") == url and validator:
        offset = part.stat().st_size
        if offset:
            headers["Range"] = f"bytes={offset}-"
            headers["If-Range"] = validator
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with client.stream(url, headers=headers) as response:
            if response.status == 304:
                part.unlink(missing_ok=True)
                state_file.unlink(missing_ok=True)
                return None
            if response.status == 416 and offset:  # our part is stale or complete garbage
                part.unlink(missing_ok=True)
                state_file.unlink(missing_ok=True)
                return download(client, url, dest, etag=etag, last_modified=last_modified,
                                progress=progress, label=label)
            if response.status == 404:
                raise EnvironmentFailure(
                    f"{url}: not found (404)",
                    "check the ecosystem's spelling (OSV's: PyPI, Debian, Rocky Linux, "
                    "crates.io) and the mirror")
            if response.status not in (200, 206):
                raise EnvironmentFailure(f"{url}: the server answered HTTP {response.status}")
            mode = "wb"
            if response.status == 206:
                m = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
                if not m or int(m.group(1)) != offset:
                    raise EnvironmentFailure(
                        f"{url}: the server sent a range that does not continue the download",
                        f"delete {part} and try again")
                mode = "ab"
            else:
                offset = 0
            new_etag = response.headers.get("etag")
            new_lm = response.headers.get("last-modified")
            if mode == "wb":
                state_file.write_text(json.dumps(
                    {"url": url, "etag": new_etag or "", "last_modified": new_lm or ""}))
            length = response.headers.get("content-length")
            total = offset + int(length) if length and length.isdigit() else None
            task = progress.task(label or url, total)
            task.advance(offset)
            received = offset
            with part.open(mode) as out:
                try:
                    for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
                        out.write(chunk)
                        received += len(chunk)
                        task.advance(len(chunk))
                except RegistryError as exc:
                    of = f" of {total}" if total else ""
                    raise EnvironmentFailure(
                        f"download of {url} stopped after {received}{of} bytes ({exc.message})",
                        "run the same command again to resume the download") from None
            task.finish()
            if total is not None and received != total:
                raise EnvironmentFailure(
                    f"download of {url} stopped after {received} of {total} bytes",
                    "run the same command again to resume the download")
    except OSError as exc:
        raise EnvironmentFailure(
            f"cannot save the download of {url} in {dest.parent} ({exc.strerror or exc})",
            "choose a writable place with --db PATH or LASHING_DB") from None
    part.replace(dest)
    state_file.unlink(missing_ok=True)
    return Downloaded(dest, new_etag, new_lm, offset)


def _current_sources(db_path: Path) -> dict[str, SourceInfo]:
    if not db_path.is_file():
        return {}
    try:
        db: Database = open_database(db_path)
    except EnvironmentFailure:
        return {}  # unusable: it gets rebuilt
    with db:
        return {s.family: s for s in db.sources()}


def update(db_path: Path, families: Sequence[str], *, mirror: str = DEFAULT_MIRROR,
           client: HttpClient | None = None, progress: Progress | None = None) -> UpdateResult:
    """Download and import the given ecosystems (families such as `Debian`,
    `PyPI`; a release suffix like `Debian:12` is dropped: OSV publishes one zip
    per family). Raises the first download error after importing the rest."""
    progress = progress or NullProgress()
    wanted = sorted({family_of(f.strip()) for f in families if f.strip()})
    if not wanted:
        raise InputError("no ecosystem to update", "name one with --ecosystem, e.g. PyPI")
    current = _current_sources(db_path)
    downloads = db_path.parent / "downloads"
    result = UpdateResult()
    fetched: list[tuple[str, str, Downloaded]] = []
    errors: list[LashingError] = []
    own_client = client is None
    http = client or HttpClient()
    try:
        for fam in wanted:
            url = ecosystem_url(mirror, fam)
            known = current.get(fam)
            same_source = known is not None and known.source == url
            try:
                got = download(
                    http, url, downloads / f"{fam.replace('/', '_')}.zip",
                    etag=known.etag if same_source and known else None,
                    last_modified=known.last_modified if same_source and known else None,
                    progress=progress, label=f"{fam} all.zip")
                if got is not None:
                    try:
                        verify_zip(got.path)
                    except InputError as exc:
                        got.path.unlink(missing_ok=True)
                        raise EnvironmentFailure(
                            f"{url}: the downloaded file is not a usable zip ({exc.message})",
                            "run the command again; if it persists, check the mirror") from None
            except LashingError as exc:
                errors.append(exc)
                result.ecosystems.append(EcosystemUpdate(fam, url, "failed", error=exc.message))
                continue
            if got is None:
                result.ecosystems.append(EcosystemUpdate(fam, url, "unchanged"))
            else:
                fetched.append((fam, url, got))
                result.ecosystems.append(
                    EcosystemUpdate(fam, url, "updated", resumed_from=got.resumed_from))
    finally:
        if own_client:
            http.close()
    unchanged = [u.family for u in result.ecosystems if u.state == "unchanged"]
    if unchanged and db_path.is_file():
        touch_checked(db_path, unchanged)
    if fetched:
        _import(db_path, fetched, result.imported, progress)
    if errors:
        raise errors[0]
    return result


def _import(db_path: Path, fetched: list[tuple[str, str, Downloaded]], result: ImportResult,
            progress: Progress) -> None:
    with DatabaseWriter(db_path) as writer:
        for fam, url, got in fetched:
            writer.clear_family(fam)
            task = progress.task(f"importing {fam}", got.path.stat().st_size)
            writer.write(parse_documents(iter_documents(got.path), result,
                                         advance=task.advance))
            task.finish()
            writer.set_source(fam, url, etag=got.etag, last_modified=got.last_modified)
        writer.commit()
    for _, _, got in fetched:
        got.path.unlink(missing_ok=True)
