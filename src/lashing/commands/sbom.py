"""lashing sbom TARGET: write the package inventory."""

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
from lashing.report import table

if TYPE_CHECKING:
    from lashing.cli import Context

NAME = "sbom"
HELP = "write the package inventory (CycloneDX by default)"
DESCRIPTION = """\
Write the software bill of materials of an image, directory or stored SBOM.

formats:
  cyclonedx   CycloneDX 1.6 JSON (default)
  spdx        SPDX 2.3 JSON
  json        lashing's report (packages under targets[].packages)
  table       a summary for people

Targets are named as for 'lashing scan'. Stored SBOMs written by lashing,
Syft or Trivy (sbom:PATH) can be read back; their purls are kept.

examples:
  lashing sbom docker-archive:app.tar -o app.cdx.json
  lashing sbom oci:./layout --format spdx
"""

FORMATS = ("cyclonedx", "spdx", "json", "table")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs=1, metavar="TARGET", help="what to inventory")
    add_format(parser, FORMATS, "cyclonedx")
    add_source_arguments(parser)
    parser.add_argument("--strict", action="store_true",
                        help="exit 4 when the inventory is incomplete (any issue)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    fmt = output_format(args)
    # The inventory only: no rules, secrets, malware or vulnerability matching.
    options = ScanOptions(source=source_options(args), scanners=frozenset())
    report, failed = scan_all(args.targets, options, ctx)
    if failed:
        return failed
    # The SBOM libraries are heavy to import: load only the one asked for.
    if fmt == "cyclonedx":
        from lashing.report import cyclonedx

        text = cyclonedx.render(report)
    elif fmt == "spdx":
        from lashing.report import spdx

        text = spdx.render(report)
    elif fmt == "json":
        text = json_report.render(report)
    else:
        text = table.render(report)
    write_output(text, args.output, ctx.stdout)
    for issue in report.issues:
        if not args.quiet:
            print(f"warning: [{issue.stage}/{issue.plugin}] {issue.location.path or ''}: "
                  f"{issue.message}", file=ctx.stderr)
    return EXIT_INCOMPLETE if args.strict and report.issues else EXIT_OK
