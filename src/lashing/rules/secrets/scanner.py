"""SecretScanner: a LayerVisitor that searches every text file of every layer
(also files a later layer deletes) and the image configuration for secrets.

Each file is seen once, as its layer streams by. What cannot hold a secret is
skipped before it is read (documentation directories, binary file types,
files over the size limit) or right after (NUL bytes in the first 8 KiB);
the rest goes through each rule's keyword prefilter (`bytes` searches for
literal prefixes) before any regular expression runs.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from lashing.fs.tree import FileEntry, FileTree
from lashing.model import Check, Finding
from lashing.rules.framework import Rule, Violation, content_checks, is_skipped, make_finding
from lashing.rules.secrets import allow
from lashing.rules.secrets.rules import DETECTORS, GCP_SERVICE_ACCOUNT, PRIVATE_KEY, RULES
from lashing.rules.secrets.subject import Hit, TextSubject
from lashing.source.image import ImageConfig

MiB = 1024 * 1024
BINARY_SNIFF = 8192

# A hit of the key rule on the right supersedes hits of the rules on the left
# in the same text (a service-account file's private_key is one finding).
_SUPERSEDED_BY = {PRIVATE_KEY.id: GCP_SERVICE_ACCOUNT.id}


@dataclass(frozen=True)
class SecretConfig:
    max_file_size: int = 1 * MiB
    skip_dirs: tuple[str, ...] = allow.SKIP_DIRS
    skip_extensions: frozenset[str] = allow.SKIP_EXTENSIONS
    skip_test_paths: bool = True  # test suites and examples shipped inside packages


@dataclass
class ScanCounts:
    """What the scanner looked at, and what it skipped and why."""

    scanned: int = 0  # files searched
    scanned_bytes: int = 0
    skipped_path: int = 0  # documentation directories, binary file types, test suites
    skipped_size: int = 0  # over SecretConfig.max_file_size
    skipped_binary: int = 0  # NUL bytes in the first 8 KiB
    skipped_unread: int = 0  # the filesystem stage did not read it (over its memory limit)

    @property
    def skipped(self) -> int:
        return self.skipped_path + self.skipped_size + self.skipped_binary + self.skipped_unread

    def summary(self) -> str:
        return (f"{self.scanned} files searched; skipped {self.skipped_path} by path or type, "
                f"{self.skipped_size} over the size limit, {self.skipped_binary} binary, "
                f"{self.skipped_unread} unread")


@dataclass
class _Found:
    rule: Rule[TextSubject]
    violation: Violation
    path: str | None
    layer: str | None


@dataclass
class SecretScanner:
    """Finds secrets in layers (as a LayerVisitor) and in the image configuration.

    Use: pass it in `tree_from_image(..., visitors=[scanner])`, call
    `scan_config(image.config)`, then `findings(target, identity, tree=tree)` and
    `checks(target)`.
    """

    config: SecretConfig = field(default_factory=SecretConfig)
    skip: Collection[str] = ()
    counts: ScanCounts = field(default_factory=ScanCounts)

    def __post_init__(self) -> None:
        self.rules: tuple[Rule[TextSubject], ...] = tuple(
            r for r in RULES if not is_skipped(r, self.skip))
        self._found: list[_Found] = []
        self._config_digests: set[tuple[str, str]] = set()
        self._rewritten: dict[str, str | None] = {}  # path with a finding -> later writer

    # -- LayerVisitor --------------------------------------------------------
    def wants(self, entry: FileEntry) -> bool:
        path = entry.path
        if path in self._rewritten:
            self._rewritten[path] = entry.layer
        if not self.rules:
            return False
        if (path.startswith(self.config.skip_dirs)
                or posixpath.splitext(path)[1].lower() in self.config.skip_extensions
                or (self.config.skip_test_paths and allow.is_test_path(path))):
            self.counts.skipped_path += 1
            return False
        if entry.size > self.config.max_file_size:
            self.counts.skipped_size += 1
            return False
        return entry.size > 0

    def visit(self, entry: FileEntry, data: bytes) -> None:
        if b"\x00" in data[:BINARY_SNIFF]:
            self.counts.skipped_binary += 1
            return
        self.counts.scanned += 1
        self.counts.scanned_bytes += len(data)
        subject = TextSubject(data, path=entry.path, layer=entry.layer,
                              skip_test_paths=self.config.skip_test_paths)
        for rule, h in self._hits(subject):
            self._found.append(_Found(rule, h.violation(subject), entry.path, entry.layer))
            self._rewritten.setdefault(entry.path, None)

    def skipped(self, entry: FileEntry, reason: str) -> None:
        self.counts.skipped_unread += 1

    # -- image configuration ----------------------------------------------------
    def scan_config(self, config: ImageConfig) -> None:
        """Environment values, labels and the `created_by` of every history entry.

        A value already reported from an environment variable or label is not
        reported again from the history entry that set it."""
        texts: list[tuple[str, str]] = []
        texts += [(f"config:env:{e.partition('=')[0]}", e) for e in config.env]
        texts += [(f"config:label:{k}", f"{k}={v}") for k, v in config.labels]
        for resource, text in texts:
            subject = TextSubject(text.encode(), resource=resource)
            for rule, h in self._hits(subject):
                self._config_digests.add((rule.id, h.digest))
                self._found.append(_Found(rule, h.violation(subject), None, None))
        for i, entry in enumerate(config.history):
            if not entry.created_by:
                continue
            subject = TextSubject(entry.created_by.encode(), resource=f"config:history:{i}")
            for rule, h in self._hits(subject):
                if (rule.id, h.digest) not in self._config_digests:
                    self._config_digests.add((rule.id, h.digest))
                    self._found.append(_Found(rule, h.violation(subject), None, None))

    # -- results ---------------------------------------------------------------
    def findings(self, target: str, target_identity: str,
                 tree: FileTree | None = None) -> list[Finding]:
        """One finding per secret found. With `tree` (the merged tree built with
        this visitor), secrets in files that a later layer deleted or replaced
        say so; without it, only replacements seen while streaming are known."""
        merged: dict[tuple[str, str], tuple[_Found, str]] = {}
        for f in self._found:
            key = (f.rule.id, f.violation.anchor)
            if key in merged:  # two secrets on one line: one finding, both named
                first, message = merged[key]
                merged[key] = (first, f"{message}; {f.violation.message}")
            else:
                merged[key] = (f, f.violation.message)
        out: list[Finding] = []
        for f, message in merged.values():
            v = f.violation
            if f.layer is not None:
                message += f" (layer {short(f.layer)})"
                gone = self._removed_note(f.path, f.layer, tree)
                if gone:
                    message += f"; {gone}"
            out.append(make_finding(f.rule, Violation(message, v.location, v.anchor),
                                    target, target_identity))
        return out

    def checks(self, target: str) -> list[Check]:
        return content_checks(RULES, (f.rule.id for f in self._found), target, self.skip,
                              self.counts.summary())

    # -- internals ---------------------------------------------------------------
    def _hits(self, subject: TextSubject) -> list[tuple[Rule[TextSubject], Hit]]:
        """Every rule's hits on `subject`; a value found by a more specific rule
        is not reported again by a later one."""
        found: list[tuple[Rule[TextSubject], Hit]] = []
        digests: set[str] = set()
        fired: set[str] = set()
        for rule in self.rules:
            for h in DETECTORS[rule.id].hits(subject):
                if h.digest in digests:
                    continue
                digests.add(h.digest)
                found.append((rule, h))
                fired.add(rule.id)
        return [(r, h) for r, h in found if _SUPERSEDED_BY.get(r.id) not in fired]

    def _removed_note(self, path: str | None, layer: str, tree: FileTree | None) -> str:
        if path is None:
            return ""
        if tree is not None:
            now = tree.get(path)
            if now is None:
                return ("the file is deleted by a later layer, but the secret stays in this "
                        "layer for anyone who pulls the image")
            if now.layer != layer:
                return (f"the file is replaced in layer {short(now.layer or '')}, but the secret "
                        "stays in this layer for anyone who pulls the image")
            return ""
        later = self._rewritten.get(path)
        if later is not None and later != layer:
            return (f"the file is replaced in layer {short(later)}, but the secret stays in this "
                    "layer for anyone who pulls the image")
        return ""


def short(diff_id: str) -> str:
    algo, _, hexpart = diff_id.partition(":")
    return f"{algo}:{hexpart[:12]}" if hexpart else diff_id[:19]


def scan_config(config: ImageConfig, target: str, target_identity: str,
                skip: Collection[str] = ()) -> list[Finding]:
    """Secrets in an image configuration's environment, labels and history."""
    scanner = SecretScanner(skip=skip)
    scanner.scan_config(config)
    return scanner.findings(target, target_identity)


def scan_text(text: str | bytes, path: str | None = None,
              rules: Sequence[Rule[TextSubject]] = RULES) -> list[tuple[str, Violation]]:
    """(rule id, violation) for each secret in one text (a file read elsewhere)."""
    data = text.encode() if isinstance(text, str) else text
    subject = TextSubject(data, path=path, resource=None if path else "text")
    scanner = SecretScanner(skip=[r.id for r in RULES if r not in rules])
    return [(r.id, h.violation(subject)) for r, h in scanner._hits(subject)]


def redact_text(text: str) -> str:
    """`text` with every secret the rules recognise replaced by its redacted form.

    For anything that echoes image metadata or commands (history `created_by`,
    RUN lines, logs)."""
    data = text.encode("utf-8", "surrogateescape")
    subject = TextSubject(data, resource="text", skip_test_paths=False)
    spans = sorted((h.offset, h.end, h.shown) for _r, h in SecretScanner()._hits(subject))
    out: list[bytes] = []
    pos = 0
    for start, end, shown in spans:
        if start < pos:
            continue
        out += [data[pos:start], shown.encode()]
        pos = end
    out.append(data[pos:])
    return b"".join(out).decode("utf-8", "surrogateescape")

