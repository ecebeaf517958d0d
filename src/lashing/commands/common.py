"""Helpers shared by subcommands: option parsing, output writing."""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import IO, TYPE_CHECKING

from lashing.errors import EXIT_GATE, EXIT_OK, InputError, LashingError
from lashing.model import Report, Severity
from lashing.options import Limits, SourceOptions, default_cache_dir
from lashing.progress import NullProgress, Progress, TerminalProgress
from lashing.source.image import Platform
from lashing.source.resolve import resolve

if TYPE_CHECKING:
    from lashing.cli import Context
    from lashing.pipeline import ScanOptions

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2,
          "mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "t": 1000**4,
          "tb": 1000**4, "tib": 1024**4}


def parse_size(text: str, what: str = "size") -> int:
    """`500MB`, `5GiB`, `1024` -> bytes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).lower() not in _UNITS:
        raise InputError(f"{what} {text!r}: expected a size such as 500MB or 10GiB")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def add_format(parser: argparse.ArgumentParser, choices: tuple[str, ...], default: str) -> None:
    parser.set_defaults(format_choices=choices, format_default=default)


def output_format(args: argparse.Namespace) -> str:
    fmt = (args.format or args.format_default).lower()
    if fmt not in args.format_choices:
        raise InputError(f"--format {fmt!r}: this command writes "
                         + ", ".join(args.format_choices))
    return str(fmt)


def write_output(text: str, output: str | None, stdout: IO[str]) -> None:
    """Write to --output atomically (all or nothing), or to stdout."""
    if not output or output == "-":
        stdout.write(text)
        stdout.flush()
        return
    dest = Path(output)
    if dest.is_char_device() or str(dest) == os.devnull:
        with dest.open("w", encoding="utf-8") as f:
            f.write(text)
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=".lashing-", dir=dest.parent or Path())
        with open(fd, "w", encoding="utf-8") as f:
            f.write(text)
        Path(tmp).replace(dest)
    except FileNotFoundError:
        raise InputError(f"--output {output}: the directory does not exist") from None
    except OSError as exc:
        raise InputError(f"--output {output}: cannot write ({exc.strerror})") from None


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of every command that reads images."""
    reg = parser.add_argument_group("registry")
    reg.add_argument("--platform", metavar="OS/ARCH[/VARIANT]",
                     help="platform to pick from a multi-platform image (default linux/amd64)")
    reg.add_argument("--insecure-registry", action="append", default=[], metavar="HOST[:PORT]",
                     help="speak plain HTTP to this registry (repeatable)")
    reg.add_argument("--ca-file", metavar="FILE", help="extra CA certificates (PEM)")
    lim = parser.add_argument_group("limits on untrusted input")
    lim.add_argument("--max-uncompressed", metavar="SIZE", default="10GiB",
                     help="refuse an image whose layers decompress to more (default 10GiB)")
    lim.add_argument("--max-file-in-memory", metavar="SIZE", default="64MiB",
                     help="files read larger than this are spooled to a private temp file")


def source_options(args: argparse.Namespace) -> SourceOptions:
    limits = Limits(
        max_uncompressed_bytes=parse_size(args.max_uncompressed, "--max-uncompressed"),
        max_file_in_memory=parse_size(args.max_file_in_memory, "--max-file-in-memory"),
    )
    ca_file = Path(args.ca_file) if args.ca_file else None
    if ca_file is not None and not ca_file.is_file():
        raise InputError(f"--ca-file {args.ca_file}: no such file")
    return SourceOptions(
        platform=Platform.parse(args.platform) if args.platform else Platform(),
        platform_explicit=bool(args.platform),
        insecure_registries=tuple(args.insecure_registry),
        ca_file=ca_file,
        cache_dir=Path(args.cache_dir) if args.cache_dir else default_cache_dir(),
        offline=args.offline,
        limits=limits,
    )


def scan_all(texts: list[str], options: ScanOptions, ctx: Context) -> tuple[Report, int]:
    """Scan every target into one report. On any failure, print each error and
    return its exit code (the highest wins) with no report."""
    from lashing.pipeline import scan  # the whole scanner: loaded only by commands that scan

    targets = [resolve(t) for t in texts]
    report = Report()
    failures: list[LashingError] = []
    with ExitStack() as stack:
        progress: Progress = NullProgress()
        if ctx.progress_enabled:
            progress = stack.enter_context(TerminalProgress(ctx.stderr))
        for target in targets:
            try:
                report = report.merge(scan(target, options, progress, ctx.stdin))
            except LashingError as exc:
                failures.append(exc)
    for failure in failures:
        print(failure.diagnostics(), file=ctx.stderr)
    return report, max((f.exit_code for f in failures), default=0)


def severities(text: str | None, option: str) -> list[Severity]:
    """A comma-separated severity list (`--severity HIGH,CRITICAL`)."""
    if not text:
        return []
    try:
        return [Severity.parse(s) for s in text.split(",") if s.strip()]
    except ValueError as exc:
        raise InputError(f"{option}: {exc}") from None


def gate(report: Report, fail_on: Severity | None) -> int:
    """EXIT_GATE when a live finding is at or above `fail_on`."""
    if fail_on is None:
        return EXIT_OK
    live = (f for f in report.findings if f.suppression is None)
    return EXIT_GATE if any(f.severity.rank >= fail_on.rank for f in live) else EXIT_OK
