"""Who can control the daemon (CIS Docker Benchmark 1.1.2 and section 3): owner
and mode of sockets, unit files and configuration, docker group, sudoers."""

from __future__ import annotations

from collections.abc import Iterator

from lashing.host.daemon_config import DAEMON_JSON, DEFAULT_DOCKER, SYSCONFIG_DOCKER
from lashing.host.subject import HostSubject as H
from lashing.host.view import Kind
from lashing.model import Severity, Surface
from lashing.rules.framework import Example, NotApplicable, Violation, rule
from lashing.rules.host.spec import (
    BENCH,
    CIS,
    UNIT,
    F,
    daemon_json,
    docker,
    host,
    sock,
)

TAG = ("access",)
B = Surface.BUILD_HOST
DOCKER_SOCKS = ("/var/run/docker.sock", "/run/docker.sock")
CONTAINERD_SOCKS = ("/run/containerd/containerd.sock",)


def _owner_mode(s: H, path: str, max_mode: int, gids: tuple[int | None, ...] = (0,),
                follow: bool = True) -> Violation | None:
    st = s.stat(path) if follow else s.lstat(path)
    if st is None:
        return None
    problems = []
    if st.uid != 0:
        problems.append(f"owned by uid {st.uid}, not root")
    if st.gid not in gids:
        problems.append(f"group gid {st.gid}")
    extra = st.mode & ~max_mode & 0o7777
    if extra:
        problems.append(f"mode {st.mode:04o} is wider than {max_mode:04o}")
    if not problems:
        return None
    return s.violation(path, f"{path}: " + "; ".join(problems), "owner-mode")


@rule(
    id="LSH-HOST-020", title="Docker socket is not root:docker 660", severity=Severity.HIGH,
    surface=B, nist=("4.5.4",), aliases=("cis-docker-1.6:3.15", "cis-docker-1.6:3.16"),
    tags=TAG, references=(CIS,),
    remediation="chown root:docker /var/run/docker.sock; chmod 660 /var/run/docker.sock "
    "(set SocketMode=0660 in docker.socket).",
    examples=(
        Example(docker(sock("/var/run/docker.sock", 0o666)), True),
        Example(docker(sock("/run/docker.sock", 0o660)), False),
        Example(docker(sock("/run/docker.sock", 0o660, gid=0)), False, "root group"),
    ),
)
def docker_sock(s: H) -> Iterator[Violation]:
    """Write access to the socket is root on the host."""
    s.need_docker()
    for path in DOCKER_SOCKS:
        st = s.lstat(path)
        if st is not None and st.kind is Kind.LINK:
            continue
        v = _owner_mode(s, path, 0o660, (0, s.gid_of("docker")))
        if v:
            yield v


@rule(
    id="LSH-HOST-021", title="Docker unit files are writable by others or not root-owned",
    severity=Severity.MEDIUM, surface=B, nist=("4.5.5",),
    aliases=("cis-docker-1.6:3.1", "cis-docker-1.6:3.2", "cis-docker-1.6:3.3",
             "cis-docker-1.6:3.4"), tags=TAG, references=(CIS,),
    remediation="chown root:root and chmod 644 docker.service, docker.socket and their "
    "drop-ins.",
    examples=(
        Example(docker(F(UNIT, "[Service]\nExecStart=/usr/sbin/dockerd\n", 0o666)), True),
        Example(docker(F("/etc/systemd/system/docker.service.d/override.conf", "", 0o644,
                         uid=1000)), True, "drop-in"),
        Example(docker(F(UNIT, "[Service]\nExecStart=/usr/sbin/dockerd\n", 0o644)), False),
    ),
)
def unit_files(s: H) -> Iterator[Violation]:
    """Whoever edits the unit decides how dockerd starts, as root."""
    s.need_docker()
    for name in ("docker.service", "docker.socket"):
        unit = s.unit(name)
        for path in unit.paths if unit else []:
            v = _owner_mode(s, path, 0o644)
            if v:
                yield v


