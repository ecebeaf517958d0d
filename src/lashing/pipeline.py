"""scan(target, options, progress) -> Report: wires the stages together.

Never prints, never exits: the CLI renders the Report it returns.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from lashing import __version__
from lashing.catalog import CATALOGERS, Cataloger, catalog, sniffed_globs, wanted_globs
from lashing.errors import InputError
from lashing.fs import FileTree, tree_from_directory, tree_from_image, want_globs
from lashing.fs.build import Sniffed
from lashing.fs.tree import FileKind, LayerVisitor
from lashing.manifests.scan import (
    MANIFEST_GLOBS,
    Result,
    scan_manifest_file,
    scan_manifest_stream,
)
from lashing.manifests.yaml import YamlLimits
from lashing.model import (
    Check,
    CheckStatus,
    DatabaseInfo,
    Finding,
    Issue,
    LayerInfo,
    Location,
    OSInfo,
    Package,
    Report,
    Target,
    TargetKind,
    VulnStatus,
)
from lashing.options import SourceOptions
from lashing.osinfo import OS_FILES, detect_os
from lashing.progress import NullProgress, Progress
from lashing.rules.dockerfile import DockerfileError, scan_dockerfile
from lashing.rules.framework import RuleConfig
from lashing.rules.image import IMAGE_RULE_GLOBS, ImageSubject, age_days, scan_image
from lashing.rules.malware import malware_scanner
from lashing.rules.secrets import SecretScanner, redact_text
from lashing.source.image import Image, ImageConfig
from lashing.source.open import open_image
from lashing.source.resolve import IMAGE_TYPES, ResolvedTarget, TargetType
from lashing.source.sbom import read_sbom
from lashing.trust import references as policy_refs
from lashing.trust.policy import Policy
from lashing.vulndb import database_info, default_db_path, match, open_database, staleness_warning

SCANNERS = ("vuln", "misconfig", "secret", "malware")
DOCKERFILE_GLOBS = ("**/Dockerfile", "**/Containerfile", "**/Dockerfile.*", "**/*.Dockerfile",
                    "**/*.dockerfile")
MAX_DOCKERFILE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ScanOptions:
    source: SourceOptions = field(default_factory=SourceOptions)
    catalogers: tuple[Cataloger, ...] = CATALOGERS
    scanners: frozenset[str] = frozenset(SCANNERS)
    rules: RuleConfig = field(default_factory=RuleConfig)
    skip_rules: frozenset[str] = frozenset()
    db_path: Path | None = None  # None: $LASHING_DB or the cache directory's
    ignore_unfixed: bool = False
    show_unimportant: bool = False
    yara_rules: tuple[Path, ...] = ()
    malware_hashes: tuple[Path, ...] = ()
    clamd: str | None = None
    policy: Policy | None = None  # --policy: check the images the target names
    verify_images: bool = False  # --verify-images: and verify manifests' image signatures


@dataclass
class _Found:
    """What the stages found in one target."""

    os: OSInfo | None = None
    packages: tuple[Package, ...] = ()
    findings: list[Finding] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    database: DatabaseInfo | None = None

    def add(self, result: tuple[list[Finding], list[Check]]) -> None:
        self.findings.extend(result[0])
        self.checks.extend(result[1])

    def add_policy(self, result: tuple[list[Finding], list[Issue]]) -> None:
        self.findings.extend(result[0])
        self.issues.extend(result[1])


def scan(target: ResolvedTarget, options: ScanOptions | None = None,
         progress: Progress | None = None, stdin: IO[bytes] | None = None) -> Report:
    options = options or ScanOptions()
    progress = progress or NullProgress()
    if target.type in IMAGE_TYPES:
        return _scan_image(target, options, progress, stdin)
    if target.type is TargetType.DIRECTORY:
        return _scan_directory(target, options)
    if target.type is TargetType.DOCKERFILE:
        return _scan_dockerfile(target, options)
    if target.type is TargetType.SBOM:
        return _scan_sbom(target, options)
    if target.type in (TargetType.KUBERNETES, TargetType.COMPOSE):
        return _scan_manifest(target, options)
    if target.type is TargetType.STDIN_MANIFESTS:
        return _scan_manifest_stdin(target, options, stdin)
    raise InputError(
        f"{target.text}: a {target.type.value} target; this version of lashing scans images "
        "(docker-archive, oci, oci-archive, registry references), directories, Dockerfiles, "
        "Kubernetes manifests, compose files and SBOMs")


def _globs(options: ScanOptions, *extra: str) -> tuple[str, ...]:
    globs = [*OS_FILES, *wanted_globs(options.catalogers), *extra]
    if "misconfig" in options.scanners:
        globs.extend(IMAGE_RULE_GLOBS)
    return tuple(globs)


def _report(t: Target, found: _Found) -> Report:
    return Report(targets=(t,), findings=tuple(found.findings), checks=tuple(found.checks),
                  issues=tuple(found.issues), tool_version=__version__,
                  database=found.database)


def _vulnerabilities(options: ScanOptions, found: _Found, target: str, identity: str) -> None:
    """Match the packages against the offline database. No database is an Issue
    (never "no vulnerabilities"); a database that cannot be used is an error."""
    if "vuln" not in options.scanners or not found.packages:
        return
    path = options.db_path or default_db_path(options.source.cache_dir)
    if not path.is_file():
        found.issues.append(Issue(
            stage="vulndb", plugin="database", location=Location(path=str(path)),
            message="no vulnerability database, so packages were not checked for "
                    "vulnerabilities; run 'lashing db update' or 'lashing db import'"))
        return
    with open_database(path) as db:
        findings, issues = match(found.packages, db, target=target, target_identity=identity)
        found.database = database_info(db)
        ecosystems = {p.ecosystem for p in found.packages}
        stale = staleness_warning(db, ecosystems=ecosystems)
    if stale:
        found.issues.append(Issue(stage="vulndb", plugin="database",
                                  location=Location(path=str(path)), message=stale))
    hidden = set()
    if options.ignore_unfixed:
        hidden.add(VulnStatus.UNFIXED)
    if not options.show_unimportant:
        hidden.add(VulnStatus.UNIMPORTANT)
    found.findings.extend(f for f in findings
                          if f.vulnerability is None or f.vulnerability.status not in hidden)
    found.issues.extend(issues)


class _ContentScanners:
    """The layer visitors a scan runs: secrets and malware in every layer's files."""

    def __init__(self, options: ScanOptions) -> None:
        self.secrets = (SecretScanner(skip=options.skip_rules)
                        if "secret" in options.scanners else None)
        self.malware = (malware_scanner(options.yara_rules, options.malware_hashes,
                                        options.clamd, options.skip_rules)
                        if "malware" in options.scanners else None)

    @property
    def visitors(self) -> list[LayerVisitor]:
        return [v for v in (self.secrets, self.malware) if v is not None]

    def collect(self, found: _Found, tree: FileTree, target: str, identity: str,
                config: ImageConfig | None, options: ScanOptions) -> None:
        if self.secrets is not None:
            if config is not None and "misconfig" not in options.scanners:
                # With misconfig on, the image rules already judge env, labels and history.
                self.secrets.scan_config(config)
            found.findings.extend(self.secrets.findings(target, identity, tree))
            found.checks.extend(self.secrets.checks(target))
        if self.malware is not None:
            found.findings.extend(self.malware.findings(target, identity, tree))
            found.checks.extend(self.malware.checks(target))
            found.issues.extend(self.malware.issues())


