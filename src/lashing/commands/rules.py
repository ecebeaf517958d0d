"""`lashing rules [RULE_ID]`: list every rule, or explain one."""

from __future__ import annotations

import argparse
import difflib
import json
import textwrap
from typing import TYPE_CHECKING, Any

from lashing.commands.common import add_format, output_format, write_output
from lashing.errors import EXIT_OK, InputError
from lashing.rules import ALL_RULES, family_of
from lashing.rules.framework import NIST_TITLES, Example, Rule

if TYPE_CHECKING:
    from lashing.cli import Context

NAME = "rules"
HELP = "list the rules, or explain one"
DESCRIPTION = """\
List every rule lashing applies, or explain one rule: what it checks, why it
matters, how to fix it, and a bad and a good example.

  lashing rules                       every rule: id, severity, surface, title, aliases
  lashing rules LSH-DF-001            explain one rule
  lashing rules hadolint:DL3007       find rules by another tool's id (tool:id)
  lashing rules --format json         machine-readable

JSON output is a list of objects, one per rule (a list of one or more for
`lashing rules ID`, since an alias can name several rules):

  {"id": "LSH-DF-001", "title": "...", "family": "dockerfile",
   "severity": "CRITICAL|HIGH|MEDIUM|LOW|UNKNOWN", "surface": "build-host|image|...",
   "kind": "misconfiguration|secret|...", "nist": ["4.1.2"], "aliases": ["hadolint:DL3007"],
   "description": "...", "remediation": "...", "references": ["https://..."],
   "examples": [{"name": "...", "fires": true, "input": "..."}]}

Aliases name the same check in other tools: hadolint:DLxxxx, checkov:CKV_...,
dockle:CIS-DI-xxxx, cis-docker-1.6:4.x. NIST sections refer to NIST SP 800-190.
"""

FORMATS = ("table", "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rule_id", nargs="?", metavar="RULE_ID",
                        help="a rule id (LSH-DF-001) or an alias (hadolint:DL3007)")
    add_format(parser, FORMATS, "table")


def example_text(example: Example) -> str:
    return example.data if isinstance(example.data, str) else str(example.data)


def to_json(rule: Rule[Any]) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "family": family_of(rule).name,
        "severity": rule.severity.value,
        "surface": rule.surface.value,
        "kind": rule.kind.value,
        "nist": list(rule.nist),
        "aliases": list(rule.aliases),
        "description": rule.description,
        "remediation": rule.remediation,
        "references": list(rule.references),
        "examples": [{"name": e.name, "fires": e.fires, "input": example_text(e)}
                     for e in rule.examples],
    }


def lookup(name: str) -> list[Rule[Any]]:
    """Rules named by an id or alias; InputError with suggestions when none."""
    found = [r for r in ALL_RULES if r.matches(name)] or [
        r for r in ALL_RULES
        if any(a.split(":", 1)[1].casefold() == name.strip().casefold() for a in r.aliases)]
    if found:
        return found
    names = [r.id for r in ALL_RULES] + sorted({a for r in ALL_RULES for a in r.aliases})
    by_fold = {n.casefold(): n for n in names}
    key = name.strip().casefold()
    close = [n for n in by_fold if n.startswith(key)][:5] or \
        difflib.get_close_matches(key, list(by_fold), n=5, cutoff=0.6)
    hint = ("did you mean " + ", ".join(by_fold[c] for c in close) + "?") if close else \
        "run 'lashing rules' to list every rule"
    raise InputError(f"no rule named {name!r}", hint)


def table(rules: list[Rule[Any]]) -> str:
    rows = [(r.id, r.severity.value, r.surface.value, r.title, ", ".join(r.aliases))
            for r in rules]
    header = ("ID", "SEVERITY", "SURFACE", "TITLE", "ALIASES")
    widths = [max(len(row[k]) for row in [header, *rows]) for k in range(4)]
    lines = []
    for row in [header, *rows]:
        cells = [row[k].ljust(widths[k]) for k in range(4)]
        lines.append("  ".join([*cells, row[4]]).rstrip())
    return "\n".join(lines) + f"\n\n{len(rules)} rules\n"


def explain(rule: Rule[Any]) -> str:
    wrap = textwrap.TextWrapper(width=88, initial_indent="  ", subsequent_indent="  ")
    out = [f"{rule.id}: {rule.title}", "",
           f"  severity: {rule.severity.value}    surface: {rule.surface.value}    "
           f"kind: {rule.kind.value}    family: {family_of(rule).name}"]
    if rule.nist:
        out.append("  NIST SP 800-190: " + ", ".join(
            f"{n} {NIST_TITLES.get(n, '')}".rstrip() for n in rule.nist))
    if rule.aliases:
        out.append("  aliases: " + ", ".join(rule.aliases))
    for heading, text in (("why", rule.description), ("remediation", rule.remediation)):
        if text:
            out += ["", f"{heading}:", wrap.fill(text)]
    if rule.references:
        out += ["", "references:", *(f"  {ref}" for ref in rule.references)]
    for fires, heading in ((True, "bad (reported)"), (False, "good (not reported)")):
        examples = [e for e in rule.examples if e.fires is fires]
        for e in examples:
            label = f"{heading}{': ' + e.name if e.name else ''}"
            out += ["", f"{label}:", textwrap.indent(example_text(e).rstrip("\n"), "    ")]
    return "\n".join(out) + "\n"


def run(args: argparse.Namespace, ctx: Context) -> int:
    fmt = output_format(args)
    rules = lookup(args.rule_id) if args.rule_id else list(ALL_RULES)
    if fmt == "json":
        text = json.dumps([to_json(r) for r in rules], indent=2, ensure_ascii=False) + "\n"
    elif args.rule_id:
        text = "\n".join(explain(r) for r in rules)
    else:
        text = table(rules)
    write_output(text, args.output, ctx.stdout)
    return EXIT_OK
