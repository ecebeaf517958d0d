"""lashing rescan: the stored SBOMs against the current vulnerability database.

No image is pulled or read: every target identity in the results store has
its latest package inventory matched again, and each finding its target's
previous run did not have (by fingerprint) is marked new. The re-scan is
recorded as a run of kind "rescan", so the next one compares with it.

JSON output (`--format json`), keys in this order:

    {
      "schema_version": 1,
      "rescan": {
        "run": 12,                          the recorded run (null with --list-runs)
        "store": "results.db",              passwords shown as ***
        "targets": [{"name": "app:1.0", "identity": "sha256:...",
                     "sbom_run": 3,           the run the packages come from
                     "previous_run": 11,      the run compared with (null: none)
                     "packages": 120, "findings": 7, "new": 1}],
        "new": ["<fingerprint>", ...]       sorted
      },
      "report": <the lashing JSON report of the re-scan (see DESIGN.md);
                 with --only-new, its findings are the new ones only>
    }

SARIF output marks each result's "baselineState" as "new" or "unchanged".
`--list-runs` prints the stored runs instead (table, or JSON:
{"schema_version": 1, "store": "...", "runs": [{"id", "kind", "started",
"recorded", "tool_version", "db_built", "targets", "packages", "findings",
"suppressed", "severities": {"CRITICAL": n, ...}}]}).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lashing.commands.common import add_format, gate, output_format, write_output
from lashing.commands.common import severities as _severities
from lashing.errors import EXIT_OK, InputError
from lashing.model import Finding, Report, Severity
from lashing.report import json as json_report
from lashing.store import Store, display_spec, open_store
from lashing.store.rescan import RescanOptions, RescanResult, rescan
from lashing.vulndb import default_db_path, open_database

if TYPE_CHECKING:
    from lashing.cli import Context

NAME = "rescan"
HELP = "match stored SBOMs against the current vulnerability database; mark new findings"
DESCRIPTION = """\
Re-scan every target in the results store without pulling images: the latest
package inventory (SBOM) stored for each image (by image id) or other target
is matched against the current offline vulnerability database. Findings the
target's previous run did not have are marked NEW. The re-scan is stored as a
run of its own, so a daily re-scan reports each new vulnerability once.

Runs get into the store with 'lashing audit' ([store] in lashing.toml, or
--store). Run this after 'lashing db update', e.g. from cron:

  15 6 * * *  lashing db update >/dev/null && lashing rescan --store /var/lib/lashing/results.db \\
                --only-new --fail-on HIGH -q || mail -s "new vulnerabilities" ops

examples:
  lashing rescan --store results.db
  lashing rescan --store postgresql://lashing@db.internal/lashing --format json
  lashing rescan --only-new --format sarif -o new.sarif
  lashing rescan --list-runs
