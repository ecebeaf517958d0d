"""`lashing db update|import|status`: the offline vulnerability database."""

from __future__ import annotations

import argparse
import json
import os
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from lashing.commands.common import add_format, output_format, write_output
from lashing.errors import EXIT_OK, InputError
from lashing.progress import NullProgress, Progress, TerminalProgress
from lashing.vulndb.ecosystems import DEFAULT_UPDATE
from lashing.vulndb.importer import ImportResult, import_paths
from lashing.vulndb.info import status_document
from lashing.vulndb.store import default_db_path, open_database
from lashing.vulndb.update import DEFAULT_MIRROR, update

if TYPE_CHECKING:
    from lashing.cli import Context

NAME = "db"
HELP = "update, import or show the offline vulnerability database"
DESCRIPTION = f"""\
The vulnerability database is one SQLite file built from OSV records
(default: $XDG_CACHE_HOME/lashing/db/lashing.db; choose another with --db PATH
or LASHING_DB). Updates and imports build a new file and swap it in, so an
interrupted run leaves the old database working.

  lashing db update                        refresh the ecosystems already in the
                                           database (all common ones when empty)
  lashing db update --ecosystem PyPI --ecosystem Debian
                                           download <mirror>/<ECOSYSTEM>/all.zip
  lashing db import all.zip advisories/    import zips, directories of .json/.yaml
                                           records, or single records (offline)
  lashing db status [--format json]        ecosystems, record counts and ages

update: conditional requests (an unchanged ecosystem costs one request),
resumable downloads, zips verified before use. Mirror: --mirror URL or
LASHING_DB_MIRROR (default {DEFAULT_MIRROR}).

status --format json writes one object:
  {{"path": "...", "schema_version": 1, "built": "2026-01-02T03:04:05Z",
   "stale_after_days": 7,
   "sources": [{{"family": "Debian", "source": "https://.../Debian/all.zip",
                "advisories": 41000, "imported_at": "...", "checked_at": "...",
                "etag": "...", "last_modified": "..."}}],
   "ecosystems": [{{"name": "Debian:12", "family": "Debian", "advisories": 30000,
                   "updated": "...", "age_days": 0.4, "source": "..."}}]}}
  Times are UTC RFC 3339; "updated" is the last time the source was found
  current; "age_days" counts from then.
"""

FORMATS = ("table", "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Each action is its own sub-parser so that options and paths mix freely
    # (`lashing db import --db X all.zip`). Options repeated there default to
    # SUPPRESS so that a value given before the action is kept.
    add_format(parser, FORMATS, "table")
    parser.add_argument("--db", metavar="PATH",
                        help="the database file (default: <cache dir>/db/lashing.db)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True,
                                    parser_class=type(parser))
    helps = {"update": "download OSV's per-ecosystem exports and rebuild the database",
             "import": "import OSV zips, directories of records or record files (offline)",
             "status": "show the ecosystems, record counts and ages in the database"}
    for name, text in helps.items():
        p = actions.add_parser(name, help=text, description=text)
        p.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                       help="the database file (default: <cache dir>/db/lashing.db)")
        for flags in (("--format", "-f"), ("--output", "-o")):
            p.add_argument(*flags, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        switches: tuple[tuple[str, ...], ...] = (("--quiet", "-q"), ("--no-progress",),
                                                  ("--offline",), ("--debug",))
        for switch in switches:
            p.add_argument(*switch, action="store_true", default=argparse.SUPPRESS,
                           help=argparse.SUPPRESS)
        if name == "import":
            p.add_argument("paths", nargs="+", metavar="PATH",
                           help="OSV zips, directories or record files")
        if name == "update":
            p.add_argument("--ecosystem", action="append", default=[], metavar="ECOSYSTEM",
                           help="an OSV ecosystem such as PyPI, Debian, 'Rocky Linux' "
                                "(repeatable)")
            p.add_argument("--db-mirror", "--mirror", dest="mirror", metavar="URL",
                           default=os.environ.get("LASHING_DB_MIRROR") or None,
                           help="base URL of the OSV export (default: $LASHING_DB_MIRROR, "
                                f"else {DEFAULT_MIRROR})")


def db_path(args: argparse.Namespace) -> Path:
    if args.db:
        return Path(args.db)
    return default_db_path(Path(args.cache_dir) if args.cache_dir else None)


def _check_usage(args: argparse.Namespace) -> None:
    if args.action == "update" and args.offline:
        raise InputError("lashing db update needs the network, and --offline forbids it",
                         "download <ECOSYSTEM>/all.zip elsewhere and run 'lashing db import'")


def run(args: argparse.Namespace, ctx: Context) -> int:
    fmt = output_format(args)
    _check_usage(args)
    path = db_path(args)
    if args.action == "status":
        return _status(path, fmt, args, ctx)
    with ExitStack() as stack:
        progress: Progress = NullProgress()
        if ctx.progress_enabled:
            progress = stack.enter_context(TerminalProgress(ctx.stderr))
        if args.action == "import":
            result = import_paths([Path(p) for p in args.paths], path, progress=progress)
        else:
            families = list(args.ecosystem) or _default_families(path)
            outcome = update(path, families, mirror=args.mirror or DEFAULT_MIRROR,
                             progress=progress)
            result = outcome.imported
    if not args.quiet:
        if args.action == "update":
            for eco in outcome.ecosystems:
                resumed = f" (resumed at {eco.resumed_from} bytes)" if eco.resumed_from else ""
                print(f"{eco.family}: {eco.state}{resumed}", file=ctx.stderr)
        _summary(result, path, ctx)
    return EXIT_OK


def _default_families(path: Path) -> list[str]:
    if path.is_file():
        with open_database(path) as db:
            known = [s.family for s in db.sources()]
        if known:
            return known
    return list(DEFAULT_UPDATE)


def _summary(result: ImportResult, path: Path, ctx: Context) -> None:
    rate = result.records / result.seconds if result.seconds else 0.0
    print(f"imported {result.records} records into {path}"
          + (f" ({rate:,.0f} records/s)" if result.records else ""), file=ctx.stderr)
    if result.withdrawn:
        print(f"removed {result.withdrawn} withdrawn records", file=ctx.stderr)
    if result.ignored:
        print(f"ignored {result.ignored} records with no package to match", file=ctx.stderr)
    if result.skipped:
        print(f"skipped {result.skipped} malformed records", file=ctx.stderr)
        for reason in result.reasons[:5]:
            print(f"  {reason}", file=ctx.stderr)


def _status(path: Path, fmt: str, args: argparse.Namespace, ctx: Context) -> int:
    with open_database(path) as db:
        doc = status_document(db)
    if fmt == "json":
        text = json.dumps(doc, indent=2) + "\n"
    else:
        lines = [f"database  {doc['path']}", f"schema    {doc['schema_version']}",
                 f"built     {doc['built'] or '-'}", ""]
        rows = [("ECOSYSTEM", "ADVISORIES", "AGE (DAYS)", "UPDATED")]
        for eco in doc["ecosystems"]:
            age = eco["age_days"]
            rows.append((eco["name"], str(eco["advisories"]),
                         f"{age:.1f}" if age is not None else "-", eco["updated"] or "-"))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                  for r in rows]
        if len(rows) == 1:
            lines.append("(no advisories)")
        text = "\n".join(lines) + "\n"
    write_output(text, args.output, ctx.stdout)
    return EXIT_OK