@rule(
    id="LSH-HOST-022", title="/etc/docker is writable by others or not root-owned",
    severity=Severity.MEDIUM, surface=B, nist=("4.5.5",),
    aliases=("cis-docker-1.6:3.5", "cis-docker-1.6:3.6"), tags=TAG, references=(CIS,),
    remediation="chown root:root /etc/docker; chmod 755 /etc/docker.",
    examples=(
        Example(docker(F("/etc/docker", None, 0o777, kind=Kind.DIR)), True),
        Example(docker(F("/etc/docker", None, 0o755, kind=Kind.DIR)), False),
    ),
)
def etc_docker(s: H) -> Iterator[Violation]:
    """It holds the daemon configuration and TLS keys."""
    s.need_docker()
    v = _owner_mode(s, "/etc/docker", 0o755)
    if v:
        yield v


@rule(
    id="LSH-HOST-023", title="daemon.json or /etc/default/docker is writable by others",
    severity=Severity.MEDIUM, surface=B, nist=("4.5.5",),
    aliases=("cis-docker-1.6:3.17", "cis-docker-1.6:3.18", "cis-docker-1.6:3.19",
             "cis-docker-1.6:3.20", "cis-docker-1.6:3.21", "cis-docker-1.6:3.22"),
    tags=TAG, references=(CIS,),
    remediation="chown root:root and chmod 644 /etc/docker/daemon.json, /etc/default/docker "
    "and /etc/sysconfig/docker.",
    examples=(
        Example(docker(F(DAEMON_JSON, "{}", 0o666)), True),
        Example(docker(F(DEFAULT_DOCKER, "", 0o644, uid=1000)), True),
        Example(docker(F(DAEMON_JSON, "{}", 0o644), F(DEFAULT_DOCKER, "", 0o600)), False),
    ),
)
def config_files(s: H) -> Iterator[Violation]:
    """Whoever edits the configuration controls the daemon."""
    s.need_docker()
    for path in (DAEMON_JSON, DEFAULT_DOCKER, SYSCONFIG_DOCKER):
        v = _owner_mode(s, path, 0o644)
        if v:
            yield v


@rule(
    id="LSH-HOST-024", title="Docker TLS or registry certificate files are not protected",
    severity=Severity.MEDIUM, surface=B, nist=("4.5.5", "4.3.1"),
    aliases=("cis-docker-1.6:3.7", "cis-docker-1.6:3.8", "cis-docker-1.6:3.9",
             "cis-docker-1.6:3.10", "cis-docker-1.6:3.11", "cis-docker-1.6:3.12",
             "cis-docker-1.6:3.13", "cis-docker-1.6:3.14"), tags=TAG, references=(CIS,),
    remediation="chown root:root the CA, certificate and key; chmod 444 certificates and "
    "400 the key.",
    examples=(
        Example(docker(daemon_json('{"tlscacert": "/etc/docker/ca.pem", '
                                   '"tlskey": "/etc/docker/key.pem"}'),
                       F("/etc/docker/ca.pem", "x", 0o444), F("/etc/docker/key.pem", "x",
                                                               0o644)), True),
        Example(docker(F("/etc/docker/certs.d/reg:5000/ca.crt", "x", 0o666)), True, "certs.d"),
        Example(docker(daemon_json('{"tlscacert": "/etc/docker/ca.pem", '
                                   '"tlskey": "/etc/docker/key.pem"}'),
                       F("/etc/docker/ca.pem", "x", 0o444), F("/etc/docker/key.pem", "x",
                                                               0o400)), False),
    ),
)
def tls_files(s: H) -> Iterator[Violation]:
    """A readable key lets anyone impersonate the daemon; a writable CA lets anyone in."""
    s.need_docker()
    for key, mode in (("tlscacert", 0o444), ("tlscert", 0o444), ("tlskey", 0o400)):
        path = s.daemon.get(key)
        if path:
            v = _owner_mode(s, str(path), mode)
            if v:
                yield v
    for reg in s.glob("/etc/docker/certs.d", "*"):
        for path in s.glob(reg, "*"):
            v = _owner_mode(s, path, 0o400 if path.endswith(".key") else 0o444)
            if v:
                yield v


