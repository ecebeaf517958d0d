"""Docker daemon configuration (CIS Docker Benchmark section 2): daemon.json,
docker.service and its drop-ins, /etc/default/docker and the live command line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from lashing.host.daemon_config import DaemonConfig
from lashing.host.subject import HostSubject as H
from lashing.model import Severity, Surface
from lashing.rules.framework import Example, NotApplicable, Violation, rule
from lashing.rules.host.spec import (
    BENCH,
    CIS,
    DEBIAN_UNIT,
    DEFAULT_DOCKER_PATH,
    F,
    daemon_json,
    docker,
    host,
    unreadable,
)

TAG = ("daemon",)
SYSCONFIG = "/etc/sysconfig/docker"
ALICE = F("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"
          "alice:x:1000:1000::/home/alice:/bin/bash\n")
B = Surface.BUILD_HOST


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _falsy(value: Any) -> bool:
    return value is False or str(value).lower() in ("false", "0")


def _setting(s: H, d: DaemonConfig, key: str, message: str) -> Violation:
    return s.violation(d.where(key), d.prefix + message, key)


@rule(
    id="LSH-HOST-001", title="Docker API listens on TCP without TLS client verification",
    severity=Severity.CRITICAL, surface=B, nist=("4.5.4", "4.3.1"),
    aliases=("cis-docker-1.6:2.7",), tags=TAG,
    remediation="Listen on the Unix socket only, or set tlsverify with tlscacert, tlscert "
    "and tlskey so only clients with a certificate from your CA can connect.",
    references=(CIS, BENCH),
    examples=(
        Example(docker(daemon_json('{"hosts": ["tcp://0.0.0.0:2375"]}')), True, "json"),
        Example(docker(F("/etc/systemd/system/docker.service.d/override.conf",
                         "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd -H fd:// "
                         "-H tcp://0.0.0.0:2375\n"), DEBIAN_UNIT), True, "drop-in"),
        Example(docker(F(DEFAULT_DOCKER_PATH, 'DOCKER_OPTS="-H tcp://0.0.0.0:2375"'),
                       DEBIAN_UNIT), True, "DOCKER_OPTS"),
        Example(docker(daemon_json('{"hosts": ["tcp://0.0.0.0:2376"], "tlsverify": true, '
                                   '"tlscacert": "/etc/docker/ca.pem"}')), False),
        Example(host(ALICE, F("/home/alice/.config/systemd/user/docker.service",
                              "[Service]\nExecStart=/home/alice/bin/dockerd-rootless.sh "
                              "-H tcp://0.0.0.0:2375\n")), True, "rootless unit"),
        Example(docker(DEBIAN_UNIT), False, "socket only"),
        Example(docker(unreadable("/etc/docker/daemon.json")), False, "unreadable"),
    ),
)
def tcp_without_tls(s: H) -> Iterator[Violation]:
    """Anyone who reaches the port is root on the host."""
    for d in s.daemons:
        tcp = [h for h in d.hosts() if h.startswith("tcp://")]
        if tcp and not _truthy(d.get("tlsverify")):
            yield _setting(s, d, "hosts", f"dockerd listens on {', '.join(tcp)} without "
                           "tlsverify")
    if s.live is not None:
        for addr, port in s.live.listening:
            if port == 2375:
                yield s.violation("/proc/net/tcp", f"a process listens on {addr}:2375, "
                                  "the plain-text Docker API port", f"listen:{port}")


def _bool_rule(key: str, want: bool, message: str) -> Callable[[H], Iterator[Violation]]:
    def check(s: H) -> Iterator[Violation]:
        for d in s.daemons:
            value = d.get(key)
            ok = _truthy(value) if want else _falsy(value)
            if not ok:
                yield _setting(s, d, key, message)
    return check


def _examples(key: str, good: str, bad: str = "{}") -> tuple[Example, ...]:
    return (Example(docker(daemon_json(bad)), True),
            Example(docker(daemon_json(good)), False),
            Example(docker(daemon_json(good.replace('"', "'"))), False, "broken json"))


icc = rule(
    id="LSH-HOST-002", title="Inter-container communication on the default bridge is allowed",
    severity=Severity.MEDIUM, surface=B, nist=("4.4.2", "4.5.1"),
    aliases=("cis-docker-1.6:2.2",), tags=TAG, references=(CIS,),
    remediation='Set "icc": false in daemon.json and link containers through user-defined '
    "networks.",
    examples=_examples("icc", '{"icc": false}'),
)(_bool_rule("icc", False, "icc is not disabled: every container on docker0 reaches "
             "every other"))


@rule(
    id="LSH-HOST-003", title="User namespace remapping is not enabled",
    severity=Severity.MEDIUM, surface=B, nist=("4.5.2", "4.4.3"),
    aliases=("cis-docker-1.6:2.9",), tags=TAG, references=(CIS,),
    remediation='Set "userns-remap": "default" (or run Docker rootless) so root in a '
    "container is an unprivileged user on the host.",
    examples=_examples("userns-remap", '{"userns-remap": "default"}'),
)
def userns(s: H) -> Iterator[Violation]:
    """Without remapping, uid 0 in a container is uid 0 on the host."""
    if s.rootless_docker:
        raise NotApplicable("Docker runs rootless")
    for d in s.daemons:
        if not d.get("userns-remap"):
            yield _setting(s, d, "userns-remap", "userns-remap is not set: container root "
                           "is host root")


live_restore = rule(
    id="LSH-HOST-004", title="Live restore is not enabled", severity=Severity.LOW, surface=B,
    nist=("4.5.1",), aliases=("cis-docker-1.6:2.15",), tags=TAG, references=(CIS,),
    remediation='Set "live-restore": true so containers survive daemon restarts and '
    "upgrades.",
    examples=_examples("live-restore", '{"live-restore": true}'),
)(_bool_rule("live-restore", True, "live-restore is not enabled"))

userland_proxy = rule(
    id="LSH-HOST-005", title="Userland proxy is enabled", severity=Severity.LOW, surface=B,
    nist=("4.5.1",), aliases=("cis-docker-1.6:2.16",), tags=TAG, references=(CIS,),
    remediation='Set "userland-proxy": false to forward published ports with iptables '
    "rules instead of a proxy process per port.",
    examples=_examples("userland-proxy", '{"userland-proxy": false}'),
)(_bool_rule("userland-proxy", False, "userland-proxy is not disabled"))

no_new_privs = rule(
    id="LSH-HOST-006", title="Containers may acquire new privileges by default",
    severity=Severity.MEDIUM, surface=B, nist=("4.4.3", "4.5.2"),
    aliases=("cis-docker-1.6:2.14",), tags=TAG, references=(CIS,),
    remediation='Set "no-new-privileges": true so setuid binaries cannot raise privileges '
    "inside containers.",
    examples=_examples("no-new-privileges", '{"no-new-privileges": true}'),
)(_bool_rule("no-new-privileges", True, "no-new-privileges is not the default"))

LOCAL_LOG_DRIVERS = {"", "json-file", "local", "none", "journald"}


@rule(
    id="LSH-HOST-007", title="Container logs are not shipped to a central log service",
    severity=Severity.LOW, surface=B, nist=("4.5.1",), aliases=("cis-docker-1.6:2.13",),
    tags=TAG, references=(CIS,),
    remediation='Set "log-driver" to syslog, fluentd, gelf, awslogs or splunk (with '
    '"log-opts" naming the remote endpoint).',
    examples=_examples("log-driver", '{"log-driver": "syslog", '
                       '"log-opts": {"syslog-address": "tcp://logs:514"}}'),
)
def remote_logging(s: H) -> Iterator[Violation]:
    """Logs kept only on the host vanish with it, or with an intruder's cleanup."""
    for d in s.daemons:
        driver = str(d.get("log-driver") or "")
        if driver in LOCAL_LOG_DRIVERS:
            yield _setting(s, d, "log-driver", "log-driver is "
                           f"{driver or 'json-file (default)'}: logs stay on this host")


