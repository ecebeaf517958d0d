"""Tokens of a POSIX shell script: words with quotes removed, operators,
redirections, and the bodies of command substitutions. Tolerant: never raises."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_OPERATORS = ("&&", "||", ";;&", ";;", ";&", "|&", "&", ";", "|", "(", ")")
_REDIRECTS = ("&>>", "&>", ">>", ">|", ">&", "<<<", "<<-", "<<", "<>", "<&", ">", "<")
_OP_START = frozenset("<>&;|()")
_PLAIN = re.compile(r"[^\s'\"\\$`<>&;|()]+")


@dataclass
class Token:
    kind: str  # "word", "op", "redir"
    text: str  # words: value with quotes removed; ops: the operator
    raw: str = ""
    subs: list[str] = field(default_factory=list)  # $(...) and `...` bodies
    quoted: bool = False


def _match_close(s: str, i: int, open_ch: str, close_ch: str) -> int:
    """Index just past the `close_ch` matching an already opened `open_ch`.

    Quotes inside are skipped. Returns len(s) when unbalanced.
    """
    depth = 1
    n = len(s)
    while i < n:
        ch = s[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "'":
            j = s.find("'", i + 1)
            i = n if j < 0 else j + 1
            continue
        if ch == '"':
            i = _skip_double(s, i + 1)[0]
            continue
        if ch == open_ch:
            depth += 1
        elif ch == close_ch:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _skip_double(s: str, i: int) -> tuple[int, bool]:
    """Index just past the closing double quote, and whether there was one."""
    n = len(s)
    while i < n:
        ch = s[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            return i + 1, True
        if s.startswith("$(", i):
            i = _match_close(s, i + 2, "(", ")")
            continue
        i += 1
    return n, False


def _substitutions(text: str) -> list[str]:
    """Bodies of the outermost $(...) and `...` in `text` (a double-quoted string)."""
    bodies: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$((", i):
            i = _match_close(text, i + 2, "(", ")")
        elif text.startswith("$(", i):
            j = _match_close(text, i + 2, "(", ")")
            bodies.append(text[i + 2:j - 1])
            i = j
        elif text[i] == "`":
            j = text.find("`", i + 1)
            j = len(text) if j < 0 else j
            bodies.append(text[i + 1:j])
            i = j + 1
        else:
            i += 2 if text[i] == "\\" else 1
    return bodies


def tokenize(s: str, lenient: bool = False) -> tuple[list[Token], bool]:
    """Tokens of `s`, and whether a quote was left open (the script is not valid shell).

    `lenient` reads a backslash inside single quotes as an escape: what scripts that
    leave a quote open usually meant ('it\'s').
    """
    tokens: list[Token] = []
    unterminated = False
    word: list[str] = []
    raw_start = -1
    cur: Token | None = None
    heredocs: list[tuple[str, bool]] = []  # (delimiter, strip tabs)
    want_delim: bool | None = None  # strip-tabs flag of a << waiting for its word
    i = 0
    n = len(s)

    def begin() -> Token:
        nonlocal cur, raw_start
        if cur is None:
            cur = Token("word", "")
            raw_start = i
        return cur

    def end_word() -> None:
        nonlocal cur, want_delim
        if cur is not None:
            cur.text = "".join(word)
            cur.raw = s[raw_start:i]
            tokens.append(cur)
            if want_delim is not None:
                heredocs.append((cur.text, want_delim))
                want_delim = None
            cur = None
            word.clear()

    while i < n:
        ch = s[i]
        if ch == "\\" and i + 1 < n and s[i + 1] == "\n":
            i += 2
            continue
        if ch in " \t\r":
            end_word()
            i += 1
            continue
        if ch == "\n":
            end_word()
            tokens.append(Token("op", "\n"))
            i += 1
            while heredocs:  # bodies of pending here-documents follow the line
                delim, strip = heredocs.pop(0)
                while i < n:
                    j = s.find("\n", i)
                    line = s[i:] if j < 0 else s[i:j]
                    i = n if j < 0 else j + 1
                    if (line.lstrip("\t") if strip else line) == delim:
                        break
            continue
        if ch == "#" and cur is None:
            j = s.find("\n", i)
            i = n if j < 0 else j
            continue
        op = next((o for o in _REDIRECTS if s.startswith(o, i)), None) \
            if ch in _OP_START else None
        if op is not None:
            if cur is not None and not cur.quoted and "".join(word).isdigit():
                cur = None  # an fd number such as 2>
                word.clear()
            end_word()
            tokens.append(Token("redir", op))
            if op in ("<<", "<<-"):
                want_delim = op == "<<-"
            i += len(op)
            continue
        op = next((o for o in _OPERATORS if s.startswith(o, i)), None) \
            if ch in _OP_START else None
        if op is not None:
            end_word()
            tokens.append(Token("op", op))
            i += len(op)
            continue
        tok = begin()
        if ch == "'" and lenient:
            j = i + 1
            while j < n and s[j] != "'":
                j += 2 if s[j] == "\\" else 1
            unterminated = unterminated or j >= n
            word.append(re.sub(r"\\(.)", r"\1", s[i + 1:j]))
            tok.quoted = True
            i = j + 1
        elif ch == "'":
            j = s.find("'", i + 1)
            unterminated = unterminated or j < 0
            j = n if j < 0 else j
            word.append(s[i + 1:j])
            tok.quoted = True
            i = j + 1
        elif ch == '"':
            j, closed = _skip_double(s, i + 1)
            unterminated = unterminated or not closed
            inner = s[i + 1:j - 1] if closed else s[i + 1:j]
            tok.subs.extend(_substitutions(inner))
            word.append(re.sub(r'\\([$`"\\\n])',
                               lambda m: "" if m.group(1) == "\n" else m.group(1), inner))
            tok.quoted = True
            i = j
        elif ch == "$" and s.startswith("$'", i):
            j = i + 2
            while j < n and s[j] != "'":
                j += 2 if s[j] == "\\" else 1
            word.append(s[i + 2:j].encode("latin-1", "replace").decode("unicode_escape",
                                                                       "replace"))
            tok.quoted = True
            i = j + 1
        elif ch == "$" and s.startswith("$((", i):
            j = _match_close(s, i + 2, "(", ")")
            word.append(s[i:j])
            i = j
        elif ch == "$" and s.startswith("$(", i):
            j = _match_close(s, i + 2, "(", ")")
            tok.subs.append(s[i + 2:j - 1] if s[j - 1:j] == ")" else s[i + 2:j])
            word.append(s[i:j])
            i = j
        elif ch == "$" and s.startswith("${", i):
            j = _match_close(s, i + 2, "{", "}")
            word.append(s[i:j])
            i = j
        elif ch == "`":
            j = s.find("`", i + 1)
            j = n if j < 0 else j
            tok.subs.append(s[i + 1:j])
            word.append(s[i:j + 1])
            i = j + 1
        elif ch == "\\":
            if i + 1 < n:
                word.append(s[i + 1])
            tok.quoted = True
            i += 2
        else:
            m = _PLAIN.match(s, i)
            j = m.end() if m else i + 1
            word.append(s[i:j])
            i = j
    end_word()
    return tokens, unterminated
