"""lashing scan TARGET...: read images, directories and Dockerfiles and report on them."""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from lashing import suppress
from lashing.audit.config import ScanSettings, label_type, load_scan_settings
from lashing.commands.common import (
    add_format,
    add_source_arguments,
    gate,
    output_format,
    scan_all,
    source_options,
    write_output,
)
from lashing.commands.common import (
    severities as _severities,
)
from lashing.errors import EXIT_INCOMPLETE, EXIT_OK, InputError
from lashing.model import Report
from lashing.pipeline import SCANNERS, ScanOptions
from lashing.report import json as json_report
from lashing.report import table as table_report
from lashing.rules.dockerfile.labels import LABEL_TYPES
from lashing.rules.framework import RuleConfig
from lashing.trust.policy import load_policy

if TYPE_CHECKING:
    from lashing.cli import Context

NAME = "scan"
HELP = "scan images, directories and Dockerfiles"
DESCRIPTION = """\
Scan container images, directories and Dockerfiles without a Docker daemon.

targets:
  docker-archive:PATH[:REPO:TAG]  a docker save / podman save tarball (gzip too)
  docker-archive:-                the same, read from standard input
  oci:DIR[:TAG]                   an OCI image layout directory
  oci-archive:PATH[:TAG]          an OCI image layout in a tar
  docker://REF                    an image in a registry
  dir:PATH                        a root filesystem or source tree
  sbom:PATH                       a stored CycloneDX or SPDX JSON SBOM
  PATH                            an existing file or directory, sniffed by content
  REF                             anything else is an image reference
                                  (alpine, registry:5000/app:1.2, app@sha256:...)

examples:
  lashing scan alpine:3.20
  podman save app:dev | lashing scan docker-archive:- --format json
  lashing scan oci:./layout:1.0 --platform linux/arm64
  lashing scan Dockerfile --fail-on HIGH --format sarif -o lashing.sarif
  lashing scan deploy/ --policy lashing.toml   # the images named, against [policy]
  lashing scan Dockerfile --config lashing.toml  # settings from its [scan] section

settings: an option on the command line wins over its LASHING_* variable, which
wins over [scan] in --config (db, scanners, skip_rules, ignore_unfixed,
show_unimportant, trusted_registries, label_schema, strict_labels), which wins
over the default. A list given on the command line replaces the config's list.
"""

FORMATS = ("table", "json", "sarif", "html", "markdown", "gitlab")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="+", metavar="TARGET", help="what to scan")
    add_format(parser, FORMATS, "table")
    add_source_arguments(parser)
    what = parser.add_argument_group("what to check")
    what.add_argument("--config", "-c", metavar="FILE",
                      help="lashing.toml whose [scan] section supplies defaults for the "
                           "options below (command line and LASHING_* variables win)")
    what.add_argument("--scanners", metavar="LIST",
                      help=f"comma-separated: {', '.join(SCANNERS)} (default: all)")
    what.add_argument("--skip-rules", metavar="IDS",
                      help="rule ids or aliases (hadolint:DL3008) not to evaluate")
    what.add_argument("--db", metavar="PATH",
                      help="vulnerability database (default: $LASHING_DB or the cache's)")
    what.add_argument("--ignore-unfixed", action="store_true", default=None,
                      help="leave out vulnerabilities with no fix in the package's release")
    what.add_argument("--show-unimportant", action="store_true", default=None,
                      help="also show vulnerabilities the distribution rates unimportant")
    what.add_argument("--yara-rules", action="append", default=[], metavar="DIR",
                      help="extra YARA rules (*.yar, *.yara) for the malware scanner")
    what.add_argument("--malware-hashes", action="append", default=[], metavar="FILE",
                      help="SHA-256 list (one per line, optional name) of known-bad files")
    what.add_argument("--clamd", metavar="ADDRESS",
                      help="also scan with ClamAV: unix:///run/clamav/clamd.ctl or "
                           "tcp://HOST:PORT")
    what.add_argument("--trusted-registry", action="append", default=[], metavar="HOST",
                      help="registries FROM may pull from (repeatable; docker.io for Docker Hub)")
    what.add_argument("--require-label", action="append", default=[], metavar="LABEL:TYPE",
                      help="label schema: Dockerfiles must set LABEL with a value of TYPE "
                           f"({', '.join(LABEL_TYPES)}); repeatable")
    what.add_argument("--strict-labels", action="store_true", default=None,
                      help="refuse labels that the label schema does not name")
    what.add_argument("--policy", metavar="FILE",
                      help="provenance policy (a [policy] section, standalone or in "
                           "lashing.toml): check the images the targets name (LSH-TRUST; "
                           "no signatures, see 'lashing verify')")
    what.add_argument("--verify-images", action="store_true",
                      help="with --policy: also verify the signatures of the images "
                           "Kubernetes manifests and compose files name, through their "
                           "registries (like 'lashing verify')")
    gate = parser.add_argument_group("gate")
    gate.add_argument("--severity", metavar="LIST",
                      help="report only these severities (e.g. CRITICAL,HIGH)")
    gate.add_argument("--fail-on", metavar="SEVERITY",
                      help="exit 1 when a finding at or above this severity remains")
    gate.add_argument("--strict", action="store_true",
                      help="exit 4 when the scan was incomplete (any issue)")
    # Suppressions (lashing.suppress): suppressed findings are reported, never gate.
    gate.add_argument("--ignore-file", metavar="FILE",
                      help="TOML file (or lashing.toml) whose [[ignore.rules]] entries "
                           "suppress findings: id = rule id or alias, reason = why "
                           "(required); optional expires = YYYY-MM-DD, purl = package, "
                           "path = glob over the finding's path")
    gate.add_argument("--vex", metavar="FILE", action="append", default=[],
                      help="OpenVEX 0.2 JSON; not_affected and fixed statements suppress "
                           "the matching vulnerabilities (repeatable)")