"""

FORMATS = ("table", "json", "sarif")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_format(parser, FORMATS, "table")
    parser.add_argument("--store", metavar="SPEC",
                        help="results store: a file (SQLite) or postgresql://USER@HOST:PORT/DB "
                             "(default: $LASHING_STORE or ~/.local/share/lashing/results.db)")
    parser.add_argument("--db", metavar="PATH",
                        help="vulnerability database (default: $LASHING_DB or the cache's)")
    parser.add_argument("--list-runs", action="store_true",
                        help="list the stored runs and exit (no re-scan)")
    parser.add_argument("--keep-runs", metavar="N", type=_positive,
                        help="after recording, delete all but the newest N runs (the latest "
                             "run of each target is always kept)")
    what = parser.add_argument_group("what to report")
    what.add_argument("--only-new", action="store_true",
                      help="report (and gate on) only the findings that are new")
    what.add_argument("--ignore-unfixed", action="store_true",
                      help="leave out vulnerabilities with no fix in the package's release")
    what.add_argument("--show-unimportant", action="store_true",
                      help="also show vulnerabilities the distribution rates unimportant")
    what.add_argument("--fail-on", metavar="SEVERITY",
                      help="exit 1 when a reported finding is at or above this severity")


def _positive(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number of runs, 1 or more")
    return int(text)


def _list_runs(store: Store, fmt: str) -> str:
    runs = store.runs()
    if fmt == "json":
        doc = {"schema_version": 1, "store": store.where,
               "runs": [{**{k: v for k, v in asdict(r).items() if k != "counts"},
                         "severities": r.counts} for r in runs]}
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt != "table":
        raise InputError(f"--list-runs --format {fmt}: runs are listed as table or json")
    lines = [f"{len(runs)} run(s) in {store.where}"]
    for r in runs:
        worst = ", ".join(f"{s} {n}" for s, n in r.counts.items() if n) or "no findings"
        lines.append(f"  {r.id:>5}  {r.kind:<8} {r.started}  {r.targets} target(s), "
                     f"{r.packages} package(s), {r.findings} finding(s) ({worst})")
    return "\n".join(lines) + "\n"


def _display(result: RescanResult, only_new: bool) -> Report:
    if not only_new:
        return result.report
    return replace(result.report, findings=tuple(f for f in result.report.findings
                                                  if f.fingerprint in result.new))


def _sort_key(new: frozenset[str]) -> Any:
    def key(f: Finding) -> tuple[int, int, str, str]:
        return (0 if f.fingerprint in new else 1, -f.severity.rank, f.rule_id, f.fingerprint)
    return key


def render_table(result: RescanResult, report: Report, store: str, run_id: int) -> str:
    db = report.database
    lines = [f"re-scan of {len(result.targets)} target(s) from {store} (run {run_id}), "
             f"database built {db.built if db and db.built else 'unknown'}"]
    by_target: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_target.setdefault(f.target, []).append(f)
    for t in result.targets:
        compared = (f"compared with run {t.previous_run}" if t.previous_run is not None
                    else "no earlier run")
        lines.append("")
        lines.append(f"{t.name}: {t.packages} package(s) from run {t.sbom_run}, {compared}: "
                     f"{t.findings} finding(s), {t.new} new")
        for f in sorted(by_target.get(t.name, []), key=_sort_key(result.new)):
            v = f.vulnerability
            what = (f"{v.package.name} {v.installed_version} -> "
                    f"{', '.join(v.fixed_versions) or v.status.value}") if v else f.title
            mark = "NEW" if f.fingerprint in result.new else ""
            note = "  (suppressed)" if f.suppression is not None else ""
            lines.append(f"  {mark:<4}{f.severity.value:<9}{f.rule_id:<20} {what}{note}")
    if report.issues:
        lines.append("")
        lines.append(f"issues: {len(report.issues)}")
        for i in report.issues:
            lines.append(f"  [{i.stage}/{i.plugin}] {i.message}")
    new_live = [f for f in result.report.findings
                if f.fingerprint in result.new and f.suppression is None]
    counts = {s: 0 for s in Severity}
    for f in new_live:
        counts[f.severity] += 1
    summary = ", ".join(f"{s.value} {n}" for s, n in counts.items() if n)
    lines.append("")
    lines.append(f"new findings: {len(new_live)}" + (f" ({summary})" if summary else ""))
    return "\n".join(lines) + "\n"


def render_sarif(report: Report, new: frozenset[str]) -> str:
    from lashing.report import sarif
    from lashing.rules import ALL_RULES

    doc = sarif.to_document(report, ALL_RULES)
    for run in doc["runs"]:
        for result in run.get("results", []):
            fp = result.get("partialFingerprints", {}).get(sarif.FINGERPRINT_KEY)
            result["baselineState"] = "new" if fp in new else "unchanged"
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_json(result: RescanResult, report: Report, store: str, run_id: int) -> str:
    doc = {
        "schema_version": 1,
        "rescan": {
            "run": run_id,
            "store": store,
            "targets": [asdict(t) for t in result.targets],
            "new": sorted(result.new),
        },
        "report": json_report.to_document(report),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def run(args: argparse.Namespace, ctx: Context) -> int:
    fmt = output_format(args)
    fail_on = _severities(args.fail_on, "--fail-on")
    if len(fail_on) > 1:
        raise InputError(f"--fail-on {args.fail_on!r}: name one severity")
    with open_store(args.store) as store:
        where = display_spec(store.where)
        if args.list_runs:
            write_output(_list_runs(store, fmt), args.output, ctx.stdout)
            return EXIT_OK
        db_path = Path(args.db) if args.db else default_db_path(
            Path(args.cache_dir) if args.cache_dir else None)
        with open_database(db_path) as db:
            result = rescan(store, db, RescanOptions(show_unimportant=args.show_unimportant,
                                                     ignore_unfixed=args.ignore_unfixed))
        if not result.targets:
            if not args.quiet:
                print(f"nothing to re-scan: the results store {where} holds no package "
                      "inventories (record runs with 'lashing audit')", file=ctx.stderr)
            return EXIT_OK
        run_id = result.record(store)
        if args.keep_runs is not None:
            pruned = store.prune(args.keep_runs)
            if pruned and not args.quiet:
                print(f"deleted {pruned} old run(s) from {where}", file=ctx.stderr)
    report = _display(result, args.only_new)
    if fmt == "json":
        text = render_json(result, report, where, run_id)
    elif fmt == "sarif":
        text = render_sarif(report, result.new)
    else:
        text = render_table(result, report, where, run_id)
    write_output(text, args.output, ctx.stdout)
    return gate(report, fail_on[0] if fail_on else None)
