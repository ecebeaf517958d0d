"""lashing watch [--once]: suspicious actions on a running engine, as they happen."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING

from lashing.cache import BlobCache
from lashing.commands.common import (
    add_format,
    add_source_arguments,
    output_format,
    source_options,
)
from lashing.commands.common import severities as _severities
from lashing.errors import EXIT_GATE, EXIT_OK, InputError
from lashing.host.engine import socket_path
from lashing.source.registry import make_http_client
from lashing.trust.cosign import TrustedKey
from lashing.trust.policy import Policy
from lashing.trust.signatures import SignatureOutcome
from lashing.trust.verify import VerifyOptions, verify_image
from lashing.watch.audit import Auditor
from lashing.watch.client import WatchClient
from lashing.watch.config import WatchConfig, load_policy_file, load_watch_config
from lashing.watch.events import format_time
from lashing.watch.output import Emitter, open_output
from lashing.watch.watcher import Watcher, WatchSettings, now_nano

if TYPE_CHECKING:
    from lashing.cli import Context

NAME = "watch"
HELP = "watch a running engine: risky containers, shells and untrusted images as they happen"
DESCRIPTION = """\
Follow a Docker-compatible engine's events (dockerd, or podman system
service) and report, as they happen:

  - containers created or started with risky settings: privileged, added
    capabilities, host PID/IPC/network/user namespaces, the engine socket or
    host system directories mounted, no-new-privileges off, seccomp or
    AppArmor unconfined, running as root, no memory or PIDs limit, ports
    published on every interface (LSH-RUN-001..014);
  - shells and interactive or privileged execs into running containers
    (LSH-RUN-020..022);
  - images pulled or run that break the provenance policy (--policy, or
    [policy] in --config): registries, repositories, digest pinning, latest,
    age, and with --verify-images their cosign signatures (LSH-RUN-030..035).

