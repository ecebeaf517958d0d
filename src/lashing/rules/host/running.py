"""Running containers (CIS Docker Benchmark section 5, and 4.1) as the engine API
describes them: `lashing host --docker-host unix:///var/run/docker.sock`.

Every rule reads each container's `GET /containers/{id}/json` document
(HostConfig, Config, State, Mounts). Without --docker-host the rules are not
applicable. Examples are inspect documents.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from lashing.host.engine import Container
from lashing.host.subject import HostSubject as H
from lashing.model import Location, Severity, Surface
from lashing.rules.framework import Example, Violation, rule
from lashing.rules.host.spec import BENCH, CIS

TAG = ("running",)
B = Surface.BUILD_HOST
DOCKER_RUN = "https://docs.docker.com/reference/cli/docker/container/run/"

# A hardened container; examples override single fields of it.
GOOD_HOST_CONFIG: dict[str, Any] = {
    "Privileged": False, "NetworkMode": "appnet", "PidMode": "", "IpcMode": "private",
    "UTSMode": "", "Devices": [], "CgroupParent": "",
    "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}],
    "CapAdd": None, "CapDrop": ["ALL"], "Binds": ["/srv/app/data:/data"],
    "Memory": 67108864, "CpuShares": 512, "NanoCpus": 0, "CpuQuota": 0, "PidsLimit": 100,
    "SecurityOpt": ["no-new-privileges"], "ReadonlyRootfs": True,
    "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 5},
    "PortBindings": {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
}
GOOD_CONFIG: dict[str, Any] = {"User": "1000:1000", "Image": "registry.lan/app:1.2",
                               "Healthcheck": {"Test": ["CMD", "/app/healthz"]}}


def inspect(name: str = "web", config: Mapping[str, Any] | None = None,
            state: Mapping[str, Any] | None = None, **host_config: Any) -> dict[str, Any]:
    """An inspect document: the hardened container with these HostConfig fields changed."""
    hc = {**GOOD_HOST_CONFIG, **host_config}
    mounts = [{"Type": "bind", "Source": b.split(":")[0], "Destination": b.split(":")[1],
               "RW": not b.endswith(":ro")} for b in hc.get("Binds") or []]
    return {"Id": "4f2a" + "0" * 60, "Name": f"/{name}",
            "State": {"Status": "running", "Health": {"Status": "healthy"}, **(state or {})},
            "Config": {**GOOD_CONFIG, **(config or {})}, "HostConfig": hc, "Mounts": mounts,
            "NetworkSettings": {"Networks": {} if hc.get("NetworkMode") in ("host", "none")
                                else {str(hc.get("NetworkMode")): {}}}}


def _examples(bad: dict[str, Any], *more: Example, good: dict[str, Any] | None = None,
              ) -> tuple[Example, ...]:
    return (Example(bad, True), *more, Example(good or inspect(), False))


def _violation(c: Container, message: str, key: str = "") -> Violation:
    resource = f"container/{c.name or c.short_id}"
    return Violation(f"container {c.label}: {message}", Location(resource=resource),
                     resource + (f"#{key}" if key else ""))


def _each(message: Callable[[Container], str | None]) -> Callable[[H], Iterator[Violation]]:
    """A check that yields one violation per container for which `message` says one."""
    def check(s: H) -> Iterator[Violation]:
        for c in s.containers():
            text = message(c)
            if text:
                yield _violation(c, text)
    check.__doc__ = message.__doc__
    return check


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return 0


def privileged_msg(c: Container) -> str | None:
    """A privileged container has every capability and every device: root on the host."""
    return "runs privileged" if c.host_config.get("Privileged") is True else None


privileged = rule(
    id="LSH-HOST-100", title="Container runs privileged", severity=Severity.CRITICAL,
    surface=B, nist=("4.4.3", "4.5.2"), aliases=("cis-docker-1.6:5.5",), tags=TAG,
    remediation="Do not run containers with --privileged; add the single capability or "
    "device the workload needs.", references=(CIS, BENCH),
    examples=_examples(inspect(Privileged=True)),
)(_each(privileged_msg))


def _namespace(field: str, what: str) -> Callable[[Container], str | None]:
    def message(c: Container) -> str | None:
        return f"shares the host's {what} namespace ({field}=host)" \
            if str(c.host_config.get(field) or "") == "host" else None
    message.__doc__ = f"A container in the host's {what} namespace sees the host's {what}."
    return message


host_network = rule(
    id="LSH-HOST-101", title="Container shares the host's network namespace",
    severity=Severity.HIGH, surface=B, nist=("4.4.2", "4.5.2"),
    aliases=("cis-docker-1.6:5.10",), tags=TAG, references=(CIS, DOCKER_RUN),
    remediation="Use a bridge or user-defined network instead of --network host.",
    examples=_examples(inspect(NetworkMode="host"),
                       Example(inspect(NetworkMode="none"), False, "none")),
)(_each(_namespace("NetworkMode", "network")))

host_pid = rule(
    id="LSH-HOST-102", title="Container shares the host's process namespace",
    severity=Severity.HIGH, surface=B, nist=("4.5.2", "4.4.3"),
    aliases=("cis-docker-1.6:5.16",), tags=TAG, references=(CIS, DOCKER_RUN),
    remediation="Drop --pid host: the container can see and signal every host process.",
    examples=_examples(inspect(PidMode="host")),
)(_each(_namespace("PidMode", "process")))

host_ipc = rule(
    id="LSH-HOST-103", title="Container shares the host's IPC namespace",
    severity=Severity.MEDIUM, surface=B, nist=("4.5.2", "4.4.3"),
    aliases=("cis-docker-1.6:5.17",), tags=TAG, references=(CIS, DOCKER_RUN),
    remediation="Drop --ipc host: the container can read the host's shared memory.",
    examples=_examples(inspect(IpcMode="host"),
                       Example(inspect(IpcMode="shareable"), False, "shareable")),
)(_each(_namespace("IpcMode", "IPC")))


def caps_msg(c: Container) -> str | None:
    """Every capability added to the default set widens what an escape can do."""
    added = c.host_config.get("CapAdd") or []
    if not isinstance(added, list) or not added:
        return None
    names = sorted({str(a).upper().removeprefix("CAP_") for a in added})
    return f"adds capabilities {', '.join(names)}"


capabilities = rule(
    id="LSH-HOST-104", title="Container adds Linux capabilities", severity=Severity.MEDIUM,
    surface=B, nist=("4.4.3",), aliases=("cis-docker-1.6:5.4",), tags=TAG,
    references=(CIS, BENCH),
    remediation="Start from --cap-drop ALL and add back only what the workload needs; "
    "never SYS_ADMIN, NET_ADMIN or ALL.",
    examples=_examples(inspect(CapAdd=["SYS_ADMIN"]),
                       Example(inspect(CapAdd=["CAP_NET_ADMIN", "ALL"]), True, "ALL")),
)(_each(caps_msg))

SENSITIVE_DIRS = ("/", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/sys", "/usr",
                  "/root", "/var/lib/docker", "/var/lib/containers")
ENGINE_DIRS = ("/run", "/var/run", "/run/docker", "/var/run/docker", "/run/containerd",
               "/var/run/containerd", "/run/podman", "/var/run/podman")
ENGINE_SOCKETS = ("docker.sock", "podman.sock", "containerd.sock", "crio.sock",
                  "buildkitd.sock")
HARMLESS_RO = ("/etc/localtime", "/etc/timezone")
ANY_ADDRESS = "0.0.0.0"  # noqa: S104 - what the rule looks for, not a bind


def _binds(c: Container) -> list[tuple[str, bool]]:
    """(host source, writable) of every bind mount."""
    found: dict[str, bool] = {}
    mounts = c.inspect.get("Mounts")
    for m in mounts if isinstance(mounts, list) else []:
        if isinstance(m, Mapping) and m.get("Type", "bind") == "bind" and m.get("Source"):
            found[str(m["Source"])] = m.get("RW") is not False
    for b in c.host_config.get("Binds") or []:
        src, _, rest = str(b).partition(":")
        if src.startswith("/") and src not in found:
            found[src] = "ro" not in rest.split(":")[-1].split(",")
    return sorted(found.items())


def _sensitive(src: str, writable: bool) -> str | None:
    path = posixpath.normpath(src)
    if path == "//":
        path = "/"
    if posixpath.basename(path) in ENGINE_SOCKETS or path in ENGINE_DIRS:
        return "the container engine's socket: control of the engine is root on the host"
    if path in HARMLESS_RO and not writable:
        return None
    for d in SENSITIVE_DIRS:
        if path == d or (d != "/" and path.startswith(d + "/")):
            return f"host system directory {d}"
    return None


@rule(
    id="LSH-HOST-105", title="Container mounts a sensitive host path or the engine socket",
    severity=Severity.CRITICAL, surface=B, nist=("4.4.3", "4.5.5"),
    aliases=("cis-docker-1.6:5.6", "cis-docker-1.6:5.32"), tags=TAG,
    references=(CIS, BENCH),
    remediation="Do not bind-mount /, /etc, /proc, /sys, /dev, /usr, /boot or the Docker/"
    "Podman socket (or /run, /var/run, which hold it) into containers; use volumes or "
    "narrow, read-only paths.",
    examples=_examples(
        inspect(Binds=["/var/run/docker.sock:/var/run/docker.sock"]),
        Example(inspect(Binds=["/var/run:/var/run:ro"]), True, "run dir read-only"),
        Example(inspect(Binds=["/etc:/host/etc:ro"]), True, "etc"),
        Example(inspect(Binds=["/:/host"]), True, "root"),
        Example(inspect(Binds=["/etc/localtime:/etc/localtime:ro"]), False, "localtime"),
    ),
)
def sensitive_mounts(s: H) -> Iterator[Violation]:
    """A mounted host directory or engine socket hands the host to the container."""
    for c in s.containers():
        for src, writable in _binds(c):
            why = _sensitive(src, writable)
            if why:
                mode = "read-write" if writable else "read-only"
                yield _violation(c, f"mounts {src} ({mode}), {why}", src)


def memory_msg(c: Container) -> str | None:
    """Without a memory limit one container can exhaust the host's memory."""
    return "has no memory limit" if _int(c.host_config.get("Memory")) <= 0 else None