def _scan_image(target: ResolvedTarget, options: ScanOptions, progress: Progress,
                stdin: IO[bytes] | None) -> Report:
    binary_globs, magics = sniffed_globs(options.catalogers)
    sniffed = Sniffed(want_globs(*binary_globs), magics) if binary_globs else None
    found = _Found()
    content = _ContentScanners(options)
    with open_image(target, options.source, progress, stdin) as image:
        with tree_from_image(image, want_globs(*_globs(options)), options.source.limits,
                             progress, visitors=content.visitors, sniffed=sniffed) as tree:
            _contents(tree, options, found, rootfs=True)
            content.collect(found, tree, target.text, image.image_id, image.config, options)
            _vulnerabilities(options, found, target.text, image.image_id)
            if "misconfig" in options.scanners:
                subject = ImageSubject(image.config, target.text, tree,
                                       age_days(image.config.created), options.rules)
                found.add(scan_image(subject, target.text, image.image_id, options.rules,
                                     options.skip_rules))
        if options.policy is not None:
            found.add_policy(policy_refs.image_findings(
                options.policy, target.text, image.image_id,
                policy_refs.image_names(target, image), image.config.created))
        return _report(_image_target(target, image, found), found)


def _scan_directory(target: ResolvedTarget, options: ScanOptions) -> Report:
    assert target.path is not None
    if not target.path.is_dir():
        raise InputError(f"{target.text}: not a directory")
    binary_globs, _ = sniffed_globs(options.catalogers)
    found = _Found()
    misconfig = "misconfig" in options.scanners
    extra = ((*DOCKERFILE_GLOBS, *MANIFEST_GLOBS)
             if misconfig or options.policy is not None else ())
    content = _ContentScanners(options)
    with tree_from_directory(target.path, want_globs(*_globs(options, *binary_globs, *extra)),
                             options.source.limits, content.visitors) as tree:
        _contents(tree, options, found, rootfs=any(p in tree for p in OS_FILES))
        identity = str(target.path.resolve())
        content.collect(found, tree, target.text, identity, None, options)
        _vulnerabilities(options, found, target.text, str(target.path.resolve()))
        if extra:
            dockerfile = want_globs(*DOCKERFILE_GLOBS)
            manifest = want_globs(*MANIFEST_GLOBS)
            # compose files another project includes are judged as part of it, not again alone
            included: set[str] = set()
            per_file: list[tuple[str, Result]] = []
            files = _Found()  # the rules' checks per file, summed up per rule below
            for entry in tree.kept():
                if entry.kind is not FileKind.FILE:
                    continue
                host_path = str(target.path) + entry.path
                if options.policy is not None and (dockerfile(entry.path)
                                                   or manifest(entry.path)):
                    found.add_policy(policy_refs.file_findings(
                        host_path, tree.read(entry.path), options.policy,
                        bool(dockerfile(entry.path)), _yaml_limits(options), not misconfig,
                        verify=_verify(options)))
                if not misconfig:
                    continue
                if dockerfile(entry.path):
                    _dockerfile(host_path, tree.read(entry.path), options, files)
                elif manifest(entry.path):
                    per_file.append((host_path, scan_manifest_file(
                        host_path, tree.read(entry.path), options.rules, options.skip_rules,
                        _yaml_limits(options), included=included)))
            for host_path, (findings, checks, issues) in per_file:
                if str(Path(host_path).resolve()) in included:
                    continue
                files.findings.extend(findings)
                files.checks.extend(checks)
                files.issues.extend(issues)
            found.findings.extend(files.findings)
            found.issues.extend(files.issues)
            found.checks.extend(per_rule_checks(files.checks, target.text))
    t = Target(name=target.text, kind=TargetKind.FILESYSTEM, os=found.os,
               packages=found.packages)
    return _report(t, found)


