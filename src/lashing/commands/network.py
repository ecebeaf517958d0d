"""lashing network PATH...: who can reach whom, from Kubernetes manifests and compose files."""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from lashing import __version__
from lashing.commands.common import add_format, gate, output_format, write_output
from lashing.commands.common import severities as _severities
from lashing.errors import EXIT_GATE, EXIT_INCOMPLETE, EXIT_OK, InputError
from lashing.manifests.compose import (
    ComposeProject,
    load_compose,
    load_compose_text,
    looks_like_compose,
)
from lashing.manifests.kubernetes import K8sObject, objects_of
from lashing.manifests.scan import MANIFEST_GLOBS, compose_files_for
from lashing.manifests.yaml import YamlError, YamlLimits, YamlProblem, load_all
from lashing.model import (
    Check,
    Connection,
    Finding,
    Issue,
    Location,
    Report,
    Severity,
    Surface,
    Target,
    TargetKind,
)
from lashing.network import Explanation, build_model
from lashing.network import connections as k8s_connections
from lashing.network import diff as net_diff
from lashing.network import explain as k8s_explain
from lashing.network.compose import (
    build_compose_model,
    compose_connections,
)
from lashing.network.compose_explain import ComposeExplanation, explain_compose
from lashing.network.ports import PROTOCOLS
from lashing.network.render import csv as csv_render
from lashing.network.render import dot as dot_render
from lashing.network.render import html as html_render
from lashing.network.render import mermaid as mermaid_render
from lashing.network.render import table as table_render
from lashing.progress import NullProgress, Progress, TerminalProgress
from lashing.report import json as json_report
from lashing.report import sarif
from lashing.rules import ALL_RULES
from lashing.rules.compose import scan_compose
from lashing.rules.kubernetes import scan_kubernetes
from lashing.rules.network import scan_compose_network, scan_kubernetes_network

if TYPE_CHECKING:
    from lashing.cli import Context

NAME = "network"
HELP = "who can reach whom: Kubernetes NetworkPolicies, Services, Ingress; compose networks"
DESCRIPTION = """\
Work out which workloads can reach which, on which ports, from Kubernetes
manifests (NetworkPolicies, Services, Ingresses, hostPort/hostNetwork) and
compose files (networks, internal networks, network_mode, published ports),
what is reachable from outside, and what may connect out to the internet.

PATH is a file, a directory (every *.yaml, *.yml, *.json below it) or - for
standard input. Compose files are read with their override file and .env.

Compose: services on a shared network reach each other on every port (a bridge
network does not filter ports); published ports are reachable from the host,
and from the internet when bound to all interfaces; every service can connect
out unless all its networks are internal.

  lashing network --explain SRC DST[:PORT] PATH...
      why SRC can or cannot reach DST. Kubernetes: name, namespace/name or
      Kind/namespace/name, an IP or CIDR, ingress-controller. Compose: service
      or project/service, host, external.
  lashing network diff OLD NEW
      connections added and removed; OLD and NEW are paths as above or saved
      'lashing network --format json' reports.

formats: table (default), json, dot, mermaid, csv (reachability matrix), html
(one self-contained page with the graph), sarif (the findings).
(To analyse a file or directory named diff, write it as ./diff.)

examples:
  lashing network k8s/
  lashing network compose.yaml --format mermaid
  lashing network deploy/ --format html -o network.html
  lashing network --explain web db:5432 compose.yaml
  lashing network diff before.json deploy/ --fail-on-new
"""

FORMATS = ("table", "json", "dot", "mermaid", "csv", "html", "sarif")
DIFF_FORMATS = ("table", "json")
MAX_FILES = 10_000
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="manifest or compose files, directories, - for standard input; "
                        "or: diff OLD NEW")
    add_format(parser, FORMATS, "table")
    parser.add_argument("--explain", nargs=2, metavar=("SRC", "DST[:PORT]"),
                        help="explain whether SRC can reach DST (on PORT)")
    parser.add_argument("--protocol", default="TCP", metavar="PROTO",
                        help="protocol for --explain: TCP (default), UDP or SCTP")
    parser.add_argument("--skip-rules", metavar="IDS", default="",
                        help="rule ids or aliases not to evaluate")
    g = parser.add_argument_group("gate")
    g.add_argument("--severity", metavar="LIST",
                   help="report only these severities (e.g. CRITICAL,HIGH)")
    g.add_argument("--fail-on", metavar="SEVERITY",
                   help="exit 1 when a finding at or above this severity remains")
    g.add_argument("--fail-on-new", action="store_true",
                   help="with diff: exit 1 when a connection was added")
    g.add_argument("--strict", action="store_true",
                   help="exit 4 when part of the input could not be analysed (issues)")


