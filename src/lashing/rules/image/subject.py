"""What image rules receive, and a declarative image spec for rule examples."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lashing.fs.tree import Content, FileEntry, FileKind, FileTree
from lashing.model import Location
from lashing.rules.framework import Example, NotApplicable, NotCheckable, RuleConfig, Violation
from lashing.source.image import Healthcheck, HistoryEntry, ImageConfig

MAX_READ = 1024 * 1024  # rules read small text files only


def age_days(created: str | None, now: datetime | None = None) -> int | None:
    """Whole days since an image configuration's `created` (RFC 3339); None if unknown.

    Reproducible builds set `created` to the epoch (1970-01-01): that says nothing
    about the age, so it is unknown too.
    """
    if not created:
        return None
    try:
        text = re.sub(r"(\.\d{6})\d+", r"\1", created.strip().replace("Z", "+00:00"))
        when = datetime.fromisoformat(text)  # nanoseconds trimmed to what Python reads
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when.year <= 1970:
        return None
    return max(0, ((now or datetime.now(UTC)) - when).days)


@dataclass(frozen=True)
class ImageSubject:
    image_config: ImageConfig
    reference: str
    tree: FileTree | None
    created_age_days: int | None
    config: RuleConfig = field(default_factory=RuleConfig)

    # -- files ---------------------------------------------------------------
    def need_tree(self) -> FileTree:
        if self.tree is None:
            raise NotCheckable("the image's files were not read")
        return self.tree

    def text(self, path: str) -> tuple[FileEntry, str]:
        """Entry and content of a small text file; NotApplicable when absent,
        NotCheckable when its content was not kept."""
        tree = self.need_tree()
        entry = tree.get(path)
        real = tree.resolve(path)
        if entry is None or real is None:
            raise NotApplicable(f"the image has no {path}")
        if not tree.has_content(path):
            raise NotCheckable(f"the content of {path} was not read")
        target = tree.get(real) or entry
        return target, tree.read(path)[:MAX_READ].decode("utf-8", "replace")

    def files(self) -> Iterator[FileEntry]:
        yield from self.need_tree().walk()

    # -- results -------------------------------------------------------------
    def config_violation(self, field_name: str, message: str, key: str = "") -> Violation:
        resource = f"config.{field_name}" + (f"[{key}]" if key else "")
        return Violation(message, Location(resource=resource), resource)

    def file_violation(self, entry: FileEntry, message: str, line: int | None = None,
                       ) -> Violation:
        anchor = entry.path + (f":{line}" if line else "")
        return Violation(message, Location(path=entry.path, line=line, layer=entry.layer),
                         anchor)

    def history_layers(self) -> list[str | None]:
        """The diff_id each history entry created (None for empty layers)."""
        ids = list(self.image_config.diff_ids)
        out: list[str | None] = []
        for h in self.image_config.history:
            out.append(None if h.empty_layer or not ids else ids.pop(0))
        return out

    def history_violation(self, index: int, message: str) -> Violation:
        layers = self.history_layers()
        layer = layers[index] if index < len(layers) else None
        resource = f"history[{index}]"
        return Violation(message, Location(resource=resource, layer=layer), resource)


# ---------------------------------------------------------------------------
# examples: images described in code


@dataclass(frozen=True)
class FileSpec:
    path: str
    content: bytes | None = b""
    mode: int = 0o644
    kind: FileKind = FileKind.FILE
    uid: int = 0
    gid: int = 0
    link: str | None = None


@dataclass(frozen=True)
class ImageSpec:
    """A small image for rule examples; `files=None` means the tree was not read."""

    user: str = "app"
    env: tuple[str, ...] = ()
    ports: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    volumes: tuple[str, ...] = ()
    healthcheck: tuple[str, ...] | None = ("CMD", "true")
    history: tuple[str, ...] = ()
    reference: str = "registry.example.com/app:1.0"
    age_days: int | None = 10
    files: tuple[FileSpec, ...] | None = ()

    def __str__(self) -> str:
        lines = [f"image {self.reference} (built {self.age_days} days ago)",
                 f"  config: User={self.user!r}"]
        for name in ("env", "ports", "labels", "volumes", "healthcheck", "history"):
            value = getattr(self, name)
            if value:
                lines.append(f"  {name}: {value!r}")
        for f in self.files or ():
            what = f"-> {f.link}" if f.link else (repr(f.content[:60]) if f.content else "")
            lines.append(f"  {f.kind.value} {f.path} {oct(f.mode)} {what}".rstrip())
        return "\n".join(lines)


def build_tree(files: tuple[FileSpec, ...], layer: str = "sha256:" + "1" * 64) -> FileTree:
    """An in-memory FileTree with parent directories filled in."""
    entries: dict[str, FileEntry] = {"/": FileEntry("/", FileKind.DIR, 0o755, 0, 0, 0, None,
                                                    layer)}
    contents: dict[str, Content] = {}
    for f in files:
        parent = posixpath.dirname(f.path)
        while parent not in entries:
            entries[parent] = FileEntry(parent, FileKind.DIR, 0o755, 0, 0, 0, None, layer)
            parent = posixpath.dirname(parent)
        size = len(f.content or b"")
        entries[f.path] = FileEntry(f.path, f.kind, f.mode, f.uid, f.gid, size, f.link, layer)
        if f.kind is FileKind.FILE and f.content is not None:
            contents[f.path] = f.content
    return FileTree(entries, contents, None, [])


def subject_from_spec(spec: ImageSpec, config: RuleConfig | None = None) -> ImageSubject:
    history = tuple(HistoryEntry(created_by=h) for h in spec.history)
    diff_ids = tuple("sha256:" + f"{k + 1:064x}" for k in range(len(history)))
    image_config = ImageConfig(
        user=spec.user, env=spec.env, exposed_ports=spec.ports, labels=spec.labels,
        volumes=spec.volumes,
        healthcheck=Healthcheck(test=spec.healthcheck) if spec.healthcheck else None,
        history=history, diff_ids=diff_ids)
    tree = build_tree(spec.files) if spec.files is not None else None
    return ImageSubject(image_config, spec.reference, tree, spec.age_days,
                        config or RuleConfig())


def load_example(example: Example) -> ImageSubject:
    if not isinstance(example.data, ImageSpec):
        raise TypeError(f"an image example is an ImageSpec, not {type(example.data).__name__}")
    return subject_from_spec(example.data)
