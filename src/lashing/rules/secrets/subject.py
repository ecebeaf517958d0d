"""What secret rules receive: one text (a file's content or an image-config
value) with where it came from; what they find; and the one redaction every
reported value goes through."""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass, field

from lashing.model import Location
from lashing.rules.framework import Violation

# Source files whose unquoted right-hand sides are expressions, not literals.
CODE_EXTENSIONS = frozenset({
    ".py", ".pyi", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".rb", ".pl", ".pm",
    ".php", ".java", ".kt", ".scala", ".groovy", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs",
    ".rs", ".lua", ".tcl", ".swift", ".m", ".r", ".vala", ".el", ".lisp", ".scm", ".vim",
    ".html", ".htm", ".vue", ".svelte", ".erb", ".ejs", ".jsp", ".dart", ".ex", ".exs", ".hs",
})


@dataclass(frozen=True)
class TextSubject:
    """One text to search: a file of a layer, or an image-config value.

    `path` is the file's path in the tree (None for image-config values, which
    set `resource` instead, e.g. "config:env:DB_PASSWORD").
    """

    data: bytes
    path: str | None = None
    layer: str | None = None
    resource: str | None = None
    skip_test_paths: bool = True  # files of test suites and examples hold no real secrets
    # heuristic rules skip installed third-party packages (library samples, docs)
    skip_package_heuristics: bool = True
    _lowered: list[bytes] = field(default_factory=list, compare=False, repr=False)

    @property
    def lowered(self) -> bytes:
        """`data` with ASCII letters lowered (same length, so offsets carry over)."""
        if not self._lowered:
            self._lowered.append(self.data.lower())
        return self._lowered[0]

    @property
    def extension(self) -> str:
        return posixpath.splitext(self.path or "")[1].lower()

    @property
    def is_code(self) -> bool:
        return self.extension in CODE_EXTENSIONS

    def line_of(self, offset: int) -> int | None:
        if self.path is None:
            return None
        return self.data.count(b"\n", 0, offset) + 1

    def where(self, offset: int) -> str:
        if self.path is not None:
            return f"{self.path}:{self.line_of(offset)}"
        kind, _, name = (self.resource or "").removeprefix("config:").partition(":")
        described = {"env": "environment variable", "label": "label",
                     "history": "history entry"}.get(kind)
        if described is None:
            return self.resource or "the image configuration"
        return f"the image configuration ({described} {name})"


@dataclass(frozen=True)
class Hit:
    """One secret found. `value` never leaves this process: only `shown` and
    `digest` (for de-duplication) are used in anything reported."""

    offset: int
    end: int  # the value (or the whole block, for keys) is data[offset:end]
    what: str  # "GitHub token"
    shown: str  # the redacted value
    digest: str  # sha256 of the value, kept in memory only, never reported

    def violation(self, subject: TextSubject) -> Violation:
        line = subject.line_of(self.offset)
        location = Location(path=subject.path, line=line, layer=subject.layer,
                            resource=subject.resource)
        anchor = (f"{subject.path}:{line}" if subject.path is not None
                  else subject.resource or "config")
        if subject.layer:
            anchor += f"@{subject.layer}"
        return Violation(f"{self.what} {self.shown} at {subject.where(self.offset)}",
                         location, anchor)


def hit(offset: int, what: str, value: bytes | str, keep: int = 0,
        shown: str | None = None, end: int | None = None) -> Hit:
    """A Hit for `value` at `offset`, shown as `shown` or as redact(value, keep).
    `end` defaults to the end of `value` when it was taken verbatim from the text."""
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")
    return Hit(offset, end if end is not None else offset + len(raw), what,
               shown if shown is not None else redact(raw, keep),
               hashlib.sha256(raw).hexdigest())


def redact(value: bytes | str, keep: int = 0) -> str:
    """A value as it may be shown: at most its well-known public prefix (`keep`
    characters, e.g. "ghp_"), an ellipsis and its length. Never more than a
    quarter of the value is kept."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    keep = min(keep, len(text) // 4)
    prefix = "".join(c if c.isprintable() and c.isascii() else "?" for c in text[:keep])
    return f"{prefix}…({len(text)} chars, redacted)"
