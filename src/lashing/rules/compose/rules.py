"""Compose rules (LSH-CMP-NNN) over the services of one compose project."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lashing.manifests.compose import ComposeProject, Service
from lashing.manifests.hostpaths import sensitive_host_path
from lashing.manifests.yaml import YMap, YSeq
from lashing.model import FindingKind, Location, Severity, Surface
from lashing.rules import refs
from lashing.rules.framework import Example, NotApplicable, RuleConfig, Violation, rule

SPEC = "https://docs.docker.com/reference/compose-file/services/"
RUNTIME = ("4.4.3",)
DANGEROUS_CAPS = frozenset({"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE",
                            "SYS_RAWIO", "SYS_BOOT", "SYS_TIME", "DAC_READ_SEARCH", "BPF"})
SENSITIVE_PORTS: dict[int, str] = {
    22: "SSH", 23: "Telnet", 2375: "the Docker API without TLS", 2376: "the Docker API",
    2379: "etcd", 3306: "MySQL", 5432: "PostgreSQL", 6379: "Redis", 27017: "MongoDB",
    9200: "Elasticsearch", 11211: "memcached", 5984: "CouchDB", 1433: "SQL Server",
    1521: "Oracle", 9042: "Cassandra", 5672: "RabbitMQ", 3389: "RDP", 5900: "VNC",
    10250: "the kubelet API"}
SECRET_NAME = re.compile(r"(?i)(pass(word|wd)?|secret|token|api_?key|private_?key|credential)")


@dataclass(frozen=True)
class ComposeSubject:
    project: ComposeProject
    config: RuleConfig = field(default_factory=RuleConfig)

    def services(self) -> Iterator[Service]:
        if not self.project.services:
            raise NotApplicable("no services")
        yield from self.project.services.values()

    def violation(self, s: Service, message: str, key: str | None = None,
                  node: Any = None, index: int | None = None, anchor: str = "") -> Violation:
        path, line = s.path, s.line
        if key is not None and key in s.data:
            path, line = s.data.source_of(key), s.data.line_of(key)
        if isinstance(node, YSeq) and index is not None:
            path, line = node.source or path, node.line_at(index)
        return Violation(f"service {s.name}: {message}",
                         Location(path=path, line=line, resource=f"service/{self.project.name}/"
                                  f"{s.name}"),
                         f"{self.project.name}/{s.name}:{anchor or key or ''}")


C = ComposeSubject


def svc(body: str, name: str = "web", extra: str = "") -> str:
    lines = "".join(f"    {line}\n" for line in body.strip("\n").splitlines())
    return f"services:\n  {name}:\n    image: nginx:1.27\n{lines}{extra}"


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "yes", "on"))


@rule(id="LSH-CMP-001", title="Service runs privileged", severity=Severity.HIGH, nist=RUNTIME,
      remediation="Remove `privileged: true`; add only the capabilities needed.",
      references=(SPEC + "#privileged",),
      examples=(Example(svc("privileged: true"), True), Example(svc("privileged: false"), False)))
def privileged(c: C) -> Iterator[Violation]:
    """A privileged container is root on the host."""
    for s in c.services():
        if _truthy(s.get("privileged")):
            yield c.violation(s, "privileged: true", "privileged")


@rule(id="LSH-CMP-002", title="Capability added", severity=Severity.MEDIUM, nist=RUNTIME,
      remediation="Remove `cap_add` entries; SYS_ADMIN, NET_ADMIN and ALL are near-root.",
      references=(SPEC + "#cap_add",),
      examples=(Example(svc("cap_add: [SYS_ADMIN]"), True), Example(svc("cap_drop: [ALL]"), False)))
def cap_add(c: C) -> Iterator[Violation]:
    """Added capabilities widen what a compromised process can do on the host."""
    for s in c.services():
        added = [str(x).upper().removeprefix("CAP_") for x in _items(s.get("cap_add"))]
        if added:
            bad = [a for a in added if a in DANGEROUS_CAPS]
            note = f" (dangerous: {', '.join(bad)})" if bad else ""
            yield c.violation(s, f"cap_add {', '.join(added)}{note}", "cap_add")


@rule(id="LSH-CMP-003", title="Capabilities not dropped (cap_drop: [ALL])",
      severity=Severity.LOW, nist=RUNTIME,
      remediation="Add `cap_drop: [ALL]` and add back only what is needed.",
      references=(SPEC + "#cap_drop",),
      examples=(Example(svc(""), True), Example(svc("cap_drop: [ALL]"), False)))
def cap_drop(c: C) -> Iterator[Violation]:
    """The default capability set is more than most services need."""
    for s in c.services():
        if "ALL" not in [str(x).upper() for x in _items(s.get("cap_drop"))]:
            yield c.violation(s, "cap_drop does not include ALL", "cap_drop")


def _security_opts(s: Service) -> list[str]:
    return [str(x).replace("=", ":", 1) for x in _items(s.get("security_opt"))]


@rule(id="LSH-CMP-004", title="Seccomp or AppArmor unconfined", severity=Severity.HIGH,
      nist=RUNTIME,
      remediation="Remove `seccomp:unconfined` / `apparmor:unconfined` from security_opt.",
      references=(SPEC + "#security_opt",),
      examples=(Example(svc("security_opt: ['seccomp:unconfined']"), True),
                Example(svc("security_opt: ['no-new-privileges:true']"), False)))
def unconfined(c: C) -> Iterator[Violation]:
    """Unconfined turns off the runtime's system-call or MAC confinement."""
    for s in c.services():
        bad = [o for o in _security_opts(s) if o.lower() in ("seccomp:unconfined",
                                                             "apparmor:unconfined")]
        if bad:
            yield c.violation(s, ", ".join(bad), "security_opt")


