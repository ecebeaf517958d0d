"""lashing host [--root DIR]: audit a build host."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from lashing import __version__
from lashing.commands.common import add_format, gate, output_format, write_output
from lashing.commands.common import severities as _severities
from lashing.errors import EXIT_INCOMPLETE, EXIT_OK, InputError
from lashing.host import table as host_table
from lashing.host.engine import EngineState, read_engine
from lashing.host.engine_url import parse_endpoint
from lashing.host.live import read_live
from lashing.host.packages import host_packages
from lashing.host.subject import HostSubject
from lashing.host.view import host_view
from lashing.model import (
    Check,
    CheckStatus,
    Issue,
    Location,
    Package,
    Report,
    Target,
    TargetKind,
)
from lashing.report import json as json_report
from lashing.rules import host as host_rules
from lashing.rules.framework import NotApplicable, NotCheckable
from lashing.vulndb import default_db_path

if TYPE_CHECKING:
    from lashing.cli import Context

NAME = "host"
HELP = "audit a build host: daemon, sockets, audit rules, rootless builds, CI runners"
DESCRIPTION = """\
Audit the machine that builds images (CIS Docker Benchmark sections 1-3 and
more): Docker daemon configuration (daemon.json, docker.service and drop-ins,
/etc/default/docker), owner and mode of sockets and configuration, the docker
group and sudoers, auditd rules, rootless builds (sub-id ranges, BuildKit,
containerd), /etc/containers policy and registries, CI runners (GitLab Runner,
GitHub Actions, Jenkins), and the host's own packages against the offline
vulnerability database.

--root DIR audits a host tree mounted or copied at DIR (files only). With the
default --root /, the running system is read too: the dockerd command line
from /proc, listening TCP sockets, whether the Docker socket answers. Root is
never required: a file that cannot be read is reported as not checked.

--docker-host unix:///var/run/docker.sock (or $DOCKER_HOST, or a Podman socket
such as unix:///run/podman/podman.sock, or tcp://HOST:PORT) also checks every
container the engine API knows, running or not (CIS Docker Benchmark section
5): privileged, host namespaces, added capabilities, sensitive mounts, AppArmor,
SELinux and seccomp, devices, mount propagation, resource limits and ulimits,
no-new-privileges, read-only root, restart policy, healthcheck, root user,
ports on all interfaces, the default bridge. An engine that answers over TCP
without TLS is itself a finding. --tlsverify (or $DOCKER_TLS_VERIFY) speaks TLS
to tcp:// with ca.pem, cert.pem and key.pem from $DOCKER_CERT_PATH (default
~/.docker). Without --docker-host those checks are not applicable; an engine
that does not answer is an error (exit 3).

Configuration is judged as the tools read it: docker.service drop-ins,
OPTIONS in /etc/sysconfig/docker and DOCKER_OPTS in /etc/default/docker merged
with daemon.json (an option set in both is reported: dockerd will not start),
rootless dockerd (~/.config/docker/daemon.json), and /etc/containers drop-in
directories (registries.conf.d, containers.conf.d) with each user's
~/.config/containers files; a finding names the file that set the value.

examples:
  lashing host
  lashing host --root /mnt/builder --format json
  lashing host --fail-on HIGH --format sarif -o host.sarif
  lashing host --docker-host unix:///var/run/docker.sock
  lashing host --docker-host tcp://10.0.0.5:2376 --tlsverify