@rule(
    id="LSH-HOST-025", title="containerd socket is not root-owned 660",
    severity=Severity.HIGH, surface=B, nist=("4.5.4",),
    aliases=("cis-docker-1.6:3.23", "cis-docker-1.6:3.24"), tags=TAG, references=(CIS,),
    remediation="chown root:root /run/containerd/containerd.sock; chmod 660.",
    examples=(
        Example(host(sock("/run/containerd/containerd.sock", 0o666, 0)), True),
        Example(host(sock("/run/containerd/containerd.sock", 0o660, 0)), False),
    ),
)
def containerd_sock(s: H) -> Iterator[Violation]:
    """containerd's API runs any container as root."""
    found = False
    for path in CONTAINERD_SOCKS:
        if s.lstat(path) is not None:
            found = True
            v = _owner_mode(s, path, 0o660)
            if v:
                yield v
    if not found:
        raise NotApplicable("no containerd socket")


@rule(
    id="LSH-HOST-026", title="Users in the docker group are root-equivalent",
    severity=Severity.HIGH, surface=B, nist=("4.5.4",), aliases=("cis-docker-1.6:1.1.2",),
    tags=TAG, references=(CIS, BENCH),
    remediation="Remove users from the docker group; give builders rootless Docker or "
    "podman instead, or a narrowly scoped sudo rule.",
    examples=(
        Example(docker(F("/etc/group", "root:x:0:\ndocker:x:999:alice,bob\n")), True),
        Example(docker(), False),
        Example(docker(F("/etc/group", None)), False, "unreadable"),
    ),
)
def docker_group(s: H) -> Iterator[Violation]:
    """Anyone who can use the socket can start a privileged container with / mounted."""
    s.need_docker()
    members = [m for m in s.group_members("docker") if m != "root"]
    if members:
        yield s.violation("/etc/group", "root-equivalent members of group docker: "
                          + ", ".join(members), "docker")


@rule(
    id="LSH-HOST-027", title="sudo grants docker without a password", severity=Severity.HIGH,
    surface=B, nist=("4.5.4",), tags=TAG,
    remediation="Require a password for docker in sudoers, or scope the rule to specific "
    "commands that cannot start containers.",
    examples=(
        Example(docker(F("/etc/sudoers.d/ci", "ci ALL=(root) NOPASSWD: /usr/bin/docker\n")),
                True),
        Example(docker(F("/etc/sudoers.d/ci", "%ci ALL=(ALL) NOPASSWD: ALL\n")), True, "ALL"),
        Example(docker(F("/etc/sudoers.d/ci", "ci ALL=(root) /usr/bin/docker\n")), False),
        Example(docker(F("/etc/sudoers", "root ALL=(ALL:ALL) ALL\n")), False),
    ),
)
def sudo_docker(s: H) -> Iterator[Violation]:
    """Password-less docker through sudo is root for anyone who takes over that account."""
    from lashing.host.parse import parse_sudoers

    for path in ["/etc/sudoers", *s.glob("/etc/sudoers.d", "*")]:
        text = s.text(path)
        for r in parse_sudoers(text or ""):
            if r.who == "root" or not r.nopasswd:
                continue
            cmds = [c.strip() for c in r.commands.split(",")]
            hit = [c for c in cmds if c == "ALL" or c.split()[0].endswith(
                ("/docker", "/podman", "/buildah", "/nerdctl", "/ctr"))] if cmds else []
            if hit:
                yield s.violation(path, f"{r.who} may run {', '.join(hit)} as root without a "
                                  "password", r.who, r.line)


RULES = (docker_sock, unit_files, etc_docker, config_files, tls_files, containerd_sock,
         docker_group, sudo_docker)
