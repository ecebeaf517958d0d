"""lashing audit [-c lashing.toml]: all four surfaces from one config, one report."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lashing import suppress
from lashing.audit import document, table
from lashing.audit.config import AuditConfig, load_audit_config
from lashing.audit.example import EXAMPLE
from lashing.audit.runner import AuditResult, run_audit
from lashing.commands.common import (
    add_format,
    add_source_arguments,
    source_options,
    write_output,
)
from lashing.commands.common import severities as _severities
from lashing.errors import (
    EXIT_GATE,
    EXIT_INCOMPLETE,
    EXIT_INPUT,
    EXIT_OK,
    InputError,
    LashingError,
)
from lashing.model import Severity, Surface
from lashing.pipeline import SCANNERS, ScanOptions
from lashing.progress import NullProgress, Progress, TerminalProgress
from lashing.rules.framework import RuleConfig
from lashing.trust.policy import load_policy

if TYPE_CHECKING:
    from lashing.cli import Context

NAME = "audit"
HELP = "audit build host, images, applications and network from one config, into one report"
DESCRIPTION = """\
Run every check lashing has over what lashing.toml names, into one report:
the build host (--root of `lashing host`), images and Dockerfiles (image and
application surfaces: configuration, secrets, malware, vulnerabilities,
provenance policy), Kubernetes manifests and compose files (runtime settings,
reachability, exposure). A workload reachable from outside that runs an image
with a fixable HIGH or CRITICAL vulnerability is one CRITICAL finding,
LSH-NET-201. The report maps every check to NIST SP 800-190.

An input that cannot be audited (missing file, image that cannot be pulled,
unreadable host root) is listed with its error and the rest goes on; exit 2
only when nothing could be audited. Exit 1 when any surface's gate is
reached: [audit.fail_on] in the config, --fail-on for every surface,
--fail-on-SURFACE for one (the command line wins).

Results are stored only when asked: [store] in the config or --store.
Formats: table (default), json, sarif (one run per surface), markdown, html,
gitlab (a GitLab container-scanning report).

examples:
  lashing audit --init                      # write a commented lashing.toml
  lashing audit                             # ./lashing.toml, table on the terminal
  lashing audit -c ci/lashing.toml --format sarif -o audit.sarif
  lashing audit --fail-on HIGH --fail-on-network CRITICAL --format json
  lashing audit --baseline last-release.json --store results.db
"""

BASE_FORMATS = ("table", "json", "sarif")
RENDERER_FORMATS = ("markdown", "html", "gitlab")


def _renderer(fmt: str) -> Callable[[dict[str, Any]], str] | None:
    """A document renderer from lashing.report.<fmt>, when this build has it."""
    try:
        module = importlib.import_module(f"lashing.report.{fmt}")
    except ImportError:
        return None
    render = getattr(module, "render", None)
    return render if callable(render) else None


FORMATS = BASE_FORMATS + tuple(f for f in RENDERER_FORMATS
                               if importlib.util.find_spec(f"lashing.report.{f}") is not None)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", metavar="FILE", default="lashing.toml",
                        help="the config file (default: ./lashing.toml)")
    parser.add_argument("--init", nargs="?", const="lashing.toml", metavar="PATH",
                        help="write a commented example config to PATH (default "
                             "lashing.toml) and exit; never overwrites")
    add_format(parser, FORMATS, "table")
    gate = parser.add_argument_group("gate")
    gate.add_argument("--fail-on", metavar="SEVERITY",
                      help="the gate of every surface (overrides [audit.fail_on])")
    for s in Surface:
        gate.add_argument(f"--fail-on-{s.value}", metavar="SEVERITY",
                          help=f"the gate of the {s.value} surface")
    gate.add_argument("--baseline", metavar="FILE",
                      help="a previous JSON report: findings it has are suppressed "
                           "(kind baseline) and never gate")
    gate.add_argument("--strict", action="store_true",
                      help="exit 4 when the audit was incomplete (an input failed, or issues)")
    what = parser.add_argument_group("what to use")
    what.add_argument("--db", metavar="PATH",
                      help="vulnerability database (overrides [scan] db)")
    what.add_argument("--verify-images", action="store_true",
                      help="verify the signatures of the images Kubernetes manifests and compose "
                           "files name, against the policy (like 'lashing verify'; uses the "
                           "network)")
    what.add_argument("--store", metavar="SPEC",
                      help="record the report in this results store: a SQLite path or "
                           "postgresql:// URL (overrides [store])")
    add_source_arguments(parser)


def _one_severity(text: str | None, option: str) -> Severity | None:
    found = _severities(text, option)
    if len(found) > 1:
        raise InputError(f"{option} {text!r}: name one severity")
    return found[0] if found else None


def fail_on(cfg: AuditConfig, args: argparse.Namespace) -> dict[Surface, Severity]:
    """Per-surface gates: --fail-on-SURFACE, then --fail-on, then [audit.fail_on]."""
    gates = dict(cfg.fail_on)
    every = _one_severity(args.fail_on, "--fail-on")
    for s in Surface:
        one = _one_severity(getattr(args, f"fail_on_{s.value.replace('-', '_')}"),
                            f"--fail-on-{s.value}")
        if one is not None:
            gates[s] = one
        elif every is not None:
            gates[s] = every
    return gates


def scan_options(cfg: AuditConfig, args: argparse.Namespace) -> ScanOptions:
    scanners = set(cfg.scan.scanners) or set(SCANNERS)
    unknown = scanners - set(SCANNERS)
    if unknown:
        raise InputError(f"{cfg.path}: scan.scanners: unknown {', '.join(sorted(unknown))}",
                         f"choose from {', '.join(SCANNERS)}")
    db = Path(args.db) if args.db else cfg.scan.db
    return ScanOptions(
        source=source_options(args),
        scanners=frozenset(scanners),
        rules=RuleConfig(trusted_registries=cfg.scan.trusted_registries,
                         label_schema=cfg.scan.label_schema,
                         strict_labels=cfg.scan.strict_labels),
        skip_rules=frozenset(cfg.scan.skip_rules),
        db_path=db,
        ignore_unfixed=cfg.scan.ignore_unfixed,
        show_unimportant=cfg.scan.show_unimportant,
        policy=load_policy(cfg.policy) if cfg.policy else None,
        verify_images=_verify_images(cfg, args),
    )


def _verify_images(cfg: AuditConfig, args: argparse.Namespace) -> bool:
    """--verify-images or [audit] verify_images: signatures of the images manifests name,
    checked against the policy's keys and keyless identities through their registries."""
    wanted = bool(args.verify_images or cfg.verify_images)
    if wanted and cfg.policy is None:
        raise InputError(f"{cfg.path}: verify_images needs a policy (a [policy] section or "
                         "[audit] policy = FILE) to verify the images against")
    return wanted


