"""lashing scan TARGET...: read images and directories and report on them."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from lashing.commands.common import add_format, output_format, parse_size, write_output
from lashing.errors import EXIT_INCOMPLETE, EXIT_OK, LashingError
from lashing.model import Report
from lashing.options import Limits, SourceOptions, default_cache_dir
from lashing.pipeline import ScanOptions, scan
from lashing.progress import NullProgress, Progress, TerminalProgress
from lashing.report import json as json_report
from lashing.report import table as table_report
from lashing.source.image import Platform
from lashing.source.resolve import resolve

if TYPE_CHECKING:
    from lashing.cli import Context

NAME = "scan"
HELP = "scan images and directories"
DESCRIPTION = """\
Scan container images and directories without a Docker daemon.

targets:
  docker-archive:PATH[:REPO:TAG]  a docker save / podman save tarball
  docker-archive:-                the same, read from standard input
  oci:DIR[:TAG]                   an OCI image layout directory
  oci-archive:PATH[:TAG]          an OCI image layout in a tar
  docker://REF                    an image in a registry
  dir:PATH                        a root filesystem or source tree
  PATH                            an existing file or directory, sniffed by content
  REF                             anything else is an image reference
                                  (alpine, registry:5000/app:1.2, app@sha256:...)

examples:
  lashing scan alpine:3.20
  podman save app:dev | lashing scan docker-archive:- --format json
  lashing scan oci:./layout:1.0 --platform linux/arm64
"""

FORMATS = ("table", "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="+", metavar="TARGET", help="what to scan")
    add_format(parser, FORMATS, "table")
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
    gate = parser.add_argument_group("gate")
    gate.add_argument("--strict", action="store_true",
                      help="exit 4 when the scan was incomplete (any issue)")


def source_options(args: argparse.Namespace) -> SourceOptions:
    limits = Limits(
        max_uncompressed_bytes=parse_size(args.max_uncompressed, "--max-uncompressed"),
        max_file_in_memory=parse_size(args.max_file_in_memory, "--max-file-in-memory"),
    )
    ca_file = Path(args.ca_file) if args.ca_file else None
    if ca_file is not None and not ca_file.is_file():
        raise LashingError(f"--ca-file {args.ca_file}: no such file")
    return SourceOptions(
        platform=Platform.parse(args.platform) if args.platform else Platform(),
        platform_explicit=bool(args.platform),
        insecure_registries=tuple(args.insecure_registry),
        ca_file=ca_file,
        cache_dir=Path(args.cache_dir) if args.cache_dir else default_cache_dir(),
        offline=args.offline,
        limits=limits,
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    fmt = output_format(args)
    options = ScanOptions(source=source_options(args))
    targets = [resolve(t) for t in args.targets]
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
    if failures:
        for failure in failures:
            print(failure.diagnostics(), file=ctx.stderr)
        return max(failure.exit_code for failure in failures)
    text = json_report.render(report) if fmt == "json" else table_report.render(report)
    write_output(text, args.output, ctx.stdout)
    if args.strict and report.issues:
        if not args.quiet:
            print(f"incomplete: {len(report.issues)} issue(s); see the report", file=ctx.stderr)
        return EXIT_INCOMPLETE
    return EXIT_OK