@rule(
    id="LSH-HOST-008", title="Docker trusts insecure registries", severity=Severity.HIGH,
    surface=B, nist=("4.2.1",), aliases=("cis-docker-1.6:2.5",), tags=TAG,
    references=(CIS,),
    remediation="Remove insecure-registries; give each registry a TLS certificate "
    "(/etc/docker/certs.d/HOST/ca.crt).",
    examples=(
        Example(docker(daemon_json('{"insecure-registries": ["registry.lan:5000"]}')), True),
        Example(host(ALICE, F("/home/alice/.config/docker/daemon.json",
                              '{"insecure-registries": ["10.0.0.5:5000"]}')), True, "rootless"),
        Example(host(ALICE, F("/home/alice/.config/docker/daemon.json", "{}")), False,
                "rootless"),
        Example(docker(daemon_json('{"insecure-registries": []}')), False),
    ),
)
def insecure_registries(s: H) -> Iterator[Violation]:
    """Images pulled over plain HTTP can be replaced in transit."""
    for d in s.daemons:
        regs = [str(r) for r in d.get("insecure-registries", []) or []]
        if regs:
            yield _setting(s, d, "insecure-registries", "pulls from " + ", ".join(regs)
                           + " without TLS verification")


@rule(
    id="LSH-HOST-009", title="Registry mirror over plain HTTP", severity=Severity.MEDIUM,
    surface=B, nist=("4.2.1",), tags=TAG,
    remediation="Serve the mirror over HTTPS and list it as https://.",
    examples=(
        Example(docker(daemon_json('{"registry-mirrors": ["http://mirror.lan"]}')), True),
        Example(docker(daemon_json('{"registry-mirrors": ["https://mirror.lan"]}')), False),
    ),
)
def http_mirror(s: H) -> Iterator[Violation]:
    """Every Docker Hub pull goes through the mirror: it can serve any image."""
    for d in s.daemons:
        mirrors = [str(m) for m in d.get("registry-mirrors", []) or []]
        bad = [m for m in mirrors if m.startswith("http://")]
        if bad:
            yield _setting(s, d, "registry-mirrors", "plain-HTTP mirror " + ", ".join(bad))


