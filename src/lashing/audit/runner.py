"""Run every surface a config names into one Report.

Each input (image, Dockerfile, manifest path, compose file, host root) is an
item; one that fails (missing file, image that cannot be pulled, unreadable
host root) is recorded with its error and the rest of the audit goes on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

from lashing import __version__, suppress
from lashing.audit.config import AuditConfig, ImageEntry
from lashing.audit.escalation import escalate, reference_keys, vulnerable_images
from lashing.audit.exposure import Workload, compose_workloads, kubernetes_workloads
from lashing.audit.network import compose_network, kubernetes_network
from lashing.commands.host import audit as host_audit
from lashing.errors import InputError, LashingError
from lashing.manifests.compose import load_compose
from lashing.manifests.kubernetes import K8sObject, load_kubernetes
from lashing.manifests.scan import compose_files_for
from lashing.model import Issue, Location, Report, Suppression, SuppressionKind, Surface
from lashing.pipeline import ScanOptions, scan
from lashing.progress import NullProgress, Progress
from lashing.source.resolve import ResolvedTarget, TargetType, resolve
from lashing.suppress import IgnoreList, VexDocument

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
MAX_MANIFEST_FILES = 10_000


@dataclass(frozen=True)
class Item:
    """One input of the audit and whether it could be audited."""

    surface: Surface
    kind: str  # image, dockerfile, kubernetes, compose, host
    name: str
    error: str | None = None

    @property
    def status(self) -> str:
        return "error" if self.error else "ok"


@dataclass
class AuditResult:
    report: Report
    items: list[Item] = field(default_factory=list)
    started: str = ""
    workloads: list[Workload] = field(default_factory=list)

    @property
    def audited(self) -> int:
        return sum(1 for i in self.items if i.error is None)


def image_names(entry: ImageEntry, target: ResolvedTarget) -> tuple[str, ...]:
    """The references an image scanned from `target` is known by, for the join."""
    names = list(entry.names)
    if target.type is TargetType.REGISTRY:
        names.append(target.reference or target.text)
    elif target.type is TargetType.DOCKER_ARCHIVE and target.tag:
        names.append(target.tag)
    return tuple(n for n in dict.fromkeys(names) if reference_keys(n))


def _manifest_files(path: Path) -> Iterator[Path]:
    if not path.is_dir():
        yield path
        return
    count = 0
    for p in sorted(path.rglob("*")):
        if p.suffix.lower() in MANIFEST_SUFFIXES and p.is_file() and not p.is_symlink():
            count += 1
            if count > MAX_MANIFEST_FILES:
                raise InputError(f"{path}: more than {MAX_MANIFEST_FILES} manifest files")
            yield p


class _Audit:
    def __init__(self, options: ScanOptions, progress: Progress) -> None:
        self.options = options
        self.progress = progress
        self.report = Report(tool_version=__version__)
        self.items: list[Item] = []
        self.names: dict[str, tuple[str, ...]] = {}
        self.objects: list[K8sObject] = []
        self.workloads: list[Workload] = []

    def _scan(self, target: ResolvedTarget) -> None:
        self.report = self.report.merge(scan(target, self.options, self.progress))

    def image(self, entry: ImageEntry) -> None:
        if entry.error:
            self.items.append(Item(Surface.IMAGE, "image", entry.target, entry.error))
            return
        try:
            target = resolve(entry.target)
            self._scan(target)
        except LashingError as exc:
            self.items.append(Item(Surface.IMAGE, "image", entry.target, exc.message))
            return
        self.names[target.text] = image_names(entry, target)
        self.items.append(Item(Surface.IMAGE, "image", entry.target))

    def dockerfile(self, path: Path) -> None:
        try:
            if not path.is_file():
                raise InputError(f"{path}: no such file")
            self._scan(ResolvedTarget(TargetType.DOCKERFILE, str(path), path=path))
        except LashingError as exc:
            self.items.append(Item(Surface.IMAGE, "dockerfile", str(path), exc.message))
            return
        self.items.append(Item(Surface.IMAGE, "dockerfile", str(path)))

    def kubernetes(self, path: Path) -> None:
        try:
            if not path.exists():
                raise InputError(f"{path}: no such file or directory")
            files = list(_manifest_files(path))
            if not files:
                raise InputError(f"{path}: no YAML or JSON manifests")
            done = 0
            for f in files:
                try:
                    self._scan(ResolvedTarget(TargetType.KUBERNETES, str(f), path=f))
                    self.objects.extend(load_kubernetes(f).objects)
                    done += 1
                except LashingError as exc:
                    if len(files) == 1:
                        raise
                    self.report = self.report.merge(Report(issues=(Issue(
                        "audit", "kubernetes", Location(path=str(f)), exc.message),)))
            if not done:
                raise InputError(f"{path}: none of {len(files)} manifest files could be read")
        except LashingError as exc:
            self.items.append(Item(Surface.NETWORK, "kubernetes", str(path), exc.message))
            return
        self.items.append(Item(Surface.NETWORK, "kubernetes", str(path)))

    def compose(self, path: Path) -> None:
        try:
            if not path.is_file():
                raise InputError(f"{path}: no such file")
            self._scan(ResolvedTarget(TargetType.COMPOSE, str(path), path=path))
            project = load_compose(compose_files_for(path) or [path])
            if not project.services:
                why = project.errors[0].message if project.errors else "no services"
                raise InputError(f"{path}: nothing could be read: {why}")
            # Problems reading part of the project are issues of the scan above.
            workloads = compose_workloads(project)
            network = compose_network(project, self.options.skip_rules)
        except LashingError as exc:
            self.items.append(Item(Surface.NETWORK, "compose", str(path), exc.message))
            return
        self.workloads.extend(workloads)
        self.report = self.report.merge(network)
        self.items.append(Item(Surface.NETWORK, "compose", str(path)))

    def host(self, root: Path) -> None:
        try:
            report, _ = host_audit(root, skip=self.options.skip_rules,
                                   db_path=self.options.db_path)
        except LashingError as exc:
            self.items.append(Item(Surface.BUILD_HOST, "host", str(root), exc.message))
            return
        self.report = self.report.merge(report)
        self.items.append(Item(Surface.BUILD_HOST, "host", str(root)))


def run_audit(cfg: AuditConfig, options: ScanOptions, *, ignore: IgnoreList | None = None,
              vex: Sequence[VexDocument] = (), baseline: frozenset[str] = frozenset(),
              baseline_name: str = "", progress: Progress | None = None,
              today: date | None = None) -> AuditResult:
    """Audit everything `cfg` names. Never raises for one bad input: see Item."""
    started = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    a = _Audit(options, progress or NullProgress())
    if cfg.host is not None:
        a.host(cfg.host)
    for entry in cfg.images:
        a.image(entry)
    for path in cfg.dockerfiles:
        a.dockerfile(path)
    for path in cfg.kubernetes:
        a.kubernetes(path)
    for path in cfg.compose:
        a.compose(path)
    report = a.report
    if a.objects:
        try:
            a.workloads[:0] = kubernetes_workloads(a.objects)
            report = report.merge(kubernetes_network(a.objects, options.skip_rules))
        except LashingError as exc:  # the manifests' own rules still ran
            report = replace(report, issues=(*report.issues, Issue(
                "audit", "network", Location(resource="kubernetes"), exc.message)))
    report = suppress.suppress_report(report, ignore, vex, today or date.today())
    findings, checks = escalate(a.workloads, vulnerable_images(report.findings, a.names),
                                options.skip_rules)
    report = replace(report, findings=report.findings + tuple(findings),
                     checks=report.checks + tuple(checks))
    if baseline:
        report = apply_baseline(report, baseline, baseline_name)
    if not a.items:
        report = replace(report, issues=(*report.issues, Issue(
            "audit", "config", Location(path=str(cfg.path)),
            "the [audit] section names nothing to audit")))
    return AuditResult(report, a.items, started, a.workloads)


def apply_baseline(report: Report, fingerprints: frozenset[str], name: str) -> Report:
    """Findings whose fingerprint is in the baseline are suppressed (kind baseline)."""
    reason = f"in baseline {name}" if name else "in baseline"
    return replace(report, findings=tuple(
        replace(f, suppression=Suppression(SuppressionKind.BASELINE, reason))
        if f.suppression is None and f.fingerprint in fingerprints else f
        for f in report.findings))


__all__ = ["AuditResult", "Item", "apply_baseline", "image_names", "run_audit"]