_CHECK_ORDER = (CheckStatus.FAIL, CheckStatus.PASS, CheckStatus.NOT_CHECKED,
                CheckStatus.NOT_APPLICABLE)


def per_rule_checks(checks: list[Check], target: str) -> list[Check]:
    """A directory's Dockerfiles and manifests as one check per rule: failed when
    any file fails, else passed when any passes; the reason counts the files by
    status (and keeps the first reason a file was not checked). A directory of
    5,000 manifests gives a few hundred checks, not 400,000."""
    counts: dict[str, Counter[CheckStatus]] = {}
    unchecked: dict[str, str] = {}
    for c in checks:
        counts.setdefault(c.rule_id, Counter())[c.status] += 1
        if c.status is CheckStatus.NOT_CHECKED and c.reason:
            unchecked.setdefault(c.rule_id, f"{c.target}: {c.reason}")
    out = []
    for rule_id, by_status in counts.items():
        status = next(s for s in _CHECK_ORDER if by_status[s])
        reason = ", ".join(f"{by_status[s]} file(s) {s.value}" for s in _CHECK_ORDER
                           if by_status[s])
        if rule_id in unchecked:
            reason += f" (first not checked: {unchecked[rule_id]})"
        out.append(Check(rule_id, target, status, reason))
    return out


def _scan_dockerfile(target: ResolvedTarget, options: ScanOptions) -> Report:
    assert target.path is not None
    try:
        size = target.path.stat().st_size
        if size > MAX_DOCKERFILE_BYTES:
            raise InputError(f"{target.text}: {size} bytes is too large for a Dockerfile")
        data = target.path.read_bytes()
    except OSError as exc:
        raise InputError(f"{target.text}: cannot read ({exc.strerror})") from None
    found = _Found()
    if "misconfig" in options.scanners:
        found.add(scan_dockerfile(target.text, _text(data, target.text), options.rules,
                                  options.skip_rules))
    if options.policy is not None:
        found.add_policy(policy_refs.dockerfile_findings(
            target.text, _text(data, target.text), options.policy,
            read_issues="misconfig" not in options.scanners))
    return _report(Target(name=target.text, kind=TargetKind.CONFIG), found)


def _yaml_limits(options: ScanOptions) -> YamlLimits:
    return YamlLimits(max_bytes=min(options.source.limits.max_json_bytes, YamlLimits().max_bytes))


def _verify(options: ScanOptions) -> SourceOptions | None:
    """--verify-images: the registry options manifests' images are verified with."""
    return options.source if options.verify_images else None