@rule(
    id="LSH-HOST-010", title="No authorization plugin guards the Docker API",
    severity=Severity.LOW, surface=B, nist=("4.5.4", "4.3.1"),
    aliases=("cis-docker-1.6:2.12",), tags=TAG, references=(CIS,),
    remediation='Configure "authorization-plugins" (for example opa-docker-authz) to limit '
    "what API clients may do.",
    examples=_examples("authorization-plugins", '{"authorization-plugins": ["authz"]}'),
)
def authz(s: H) -> Iterator[Violation]:
    """Every client of the socket may do everything."""
    for d in s.daemons:
        if not d.get("authorization-plugins"):
            yield _setting(s, d, "authorization-plugins",
                           "no authorization plugin is configured")


@rule(
    id="LSH-HOST-011", title="No default ulimits for containers", severity=Severity.LOW,
    surface=B, nist=("4.5.1",), aliases=("cis-docker-1.6:2.8",), tags=TAG,
    references=(CIS,),
    remediation='Set "default-ulimits" (nofile, nproc) in daemon.json.',
    examples=_examples("default-ulimits", '{"default-ulimits": {"nofile": '
                       '{"Name": "nofile", "Hard": 64000, "Soft": 64000}}}'),
)
def ulimits(s: H) -> Iterator[Violation]:
    """One container can exhaust file handles or processes for all."""
    for d in s.daemons:
        if not d.get("default-ulimits"):
            yield _setting(s, d, "default-ulimits", "no default-ulimits are set")


@rule(
    id="LSH-HOST-012", title="Experimental daemon features are enabled",
    severity=Severity.MEDIUM, surface=B, nist=("4.5.1",), aliases=("cis-docker-1.6:2.18",),
    tags=TAG, references=(CIS,),
    remediation='Remove "experimental": true on production and build hosts.',
    examples=(Example(docker(daemon_json('{"experimental": true}')), True),
              Example(docker(daemon_json("{}")), False)),
)
def experimental_on(s: H) -> Iterator[Violation]:
    """Experimental features get no security support."""
    for d in s.daemons:
        if _truthy(d.get("experimental")):
            yield _setting(s, d, "experimental", "experimental features are enabled")


@rule(
    id="LSH-HOST-013", title="Containers use a non-default cgroup parent",
    severity=Severity.LOW, surface=B, nist=("4.5.1",), aliases=("cis-docker-1.6:2.10",),
    tags=TAG, references=(CIS,),
    remediation='Remove "cgroup-parent" unless the cgroup it names is deliberately limited.',
    examples=(Example(docker(daemon_json('{"cgroup-parent": "/unlimited"}')), True),
              Example(docker(daemon_json("{}")), False)),
)
def cgroup_parent(s: H) -> Iterator[Violation]:
    """Containers outside Docker's cgroup escape its resource accounting."""
    for d in s.daemons:
        value = d.get("cgroup-parent")
        if value and str(value) not in ("/docker", "docker", "system.slice"):
            yield _setting(s, d, "cgroup-parent", f"cgroup-parent is {value}")


