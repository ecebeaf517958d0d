"""lashing diff OLD NEW: what changed between two reports, by finding fingerprint.

OLD and NEW are lashing JSON reports (from scan, host, audit, sbom --format
json, ... or `lashing rescan --format json`, read as the report it wraps), `-` for
standard input (one of the two), or a run of the results store: `store:ID`,
`store:latest`, `store:previous` (with --store).

JSON output (`--format json`), keys in this order:

    {
      "schema_version": 1,
      "old": {"source": "old.json", "tool_version": "0.1.0",
              "database_built": "2026-01-02T03:04:05Z" | null,
              "targets": ["app:1.0"], "findings": 12},
      "new": {... the same for NEW ...},
      "summary": {"added": 2, "fixed": 1, "unchanged": 11},
      "added": [<finding>, ...],      in NEW, not in OLD
      "fixed": [<finding>, ...],      in OLD, not in NEW (as OLD reported it)
      "unchanged": [<finding>, ...]   in both (as NEW reports it)
    }

Each <finding> is the finding object of the report, unchanged; each list is
sorted worst first, then by rule id, target and fingerprint. A suppressed
finding keeps its "suppressed" member and never trips --fail-on.

Exit status: 1 when --fail-on SEVERITY is given and an added, unsuppressed
finding is at or above it; 0 otherwise; 2 when a report cannot be read.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import TYPE_CHECKING, Any

from lashing.commands.common import add_format, output_format, write_output
from lashing.commands.common import severities as _severities
from lashing.errors import EXIT_GATE, EXIT_OK, InputError
from lashing.store import load_report, open_store, parse_report
from lashing.store.diff import compare, gate_hit, render_table, to_document

if TYPE_CHECKING:
    from lashing.cli import Context

NAME = "diff"
HELP = "compare two reports: findings added, fixed and unchanged"
DESCRIPTION = """\
Compare two lashing JSON reports by finding fingerprint (stable across runs:
rule, target identity and where the finding is). Lists the findings added in
NEW, the findings fixed (gone) since OLD, and counts those unchanged.

report sources:
  PATH              a lashing JSON report (scan, host, audit, ... --format json)
  -                 a report on standard input
  store:ID          run ID of the results store (--store)
  store:latest      the latest run; store:previous is the one before it

examples:
  lashing diff yesterday.json today.json
  lashing scan app:2.0 -f json | lashing diff app-1.0.json - --fail-on HIGH
  lashing diff store:previous store:latest --store results.db --format json
"""

FORMATS = ("table", "json")
_STORE = re.compile(r"^store:(\d+|latest|previous)$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", metavar="OLD", help="the earlier report")
    parser.add_argument("new", metavar="NEW", help="the later report")
    add_format(parser, FORMATS, "table")
    parser.add_argument("--store", metavar="SPEC",
                        help="results store for store:ID sources: a file (SQLite) or "
                             "postgresql://USER@HOST:PORT/DB (default: $LASHING_STORE or "
                             "~/.local/share/lashing/results.db)")
    parser.add_argument("--show-unchanged", action="store_true",
                        help="also list the unchanged findings in the table")
    parser.add_argument("--fail-on", metavar="SEVERITY",
                        help="exit 1 when an added finding is at or above this severity")


def _from_store(sources: list[str], spec: str | None) -> dict[str, dict[str, Any]]:
    wanted = [s for s in sources if _STORE.match(s)]
    if not wanted:
        return {}
    out: dict[str, dict[str, Any]] = {}
    with open_store(spec) as store:
        ids = [r.id for r in store.runs()]
        for source in wanted:
            which = source.split(":", 1)[1]
            if which.isdigit():
                run_id = int(which)
            else:
                index = -1 if which == "latest" else -2
                if len(ids) < -index:
                    raise InputError(f"{source}: the results store {store.where} holds "
                                     f"{len(ids)} run(s)")
                run_id = ids[index]
            out[source] = store.document(run_id)
    return out


def _load(source: str, stored: dict[str, dict[str, Any]], ctx: Context) -> dict[str, Any]:
    if source in stored:
        return stored[source]
    if source == "-":
        if ctx.stdin is None:
            raise InputError("-: no standard input to read a report from")
        return parse_report(ctx.stdin.read(), "standard input")
    return load_report(source)


def run(args: argparse.Namespace, ctx: Context) -> int:
    fmt = output_format(args)
    fail_on = _severities(args.fail_on, "--fail-on")
    if len(fail_on) > 1:
        raise InputError(f"--fail-on {args.fail_on!r}: name one severity")
    if args.old == "-" and args.new == "-":
        raise InputError("OLD and NEW are both '-': only one report can come from standard "
                         "input")
    stored = _from_store([args.old, args.new], args.store)
    old = _load(args.old, stored, ctx)
    new = _load(args.new, stored, ctx)
    result = compare(old, new, args.old, args.new)
    if fmt == "json":
        text = json.dumps(to_document(result), indent=2, ensure_ascii=False) + "\n"
    else:
        text = render_table(result, args.show_unchanged)
    write_output(text, args.output, ctx.stdout)
    return EXIT_GATE if gate_hit(result, fail_on[0] if fail_on else None) else EXIT_OK
