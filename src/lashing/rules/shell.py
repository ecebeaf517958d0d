"""A tolerant POSIX-shell reader for RUN instructions and image history.

Rules need to see every simple command a script runs, wherever it hides:
after `&&`, `;`, `|`, inside `if`/`case`/loops, in `$(...)` and backticks,
inside `sh -c '...'`, behind wrappers such as `sudo`, `env` or `nohup`. This
module splits a script into simple commands (argv with quotes removed, plus
leading `NAME=value` assignments) and records pipelines.

It never executes or expands anything and never fails: unterminated quotes
run to the end of the text, unknown constructs become ordinary words.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from lashing.rules.shtokens import tokenize

_SEPARATORS = {"&&", "||", ";", "&", "\n", ";;", ";&", ";;&"}
_PREFIX_KEYWORDS = {"then", "else", "do", "!", "{", "if", "elif", "while", "until", "}",
                    "fi", "done", "time"}
SHELLS = {"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox-sh"}
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^]]*\])?\+?=")
MAX_DEPTH = 8


@dataclass(frozen=True)
class Command:
    """One simple command.

    `argv` is the command as written (quotes removed); `effective` is argv
    with wrappers (`sudo`, `env`, `nohup`, `time`, `exec`, ...) removed, and
    `wrappers` names those. Rules look at `effective`.
    """

    argv: tuple[str, ...]
    assignments: tuple[tuple[str, str], ...] = ()
    effective: tuple[str, ...] = ()
    wrappers: tuple[str, ...] = ()
    pipeline: int = 0  # id of the pipeline this command belongs to
    position: int = 0  # index within the pipeline
    depth: int = 0  # 0 for the script itself, more inside sh -c / $(...)
    order: int = 0  # position in the script, in reading order

    @property
    def name(self) -> str:
        """The effective command's base name ("apt-get" for /usr/bin/apt-get)."""
        return posixpath.basename(self.effective[0]) if self.effective else ""

    @property
    def args(self) -> tuple[str, ...]:
        return self.effective[1:]

    def text(self) -> str:
        return " ".join(self.argv)


@dataclass(frozen=True)
class Script:
    commands: tuple[Command, ...]
    pipelines: tuple[tuple[Command, ...], ...]

    def named(self, *names: str) -> list[Command]:
        return [c for c in self.commands if c.name in names]

    def pipefail_before(self, order: int) -> bool:
        """True when `set -o pipefail` ran earlier in the script (at any depth)."""
        return any(c.order < order and _sets_pipefail(c) for c in self.commands)


def _sets_pipefail(c: Command) -> bool:
    if c.name != "set":
        return False
    args = c.args
    for i, a in enumerate(args):
        if a.startswith("-") and not a.startswith("--") and "o" in a[1:] \
                and i + 1 < len(args) and args[i + 1] == "pipefail":
            return True
    return False


# ---------------------------------------------------------------------------
# commands


@dataclass
class _Builder:
    commands: list[Command] = field(default_factory=list)
    pipelines: list[list[Command]] = field(default_factory=list)
    order: int = 0
    next_pipeline: int = 0


def parse(*scripts: str) -> Script:
    """Every simple command in `scripts` (read one after the other), nested ones
    included, in reading order."""
    b = _Builder()
    for script in scripts:
        _parse_into(script, b, 0)
    return Script(tuple(b.commands), tuple(tuple(p) for p in b.pipelines if p))


