"""lashing scan TARGET...: read images and directories and report on them."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from lashing.commands.common import (
    add_format,
    add_source_arguments,
    output_format,
    scan_all,
    source_options,
    write_output,
)
from lashing.errors import EXIT_INCOMPLETE, EXIT_OK
from lashing.pipeline import ScanOptions
from lashing.report import json as json_report
from lashing.report import table as table_report

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
    add_source_arguments(parser)
    gate = parser.add_argument_group("gate")
    gate.add_argument("--strict", action="store_true",
                      help="exit 4 when the scan was incomplete (any issue)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    fmt = output_format(args)
    options = ScanOptions(source=source_options(args))
    report, failed = scan_all(args.targets, options, ctx)
    if failed:
        return failed
    text = json_report.render(report) if fmt == "json" else table_report.render(report)
    write_output(text, args.output, ctx.stdout)
    if args.strict and report.issues:
        if not args.quiet:
            print(f"incomplete: {len(report.issues)} issue(s); see the report", file=ctx.stderr)
        return EXIT_INCOMPLETE
    return EXIT_OK