# ---- reading inputs --------------------------------------------------------------------------


@dataclass
class Inputs:
    """What the paths held: Kubernetes objects (one cluster) and compose projects."""

    objects: list[K8sObject] = field(default_factory=list)
    kubernetes_paths: list[str] = field(default_factory=list)  # the PATHs that held objects
    projects: list[ComposeProject] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)


def _issue(name: str, line: int | None, message: str) -> Issue:
    return Issue("network", "manifest", Location(path=name, line=line), message)


def _problems(problems: list[YamlProblem]) -> list[Issue]:
    return [_issue(p.name, p.line, p.message) for p in problems]


def _read_document(inputs: Inputs, name: str, data: bytes, path: Path | None,
                   limits: YamlLimits) -> bool:
    """Add what one file (or stdin) holds; False when it is neither kind of manifest."""
    if b"apiVersion" not in data and b"services" not in data:
        return False
    try:
        docs, problems, error = load_all(data, name, limits)
    except YamlError as exc:
        inputs.issues.append(_issue(name, exc.line, exc.reason))
        return False
    objects, _ = objects_of(docs, name)
    if objects:
        inputs.objects.extend(objects)
        inputs.issues.extend(_problems(problems))
        if error is not None:
            inputs.issues.append(_issue(name, error.line, error.reason))
        return True
    if docs and looks_like_compose(docs[0]):
        if path is not None:
            files = compose_files_for(path)
            if files is None:
                return True  # an override next to its base: read with the base
            project = load_compose(files, limits=limits, project_name=_project_name(docs[0], path))
        else:
            project = load_compose_text(data, name, {}, limits)
            project.name = _project_name(docs[0], None) or project.name
        inputs.projects.append(project)
        inputs.issues.extend(_problems(project.problems))
        inputs.issues.extend(_issue(e.name, e.line, e.reason) for e in project.errors)
        return True
    if error is not None:
        inputs.issues.append(_issue(name, error.line, error.reason))
    return False


def _project_name(doc: Any, path: Path | None) -> str | None:
    """Compose's project name: the top-level `name:`, COMPOSE_PROJECT_NAME, else the
    directory's name (also for a file named relative to the current directory)."""
    name = doc.get("name") if isinstance(doc, dict) else None
    if not isinstance(name, str) or not name:
        if os.environ.get("COMPOSE_PROJECT_NAME") or path is None:
            return None
        name = path.resolve().parent.name
    return re.sub(r"[^a-z0-9_-]", "", name.lower()) or None


def _files(root: Path) -> list[Path]:
    suffixes = {g.rsplit(".", 1)[-1] for g in MANIFEST_GLOBS}
    found: list[Path] = []
    for directory, dirs, files in os.walk(root):  # symlinks to directories are not followed
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for f in sorted(files):
            p = Path(directory) / f
            if f.rsplit(".", 1)[-1].lower() in suffixes and not p.is_symlink() and p.is_file():
                found.append(p)
                if len(found) > MAX_FILES:
                    raise InputError(f"{root}: more than {MAX_FILES} manifest files",
                                     "name the directories to analyse")
    return found