"""

FORMATS = ("table", "json", "sarif")
PACKAGES_ID = "LSH-HOST-PKG"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", metavar="DIR", default="/",
                        help="the host's root directory (default: /, the running system)")
    add_format(parser, FORMATS, "table")
    what = parser.add_argument_group("what to check")
    what.add_argument("--docker-host", metavar="URL",
                      help="a Docker-compatible engine API (unix://PATH, tcp://HOST:PORT, "
                      "https://HOST:PORT) whose containers to check (default: $DOCKER_HOST)")
    what.add_argument("--tlsverify", action="store_true",
                      help="speak TLS to a tcp:// engine, with ca.pem, cert.pem and key.pem "
                      "from $DOCKER_CERT_PATH or ~/.docker (default: $DOCKER_TLS_VERIFY)")
    what.add_argument("--skip-rules", metavar="IDS", default="",
                      help="rule ids or aliases (cis-docker-1.6:2.2) not to evaluate")
    what.add_argument("--skip-packages", action="store_true",
                      help="do not catalog the host's packages or match vulnerabilities")
    what.add_argument("--db", metavar="PATH",
                      help="vulnerability database (default: $LASHING_DB or the cache's)")
    gate_group = parser.add_argument_group("gate")
    gate_group.add_argument("--severity", metavar="LIST",
                            help="report only these severities (e.g. CRITICAL,HIGH)")
    gate_group.add_argument("--fail-on", metavar="SEVERITY",
                            help="exit 1 when a finding at or above this severity remains")
    gate_group.add_argument("--strict", action="store_true",
                            help="exit 4 when the audit was incomplete (issues, or checks "
                                 "that could not be made)")


def audit(root: Path, *, skip: frozenset[str] = frozenset(), packages: bool = True,
          db_path: Path | None = None, docker_host: str | None = None,
          tlsverify: bool = False, cert_dir: Path | None = None,
          ) -> tuple[Report, list[str]]:
    """The build-host report for `root`, and notes on where the data came from.

    `docker_host` (unix://PATH, tcp://HOST:PORT, https://HOST:PORT): the engine API
    whose containers the running-container rules check; EnvironmentFailure when it
    does not answer. `tlsverify` and `cert_dir` as for read_engine."""
    if not root.is_dir():
        raise InputError(f"--root {root}: not a directory")
    engine: EngineState | None = read_engine(
        docker_host, tlsverify=tlsverify, cert_dir=cert_dir) if docker_host else None
    view = host_view(root)
    live = read_live() if view.live else None
    subject = HostSubject(view, live, engine)
    target = f"host:{root}"
    findings, checks = host_rules.scan_host(subject, target, skip)
    sources = [f"mode: {'live system (files and /proc)' if view.live else 'files only'}"]
    if live is not None:
        sources += [f"live: {n}" for n in live.notes]
    if engine is not None:
        sources += [f"engine: {n}" for n in engine.notes]
    try:
        daemon_sources = [src for d in subject.daemons for src in d.sources]
        sources += [f"ignored: {i}" for d in subject.daemons for i in d.ignored]
    except (NotCheckable, NotApplicable):  # the rules already reported why
        daemon_sources = []
    if daemon_sources:
        sources.append("daemon settings from: " + ", ".join(daemon_sources))
        where = "; ".join(daemon_sources)
        daemon_ids = {r.id for r in host_rules.RULES if host_rules.area_of(r) == "daemon"}
        checks = [replace(c, reason=f"{c.reason + '; ' if c.reason else ''}settings from "
                          f"{where}") if c.rule_id in daemon_ids
                  and c.status in (CheckStatus.PASS, CheckStatus.FAIL) else c for c in checks]
    os_info = None
    pkgs: tuple[Package, ...] = ()
    issues: list[Issue] = []
    database = None
    if packages:
        found = host_packages(root, db_path or default_db_path(), target)
        os_info, pkgs, database = found.os, found.packages, found.database
        findings.extend(found.findings)
        issues.extend(found.issues)
        status = CheckStatus.FAIL if found.findings else (
            CheckStatus.PASS if found.packages and database else CheckStatus.NOT_CHECKED)
        reason = (f"{len(found.packages)} package(s), {len(found.findings)} vulnerabilit(ies)"
                  if database else f"{len(found.packages)} package(s); no vulnerability "
                  "database")
        checks.append(Check(PACKAGES_ID, target, status, reason))
    issues.extend(Issue("host", "user-config", Location(path=target), message)
                  for message in dict.fromkeys(subject.unread))
    t = Target(name=target, kind=TargetKind.HOST, os=os_info, packages=pkgs)
    report = Report(targets=(t,), findings=tuple(findings), checks=tuple(checks),
                    issues=tuple(issues), tool_version=__version__, database=database)
    return report, sources


def render(report: Report, fmt: str, sources: list[str]) -> str:
    if fmt == "json":
        return json_report.render(report)
    if fmt == "sarif":
        from lashing.report import sarif
        from lashing.rules import ALL_RULES

        return sarif.render(report, ALL_RULES)
    by_id = {r.id: r for r in host_rules.RULES}
    titles = {r.id: r.title for r in host_rules.RULES}
    titles[PACKAGES_ID] = "Host packages with known vulnerabilities"

    def area(rule_id: str) -> str:
        r = by_id.get(rule_id)
        return host_rules.area_of(r) if r is not None else "packages"

    return host_table.render(report, list(host_rules.AREAS.items()), area, titles, sources)


def run(args: argparse.Namespace, ctx: Context) -> int:
    fmt = output_format(args)
    shown = _severities(args.severity, "--severity")
    fail_on = _severities(args.fail_on, "--fail-on")
    if len(fail_on) > 1:
        raise InputError(f"--fail-on {args.fail_on!r}: name one severity")
    skip = frozenset(s.strip() for s in args.skip_rules.split(",") if s.strip())
    docker_host = args.docker_host
    env_host = os.environ.get("DOCKER_HOST", "").strip()
    tlsverify = args.tlsverify or bool(os.environ.get("DOCKER_TLS_VERIFY", "").strip())
    cert_env = os.environ.get("DOCKER_CERT_PATH", "").strip()
    env_note = None
    if docker_host is None and env_host:
        try:
            parse_endpoint(env_host, "DOCKER_HOST", tlsverify)
            docker_host = env_host
        except InputError as exc:  # e.g. ssh://: not for this command, not an error
            env_note = Issue("host", "engine", Location(resource="DOCKER_HOST"),
                             f"{exc.message}; running-container checks skipped")
    elif docker_host is not None:
        parse_endpoint(docker_host, "--docker-host", tlsverify)  # a wrong URL: exit 2
    report, sources = audit(Path(args.root), skip=skip, packages=not args.skip_packages,
                            db_path=Path(args.db) if args.db else None,
                            docker_host=docker_host or None, tlsverify=tlsverify,
                            cert_dir=Path(cert_env) if cert_env else None)
    if env_note is not None:
        report = replace(report, issues=(*report.issues, env_note))
    if shown:
        report = replace(report, findings=tuple(f for f in report.findings
                                                if f.severity in shown))
    write_output(render(report, fmt, sources), args.output, ctx.stdout)
    code = gate(report, fail_on[0] if fail_on else None)
    incomplete = report.issues or any(c.status is CheckStatus.NOT_CHECKED
                                      and c.reason != "skipped" for c in report.checks)
    if code == EXIT_OK and args.strict and incomplete:
        if not args.quiet:
            print("incomplete: some checks could not be made; see the report", file=ctx.stderr)
        return EXIT_INCOMPLETE
    return code