@rule(id="LSH-CMP-005", title="no-new-privileges not set", severity=Severity.MEDIUM,
      nist=RUNTIME,
      remediation="Add `security_opt: [no-new-privileges:true]`.",
      references=(SPEC + "#security_opt",),
      examples=(Example(svc(""), True),
                Example(svc("security_opt: ['no-new-privileges:true']"), False)))
def no_new_privileges(c: C) -> Iterator[Violation]:
    """Without it, setuid binaries can raise a process's privileges."""
    for s in c.services():
        opts = [o.lower() for o in _security_opts(s)]
        if "no-new-privileges:true" not in opts and "no-new-privileges" not in opts:
            yield c.violation(s, "no-new-privileges is not set", "security_opt")


def _host_mode(key: str, what: str, rid: str, sev: Severity, surface: Surface,
               kind: FindingKind, alias: tuple[str, ...]) -> Any:
    @rule(id=rid, title=f"{key}: host ({what})", severity=sev, surface=surface, kind=kind,
          nist=("4.4.3",) if surface is Surface.IMAGE else ("4.4.2", "4.4.3"), aliases=alias,
          description=f"{key}: host shares the host's {what} with the container.",
          remediation=f"Remove `{key}: host`.", references=(SPEC + f"#{key}",),
          examples=(Example(svc(f"{key}: host"), True), Example(svc(""), False)))
    def check(c: C) -> Iterator[Violation]:
        for s in c.services():
            if str(s.get(key) or "").lower() == "host":
                yield c.violation(s, f"{key}: host", key)
    return check


network_host = _host_mode("network_mode", "network stack", "LSH-CMP-006", Severity.HIGH,
                          Surface.NETWORK, FindingKind.EXPOSURE, ())
pid_host = _host_mode("pid", "process namespace", "LSH-CMP-007", Severity.HIGH, Surface.IMAGE,
                      FindingKind.MISCONFIGURATION, ())
ipc_host = _host_mode("ipc", "IPC namespace", "LSH-CMP-008", Severity.HIGH, Surface.IMAGE,
                      FindingKind.MISCONFIGURATION, ())
userns_host = _host_mode("userns_mode", "user namespace", "LSH-CMP-009", Severity.MEDIUM,
                         Surface.IMAGE, FindingKind.MISCONFIGURATION, ())


def _mounts(s: Service) -> Iterator[tuple[int, str, YSeq]]:
    vols = s.get("volumes")
    if not isinstance(vols, YSeq):
        return
    for i, v in enumerate(vols):
        if isinstance(v, str):
            src = v.split(":", 1)[0] if ":" in v else ""
        elif isinstance(v, dict) and v.get("type", "bind") == "bind":
            src = str(v.get("source") or "")
        else:
            src = ""
        if src.startswith("/"):
            yield i, src, vols