@rule(
    id="LSH-HOST-014", title="Daemon-wide seccomp profile is disabled",
    severity=Severity.HIGH, surface=B, nist=("4.4.3", "4.5.2"),
    aliases=("cis-docker-1.6:2.17",), tags=TAG, references=(CIS,),
    remediation='Remove "seccomp-profile": "unconfined"; keep the default profile or name a '
    "custom one.",
    examples=(Example(docker(daemon_json('{"seccomp-profile": "unconfined"}')), True),
              Example(docker(daemon_json('{"seccomp-profile": "/etc/docker/sec.json"}')),
                      False)),
)
def seccomp(s: H) -> Iterator[Violation]:
    """Without seccomp every container can call every system call of the shared kernel."""
    for d in s.daemons:
        if str(d.get("seccomp-profile") or "").lower() == "unconfined":
            yield _setting(s, d, "seccomp-profile", "seccomp is disabled for every container")


@rule(
    id="LSH-HOST-015", title="aufs storage driver", severity=Severity.MEDIUM, surface=B,
    nist=("4.5.3",), aliases=("cis-docker-1.6:2.6",), tags=TAG, references=(CIS,),
    remediation="Use overlay2.",
    examples=(Example(docker(daemon_json('{"storage-driver": "aufs"}')), True),
              Example(docker(daemon_json('{"storage-driver": "overlay2"}')), False)),
)
def aufs(s: H) -> Iterator[Violation]:
    """aufs is unmaintained and has known kernel crashes."""
    for d in s.daemons:
        if str(d.get("storage-driver") or "") == "aufs":
            yield _setting(s, d, "storage-driver", "the aufs storage driver is configured")


RHEL_UNIT = F("/usr/lib/systemd/system/docker.service",
              "[Service]\nEnvironmentFile=-/etc/sysconfig/docker\n"
              "ExecStart=/usr/bin/dockerd $OPTIONS\n")


def _shown(value: object) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


@rule(
    id="LSH-HOST-016", title="dockerd option set both as a flag and in daemon.json",
    severity=Severity.MEDIUM, surface=B, nist=("4.5.1",), tags=TAG,
    references=("https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file",),
    remediation="Set each option in one place: remove it from the ExecStart= flags "
    "(docker.service drop-ins, OPTIONS in /etc/sysconfig/docker, DOCKER_OPTS in "
    "/etc/default/docker) or from daemon.json; dockerd refuses to start otherwise.",
    examples=(
        Example(docker(DEBIAN_UNIT, daemon_json('{"hosts": ["unix:///run/docker.sock"]}')),
                True, "hosts"),
        Example(docker(RHEL_UNIT, F(SYSCONFIG, 'OPTIONS="--selinux-enabled --log-driver '
                                    'journald"\n'),
                       daemon_json('{"log-driver": "syslog"}')), True, "sysconfig"),
        Example(docker(RHEL_UNIT, F(SYSCONFIG, 'OPTIONS="--selinux-enabled"\n'),
                       daemon_json('{"log-driver": "syslog"}')), False),
        Example(docker(DEBIAN_UNIT, unreadable(SYSCONFIG)), False, "nothing to compare"),
    ),
)
def flag_and_json(s: H) -> Iterator[Violation]:
    """dockerd exits at start when an option is both a flag and a daemon.json key: the
    next restart (an upgrade, a reboot) leaves the host without its engine."""
    for d in s.daemons:
        for c in d.conflicts:
            yield s.violation(c.json_path, f"{d.prefix}{c.key} is set by a flag in "
                              f"{c.flag_origin} ({_shown(c.flag_value)}) and in "
                              f"{c.json_path} ({_shown(c.json_value)}): dockerd will refuse "
                              "to start", c.key)


RULES = (tcp_without_tls, icc, userns, live_restore, userland_proxy, no_new_privs,
         remote_logging, insecure_registries, http_mirror, authz, ulimits, experimental_on,
         cgroup_parent, seccomp, aufs, flag_and_json)
