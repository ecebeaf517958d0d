"""Parse a Dockerfile into instructions and build stages, with line numbers.

Follows BuildKit's reading of the format: parser directives (`# escape=`,
`# syntax=`, `# check=`) at the top, line continuations with the escape
character (comment and empty lines inside a continuation are dropped),
here-documents for RUN/COPY/ADD (`<<EOF`, `<<-EOF`, quoted delimiters),
JSON (exec) form, leading `--flag=value` options, multi-stage builds and
`ARG` expansion in `FROM`.

Unknown instructions and instructions before the first FROM are kept (rules
report them); only text that cannot be read as a Dockerfile at all raises
`DockerfileError`, whose message names the file and the line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from lashing.errors import InputError

KNOWN = frozenset({"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY",
                   "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL",
                   "HEALTHCHECK", "SHELL"})
_DIRECTIVE = re.compile(r"\s*#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*\Z")
_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_HEREDOC = re.compile(r"(?<![<\w])<<(-?)(?:([\"'])([A-Za-z_][A-Za-z0-9_.-]*)\2"
                      r"|([A-Za-z_][A-Za-z0-9_.-]*))")
_PRAGMA = re.compile(r"#\s*lashing:ignore\s*=\s*(\S*)\s*(.*?)\s*\Z")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}"
                  r"|([A-Za-z_][A-Za-z0-9_]*))")
MAX_BYTES = 4 * 1024 * 1024


class DockerfileError(InputError):
    """A Dockerfile that cannot be read (exit 2)."""


@dataclass(frozen=True)
class Heredoc:
    delimiter: str
    body: str
    line: int  # line of the first body line
    strip_tabs: bool
    quoted: bool  # <<"EOF": no expansion in the body


@dataclass(frozen=True)
class IgnorePragma:
    """`# lashing:ignore=ID[,ID] reason` on the comment lines above an instruction."""

    line: int
    ids: tuple[str, ...]
    reason: str
    target_line: int | None  # the instruction it applies to; None when none follows


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: "RUN"
    args: str  # everything after the keyword, continuations joined
    line: int  # 1-based line of the keyword
    end_line: int  # last line, here-document bodies included
    flags: tuple[tuple[str, str | None], ...] = ()  # leading --name[=value]
    rest: str = ""  # args without the leading flags
    exec_form: tuple[str, ...] | None = None  # JSON array form
    heredocs: tuple[Heredoc, ...] = ()
    stage: int = -1  # index of the build stage; -1 before the first FROM
    known: bool = True
    ignores: tuple[IgnorePragma, ...] = ()
    sub: Instruction | None = None  # the instruction an ONBUILD triggers

    def flag(self, name: str) -> str | None:
        """Value of a leading `--name=value` option ("" for a bare `--name`)."""
        for key, value in self.flags:
            if key == name:
                return "" if value is None else value
        return None

    def text(self, limit: int = 80) -> str:
        s = f"{self.keyword} {self.args}".strip()
        s = re.sub(r"\s+", " ", s)
        return s if len(s) <= limit else s[:limit - 3] + "..."


@dataclass(frozen=True)
class Stage:
    index: int
    image: str  # as written: "${BASE}:1.0"
    resolved: str | None  # with global ARG defaults expanded; None if a variable stayed unknown
    name: str | None  # the `AS` name, lower case
    platform: str | None
    line: int
    parent: int | None  # index of the earlier stage this one is built FROM
    instructions: tuple[Instruction, ...] = ()


@dataclass(frozen=True)
class Dockerfile:
    path: str
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    global_args: tuple[tuple[str, str | None], ...] = ()
    directives: tuple[tuple[str, str], ...] = ()
    escape: str = "\\"
    pragmas: tuple[IgnorePragma, ...] = field(default=())

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def chain(self, stage: Stage) -> list[Stage]:
        """`stage` and the earlier stages it is built FROM, nearest first."""
        out = [stage]
        seen = {stage.index}
        while out[-1].parent is not None and out[-1].parent not in seen:
            seen.add(out[-1].parent)
            out.append(self.stages[out[-1].parent])
        return out

    def final_chain(self) -> list[Stage]:
        final = self.final_stage
        return self.chain(final) if final is not None else []


def words(text: str, escape: str = "\\") -> list[str]:
    """Split instruction arguments like the Docker builder: whitespace outside quotes
    separates words; quotes are removed; the escape character escapes the next one.
    Unterminated quotes run to the end of the text."""
    out: list[str] = []
    cur: list[str] = []
    in_word = False
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and quote == '"' and i + 1 < len(text):
                i += 1
                cur.append(text[i])
            else:
                cur.append(ch)
        elif ch in "\"'":
            quote = ch
            in_word = True
        elif ch == escape and i + 1 < len(text):
            i += 1
            cur.append(text[i])
            in_word = True
        elif ch.isspace():
            if in_word:
                out.append("".join(cur))
                cur, in_word = [], False
        else:
            cur.append(ch)
            in_word = True
        i += 1
    if in_word:
        out.append("".join(cur))
    return out


def key_values(inst: Instruction, escape: str = "\\") -> list[tuple[str, str]]:
    """Pairs of ENV / LABEL / ARG (value "" when absent), both syntaxes."""
    ws = words(inst.rest, escape)
    if not ws:
        return []
    if inst.keyword == "ARG":
        return [(w.split("=", 1)[0], w.split("=", 1)[1] if "=" in w else "") for w in ws]
    if "=" not in ws[0]:  # legacy form: ENV key value with spaces
        return [(ws[0], " ".join(ws[1:]))]
    return [(w.split("=", 1)[0], w.split("=", 1)[1] if "=" in w else "") for w in ws]


def expand(text: str, env: Mapping[str, str | None]) -> tuple[str, bool]:
    """Expand $VAR, ${VAR}, ${VAR:-default}, ${VAR:+alt}; False when a variable is unknown."""
    complete = True

    def sub(m: re.Match[str]) -> str:
        nonlocal complete
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3) or ""
        value = env.get(name)
        if op in (":-", "-"):
            if value is None or (op == ":-" and value == ""):
                inner, ok = expand(arg, env)
                complete = complete and ok
                return inner
            return value
        if op in (":+", "+"):
            return arg if value is not None and (op == "+" or value) else ""
        if value is None:
            complete = False
            return ""
        return value

    return _VAR.sub(sub, text), complete


def _split_flags(rest: str) -> tuple[tuple[tuple[str, str | None], ...], str]:
    flags: list[tuple[str, str | None]] = []
    s = rest.lstrip()
    while s.startswith("--") and len(s) > 2 and not s[2].isspace():
        m = re.match(r"--([A-Za-z][A-Za-z0-9-]*)(?:=(\"[^\"]*\"|'[^']*'|\S*))?", s)
        if not m:
            break
        value = m.group(2)
        if value is not None and value[:1] in "\"'" and value[-1:] == value[:1]:
            value = value[1:-1]
        flags.append((m.group(1).lower(), value))
        s = s[m.end():].lstrip()
    return tuple(flags), s


def _exec_form(rest: str) -> tuple[str, ...] | None:
    s = rest.strip()
    if not s.startswith("["):
        return None
    try:
        value = json.loads(s)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


class _Reader:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.escape = "\\"

    def error(self, line: int, message: str) -> DockerfileError:
        return DockerfileError(f"{self.path}:{line}: {message}",
                               "fix the Dockerfile or exclude it from the scan")


def parse(path: str, text: str) -> Dockerfile:
    if len(text) > MAX_BYTES:
        raise DockerfileError(f"{path}: {len(text)} characters is over the "
                              f"{MAX_BYTES}-character limit for a Dockerfile")
    if "\x00" in text:
        raise DockerfileError(f"{path}: not a text file (NUL bytes)",
                              "is this really a Dockerfile?")
    text = text.removeprefix("\ufeff")
    r = _Reader(path, text)
    lines = r.lines
    i = 0
    directives: list[tuple[str, str]] = []
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if not m or m.group(1).lower() not in _DIRECTIVES:
            break
        directives.append((m.group(1).lower(), m.group(2)))
        i += 1
    escape = dict(directives).get("escape", "\\")
    if escape not in ("\\", "`"):
        raise r.error(i, f"invalid escape directive {escape!r}: use \\ or `")
    r.escape = escape
    cont = re.compile(re.escape(escape) + r"[ \t]*\Z")

    raw: list[Instruction] = []
    pragmas: list[IgnorePragma] = []
    pending: list[IgnorePragma] = []
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            pragmas.extend(pending)
            pending = []
            i += 1
            continue
        if stripped.startswith("#"):
            pm = _PRAGMA.match(stripped)
            if pm:
                ids = tuple(x.strip() for x in pm.group(1).split(",") if x.strip())
                pending.append(IgnorePragma(i + 1, ids, pm.group(2), None))
            i += 1
            continue
        start = i
        parts = [line]
        while cont.search(parts[-1]) and i + 1 < len(lines):
            i += 1
            nxt = lines[i]
            if not nxt.strip() or nxt.strip().startswith("#"):
                continue
            parts.append(nxt)
        joined = "".join(cont.sub("", p) for p in parts)
        if not joined.strip():  # only escape characters: nothing to read
            i += 1
            continue
        inst, i = _instruction(r, joined, start + 1, i)
        attached = tuple(IgnorePragma(p.line, p.ids, p.reason, inst.line) for p in pending)
        pragmas.extend(attached)
        pending = []
        raw.append(replace(inst, ignores=attached))
        i += 1
    pragmas.extend(pending)
    return _assemble(r, raw, tuple(directives), tuple(pragmas))


def _instruction(r: _Reader, joined: str, line: int, last: int) -> tuple[Instruction, int]:
    m = re.match(r"\s*(\S+)\s*(.*)\Z", joined, re.S)
    assert m is not None
    keyword, args = m.group(1).upper(), m.group(2).strip()
    flags, rest = _split_flags(args)
    heredocs: list[Heredoc] = []
    if keyword in ("RUN", "COPY", "ADD"):
        for hm in _HEREDOC.finditer(rest):
            delim = hm.group(3) or hm.group(4)
            strip = hm.group(1) == "-"
            body: list[str] = []
            first = last + 2
            while True:
                last += 1
                if last >= len(r.lines):
                    raise r.error(line, f"here-document <<{delim} is not terminated "
                                  f"(no line {delim!r} after line {line})")
                text = r.lines[last]
                if (text.lstrip("\t") if strip else text) == delim:
                    break
                body.append(text.lstrip("\t") if strip else text)
            heredocs.append(Heredoc(delim, "\n".join(body) + ("\n" if body else ""), first,
                                    strip, hm.group(2) is not None))
    sub = None
    if keyword == "ONBUILD" and rest:
        sub, _ = _instruction(r, rest, line, last)
    if keyword == "FROM" and not rest:
        raise r.error(line, "FROM needs an image name")
    return Instruction(keyword=keyword, args=args, line=line, end_line=last + 1, flags=flags,
                       rest=rest, exec_form=_exec_form(rest), heredocs=tuple(heredocs),
                       known=keyword in KNOWN, sub=sub), last


def _assemble(r: _Reader, raw: list[Instruction], directives: tuple[tuple[str, str], ...],
              pragmas: tuple[IgnorePragma, ...]) -> Dockerfile:
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    members: list[list[Instruction]] = []
    out: list[Instruction] = []
    names: dict[str, int] = {}
    for inst in raw:
        if inst.keyword == "FROM":
            ws = words(inst.rest, r.escape)
            image = ws[0] if ws else ""
            name = ws[2].lower() if len(ws) >= 3 and ws[1].lower() == "as" else None
            resolved, complete = expand(image, global_args)
            parent = names.get(resolved.lower()) if complete else None
            stage = Stage(index=len(stages), image=image,
                          resolved=resolved if complete else None, name=name,
                          platform=inst.flag("platform"), line=inst.line, parent=parent)
            stages.append(stage)
            members.append([])
            if name is not None and name not in names:
                names[name] = stage.index
        elif inst.keyword == "ARG" and not stages:
            for w in words(inst.rest, r.escape):
                key, eq, value = w.partition("=")
                global_args[key] = value if eq else None
        placed = replace(inst, stage=len(stages) - 1)
        out.append(placed)
        if stages:
            members[-1].append(placed)
    for k, stage in enumerate(stages):
        stages[k] = replace(stage, instructions=tuple(members[k]))
    if not stages:
        line = raw[0].line if raw else 1
        raise r.error(line, "no FROM instruction: not a Dockerfile")
    return Dockerfile(path=r.path, instructions=tuple(out), stages=tuple(stages),
                      global_args=tuple(global_args.items()), directives=directives,
                      escape=r.escape, pragmas=pragmas)