@rule(id="LSH-CMP-010", title="Docker socket or host system path mounted",
      severity=Severity.CRITICAL, nist=RUNTIME,
      aliases=("compose-lint:CL-0001", "compose-lint:CL-0013"),
      remediation="Never mount the Docker socket or the host's root, /etc or /proc; use a "
      "socket proxy with a narrow allow-list if a service must talk to Docker.",
      references=(SPEC + "#volumes",),
      examples=(Example(svc("volumes: ['/var/run/docker.sock:/var/run/docker.sock']"), True),
                Example(svc("volumes: ['/:/host:ro']"), True, "host root"),
                Example(svc("volumes: ['./data:/data', 'db:/var/lib/db', '/etc/app:/etc/app']"),
                        False)))
def sensitive_mount(c: C) -> Iterator[Violation]:
    """The Docker socket is root on the host; so are its system directories."""
    for s in c.services():
        for i, src, vols in _mounts(s):
            why = sensitive_host_path(src)
            if why is not None:
                yield c.violation(s, f"mounts {src} ({why})", node=vols, index=i,
                                  anchor=f"volume/{src}")


@rule(id="LSH-CMP-011", title="Service may run as root", severity=Severity.MEDIUM,
      nist=("4.4.3", "4.5.4"),
      remediation="Set `user:` to a non-root UID (and GID).",
      references=(SPEC + "#user",),
      examples=(Example(svc("user: root"), True), Example(svc(""), True, "no user"),
                Example(svc("user: '10001:10001'"), False)))
def root_user(c: C) -> Iterator[Violation]:
    """Without `user:` the image's USER (often root) is used."""
    for s in c.services():
        user = s.get("user")
        text = str(user).split(":", 1)[0].strip() if user is not None else ""
        if text in ("", "root", "0"):
            yield c.violation(s, f"user is {text or 'not set'}", "user")


@rule(id="LSH-CMP-012", title="Root filesystem is writable", severity=Severity.LOW,
      nist=RUNTIME,
      remediation="Set `read_only: true` and mount tmpfs where the service writes.",
      references=(SPEC + "#read_only",),
      examples=(Example(svc(""), True), Example(svc("read_only: true"), False)))
def writable_root(c: C) -> Iterator[Violation]:
    """A writable root filesystem lets an attacker change binaries and drop tools."""
    for s in c.services():
        if not _truthy(s.get("read_only")):
            yield c.violation(s, "read_only is not true", "read_only")


@dataclass(frozen=True)
class Published:
    host_ip: str
    host_port: str
    container_port: str
    protocol: str


def published_ports(s: Service) -> Iterator[tuple[int, Published, YSeq]]:
    """Published ports, short and long syntax (host port "" when only a container port)."""
    ports = s.get("ports")
    if not isinstance(ports, YSeq):
        return
    for i, p in enumerate(ports):
        if isinstance(p, dict):
            published = p.get("published")
            if published in (None, ""):
                continue
            yield i, Published(str(p.get("host_ip") or ""), str(published),
                               str(p.get("target") or ""), str(p.get("protocol") or "tcp")), ports
            continue
        text = str(p)
        text, _, proto = text.partition("/")
        if text.startswith("["):  # [::1]:8080:80
            host_ip, _, rest = text[1:].partition("]:")
            parts = ["[" + host_ip + "]", *rest.split(":")]
        else:
            parts = text.split(":")
        if len(parts) == 1:
            continue  # container port only: a random host port on all interfaces
        if len(parts) == 2:
            yield i, Published("", parts[0], parts[1], proto or "tcp"), ports
        else:
            yield i, Published(":".join(parts[:-2]).strip("[]"), parts[-2], parts[-1],
                               proto or "tcp"), ports


def _all_interfaces(ip: str) -> bool:
    return ip in ("", "0.0.0.0", "::", "[::]")  # noqa: S104