def read_inputs(paths: list[str], stdin: IO[bytes] | None, progress: Progress,
                limits: YamlLimits | None = None) -> Inputs:
    limits = limits or YamlLimits()
    inputs = Inputs()
    for text in paths:
        before = (len(inputs.objects), len(inputs.projects))
        if text == "-":
            if stdin is None:
                raise InputError("-: no standard input to read manifests from")
            data = stdin.read(limits.max_bytes + 1)
            if len(data) > limits.max_bytes:
                raise InputError(f"-: more than {limits.max_bytes} bytes on standard input")
            _read_document(inputs, "-", data, None, limits)
        else:
            path = Path(text)
            if not path.exists():
                raise InputError(f"{text}: no such file or directory")
            files = _files(path) if path.is_dir() else [path]
            task = progress.task(f"reading {text}", len(files))
            for f in files:
                try:
                    if f.stat().st_size > limits.max_bytes:
                        raise YamlError(str(f), None, f"over the {limits.max_bytes}-byte limit")
                    data = f.read_bytes()
                except OSError as exc:
                    raise InputError(f"{f}: cannot read ({exc.strerror})") from None
                except YamlError as exc:
                    inputs.issues.append(_issue(str(f), None, exc.reason))
                    continue
                _read_document(inputs, str(f), data, f, limits)
                task.advance(1)
            task.finish()
        if len(inputs.objects) > before[0]:
            inputs.kubernetes_paths.append(text)
        if (len(inputs.objects), len(inputs.projects)) == before:
            why = next((i.message for i in inputs.issues if (i.location.path or "")
                        .startswith(text.rstrip("/")) or text == "-"), None)
            raise InputError(f"{text}: no Kubernetes manifests or compose files to analyse"
                             + (f" ({why})" if why else ""))
        inputs.targets.append(Target(name=text, kind=TargetKind.NETWORK))
    return inputs


# ---- analysis ----------------------------------------------------------------------------------


def _network_only(findings: list[Finding], checks: list[Check], rule_ids: set[str],
                  ) -> tuple[list[Finding], list[Check]]:
    return ([f for f in findings if f.surface is Surface.NETWORK],
            [c for c in checks if c.rule_id in rule_ids])


def analyse(inputs: Inputs, skip: frozenset[str] = frozenset()) -> Report:
    """Connections, findings and issues of everything read."""
    network_ids = {r.id for r in ALL_RULES if r.surface is Surface.NETWORK}
    connections: list[Connection] = []
    findings: list[Finding] = []
    checks: list[Check] = []
    issues = list(inputs.issues)
    if inputs.objects:
        model = build_model(inputs.objects)
        connections.extend(k8s_connections(model))
        issues.extend(model.issues)
        by_file: dict[str, list[K8sObject]] = {}
        for obj in inputs.objects:
            by_file.setdefault(obj.path, []).append(obj)
        for path, objects in by_file.items():
            f, c = _network_only(*scan_kubernetes(path, objects, skip=skip), network_ids)
            findings += f
            checks += c
        f, c = scan_kubernetes_network(model, ",".join(inputs.kubernetes_paths), skip)
        findings += f
        checks += c
    for project in inputs.projects:
        if not project.services:
            continue
        cmodel = build_compose_model(project)
        connections.extend(compose_connections(cmodel))
        issues.extend(cmodel.issues)
        f, c = _network_only(*scan_compose(project, skip=set(skip)), network_ids)
        f2, c2 = scan_compose_network(project, skip)
        findings += f + f2
        checks += c + c2
    return Report(targets=tuple(inputs.targets), findings=tuple(findings), checks=tuple(checks),
                  issues=tuple(issues), connections=tuple(connections), tool_version=__version__)


def _sarif(report: Report) -> str:

    return sarif.render(report, ALL_RULES)


RENDERERS: dict[str, Callable[[Report], str]] = {
    "json": json_report.render, "table": table_render.render, "dot": dot_render.render,
    "mermaid": mermaid_render.render, "csv": csv_render.render, "html": html_render.render,
    "sarif": _sarif}


def render(report: Report, fmt: str) -> str:
    return RENDERERS[fmt](report)


# ---- explain -------------------------------------------------------------------------------------

_DST = re.compile(r"(?P<host>\[[^\]]+\]|[^:\[\]]+(?:/\d+)?):(?P<port>\d{1,5})\Z")


def parse_destination(text: str) -> tuple[str, int | None]:
    """`db:5432` -> ("db", 5432); `[2001:db8::1]:443`; `web` -> ("web", None)."""
    m = _DST.match(text)
    if m is None:
        return text.strip("[]"), None
    port = int(m.group("port"))
    if not 1 <= port <= 65535:
        raise InputError(f"--explain {text}: port {port} is outside 1-65535")
    return m.group("host").strip("[]"), port