memory = rule(
    id="LSH-HOST-106", title="Container has no memory limit", severity=Severity.MEDIUM,
    surface=B, nist=("4.4.3",), aliases=("cis-docker-1.6:5.11",), tags=TAG,
    references=(CIS, DOCKER_RUN), remediation="Set --memory (and --memory-swap).",
    examples=_examples(inspect(Memory=0)),
)(_each(memory_msg))


def cpu_msg(c: Container) -> str | None:
    """Without CPU shares (or a CPU limit) a container competes equally for the CPU."""
    hc = c.host_config
    if _int(hc.get("NanoCpus")) > 0 or _int(hc.get("CpuQuota")) > 0:
        return None
    return "has no CPU shares or CPU limit" \
        if _int(hc.get("CpuShares")) in (0, 1024) else None


cpu = rule(
    id="LSH-HOST-107", title="Container has no CPU shares", severity=Severity.LOW,
    surface=B, nist=("4.4.3",), aliases=("cis-docker-1.6:5.12",), tags=TAG,
    references=(CIS, DOCKER_RUN), remediation="Set --cpu-shares (or --cpus).",
    examples=_examples(inspect(CpuShares=0),
                       Example(inspect(CpuShares=1024), True, "default weight"),
                       Example(inspect(CpuShares=0, NanoCpus=500000000), False, "--cpus")),
)(_each(cpu_msg))


