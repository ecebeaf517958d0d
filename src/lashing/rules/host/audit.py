"""Audit trail (CIS Docker Benchmark 1.1): auditd watches on the daemon, its
binaries and files, and a separate partition for Docker's data."""

from __future__ import annotations

from collections.abc import Iterator

from lashing.host.subject import HostSubject as H
from lashing.model import Severity, Surface
from lashing.rules.framework import Example, NotApplicable, Rule, Violation, rule
from lashing.rules.host.spec import BENCH, CIS, F, docker, unreadable

TAG = ("audit",)
B = Surface.BUILD_HOST
RULES_FILE = "/etc/audit/rules.d/docker.rules"

# (id, what, CIS section, candidate paths: the first that exists must be watched)
WATCHES: tuple[tuple[int, str, str, tuple[str, ...]], ...] = (
    (30, "the dockerd binary", "1.1.3", ("/usr/bin/dockerd", "/usr/sbin/dockerd")),
    (31, "/run/containerd", "1.1.4", ("/run/containerd",)),
    (32, "/var/lib/docker", "1.1.5", ("/var/lib/docker",)),
    (33, "/etc/docker", "1.1.6", ("/etc/docker",)),
    (34, "docker.service", "1.1.7", ("/lib/systemd/system/docker.service",
                                     "/usr/lib/systemd/system/docker.service",
                                     "/etc/systemd/system/docker.service")),
    (35, "containerd.sock", "1.1.8", ("/run/containerd/containerd.sock",)),
    (36, "docker.socket", "1.1.9", ("/lib/systemd/system/docker.socket",
                                    "/usr/lib/systemd/system/docker.socket",
                                    "/etc/systemd/system/docker.socket")),
    (37, "/etc/default/docker", "1.1.10", ("/etc/default/docker",)),
    (38, "daemon.json", "1.1.11", ("/etc/docker/daemon.json",)),
    (39, "/etc/containerd/config.toml", "1.1.12", ("/etc/containerd/config.toml",)),
    (40, "the containerd binary", "1.1.14", ("/usr/bin/containerd", "/usr/sbin/containerd")),
    (41, "the runc binary", "1.1.18", ("/usr/bin/runc", "/usr/sbin/runc")),
    (43, "/etc/sysconfig/docker", "1.1.13", ("/etc/sysconfig/docker",)),
    (44, "the containerd-shim binary", "1.1.15", ("/usr/bin/containerd-shim",
                                                  "/usr/local/bin/containerd-shim")),
    (45, "the containerd-shim-runc-v1 binary", "1.1.16", (
        "/usr/bin/containerd-shim-runc-v1", "/usr/local/bin/containerd-shim-runc-v1")),
    (46, "the containerd-shim-runc-v2 binary", "1.1.17", (
        "/usr/bin/containerd-shim-runc-v2", "/usr/local/bin/containerd-shim-runc-v2")),
)


def _watch_rule(num: int, what: str, cis: str, paths: tuple[str, ...]) -> Rule[H]:
    target = paths[0]

    def check(s: H) -> Iterator[Violation]:
        s.need_docker()
        present = [p for p in paths if s.exists(p)]
        if not present:
            raise NotApplicable(f"the host has no {what}")
        watched, files = s.audit_rules
        missing = [p for p in present if p.rstrip("/") not in watched]
        if missing and len(missing) == len(present):
            why = "" if files else " (auditd is not installed)"
            yield s.violation(files[0] if files else "/etc/audit/audit.rules",
                              f"no audit rule watches {', '.join(missing)}{why}",
                              f"watch:{what}")

    check.__doc__ = f"Changes to {what} would go unrecorded."
    bad = docker(F(target, "", 0o644), F(RULES_FILE, "-w /etc/passwd -p wa\n"))
    good = docker(F(target, "", 0o644), F(RULES_FILE, f"-w {target} -p rwxa -k docker\n"))
    no_auditd = docker(F(target, "", 0o644))
    broken = docker(F(target, "", 0o644), unreadable(RULES_FILE))
    made: Rule[H] = rule(
        id=f"LSH-HOST-{num:03d}", title=f"No audit rule for {what}", severity=Severity.LOW,
        surface=B, nist=("4.5.5",), aliases=(f"cis-docker-1.6:{cis}",), tags=TAG,
        references=(CIS, BENCH),
        remediation=f"Add '-w {target} -p rwxa -k docker' to {RULES_FILE} and reload auditd "
        "(augenrules --load).",
        examples=(Example(bad, True), Example(good, False),
                  Example(no_auditd, True, "auditd not installed"),
                  Example(broken, False, "unreadable rules: not checked")),
    )(check)
    return made


WATCH_RULES = tuple(_watch_rule(*w) for w in WATCHES)


@rule(
    id="LSH-HOST-042", title="/var/lib/docker is not a separate partition",
    severity=Severity.LOW, surface=B, nist=("4.5.1",), aliases=("cis-docker-1.6:1.1.1",),
    tags=TAG, references=(CIS, BENCH),
    remediation="Mount /var/lib/docker (or the data-root) on its own filesystem so "
    "containers cannot fill the root filesystem.",
    examples=(
        Example(docker(F("/etc/fstab", "/dev/sda1 / ext4 defaults 0 1\n")), True),
        Example(docker(F("/etc/fstab", "/dev/sda1 / ext4 defaults 0 1\n"
                         "/dev/sdb1 /var/lib/docker xfs defaults 0 2\n")), False),
    ),
)
def separate_partition(s: H) -> Iterator[Violation]:
    """A container that fills its storage fills the host's root filesystem."""
    s.need_docker()
    root = str(s.daemon.get("data-root") or s.daemon.get("graph") or "/var/lib/docker")
    if s.text("/etc/fstab") is None and not s.view.live:
        raise NotApplicable("no /etc/fstab and not the live host")
    points = {m[1] for m in s.mounts()}
    parts = root.rstrip("/").split("/")
    covering = ["/".join(parts[:k]) for k in range(len(parts), 1, -1)]
    if not any(p in points for p in covering if p not in ("/var", "/var/lib")):
        yield s.violation("/etc/fstab", f"{root} is on the root filesystem", "data-root")


RULES: tuple[Rule[H], ...] = (*WATCH_RULES, separate_partition)
