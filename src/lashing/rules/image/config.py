"""Image rules over the image configuration: user, health check, ports, ENV,
labels, volumes, tag and age."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lashing.model import FindingKind, Severity
from lashing.rules import sensitive
from lashing.rules.dockerfile.instructions import SENSITIVE_PORTS
from lashing.rules.framework import Example, NotApplicable, NotCheckable, Violation, rule
from lashing.rules.image.subject import ImageSpec
from lashing.rules.image.subject import ImageSubject as I
from lashing.rules.refs import split_image

DOCKLE = "https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md"
CIS = "https://www.cisecurity.org/benchmark/docker"


@rule(
    id="LSH-IMG-001",
    title="Image runs as root",
    severity=Severity.HIGH,
    nist=("4.1.2", "4.4.3"),
    aliases=("dockle:CIS-DI-0001", "cis-docker-1.6:4.1"),
    remediation="Build with USER set to an unprivileged user (USER 10001), or run with "
    "--user / runAsNonRoot.",
    references=(DOCKLE + "#cis-di-0001", CIS),
    examples=(
        Example(ImageSpec(user=""), True, "no user"),
        Example(ImageSpec(user="0:0"), True, "uid 0"),
        Example(ImageSpec(user="10001:10001"), False),
    ),
)
def runs_as_root(s: I) -> Iterator[Violation]:
    """A root process that escapes the container is root on the host."""
    user = s.image_config.user.strip()
    name = user.split(":", 1)[0]
    if name in ("", "root", "0"):
        yield s.config_violation("User", f"the image runs as {user or 'root (no User set)'}")


@rule(
    id="LSH-IMG-002",
    title="Image has no HEALTHCHECK",
    severity=Severity.LOW,
    aliases=("dockle:CIS-DI-0006", "cis-docker-1.6:4.6"),
    remediation="Add a HEALTHCHECK to the Dockerfile or define probes where it runs.",
    references=(DOCKLE + "#cis-di-0006",),
    examples=(
        Example(ImageSpec(healthcheck=None), True),
        Example(ImageSpec(healthcheck=("NONE",)), True, "disabled"),
        Example(ImageSpec(healthcheck=("CMD-SHELL", "curl -f http://localhost/")), False),
    ),
)
def no_healthcheck(s: I) -> Iterator[Violation]:
    """Without a health check a hung service keeps receiving traffic."""
    hc = s.image_config.healthcheck
    if hc is None or not hc.test:
        yield s.config_violation("Healthcheck", "the image has no HEALTHCHECK")
    elif hc.test[0].upper() == "NONE":
        yield s.config_violation("Healthcheck", "the image disables its HEALTHCHECK")


@rule(
    id="LSH-IMG-003",
    title="Image exposes a sensitive port",
    severity=Severity.MEDIUM,
    nist=("4.1.2", "4.4.2"),
    remediation="Do not expose SSH, Telnet, RDP, VNC or the Docker API from an image.",
    examples=(
        Example(ImageSpec(ports=("22/tcp", "8080/tcp")), True),
        Example(ImageSpec(ports=("8080/tcp",)), False),
    ),
)
def sensitive_port(s: I) -> Iterator[Violation]:
    """Remote administration ports make the container a server to attack."""
    for spec in s.image_config.exposed_ports:
        port = spec.split("/", 1)[0]
        if port.isdigit() and int(port) in SENSITIVE_PORTS:
            yield s.config_violation("ExposedPorts", f"exposes {spec} "
                                     f"({SENSITIVE_PORTS[int(port)]})", spec)


def _secret(name: str, value: str) -> str | None:
    kind = sensitive.secret_kind(value)
    if kind:
        return f"looks like a {kind}"
    if sensitive.is_sensitive_name(name) and not sensitive.is_placeholder(value):
        return "holds a credential"
    return None


@rule(
    id="LSH-IMG-004",
    title="Credential in an environment variable",
    severity=Severity.HIGH,
    kind=FindingKind.SECRET,
    nist=("4.1.4",),
    aliases=("dockle:CIS-DI-0010", "cis-docker-1.6:4.10"),
    remediation="Remove the credential from ENV and rotate it; inject secrets at run time.",
    references=(DOCKLE + "#cis-di-0010",),
    examples=(
        Example(ImageSpec(env=("DB_PASSWORD=hunter2",)), True),
        Example(ImageSpec(env=("GITHUB=ghp_" + "a1B2" * 9,)), True, "token shape"),
        Example(ImageSpec(env=("PATH=/usr/bin", "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8",
                               "DB_PASSWORD_FILE=/run/secrets/db")), False),
    ),
)
def env_secret(s: I) -> Iterator[Violation]:
    """Anyone who can pull the image reads its environment."""
    for item in s.image_config.env:
        name, _, value = item.partition("=")
        why = _secret(name, value)
        if why:
            yield s.config_violation("Env", f"{name}={sensitive.redact(value)} {why}", name)


@rule(
    id="LSH-IMG-005",
    title="Credential in a label",
    severity=Severity.HIGH,
    kind=FindingKind.SECRET,
    nist=("4.1.4",),
    aliases=("cis-docker-1.6:4.10",),
    remediation="Remove the credential from the labels and rotate it.",
    examples=(
        Example(ImageSpec(labels=(("deploy.token", "s3cr3t-value"),)), True),
        Example(ImageSpec(labels=(("org.opencontainers.image.source", "https://x"),)), False),
    ),
)
def label_secret(s: I) -> Iterator[Violation]:
    """Labels are public metadata, shown by every registry UI."""
    for name, value in s.image_config.labels:
        why = _secret(name, value)
        if why:
            yield s.config_violation("Labels", f"{name}={sensitive.redact(value)} {why}", name)


@rule(
    id="LSH-IMG-008",
    title="Image referenced by the latest tag",
    severity=Severity.LOW,
    nist=("4.2.2",),
    aliases=("dockle:DKL-DI-0006",),
    remediation="Refer to images by a version tag or, better, a digest.",
    references=(DOCKLE + "#dkl-di-0006",),
    examples=(
        Example(ImageSpec(reference="nginx:latest"), True),
        Example(ImageSpec(reference="nginx"), True, "no tag"),
        Example(ImageSpec(reference="nginx:1.27@sha256:" + "a" * 64), False),
    ),
)
def latest_tag(s: I) -> Iterator[Violation]:
    """`latest` names whatever was pushed last; nobody can tell what runs."""
    ref = s.reference.removeprefix("docker://")
    if re.match(r"[a-z-]+:(?!\d)", ref) and ref.split(":", 1)[0] in (
            "docker-archive", "oci", "oci-archive", "dir", "sbom", "docker-daemon"):
        raise NotApplicable("not a registry reference")
    name = split_image(ref)
    if name.digest is None and (name.tag is None or name.tag == "latest"):
        yield s.config_violation("Reference", f"{s.reference} uses the latest tag")


@rule(
    id="LSH-IMG-009",
    title="Image is stale",
    severity=Severity.LOW,
    nist=("4.2.2", "4.1.1"),
    aliases=("cis-docker-1.6:4.4",),
    remediation="Rebuild images regularly on current base images so security fixes land.",
    examples=(
        Example(ImageSpec(age_days=900), True),
        Example(ImageSpec(age_days=30), False),
    ),
)
def stale_image(s: I) -> Iterator[Violation]:
    """Old images carry old packages; NIST SP 800-190 4.2.2 asks for stale images to go."""
    age = s.created_age_days
    if age is None:
        raise NotCheckable("the image configuration has no creation date")
    if age > s.config.max_image_age_days:
        yield s.config_violation("Created", f"built {age} days ago (limit "
                                 f"{s.config.max_image_age_days})")


SENSITIVE_VOLUMES = ("/", "/proc", "/sys", "/dev", "/boot", "/etc", "/var/run/docker.sock",
                     "/run/docker.sock", "/var/lib/docker", "/run/containerd")


@rule(
    id="LSH-IMG-010",
    title="VOLUME over a sensitive directory",
    severity=Severity.MEDIUM,
    nist=("4.1.2", "4.4.3"),
    aliases=("dockle:DKL-DI-0002",),
    remediation="Declare volumes for application data only, never /, /proc, /sys, /dev "
    "or the container engine's socket.",
    references=(DOCKLE + "#dkl-di-0002",),
    examples=(
        Example(ImageSpec(volumes=("/var/run/docker.sock",)), True),
        Example(ImageSpec(volumes=("/var/lib/postgresql/data",)), False),
    ),
)
def sensitive_volume(s: I) -> Iterator[Violation]:
    """Mounting host system paths there hands the container control of the host."""
    for vol in s.image_config.volumes:
        norm = "/" + vol.strip("/")
        if norm in SENSITIVE_VOLUMES:
            yield s.config_violation("Volumes", f"VOLUME {vol}", vol)


RULES = (runs_as_root, no_healthcheck, sensitive_port, env_secret, label_secret, latest_tag,
         stale_image, sensitive_volume)
