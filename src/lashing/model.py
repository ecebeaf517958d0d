"""The one model every stage hands on: plain frozen dataclasses.

Stages build these; renderers read them. Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    UNKNOWN = "UNKNOWN"

    @property
    def rank(self) -> int:
        """Higher is worse; UNKNOWN ranks below LOW."""
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().upper())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (one of {names})") from None


_SEVERITY_RANK = {
    Severity.UNKNOWN: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class Surface(StrEnum):
    BUILD_HOST = "build-host"
    IMAGE = "image"
    APPLICATION = "application"
    NETWORK = "network"


class FindingKind(StrEnum):
    VULNERABILITY = "vulnerability"
    MISCONFIGURATION = "misconfiguration"
    SECRET = "secret"  # noqa: S105
    MALWARE = "malware"
    PROVENANCE = "provenance"
    EXPOSURE = "exposure"


class TargetKind(StrEnum):
    IMAGE = "image"
    FILESYSTEM = "filesystem"
    SBOM = "sbom"
    CONFIG = "config"
    HOST = "host"
    NETWORK = "network"


class CheckStatus(StrEnum):
    PASS = "pass"  # noqa: S105
    FAIL = "fail"
    NOT_CHECKED = "not-checked"
    NOT_APPLICABLE = "not-applicable"


class SuppressionKind(StrEnum):
    VEX = "vex"
    IGNORE_FILE = "ignore-file"
    INLINE = "inline"
    BASELINE = "baseline"


class VulnStatus(StrEnum):
    FIXED = "fixed"
    UNFIXED = "unfixed"
    WONT_FIX = "wont-fix"
    END_OF_LIFE = "end-of-life"
    UNIMPORTANT = "unimportant"
    NOT_AFFECTED = "not-affected"


@dataclass(frozen=True, order=True)
class Location:
    """Where something was found. Every field is optional; set what applies."""

    path: str | None = None
    line: int | None = None
    layer: str | None = None  # diff_id of the layer that last wrote the path
    resource: str | None = None  # Kind/namespace/name for manifests


@dataclass(frozen=True)
class OSInfo:
    family: str  # "debian", "alpine", "rhel"-like id from os-release
    version: str
    ecosystem: str | None  # exact OSV ecosystem string, None when OSV has none
    supported: bool  # OSV publishes advisories for this release
    name: str = ""  # PRETTY_NAME, for humans


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    ecosystem: str
    purl: str
    found_by: str
    locations: tuple[Location, ...] = ()
    source_name: str | None = None
    source_version: str | None = None
    licenses: tuple[str, ...] = ()


@dataclass(frozen=True)
class CVSS:
    version: str
    vector: str
    score: float | None = None


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    severity: Severity = Severity.UNKNOWN
    cvss: tuple[CVSS, ...] = ()
    ranges: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    status: VulnStatus = VulnStatus.UNFIXED


@dataclass(frozen=True)
class Vulnerability:
    """The vulnerability part of a finding: an advisory matched to a package."""

    id: str
    package: Package
    installed_version: str
    fixed_versions: tuple[str, ...]
    status: VulnStatus
    cvss: tuple[CVSS, ...] = ()


@dataclass(frozen=True)
class Suppression:
    kind: SuppressionKind
    reason: str
    expires: str | None = None  # YYYY-MM-DD


@dataclass(frozen=True)
class Finding:
    rule_id: str
    kind: FindingKind
    title: str
    severity: Severity
    surface: Surface
    target: str
    location: Location
    message: str
    remediation: str = ""
    references: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    nist: tuple[str, ...] = ()
    vulnerability: Vulnerability | None = None
    suppression: Suppression | None = None
    target_identity: str = ""  # image_id or path; part of the fingerprint
    anchor: str = ""  # purl, or path + line/resource; part of the fingerprint

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule_id, self.target_identity or self.target, self.anchor)


def fingerprint(rule_id: str, target_identity: str, anchor: str) -> str:
    """Stable hash of rule id, target identity and the finding's anchor."""
    text = "\x00".join((rule_id, target_identity, anchor))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Check:
    rule_id: str
    target: str
    status: CheckStatus
    reason: str = ""


@dataclass(frozen=True)
class Issue:
    """A non-fatal problem: the scan went on, but something was not covered."""

    stage: str
    plugin: str
    location: Location
    message: str


class EndpointKind(StrEnum):
    WORKLOAD = "workload"
    EXTERNAL = "external"
    HOST = "host"
    INGRESS_CONTROLLER = "ingress-controller"


@dataclass(frozen=True, order=True)
class Endpoint:
    kind: EndpointKind
    namespace: str | None = None
    name: str | None = None
    workload_kind: str | None = None
    cidr: str | None = None


@dataclass(frozen=True)
class Connection:
    source: Endpoint
    destination: Endpoint
    protocol: str  # TCP, UDP, SCTP
    ports: tuple[tuple[int, int], ...]  # sorted, merged inclusive ranges


@dataclass(frozen=True)
class LayerInfo:
    """A layer as reported: identity and what created it."""

    diff_id: str
    digest: str | None
    media_type: str
    size: int | None
    created_by: str = ""


@dataclass(frozen=True)
class Target:
    """One thing that was scanned, as it appears in the report."""

    name: str
    kind: TargetKind
    image_id: str | None = None
    manifest_digest: str | None = None
    repo_digests: tuple[str, ...] = ()
    platform: str | None = None
    os: OSInfo | None = None
    layers: tuple[LayerInfo, ...] = ()
    packages: tuple[Package, ...] = ()


@dataclass(frozen=True)
class DatabaseInfo:
    built: str | None = None
    ecosystems: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Report:
    targets: tuple[Target, ...] = ()
    findings: tuple[Finding, ...] = ()
    checks: tuple[Check, ...] = ()
    issues: tuple[Issue, ...] = ()
    connections: tuple[Connection, ...] = ()
    tool_version: str = ""
    database: DatabaseInfo | None = None

    @property
    def packages(self) -> tuple[Package, ...]:
        return tuple(p for t in self.targets for p in t.packages)

    def merge(self, other: Report) -> Report:
        return Report(
            targets=self.targets + other.targets,
            findings=self.findings + other.findings,
            checks=self.checks + other.checks,
            issues=self.issues + other.issues,
            connections=self.connections + other.connections,
            tool_version=self.tool_version or other.tool_version,
            database=self.database or other.database,
        )