def verify_images(args: argparse.Namespace) -> bool:
    """--verify-images needs --policy: the keys and identities to verify against."""
    if args.verify_images and not args.policy:
        raise InputError("--verify-images needs --policy: nothing to verify the images against",
                         "give a policy file whose [policy] names keys or keyless identities")
    return bool(args.verify_images)


def _require_labels(specs: list[str]) -> tuple[tuple[str, str], ...]:
    """--require-label LABEL:TYPE options as a label schema."""
    out = []
    for spec in specs:
        label, sep, kind = spec.rpartition(":")
        if not sep:
            raise InputError(f"--require-label {spec!r}: expected LABEL:TYPE "
                             f"(TYPE one of {', '.join(LABEL_TYPES)})")
        out.append(label_type(label, kind, f"--require-label {spec!r}"))
    return tuple(out)


def scan_options(args: argparse.Namespace) -> ScanOptions:
    # Precedence: command line, then LASHING_* (both land in args), then [scan], then default.
    cfg = load_scan_settings(Path(args.config)) if args.config else ScanSettings()
    given = args.scanners if args.scanners is not None else ",".join(cfg.scanners or SCANNERS)
    where = "--scanners" if args.scanners is not None else f"{args.config}: scan.scanners"
    scanners = {s.strip() for s in given.split(",") if s.strip()}
    unknown = scanners - set(SCANNERS)
    if unknown or not scanners:
        raise InputError(f"{where} {given!r}: unknown {', '.join(sorted(unknown))}",
                         f"choose from {', '.join(SCANNERS)}")
    skip = (cfg.skip_rules if args.skip_rules is None
            else [s.strip() for s in args.skip_rules.split(",") if s.strip()])
    return ScanOptions(
        source=source_options(args),
        scanners=frozenset(scanners),
        rules=RuleConfig(
            trusted_registries=tuple(args.trusted_registry) or cfg.trusted_registries,
            label_schema=_require_labels(args.require_label) or cfg.label_schema,
            strict_labels=(cfg.strict_labels if args.strict_labels is None
                           else args.strict_labels)),
        skip_rules=frozenset(skip),
        db_path=Path(args.db) if args.db else cfg.db,
        ignore_unfixed=(cfg.ignore_unfixed if args.ignore_unfixed is None
                        else args.ignore_unfixed),
        show_unimportant=(cfg.show_unimportant if args.show_unimportant is None
                          else args.show_unimportant),
        yara_rules=tuple(Path(p) for p in args.yara_rules),
        malware_hashes=tuple(Path(p) for p in args.malware_hashes),
        clamd=args.clamd,
        policy=load_policy(Path(args.policy)) if args.policy else None,
        verify_images=verify_images(args),
    )


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json_report.render(report)
    if fmt == "sarif":
        from lashing.report import sarif
        from lashing.rules import ALL_RULES

        return sarif.render(report, ALL_RULES)
    if fmt in ("html", "markdown", "gitlab"):  # renderers of the JSON report document
        from lashing.report import gitlab, html, markdown

        renderers = {"html": html.render, "markdown": markdown.render, "gitlab": gitlab.render}
        return renderers[fmt](json_report.to_document(report))
    return table_report.render(report)


def run(args: argparse.Namespace, ctx: Context) -> int:
    fmt = output_format(args)
    shown = _severities(args.severity, "--severity")
    fail_on_list = _severities(args.fail_on, "--fail-on")
    if len(fail_on_list) > 1:
        raise InputError(f"--fail-on {args.fail_on!r}: name one severity")
    options = scan_options(args)
    ignore = suppress.load_ignore_file(Path(args.ignore_file)) if args.ignore_file else None
    vex = [suppress.load_vex(Path(p)) for p in args.vex]
    report, failed = scan_all(args.targets, options, ctx)
    if failed:
        return failed
    report = suppress.suppress_report(report, ignore, vex, date.today())
    if shown:
        # Findings filtered out by --severity are not reported and never gate.
        report = replace(report, findings=tuple(f for f in report.findings if f.severity in shown))
    write_output(render(report, fmt), args.output, ctx.stdout)
    code = gate(report, fail_on_list[0] if fail_on_list else None)
    if code == EXIT_OK and args.strict and report.issues:
        if not args.quiet:
            print(f"incomplete: {len(report.issues)} issue(s); see the report", file=ctx.stderr)
        return EXIT_INCOMPLETE
    return code