def init(path: Path, ctx: Context, quiet: bool) -> int:
    if path.exists() or path.is_symlink():
        raise InputError(f"--init {path}: already exists; not overwritten",
                         "remove it or name another path")
    try:
        with path.open("x", encoding="utf-8") as f:
            f.write(EXAMPLE)
    except FileNotFoundError:
        raise InputError(f"--init {path}: the directory does not exist") from None
    except OSError as exc:
        raise InputError(f"--init {path}: cannot write ({exc.strerror})") from None
    if not quiet:
        print(f"wrote {path}; edit it, then run: lashing audit -c {path}", file=ctx.stderr)
    return EXIT_OK


def _store(doc: dict[str, Any], spec: str) -> None:
    from lashing.store import display_spec, open_store

    with open_store(spec) as store:
        run_id = store.record(doc, kind="audit")
    doc["audit"]["store"] = {"spec": display_spec(spec), "run": run_id}


def render(doc: dict[str, Any], result: AuditResult, fmt: str) -> str:
    if fmt == "json":
        return document.render_json(doc)
    if fmt == "sarif":
        from lashing.report import sarif
        from lashing.rules import ALL_RULES

        return sarif.render_audit(result.report, ALL_RULES)
    if fmt == "table":
        return table.render(doc)
    renderer = _renderer(fmt)
    if renderer is None:
        raise InputError(f"--format {fmt}: lashing.report.{fmt} has no render function")
    return renderer(doc)


def _format(args: argparse.Namespace) -> str:
    fmt = str(args.format or "table").lower()
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: lashing audit writes {', '.join(FORMATS)}")
    return fmt


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.init is not None:
        return init(Path(args.init), ctx, args.quiet)
    fmt = _format(args)
    cfg = load_audit_config(Path(args.config))
    gates = fail_on(cfg, args)
    options = scan_options(cfg, args)
    ignore = suppress.load_ignore_file(cfg.ignore_file) if cfg.ignore_file else None
    vex = [suppress.load_vex(p) for p in cfg.vex]
    baseline = document.load_baseline(Path(args.baseline)) if args.baseline else frozenset()
    with ExitStack() as stack:
        progress: Progress = NullProgress()
        if ctx.progress_enabled:
            progress = stack.enter_context(TerminalProgress(ctx.stderr))
        result = run_audit(cfg, options, ignore=ignore, vex=vex, baseline=baseline,
                           baseline_name=args.baseline or "", progress=progress)
    from lashing.rules import ALL_RULES

    doc = document.to_document(result, cfg.path, gates, ALL_RULES)
    store_error: LashingError | None = None
    spec = args.store or cfg.store
    if spec and result.audited:
        try:
            _store(doc, spec)
        except LashingError as exc:  # the report is still written, saying so; the exit too
            from lashing.store import display_spec

            store_error = exc
            doc["audit"]["store"] = {"spec": display_spec(spec), "run": None,
                                     "error": exc.message}
    write_output(render(doc, result, fmt), args.output, ctx.stdout)
    for item in result.items:
        if item.error:
            print(f"error: {item.kind}: {item.error}", file=ctx.stderr)
    if store_error is not None:
        print(store_error.diagnostics(), file=ctx.stderr)
    if not result.audited:
        print("error: nothing could be audited", file=ctx.stderr)
        return EXIT_INPUT
    code = EXIT_GATE if document.gate_failed(doc) else EXIT_OK
    if store_error is not None:
        return max(code, store_error.exit_code)
    if code != EXIT_OK:
        return code
    incomplete = result.report.issues or len(result.items) > result.audited
    if args.strict and incomplete:
        if not args.quiet:
            print("incomplete: some inputs or checks could not be covered; see the report",
                  file=ctx.stderr)
        return EXIT_INCOMPLETE
    return EXIT_OK