def explain(inputs: Inputs, source: str, destination: str, protocol: str,
            ) -> ComposeExplanation | Explanation:
    """Why `source` can or cannot reach `destination` (`NAME[:PORT]`): compose projects
    first, then the Kubernetes objects."""
    if protocol.upper() not in PROTOCOLS:
        raise InputError(f"--protocol {protocol!r}: one of {', '.join(PROTOCOLS)}")
    dst, port = parse_destination(destination)
    found = {p.name: e for p in inputs.projects
             if (e := explain_compose(build_compose_model(p), source, dst, port, protocol))}
    if len(found) > 1:
        raise InputError(f"--explain {source} {destination}: matches services in several "
                         f"compose projects ({', '.join(sorted(found))})",
                         "name services as PROJECT/NAME")
    if found:
        return next(iter(found.values()))
    if inputs.objects:
        return k8s_explain(build_model(inputs.objects), source, dst, port, protocol)
    raise InputError(f"--explain: {source} or {dst} is not a service of the compose files",
                     "name a service as NAME or PROJECT/NAME; host and external also work")


# ---- running -------------------------------------------------------------------------------------


def _gate_args(args: argparse.Namespace) -> tuple[list[Severity], Severity | None]:
    shown = _severities(args.severity, "--severity")
    fail_on = _severities(args.fail_on, "--fail-on")
    if len(fail_on) > 1:
        raise InputError(f"--fail-on {args.fail_on!r}: name one severity")
    return shown, fail_on[0] if fail_on else None


def _connections_of(text: str, stdin: IO[bytes] | None, progress: Progress) -> list[Connection]:
    path = Path(text)
    if text != "-" and path.is_file():
        with path.open("rb") as f:
            head = f.read(256)
        if net_diff.looks_like_report(head):
            if path.stat().st_size > net_diff.MAX_REPORT_BYTES:
                raise InputError(f"{text}: more than {net_diff.MAX_REPORT_BYTES} bytes; "
                                 "not a report to diff")
            return net_diff.read_report_connections(path.read_bytes(), text)
    return list(analyse(read_inputs([text], stdin, progress)).connections)


def run_diff(args: argparse.Namespace, ctx: Context, progress: Progress) -> int:
    if len(args.paths) != 3:
        raise InputError("network diff: name exactly two inputs, OLD and NEW",
                         "lashing network diff OLD NEW")
    fmt = (args.format or "table").lower()
    if fmt not in DIFF_FORMATS:
        raise InputError(f"--format {fmt!r}: network diff writes " + ", ".join(DIFF_FORMATS))
    old, new = args.paths[1], args.paths[2]
    result = net_diff.diff_connections(_connections_of(old, ctx.stdin, progress),
                                       _connections_of(new, ctx.stdin, progress), old, new)
    text = net_diff.render_json(result) if fmt == "json" else net_diff.render_table(result)
    write_output(text, args.output, ctx.stdout)
    return EXIT_GATE if args.fail_on_new and result.added else EXIT_OK


def run(args: argparse.Namespace, ctx: Context) -> int:
    with ExitStack() as stack:
        progress: Progress = NullProgress()
        if ctx.progress_enabled:
            progress = stack.enter_context(TerminalProgress(ctx.stderr))
        if args.paths[0] == "diff":  # a path named diff is written ./diff
            return run_diff(args, ctx, progress)
        fmt = output_format(args)
        shown, fail_on = _gate_args(args)
        skip = frozenset(s.strip() for s in args.skip_rules.split(",") if s.strip())
        inputs = read_inputs(args.paths, ctx.stdin, progress)
    if args.explain:
        if fmt not in ("table", "json"):
            raise InputError(f"--format {fmt!r}: --explain writes table or json")
        result = explain(inputs, args.explain[0], args.explain[1], args.protocol)
        text = (json.dumps(result.to_dict(), indent=2) + "\n" if fmt == "json"
                else "\n".join(result.lines) + "\n")
        write_output(text, args.output, ctx.stdout)
        return EXIT_OK
    report = analyse(inputs, skip)
    if shown:
        report = replace(report, findings=tuple(f for f in report.findings
                                                if f.severity in shown))
    write_output(render(report, fmt), args.output, ctx.stdout)
    code = gate(report, fail_on)
    if code == EXIT_OK and args.strict and report.issues:
        if not args.quiet:
            print(f"incomplete: {len(report.issues)} issue(s); see the report", file=ctx.stderr)
        return EXIT_INCOMPLETE
    return code