def _parse_into(script: str, b: _Builder, depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    tokens, unterminated = tokenize(script)
    if unterminated:  # not valid shell: read it the way its author probably meant
        tokens, _ = tokenize(script, lenient=True)
    argv: list[str] = []
    assigns: list[tuple[str, str]] = []
    pipeline: list[Command] = []
    pipeline_id = -1
    nested: list[str] = []
    case_depth = 0
    expect_pattern = False
    in_pattern = False
    skip_to_sep = False
    skip_next_word = False

    def finish() -> None:
        nonlocal argv, assigns, pipeline_id
        if argv or assigns:
            if not pipeline:
                pipeline_id = b.next_pipeline
                b.next_pipeline += 1
            b.order += 1
            eff, wrappers, extra = unwrap(tuple(argv))
            cmd = Command(tuple(argv), tuple(assigns) + extra, eff, wrappers,
                          pipeline=pipeline_id, position=len(pipeline), depth=depth,
                          order=b.order)
            pipeline.append(cmd)
            b.commands.append(cmd)
            for body in _inner_scripts(cmd):
                nested.append(body)
        argv, assigns = [], []
        for body in nested:
            _parse_into(body, b, depth + 1)
        nested.clear()

    def end_pipeline() -> None:
        nonlocal pipeline
        finish()
        if pipeline:
            b.pipelines.append(pipeline)
        pipeline = []

    k = 0
    while k < len(tokens):
        tok = tokens[k]
        k += 1
        if tok.kind == "redir":
            if k < len(tokens) and tokens[k].kind == "word":
                nested.extend(tokens[k].subs)
                k += 1
            continue
        if tok.kind == "op":
            if in_pattern:
                if tok.text == ")":
                    in_pattern = False
                continue
            if tok.text in ("|", "|&"):
                finish()
                continue
            if tok.text in _SEPARATORS or tok.text in ("(", ")"):
                end_pipeline()
                skip_to_sep = False
                if tok.text in (";;", ";&", ";;&") and case_depth:
                    expect_pattern = True
            continue
        nested.extend(tok.subs)
        if in_pattern or skip_to_sep:
            continue
        if skip_next_word:
            skip_next_word = False
            continue
        word = tok.text
        if expect_pattern:
            expect_pattern = False
            if word == "esac" and not tok.quoted:
                case_depth -= 1
            else:
                in_pattern = True
            continue
        if not argv:
            if not tok.quoted and word == "esac" and case_depth:
                case_depth -= 1
                continue
            m = _ASSIGNMENT.match(tok.raw)
            if m and not tok.raw.startswith(("'", '"')):
                name = m.group(0).rstrip("=").rstrip("+").split("[", 1)[0]
                assigns.append((name, word[len(m.group(0)):] if word.startswith(
                    m.group(0)) else word.split("=", 1)[-1]))
                continue
            if not tok.quoted and word in _PREFIX_KEYWORDS:
                continue
            if not tok.quoted and word == "case":
                case_depth += 1
                while k < len(tokens) and not (tokens[k].kind == "word"
                                               and tokens[k].text == "in"):
                    nested.extend(tokens[k].subs)
                    k += 1
                k += 1
                expect_pattern = True
                continue
            if not tok.quoted and word in ("for", "select"):
                skip_to_sep = True
                continue
            if not tok.quoted and word == "function":
                skip_next_word = True
                continue
        argv.append(word)
    end_pipeline()


_SUDO_OPTS_WITH_VALUE = {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T",
                         "--user", "--group", "--chdir", "--host", "--prompt", "--role",
                         "--type", "--other-user", "--command-timeout"}
_SIMPLE_WRAPPERS = {"nohup", "time", "exec", "command", "builtin", "noglob", "doas"}


def unwrap(argv: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...],
                                           tuple[tuple[str, str], ...]]:
    """Strip wrapper commands: returns (effective argv, wrapper names, env assignments)."""
    wrappers: list[str] = []
    extra: list[tuple[str, str]] = []
    cur = argv
    for _ in range(8):
        if not cur:
            break
        name = posixpath.basename(cur[0])
        rest = cur[1:]
        if name == "command" and rest[:1] in (("-v",), ("-V",)):
            break
        if name == "sudo" or name in _SIMPLE_WRAPPERS:
            i = 0
            while i < len(rest) and rest[i].startswith("-"):
                i += 2 if rest[i] in _SUDO_OPTS_WITH_VALUE and name == "sudo" else 1
                if rest[i - 1] == "--":
                    break
            wrappers.append(name)
            cur = rest[i:]
        elif name == "env":
            i = 0
            while i < len(rest):
                a = rest[i]
                if a in ("-u", "--unset", "-C", "--chdir", "-S", "--split-string"):
                    i += 2
                elif a.startswith("-"):
                    i += 1
                elif _ASSIGNMENT.match(a):
                    key, _, value = a.partition("=")
                    extra.append((key.rstrip("+"), value))
                    i += 1
                else:
                    break
            wrappers.append(name)
            cur = rest[i:]
        elif name in ("nice", "ionice", "stdbuf", "timeout", "chrt", "taskset", "xargs"):
            i = 0
            while i < len(rest) and rest[i].startswith("-"):
                flag = rest[i]
                i += 1
                if "=" not in flag and i < len(rest) and name in ("nice", "ionice", "xargs") \
                        and flag in ("-n", "-c", "-I", "-d", "-L", "-P", "-s", "-E"):
                    i += 1
            if name in ("timeout", "chrt") and i < len(rest):
                i += 1  # the duration / priority
            if name == "taskset" and i < len(rest):
                i += 1
            wrappers.append(name)
            cur = rest[i:]
        elif name in ("gosu", "su-exec") and rest:
            wrappers.append(name)
            cur = rest[1:]
        else:
            break
    return cur, tuple(wrappers), tuple(extra)


def _inner_scripts(cmd: Command) -> list[str]:
    """Scripts a command runs by itself: `sh -c '...'`, `su -c '...'`, `eval ...`."""
    name = cmd.name
    args = cmd.args
    if name in SHELLS:
        for i, a in enumerate(args):
            if a.startswith("-") and not a.startswith("--") and "c" in a[1:]:
                return [args[i + 1]] if i + 1 < len(args) else []
            if not a.startswith("-"):
                break
    elif name == "su":
        for i, a in enumerate(args):
            if a in ("-c", "--command") and i + 1 < len(args):
                return [args[i + 1]]
            if a.startswith("--command="):
                return [a.split("=", 1)[1]]
    elif name == "eval":
        return [" ".join(args)]
    return []


def option_cluster(args: tuple[str, ...] | list[str], short: str,
                   long: tuple[str, ...] = ()) -> bool:
    """True when a short flag (possibly combined: -yq) or a long form is present."""
    for a in args:
        if a == "--":
            break
        if a.startswith("--"):
            if a.split("=", 1)[0] in long:
                return True
        elif a.startswith("-") and len(a) > 1 and short in a[1:]:
            return True
    return False