@rule(id="LSH-CMP-020", title="Port published on all interfaces", severity=Severity.MEDIUM,
      surface=Surface.NETWORK, kind=FindingKind.EXPOSURE, nist=("4.4.2",),
      aliases=("compose-lint:CL-0005",),
      remediation="Bind to 127.0.0.1 (`127.0.0.1:8080:80`) unless the port must be reachable "
      "from other hosts, and put a reverse proxy in front.",
      references=(SPEC + "#ports",),
      examples=(Example(svc("ports: ['8080:80']"), True),
                Example(svc("ports: [{target: 80, published: 8080}]"), True, "long syntax"),
                Example(svc("ports: ['127.0.0.1:8080:80']"), False),
                Example(svc("ports: [{target: 80, published: 8080, host_ip: 127.0.0.1}]"),
                        False)))
def all_interfaces(c: C) -> Iterator[Violation]:
    """`8080:80` binds 0.0.0.0 and Docker's iptables rules bypass the host firewall."""
    for s in c.services():
        for i, p, ports in published_ports(s):
            if _all_interfaces(p.host_ip):
                yield c.violation(s, f"port {p.host_port}->{p.container_port}/{p.protocol} "
                                  "is published on all interfaces", node=ports, index=i,
                                  anchor=f"port/{p.host_port}/{p.container_port}")


@rule(id="LSH-CMP-021", title="Sensitive port published", severity=Severity.HIGH,
      surface=Surface.NETWORK, kind=FindingKind.EXPOSURE, nist=("4.4.2",),
      remediation="Do not publish database, cache or administration ports; let services reach "
      "them over a compose network.",
      references=(SPEC + "#ports",),
      examples=(Example(svc("ports: ['5432:5432']", name="db"), True),
                Example(svc("ports: ['127.0.0.1:6379:6379']"), False, "loopback"),
                Example(svc("ports: ['8080:80']"), False)))
def sensitive_port(c: C) -> Iterator[Violation]:
    """Databases, caches and the Docker API published on all interfaces are attacked within
    minutes."""
    for s in c.services():
        for i, p, ports in published_ports(s):
            if not _all_interfaces(p.host_ip):
                continue
            port = p.container_port.split("-")[0]
            name = SENSITIVE_PORTS.get(int(port)) if port.isdigit() else None
            if name:
                yield c.violation(s, f"port {p.host_port}->{p.container_port} ({name}) is "
                                  "published on all interfaces", node=ports, index=i,
                                  anchor=f"port/{p.host_port}/{p.container_port}")


@rule(id="LSH-CMP-030", title="Image uses the latest tag or no tag", severity=Severity.MEDIUM,
      nist=("4.1.5",),
      remediation="Use a specific version tag, better a digest.",
      references=(SPEC + "#image",),
      examples=(Example(svc("image: redis"), True), Example(svc(""), False)))
def latest(c: C) -> Iterator[Violation]:
    """`latest` or no tag runs whatever was pushed last."""
    for s in c.services():
        image = s.get("image")
        if isinstance(image, str) and image and "$" not in image:
            name = refs.split_image(image)
            if name.digest is None and name.tag in (None, "latest"):
                yield c.violation(s, f"image {image} is not pinned to a version", "image")


@rule(id="LSH-CMP-031", title="Image not pinned by digest", severity=Severity.LOW,
      nist=("4.1.5",), aliases=("compose-lint:CL-0019",),
      remediation="Reference images by digest (`image@sha256:...`).",
      references=(SPEC + "#image",),
      examples=(Example(svc(""), True),
                Example(svc("image: nginx:1.27@sha256:" + "0" * 64), False)))
def no_digest(c: C) -> Iterator[Violation]:
    """A tag can be moved to different content; a digest cannot."""
    for s in c.services():
        image = s.get("image")
        if isinstance(image, str) and image and refs.split_image(image).digest is None:
            yield c.violation(s, f"image {image} has no digest", "image")


def _environment(s: Service) -> Iterator[tuple[str, Any, int, str]]:
    env = s.get("environment")
    if isinstance(env, YMap):
        for k, v in env.items():
            yield str(k), v, env.line_of(k), env.source_of(k)
    elif isinstance(env, YSeq):
        for i, item in enumerate(env):
            k, sep, v = str(item).partition("=")
            yield k, (v if sep else None), env.line_at(i), env.source


