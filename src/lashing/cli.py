"""The command line: argparse -> options -> pipeline -> renderer.

`main(argv, stdout, stderr) -> int` is the only code that prints or exits;
everything under it returns values or raises LashingError.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass
from types import ModuleType
from typing import IO

from lashing import __version__
from lashing.errors import EXIT_INPUT, LashingError


@dataclass(frozen=True)
class CommandSpec:
    """A command the CLI offers. Its module (NAME, HELP, DESCRIPTION,
    add_arguments, run) is imported only when that command runs or its help
    is shown, so `lashing network` does not pay for loading the image scanner."""

    name: str
    help: str
    module: str

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)


COMMANDS: tuple[CommandSpec, ...] = tuple(
    CommandSpec(name, help_, f"lashing.commands.{name}") for name, help_ in (
        ("scan", "scan images, directories and Dockerfiles"),
        ("sbom", "write the package inventory (CycloneDX by default)"),
        ("host", "audit a build host: daemon, sockets, audit rules, rootless builds, CI runners"),
        ("network", "who can reach whom: Kubernetes NetworkPolicies, Services, Ingress; "
                    "compose networks"),
        ("verify", "verify image signatures (cosign, Sigstore keyless) and the provenance "
                   "policy"),
        ("watch", "watch a running engine: risky containers, shells and untrusted images as "
                  "they happen"),
        ("audit", "audit build host, images, applications and network from one config, into "
                  "one report"),
        ("rescan", "match stored SBOMs against the current vulnerability database; mark new "
                   "findings"),
        ("diff", "compare two reports: findings added, fixed and unchanged"),
        ("rules", "list the rules, or explain one"),
        ("db", "update, import or show the offline vulnerability database"),
        ("cache", "show or prune the blob and layer cache"),
    ))
_BY_NAME = {c.name: c for c in COMMANDS}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass
class Context:
    """What a command needs from the outside world."""

    stdout: IO[str]
    stderr: IO[str]
    stdin: IO[bytes] | None
    progress_enabled: bool


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise LashingError(f"{self.prog}: {message}", f"see '{self.prog} --help'")


def _global_options() -> _Parser:
    parent = _Parser(add_help=False)
    g = parent.add_argument_group("global options")
    g.add_argument("--format", "-f", help="output format (see each command)")
    g.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE")
    g.add_argument("--quiet", "-q", action="store_true", help="print nothing but the output")
    g.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    g.add_argument("--no-progress", action="store_true", help="never draw progress bars")
    g.add_argument(
        "--cache-dir", metavar="DIR", help="blob cache (default: $XDG_CACHE_HOME/lashing)"
    )
    g.add_argument("--offline", action="store_true", help="never touch the network")
    return parent


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with `argv`, only the command it names is loaded (the others are
    listed by name and help), else every command is."""
    wanted = next((a for a in argv if a in _BY_NAME), None) if argv is not None else None
    parent = _global_options()
    parser = _Parser(
        prog="lashing",
        description="Audit containers: build host, images, applications and network.",
        epilog="Every option can also be set as LASHING_<OPTION> in the environment, "
        "e.g. LASHING_FORMAT=json. Exit status: 0 clean, 1 a finding at or above --fail-on, "
        "2 bad input, 3 environment failure, 4 --strict and incomplete.",
    )
    parser.add_argument("--version", action="version", version=f"lashing {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for spec in COMMANDS:
        if argv is not None and spec.name != wanted:
            sub.add_parser(spec.name, help=spec.help, add_help=False)
            continue
        module = spec.load()
        p = sub.add_parser(
            spec.name,
            help=spec.help,
            description=module.DESCRIPTION,
            parents=[parent],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        _env_defaults(p)
        p.set_defaults(_run=module.run)
    return parser


def _env_defaults(parser: argparse.ArgumentParser) -> None:
    """Every long option takes its default from LASHING_<NAME> when set."""
    for action in parser._actions:  # argparse exposes no public walk of actions
        longs = [o for o in action.option_strings if o.startswith("--")]
        if not longs or action.dest in ("help", "version"):
            continue
        var = "LASHING_" + longs[0][2:].upper().replace("-", "_")
        value = os.environ.get(var)
        if value is None:
            continue
        if isinstance(action, argparse._StoreTrueAction):
            low = value.strip().lower()
            if low not in _TRUE | _FALSE:
                raise LashingError(f"{var}={value!r}: expected true or false")
            action.default = low in _TRUE
        elif isinstance(action, argparse._AppendAction):
            action.default = [v for v in value.split(",") if v]
        else:
            action.default = value


def main(
    argv: Sequence[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    stdin: IO[bytes] | None = None,
) -> int:
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list or os.environ.get("LASHING_DEBUG", "").lower() in _TRUE
    try:
        parser = build_parser(args_list)
        try:
            with redirect_stdout(out):
                args = parser.parse_args(args_list)
        except SystemExit as exc:  # --help and --version
            return exc.code if isinstance(exc.code, int) else 0
        if getattr(args, "_run", None) is None:
            parser.print_help(out)
            return EXIT_INPUT
        ctx = Context(
            stdout=out,
            stderr=err,
            stdin=stdin if stdin is not None else (sys.stdin.buffer if argv is None else None),
            progress_enabled=not args.no_progress and not args.quiet and _isatty(err),
        )
        code: int = args._run(args, ctx)
        return code
    except LashingError as exc:
        print(exc.diagnostics(), file=err)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=err)
        return 130
    except Exception:
        if debug:
            raise
        import traceback

        print("error: internal error in lashing (a bug; please report it with --debug output)",
              file=err)
        print(traceback.format_exc().splitlines()[-1], file=err)
        return 70


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def entry() -> None:
    sys.exit(main())