def pids_msg(c: Container) -> str | None:
    """Without a PIDs limit a fork bomb in the container takes the host down."""
    return "has no PIDs limit" if _int(c.host_config.get("PidsLimit")) <= 0 else None


pids = rule(
    id="LSH-HOST-108", title="Container has no PIDs limit", severity=Severity.MEDIUM,
    surface=B, nist=("4.4.3",), aliases=("cis-docker-1.6:5.29",), tags=TAG,
    references=(CIS, DOCKER_RUN), remediation="Set --pids-limit (e.g. 100).",
    examples=_examples(inspect(PidsLimit=None),
                       Example(inspect(PidsLimit=-1), True, "unlimited")),
)(_each(pids_msg))


def _nnp(opt: object) -> bool:
    text = str(opt).replace("=", ":")
    return text in ("no-new-privileges", "no-new-privileges:true")


def nnp_msg(c: Container) -> str | None:
    """Without no-new-privileges a setuid binary in the container can gain privileges."""
    opts = c.host_config.get("SecurityOpt") or []
    ok = isinstance(opts, list) and any(_nnp(o) for o in opts)
    return None if ok else "does not set no-new-privileges"


no_new_privileges = rule(
    id="LSH-HOST-109", title="Container may gain new privileges (no-new-privileges off)",
    severity=Severity.MEDIUM, surface=B, nist=("4.4.3",), aliases=("cis-docker-1.6:5.26",),
    tags=TAG, references=(CIS, DOCKER_RUN),
    remediation="Run with --security-opt no-new-privileges (or set \"no-new-privileges\": "
    "true in daemon.json).",
    examples=_examples(inspect(SecurityOpt=None),
                       Example(inspect(SecurityOpt=["no-new-privileges:false"]), True,
                               "explicitly off"),
                       Example(inspect(SecurityOpt=["no-new-privileges=true"]), False,
                               "=true")),
)(_each(nnp_msg))


def read_only_msg(c: Container) -> str | None:
    """A writable root filesystem lets an intruder change the container's binaries."""
    return None if c.host_config.get("ReadonlyRootfs") is True \
        else "has a writable root filesystem"


read_only = rule(
    id="LSH-HOST-110", title="Container root filesystem is not read-only",
    severity=Severity.LOW, surface=B, nist=("4.4.3",), aliases=("cis-docker-1.6:5.13",),
    tags=TAG, references=(CIS, DOCKER_RUN),
    remediation="Run with --read-only and mount volumes or tmpfs where the workload writes.",
    examples=_examples(inspect(ReadonlyRootfs=False)),
)(_each(read_only_msg))