@rule(id="LSH-CMP-040", title="Secret as a literal environment value", severity=Severity.HIGH,
      nist=("4.1.4",), aliases=("compose-lint:CL-0020",),
      remediation="Use compose `secrets:` (files under /run/secrets) or `${VAR}` from an "
      "uncommitted .env file.",
      references=("https://docs.docker.com/compose/how-tos/use-secrets/",),
      examples=(Example(svc("environment: {POSTGRES_PASSWORD: hunter2}"), True),
                Example(svc("environment: ['DB_PASSWORD=s3cret']"), True, "list form"),
                Example(svc("environment: {POSTGRES_PASSWORD_FILE: /run/secrets/db}"), False),
                Example(svc("environment: ['DB_PASSWORD=${DB_PASSWORD}']"), False,
                        "from the environment")))
def literal_secret(c: C) -> Iterator[Violation]:
    """A literal in the compose file is in every copy and every commit of it."""
    for s in c.services():
        for name, value, line, path in _environment(s):
            if (SECRET_NAME.search(name) and not name.upper().endswith("_FILE")
                    and isinstance(value, str) and value.strip()
                    and (path, line) not in c.project.interpolated
                    and not value.startswith("/run/secrets/")):
                v = Violation(f"service {s.name}: environment {name} holds a literal value",
                              Location(path=path, line=line,
                                       resource=f"service/{c.project.name}/{s.name}"),
                              f"{c.project.name}/{s.name}:env/{name}")
                yield v


@rule(id="LSH-CMP-041", title="Host device mapped", severity=Severity.MEDIUM, nist=RUNTIME,
      remediation="Remove `devices:` unless the service needs that hardware.",
      references=(SPEC + "#devices",),
      examples=(Example(svc("devices: ['/dev/sda:/dev/sda']"), True), Example(svc(""), False)))
def devices(c: C) -> Iterator[Violation]:
    """A mapped device gives the container direct access to host hardware."""
    for s in c.services():
        devs = _items(s.get("devices"))
        if devs:
            yield c.violation(s, f"devices {', '.join(str(d) for d in devs)}", "devices")


def _limit(s: Service, key: str) -> Any:
    return (s.data.get("deploy", {}) or {}).get("resources", {}).get("limits", {}).get(key) \
        if isinstance(s.data.get("deploy"), dict) and isinstance(
            s.data["deploy"].get("resources"), dict) and isinstance(
            s.data["deploy"]["resources"].get("limits"), dict) else None


@rule(id="LSH-CMP-050", title="Memory limit not set", severity=Severity.LOW, nist=RUNTIME,
      remediation="Set `mem_limit` or `deploy.resources.limits.memory`.",
      references=(SPEC + "#mem_limit",),
      examples=(Example(svc(""), True), Example(svc("mem_limit: 512m"), False),
                Example(svc("deploy: {resources: {limits: {memory: 512M}}}"), False)))
def memory_limit(c: C) -> Iterator[Violation]:
    """Without a memory limit one service can exhaust the host's memory."""
    for s in c.services():
        if s.get("mem_limit") in (None, "") and _limit(s, "memory") in (None, ""):
            yield c.violation(s, "no memory limit", "mem_limit")


@rule(id="LSH-CMP-051", title="PIDs limit not set", severity=Severity.LOW, nist=RUNTIME,
      remediation="Set `pids_limit` (or `deploy.resources.limits.pids`).",
      references=(SPEC + "#pids_limit",),
      examples=(Example(svc(""), True), Example(svc("pids_limit: 200"), False)))
def pids_limit(c: C) -> Iterator[Violation]:
    """Without a PIDs limit a fork bomb in one service takes the host down."""
    for s in c.services():
        if s.get("pids_limit") in (None, "") and _limit(s, "pids") in (None, ""):
            yield c.violation(s, "no pids limit", "pids_limit")


RULES = (privileged, cap_add, cap_drop, unconfined, no_new_privileges, network_host, pid_host,
         ipc_host, userns_host, sensitive_mount, root_user, writable_root, all_interfaces,
         sensitive_port, latest, no_digest, literal_secret, devices, memory_limit, pids_limit)
