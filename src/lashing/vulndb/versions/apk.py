"""Alpine package versions, ordered as apk-tools orders them (Alpine, Wolfi,
Chainguard, Alpaquita, MinimOS).

The grammar is `number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}`
(apk-package(5)):

- numbers compare as numbers, except that the leading zeros of a dotted
  component sort below any digit, more zeros lower (1.00 < 1.0 < 1.05 < 1.4,
  like decimal fractions);
- a letter follows the numbers (1.2 < 1.2a < 1.2b < 1.3);
- suffixes order `_alpha` < `_beta` < `_pre` < `_rc` < no suffix <
  `_cvs` < `_svn` < `_git` < `_hg` < `_p`, each with an optional number;
- `~hash` is a commit hash that compares as a string;
- `-rN` is the package release.

When two versions agree up to where one of them goes on with a part the
other lacks, the longer one is newer unless that part is a pre-release
suffix; a part earlier in the grammar beats a later one, so
1.2_rc1 < 1.2 < 1.2-r1 < 1.2_p1 < 1.2a < 1.2.1.

This follows apk-tools 2 (every supported Alpine 3.x release), which also
orders versions that apk-tools 3 rejects, such as openssh's old `6.6p1-r0`
(a letter followed by digits). Where apk-tools 2 and 3 disagree about
malformed versions this follows apk-tools 3: anything unparsable sorts before
everything but a pre-release suffix, and `-r` must be followed by digits or
nothing.
"""

from __future__ import annotations

from functools import lru_cache

from lashing.vulndb.versions._base import CACHE_SIZE, InvalidVersion, check_length

__all__ = ["key"]

# token types, in apk's order: at the first place where the two versions'
# token types differ, the one with the lower type is the newer
_DIGIT_OR_ZERO, _DIGIT, _LETTER, _SUFFIX, _SUFFIX_NO, _HASH, _REVISION_NO, _END = range(8)
_INVALID = -1

_RANK_INVALID = -50
_RANK_PRE_SUFFIX = -100  # a pre-release suffix loses against anything else

_PRE_SUFFIXES = ("alpha", "beta", "pre", "rc")  # values -4..-1
_POST_SUFFIXES = ("cvs", "svn", "git", "hg", "p")  # values 0..4
_DIGITS = frozenset("0123456789")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_HEX = frozenset("0123456789abcdef")
_ZERO = frozenset("0")
# a token may follow one of a later type only in these cases
_ALLOWED_BACK = frozenset({(_DIGIT_OR_ZERO, _DIGIT), (_SUFFIX, _SUFFIX_NO), (_DIGIT, _LETTER)})
# separator length consumed before a token of this type
_SEPARATOR = {_DIGIT_OR_ZERO: 1, _SUFFIX: 1, _HASH: 1, _REVISION_NO: 2}

Value = int | str | tuple[int, int]
ApkKey = tuple[Value, ...]


def _run_end(text: str, start: int, chars: frozenset[str]) -> int:
    end = start
    while end < len(text) and text[end] in chars:
        end += 1
    return end


def _suffix(text: str, start: int) -> tuple[int, int] | None:
    """(value, end) of the suffix name at `start`, or None."""
    for value, name in enumerate(_PRE_SUFFIXES, start=-len(_PRE_SUFFIXES)):
        if text.startswith(name, start):
            return value, start + len(name)
    for value, name in enumerate(_POST_SUFFIXES):
        if text.startswith(name, start):
            return value, start + len(name)
    return None


def _token(text: str, pos: int, kind: int) -> tuple[Value, int, int] | None:
    """(value, end, type fixed for the next token or -1) of the token of type
    `kind` at `pos`, or None when it does not parse."""
    if kind == _DIGIT_OR_ZERO and text[pos] == "0":
        # leading zeros are a token of their own; more zeros sort lower
        end = _run_end(text, pos, _ZERO)
        return (0, pos - end), end, _DIGIT
    if kind in (_DIGIT_OR_ZERO, _DIGIT, _SUFFIX_NO, _REVISION_NO):
        end = _run_end(text, pos, _DIGITS)
        number = int(text[pos:end]) if end > pos else 0
        return ((1, number) if kind <= _DIGIT else number), end, -1
    if kind == _LETTER:
        return text[pos], pos + 1, -1
    if kind == _HASH:
        end = _run_end(text, pos, _HEX)
        return (text[pos:end], end, -1) if end > pos else None
    found = _suffix(text, pos)
    return None if found is None else (found[0], found[1], -1)


def _next_kind(text: str, pos: int, kind: int) -> int:
    """The type of the token starting at `pos` after a token of type `kind`,
    or _INVALID; the separator is not consumed here."""
    char = text[pos]
    if kind in (_DIGIT, _DIGIT_OR_ZERO) and char in _LOWER:
        return _LETTER
    if kind == _LETTER and char in _DIGITS:
        return _DIGIT
    if kind == _SUFFIX and char in _DIGITS:
        return _SUFFIX_NO
    if char == ".":
        nxt = _DIGIT_OR_ZERO
    elif char == "_":
        nxt = _SUFFIX
    elif char == "~" and kind < _HASH:
        nxt = _HASH
    elif char == "-" and text.startswith("r", pos + 1):
        # "-r" must be followed by digits or by nothing
        after = pos + 2
        if after < len(text) and text[after] not in _DIGITS:
            return _INVALID
        nxt = _REVISION_NO
    else:
        return _INVALID
    if nxt < kind and (nxt, kind) not in _ALLOWED_BACK:
        return _INVALID
    return nxt


def _tokens(text: str) -> list[tuple[int, Value]]:
    """(type, value) per token, the first being the leading number, ending
    with an end token or an invalid one."""
    out: list[tuple[int, Value]] = []
    kind, pos, size = _DIGIT, 0, len(text)
    while True:
        if pos >= size:  # a separator ended the string: its token is empty
            if kind == _HASH:
                return [*out, (_INVALID, 0)]
            out.append((kind, (1, 0) if kind == _DIGIT_OR_ZERO else 0))
            return [*out, (_END, 0)]
        token = _token(text, pos, kind)
        if token is None:
            return [*out, (_INVALID, 0)]
        value, pos, fixed = token
        out.append((kind, value))
        if pos >= size:
            return [*out, (_END, 0)]
        kind = fixed if fixed >= 0 else _next_kind(text, pos, kind)
        if kind == _INVALID:
            return [*out, (_INVALID, 0)]
        if fixed < 0:
            pos += _SEPARATOR.get(kind, 0)


@lru_cache(maxsize=CACHE_SIZE)
def key(version: str) -> ApkKey:
    """The sort key of an apk version: the leading number, then for every
    following token its rank and value, up to the end (or the first
    unparsable character, after which apk compares nothing)."""
    check_length(version)
    if not version or any(c.isspace() for c in version):
        raise InvalidVersion(f"bad apk version {version!r}")
    tokens = _tokens(version)
    out: list[Value] = [tokens[0][1]]
    for kind, value in tokens[1:]:
        if kind == _INVALID:
            out += (_RANK_INVALID, 0)
            break
        if kind == _END:
            out += (-_END, 0)
            break
        pre = kind == _SUFFIX and isinstance(value, int) and value < 0
        out += (_RANK_PRE_SUFFIX if pre else -kind, value)
    return tuple(out)