def restart_msg(c: Container) -> str | None:
    """An endless restart loop hides a failing container and can starve the host."""
    policy = c.host_config.get("RestartPolicy")
    policy = policy if isinstance(policy, Mapping) else {}
    name = str(policy.get("Name") or "")
    count = _int(policy.get("MaximumRetryCount"))
    if name in ("always", "unless-stopped"):
        return f"restart policy is {name}"
    if name == "on-failure" and (count > 5 or count <= 0):
        return "restart policy is on-failure with " + (
            f"{count} retries" if count > 0 else "unlimited retries")
    return None


restart = rule(
    id="LSH-HOST-111", title="Container restart policy retries more than 5 times",
    severity=Severity.LOW, surface=B, nist=("4.4.3",), aliases=("cis-docker-1.6:5.15",),
    tags=TAG, references=(CIS, DOCKER_RUN),
    remediation="Use --restart on-failure:5 (or no restart policy).",
    examples=_examples(inspect(RestartPolicy={"Name": "always", "MaximumRetryCount": 0}),
                       Example(inspect(RestartPolicy={"Name": "on-failure",
                                                      "MaximumRetryCount": 10}), True, "10"),
                       Example(inspect(RestartPolicy={"Name": "no"}), False, "no")),
)(_each(restart_msg))


def health_msg(c: Container) -> str | None:
    """Without a healthcheck nothing notices a container that stopped working."""
    check = c.config.get("Healthcheck")
    test = check.get("Test") if isinstance(check, Mapping) else None
    if not test or test == ["NONE"]:
        return "has no healthcheck"
    health = c.state.get("Health")
    status = health.get("Status") if isinstance(health, Mapping) else None
    return "is unhealthy" if status == "unhealthy" else None


health = rule(
    id="LSH-HOST-112", title="Container has no healthcheck or is unhealthy",
    severity=Severity.LOW, surface=B, nist=("4.4.3", "4.4.5"),
    aliases=("cis-docker-1.6:5.27",), tags=TAG, references=(CIS, DOCKER_RUN),
    remediation="Add a HEALTHCHECK to the image or --health-cmd to the container, and "
    "investigate unhealthy containers.",
    examples=_examples(inspect(config={"Healthcheck": None}),
                       Example(inspect(config={"Healthcheck": {"Test": ["NONE"]}}), True,
                               "disabled"),
                       Example(inspect(state={"Health": {"Status": "unhealthy"}}), True,
                               "unhealthy")),
)(_each(health_msg))


def root_msg(c: Container) -> str | None:
    """A process running as root in a container is root on the host when it escapes."""
    user = str(c.config.get("User") or "").strip()
    name = user.split(":")[0]
    if name in ("", "root", "0"):
        return "runs as root" + ("" if user else " (no user set)")
    return None


root_user = rule(
    id="LSH-HOST-113", title="Container runs as root", severity=Severity.MEDIUM,
    surface=B, nist=("4.4.3", "4.1.2"), aliases=("cis-docker-1.6:4.1",), tags=TAG,
    references=(CIS, DOCKER_RUN),
    remediation="Set USER in the image or run with --user UID:GID (a non-zero UID).",
    examples=_examples(inspect(config={"User": ""}),
                       Example(inspect(config={"User": "0:0"}), True, "uid 0")),
)(_each(root_msg))


@rule(
    id="LSH-HOST-114", title="Container publishes ports on all host interfaces",
    severity=Severity.MEDIUM, surface=B, nist=("4.4.2",), aliases=("cis-docker-1.6:5.14",),
    tags=TAG, references=(CIS, DOCKER_RUN),
    remediation="Bind published ports to one address: -p 127.0.0.1:8080:80.",
    examples=_examples(
        inspect(PortBindings={"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}),
        Example(inspect(PortBindings={"80/tcp": [{"HostIp": ANY_ADDRESS, "HostPort": "80"}]}),
                True, ANY_ADDRESS),
        Example(inspect(PortBindings={}), False, "no ports"),
    ),
)
def all_interfaces(s: H) -> Iterator[Violation]:
    """A port on 0.0.0.0 is reachable from every network the host is on."""
    for c in s.containers():
        bindings = c.host_config.get("PortBindings")
        for port, binds in sorted((bindings if isinstance(bindings, Mapping) else {}).items()):
            for b in binds if isinstance(binds, list) else []:
                ip = str(b.get("HostIp") or "") if isinstance(b, Mapping) else ""
                if ip in ("", ANY_ADDRESS, "::", "[::]"):
                    host_port = b.get("HostPort") or "?"
                    yield _violation(c, f"publishes {port} on {ip or ANY_ADDRESS}:{host_port}",
                                     f"{port}:{host_port}")


RULES = (privileged, host_network, host_pid, host_ipc, capabilities, sensitive_mounts,
         memory, cpu, pids, no_new_privileges, read_only, restart, health, root_user,
         all_interfaces)