One JSON object per line (the JSON report's finding shape) on stdout, or
appended to --output FILE; --format table prints a line per finding.
Warnings (malformed events, a lost connection, events the engine could not
replay) go to stderr. The watch reconnects when the engine restarts and
resumes from the last event it saw. SIGINT or SIGTERM ends it (exit 0).

--once audits the containers running now and exits, with the usual exit
codes (--fail-on). Expected exceptions go in [watch] of --config:

  [[watch.exceptions]]
  container = "ci-runner-*"
  rule = "LSH-RUN-001"
  reason = "Docker-in-Docker build runner"

examples:
  lashing watch --docker-host unix:///var/run/docker.sock
  lashing watch --format table --config lashing.toml
  lashing watch --once --fail-on HIGH --docker-host unix:///run/podman/podman.sock
"""

FORMATS = ("json", "table")
DEFAULT_HOST = "unix:///var/run/docker.sock"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_format(parser, FORMATS, "json")
    engine = parser.add_argument_group("engine")
    engine.add_argument("--docker-host", metavar="URL",
                        help="the engine API socket (unix://PATH; default $DOCKER_HOST, "
                        f"else {DEFAULT_HOST})")
    engine.add_argument("--once", action="store_true",
                        help="audit the containers running now and exit")
    engine.add_argument("--max-retries", metavar="N", default="10",
                        help="reconnect attempts in a row before giving up (default 10; "
                        "backoff 0.5s doubling to 10s)")
    what = parser.add_argument_group("what to report")
    what.add_argument("--config", metavar="FILE",
                      help="lashing.toml: [watch] exceptions and the [policy]")
    what.add_argument("--policy", metavar="FILE",
                      help="TOML file with a [policy] section (overrides --config's)")
    what.add_argument("--verify-images", action="store_true",
                      help="verify each image's cosign signature with the policy's keys "
                      "(reaches the image's registry)")
    what.add_argument("--skip-rules", metavar="IDS", default="",
                      help="rule ids or aliases not to evaluate")
    what.add_argument("--severity", metavar="LIST",
                      help="report only these severities (e.g. CRITICAL,HIGH)")
    what.add_argument("--fail-on", metavar="SEVERITY",
                      help="with --once: exit 1 when a finding at or above this severity "
                      "is not suppressed")
    add_source_arguments(parser)


def _docker_host(args: argparse.Namespace) -> str:
    url = args.docker_host
    if url:
        socket_path(url)
        return str(url)
    env = os.environ.get("DOCKER_HOST", "").strip()
    if env:
        socket_path(env, "DOCKER_HOST")
        return env
    return DEFAULT_HOST


def _int(text: str, option: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise InputError(f"{option} {text!r}: expected a whole number of at least {low}")
    return value


def _verifier(args: argparse.Namespace, policy: Policy | None,
              ) -> Callable[[str], SignatureOutcome] | None:
    if not args.verify_images:
        return None
    if policy is None:
        raise InputError("--verify-images needs a policy naming the trusted keys",
                         "pass --policy FILE, or --config lashing.toml with [policy] keys")
    source = source_options(args)
    options = VerifyOptions(source=source)
    http = make_http_client(source)
    cache = BlobCache(source.cache_dir, source.cache_max_bytes)
    keys: dict[str, TrustedKey] = {}

    def verify(ref: str) -> SignatureOutcome:
        return verify_image(ref, policy, options, http, cache, keys).signature
    return verify


@contextmanager
def _stop_on_signals() -> Iterator[Callable[[], bool]]:
    """SIGINT and SIGTERM ask the watch to stop (it exits 0 within half a second)."""
    stopped = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stopped.is_set
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopped.is_set
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def run(args: argparse.Namespace, ctx: Context) -> int:
    fmt = output_format(args)
    url = _docker_host(args)
    shown = _severities(args.severity, "--severity")
    fail_on = _severities(args.fail_on, "--fail-on")
    if len(fail_on) > 1:
        raise InputError(f"--fail-on {args.fail_on!r}: name one severity")
    if fail_on and not args.once:
        raise InputError("--fail-on applies to --once; a watch runs until it is stopped")
    max_retries = _int(args.max_retries, "--max-retries", 0)
    config = load_watch_config(Path(args.config)) if args.config else WatchConfig()
    policy = load_policy_file(Path(args.policy)) if args.policy else config.policy
    verify = _verifier(args, policy)
    skip = frozenset(s.strip() for s in args.skip_rules.split(",") if s.strip())

    def connect() -> WatchClient:
        client = WatchClient(url)
        try:
            client.negotiate()
        except BaseException:
            client.close()
            raise
        return client

    first = connect()  # the engine must answer before anything is printed

    def created(ref: str) -> str | None:
        client = WatchClient(url)
        client.api = first.api
        try:
            return client.image_created(ref)
        finally:
            client.close()

    out: IO[str] = open_output(args.output) if args.output and args.output != "-" \
        else ctx.stdout
    try:
        emit = Emitter(fmt, out, ctx.stderr, args.quiet)
        auditor = Auditor(url, emit, config, policy, skip, shown, verify,
                          created=created)
        if args.once:
            with first:
                when = format_time(now_nano())
                containers = first.running()
                for c in containers:
                    auditor.container(c, "running", when)
            emit.note(f"{first.engine} (API {first.api}) at {url}: {len(containers)} running "
                      f"container(s), {emit.count} finding(s)")
            gate = fail_on[0] if fail_on else None
            return EXIT_GATE if gate is not None and emit.worst is not None \
                and emit.worst.rank >= gate.rank else EXIT_OK
        emit.note(f"watching {first.engine} (API {first.api}) at {url}")
        first.close()
        with _stop_on_signals() as stop:
            watcher = Watcher(connect, auditor, emit, WatchSettings(max_retries=max_retries),
                              stop)
            watcher.run()
        emit.note(f"stopped: {watcher.events} event(s), {emit.count} finding(s)")
        return EXIT_OK
    finally:
        if out is not ctx.stdout:
            out.close()
