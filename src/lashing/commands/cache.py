"""`lashing cache info|prune`: the blob and layer cache."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from lashing.cache import BlobCache
from lashing.commands.common import add_format, output_format, parse_size, write_output
from lashing.errors import EXIT_OK, InputError
from lashing.options import SourceOptions, default_cache_dir

if TYPE_CHECKING:
    from lashing.cli import Context

NAME = "cache"
HELP = "show or prune the blob and layer cache"
DESCRIPTION = """\
Images pulled from registries are kept in a content-addressed cache so that
a second scan reads them from disk.

  lashing cache info                  directory, number of blobs, total size
  lashing cache prune                 evict least recently used blobs down to the cap
  lashing cache prune --max-size 5GiB evict down to 5 GiB (0 empties the cache)

Sizes take the units B, kB, MB, GB, TB (powers of 1000) and KiB, MiB, GiB, TiB
(powers of 1024). Formats: table (default), json.
"""

FORMATS = ("table", "json")


def format_size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", choices=("info", "prune"), help="info: show the cache; prune: evict blobs"
    )
    parser.add_argument(
        "--max-size",
        metavar="SIZE",
        help="prune: evict least recently used blobs until the cache is at most SIZE "
        "(default: the cache's cap)",
    )
    add_format(parser, FORMATS, "table")


def run(args: argparse.Namespace, ctx: Context) -> int:
    fmt = output_format(args)
    if args.action != "prune" and args.max_size is not None:
        raise InputError("--max-size applies to 'lashing cache prune' only")
    root = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    cache = BlobCache(root, SourceOptions().cache_max_bytes)
    if args.action == "info":
        info = cache.info()
        doc: dict[str, object] = {
            "directory": str(info.root),
            "blobs": info.count,
            "bytes": info.bytes,
            "max_bytes": info.max_bytes,
        }
        rows = [
            ("directory", str(info.root)),
            ("blobs", str(info.count)),
            ("size", f"{format_size(info.bytes)} ({info.bytes} bytes)"),
            ("limit", format_size(info.max_bytes)),
        ]
    else:
        cap = parse_size(args.max_size, "--max-size") if args.max_size is not None else None
        result = cache.prune(cap)
        doc = {
            "directory": str(root),
            "removed": result.removed,
            "freed_bytes": result.freed_bytes,
            "remaining_bytes": result.remaining_bytes,
        }
        rows = [
            ("directory", str(root)),
            ("removed", f"{result.removed} blobs"),
            ("freed", format_size(result.freed_bytes)),
            ("remaining", format_size(result.remaining_bytes)),
        ]
    if fmt == "json":
        text = json.dumps(doc, indent=2) + "\n"
    else:
        width = max(len(k) for k, _ in rows)
        text = "".join(f"{k.ljust(width)}  {v}\n" for k, v in rows)
    write_output(text, args.output, ctx.stdout)
    return EXIT_OK