def _scan_manifest(target: ResolvedTarget, options: ScanOptions) -> Report:
    """A Kubernetes manifest or a compose file (with its overrides and .env)."""
    assert target.path is not None
    found = _Found()
    if "misconfig" in options.scanners or options.policy is not None:
        try:
            data = target.path.read_bytes()
        except OSError as exc:
            raise InputError(f"{target.text}: cannot read ({exc.strerror})") from None
    if options.policy is not None:
        found.add_policy(policy_refs.manifest_findings(
            str(target.path), data, options.policy, _yaml_limits(options), path=target.path,
            read_issues="misconfig" not in options.scanners, verify=_verify(options)))
    if "misconfig" in options.scanners:
        findings, checks, issues = scan_manifest_file(
            str(target.path), data, options.rules, options.skip_rules, _yaml_limits(options))
        _nothing_scanned(target.text, findings, checks, issues)
        found.findings.extend(findings)
        found.checks.extend(checks)
        found.issues.extend(issues)
    return _report(Target(name=target.text, kind=TargetKind.CONFIG), found)


def _nothing_scanned(name: str, findings: list[Finding], checks: list[Check],
                     issues: list[Issue]) -> None:
    """A manifest target of which nothing could be read is bad input (exit 2);
    one that was partly read reports its problems as issues."""
    if issues and not findings and not checks:
        first = issues[0]
        raise InputError(f"{name}: nothing could be scanned: {first.message}")


def _scan_manifest_stdin(target: ResolvedTarget, options: ScanOptions,
                         stdin: IO[bytes] | None) -> Report:
    """Kubernetes YAML on standard input: `helm template … | lashing scan -`."""
    if stdin is None:
        raise InputError("-: no standard input to read manifests from")
    limit = _yaml_limits(options).max_bytes
    data = stdin.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"-: more than {limit} bytes of manifests on standard input")
    found = _Found()
    if options.policy is not None:
        found.add_policy(policy_refs.manifest_findings(
            "-", data, options.policy, _yaml_limits(options),
            read_issues="misconfig" not in options.scanners, verify=_verify(options)))
    if "misconfig" in options.scanners:
        findings, checks, issues = scan_manifest_stream(
            data, "-", options.rules, options.skip_rules, _yaml_limits(options))
        _nothing_scanned("-", findings, checks, issues)
        found.findings.extend(findings)
        found.checks.extend(checks)
        found.issues.extend(issues)
    return _report(Target(name="-", kind=TargetKind.CONFIG), found)


def _dockerfile(path: str, data: bytes, options: ScanOptions, found: _Found) -> None:
    """A Dockerfile found inside a directory: a bad one is an Issue, not the end."""
    try:
        found.add(scan_dockerfile(path, _text(data, path), options.rules, options.skip_rules))
    except (DockerfileError, InputError) as exc:
        found.issues.append(Issue(stage="rules", plugin="dockerfile",
                                  location=Location(path=path), message=exc.message))


def _text(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{what}: not UTF-8 text") from None


def _scan_sbom(target: ResolvedTarget, options: ScanOptions) -> Report:
    assert target.path is not None
    sbom = read_sbom(target.path, target.text)
    found = _Found(os=sbom.os, packages=sbom.packages)
    _vulnerabilities(options, found, target.text, sbom.image_id or str(target.path.resolve()))
    if sbom.os is not None and not sbom.os.supported:
        found.issues.append(Issue(
            stage="os", plugin="sbom", location=Location(path=str(target.path)),
            message=f"{sbom.os.name} is not covered: its OS packages are not checked for "
                    "vulnerabilities"))
    t = Target(name=target.text, kind=TargetKind.SBOM, image_id=sbom.image_id, os=sbom.os,
               packages=sbom.packages)
    return _report(t, found)


def _contents(tree: FileTree, options: ScanOptions, found: _Found, rootfs: bool) -> None:
    os_info, os_issues = detect_os(tree) if rootfs else (None, [])
    packages, cat_issues = catalog(tree, options.catalogers, os_info)
    found.os = os_info
    found.packages = tuple(packages)
    found.issues.extend([*tree.issues, *os_issues, *cat_issues])


def _image_target(target: ResolvedTarget, image: Image, found: _Found) -> Target:
    layers = tuple(
        LayerInfo(diff_id=layer.diff_id, digest=layer.digest, media_type=layer.media_type,
                  size=layer.size, created_by=redact_text(layer.created_by))
        for layer in image.layers
    )
    return Target(
        name=target.text,
        kind=TargetKind.IMAGE,
        image_id=image.image_id,
        manifest_digest=image.manifest_digest,
        repo_digests=image.repo_digests,
        platform=str(image.platform),
        os=found.os,
        layers=layers,
        packages=found.packages,
    )


__all__ = ["SCANNERS", "ScanOptions", "scan"]
