"""Running-container rules (LSH-RUN-001..014): a container's settings as the
engine reports them when it is created or started (`lashing watch`), or while
it runs (`lashing watch --once`).

The predicates shared with the build-host audit (`lashing host
--docker-host`, LSH-HOST-100..114) are called, not copied; each rule names
the equivalent CIS Docker Benchmark, Kubernetes, compose and host rules in
its aliases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from lashing.host.engine import Container
from lashing.manifests.hostpaths import sensitive_host_path
from lashing.model import Severity
from lashing.rules.framework import Example, Rule, Violation, rule
from lashing.rules.host import running
from lashing.rules.host.running import inspect
from lashing.rules.host.spec import BENCH, CIS, engine_subject
from lashing.rules.runtime.subject import RuntimeSubject, Workload

DOCKER_RUN = running.DOCKER_RUN
SECURITY_OPT = "https://docs.docker.com/engine/security/seccomp/"
APPARMOR = "https://docs.docker.com/engine/security/apparmor/"
USERNS = "https://docs.docker.com/engine/security/userns-remap/"
RUNTIME = ("4.4.3",)
TAG = ("container",)
DANGEROUS_CAPS = frozenset({"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE",
                            "SYS_RAWIO", "SYS_BOOT", "SYS_TIME", "DAC_READ_SEARCH", "BPF"})


def cis(*sections: str) -> tuple[str, ...]:
    return tuple(f"cis-docker-1.6:{s}" for s in sections)


def same(*ids: str) -> tuple[str, ...]:
    """Aliases naming the equivalent lashing rules of other families."""
    return tuple(f"lashing:{i}" for i in ids)


def _examples(bad: dict[str, Any], *more: Example, good: dict[str, Any] | None = None,
              ) -> tuple[Example, ...]:
    return (Example(bad, True), *more, Example(good or inspect(), False))


def _each(message: Callable[[Container], str | None],
          ) -> Callable[[RuntimeSubject], Iterator[Violation]]:
    """A check that yields one violation when `message` has something to say."""
    def check(s: RuntimeSubject) -> Iterator[Violation]:
        text = message(s.need_workload().container)
        if text:
            yield s.violation(text)
    check.__doc__ = message.__doc__
    return check


privileged = rule(
    id="LSH-RUN-001", title="Container runs privileged", severity=Severity.CRITICAL,
    nist=("4.4.3", "4.5.2"), tags=TAG, references=(CIS, BENCH),
    aliases=(*cis("5.5"), *same("LSH-K8S-001", "LSH-CMP-001", "LSH-HOST-100")),
    remediation="Do not run containers with --privileged; add the single capability or "
    "device the workload needs.",
    examples=_examples(inspect(Privileged=True)),
)(_each(running.privileged_msg))


def caps_msg(c: Container) -> str | None:
    """Every capability added to the default set widens what an escape can do."""
    text = running.caps_msg(c)
    if text is None:
        return None
    added = {str(a).upper().removeprefix("CAP_") for a in c.host_config.get("CapAdd") or []}
    bad = sorted(added & DANGEROUS_CAPS)
    return text + (f" (dangerous: {', '.join(bad)})" if bad else "")


capabilities = rule(
    id="LSH-RUN-002", title="Container adds Linux capabilities", severity=Severity.MEDIUM,
    nist=RUNTIME, tags=TAG, references=(CIS, BENCH),
    aliases=(*cis("5.4"), *same("LSH-K8S-003", "LSH-K8S-004", "LSH-CMP-002", "LSH-HOST-104")),
    remediation="Start from --cap-drop ALL and add back only what the workload needs; "
    "never SYS_ADMIN, NET_ADMIN or ALL.",
    examples=_examples(inspect(CapAdd=["SYS_ADMIN"]),
                       Example(inspect(CapAdd=["CAP_NET_BIND_SERVICE"]), True, "any")),
)(_each(caps_msg))

host_network = rule(
    id="LSH-RUN-003", title="Container shares the host's network namespace",
    severity=Severity.HIGH, nist=("4.4.2", "4.4.3"), tags=TAG, references=(CIS, DOCKER_RUN),
    aliases=(*cis("5.10"), *same("LSH-K8S-012", "LSH-CMP-006", "LSH-HOST-101")),
    remediation="Use a bridge or user-defined network instead of --network host.",
    examples=_examples(inspect(NetworkMode="host"),
                       Example(inspect(NetworkMode="none"), False, "none")),
)(_each(running._namespace("NetworkMode", "network")))

host_pid = rule(
    id="LSH-RUN-004", title="Container shares the host's process namespace",
    severity=Severity.HIGH, nist=("4.4.3", "4.5.2"), tags=TAG, references=(CIS, DOCKER_RUN),
    aliases=(*cis("5.16"), *same("LSH-K8S-010", "LSH-CMP-007", "LSH-HOST-102")),
    remediation="Drop --pid host: the container can see and signal every host process.",
    examples=_examples(inspect(PidMode="host")),
)(_each(running._namespace("PidMode", "process")))

host_ipc = rule(
    id="LSH-RUN-005", title="Container shares the host's IPC namespace",
    severity=Severity.MEDIUM, nist=("4.4.3", "4.5.2"), tags=TAG, references=(CIS, DOCKER_RUN),
    aliases=(*cis("5.17"), *same("LSH-K8S-011", "LSH-CMP-008", "LSH-HOST-103")),
    remediation="Drop --ipc host: the container can read the host's shared memory.",
    examples=_examples(inspect(IpcMode="host"),
                       Example(inspect(IpcMode="shareable"), False, "shareable")),
)(_each(running._namespace("IpcMode", "IPC")))

host_userns = rule(
    id="LSH-RUN-006", title="Container shares the host's user namespace",
    severity=Severity.MEDIUM, nist=("4.4.3", "4.5.2"), tags=TAG, references=(CIS, USERNS),
    aliases=(*cis("5.31"), *same("LSH-CMP-009")),
    remediation="Drop --userns host, so that the daemon's user-namespace remapping (or "
    "rootless mode) applies to the container.",
    examples=_examples(inspect(UsernsMode="host"),
                       Example(inspect(UsernsMode="private"), False, "private")),
)(_each(running._namespace("UsernsMode", "user")))


@rule(
    id="LSH-RUN-007", title="Container mounts a sensitive host path or the engine socket",
    severity=Severity.CRITICAL, nist=("4.4.3", "4.5.5"), tags=TAG, references=(CIS, BENCH),
    aliases=(*cis("5.6", "5.32"), *same("LSH-K8S-015", "LSH-CMP-010", "LSH-HOST-105")),
    remediation="Do not bind-mount /, /etc, /proc, /sys, /dev, /var/lib/kubelet, the "
    "Docker/Podman socket (or /run, /var/run, which hold it) into containers; use volumes "
    "or narrow, read-only paths.",
    examples=_examples(
        inspect(Binds=["/var/run/docker.sock:/var/run/docker.sock"]),
        Example(inspect(Binds=["/var/lib/kubelet:/kubelet:ro"]), True, "kubelet"),
        Example(inspect(Binds=["/:/host"]), True, "root"),
        Example(inspect(Binds=["/etc/localtime:/etc/localtime:ro"]), False, "localtime"),
    ),
)
def sensitive_mounts(s: RuntimeSubject) -> Iterator[Violation]:
    """A mounted host system directory or engine socket hands the host to the container."""
    c = s.need_workload().container
    for src, writable in running._binds(c):
        why = running._sensitive(src, writable) or sensitive_host_path(src)
        if why and not (src in running.HARMLESS_RO and not writable):
            mode = "read-write" if writable else "read-only"
            yield s.violation(f"mounts {src} ({mode}), {why}", src)


no_new_privileges = rule(
    id="LSH-RUN-008", title="Container may gain new privileges (no-new-privileges off)",
    severity=Severity.MEDIUM, nist=RUNTIME, tags=TAG, references=(CIS, DOCKER_RUN),
    aliases=(*cis("5.26"), *same("LSH-K8S-002", "LSH-CMP-005", "LSH-HOST-109")),
    remediation="Run with --security-opt no-new-privileges (or set \"no-new-privileges\": "
    "true in daemon.json).",
    examples=_examples(inspect(SecurityOpt=None),
                       Example(inspect(SecurityOpt=["no-new-privileges:false"]), True, "off")),
)(_each(running.nnp_msg))


def _unconfined(w: Workload, what: str) -> bool:
    return f"{what}:unconfined" in w.security_opts


def seccomp_msg(c: Container) -> str | None:
    """Without seccomp every system call of the kernel is open to the container."""
    return "runs without a seccomp profile (seccomp=unconfined)" \
        if _unconfined(Workload(c), "seccomp") else None


seccomp = rule(
    id="LSH-RUN-009", title="Container runs with seccomp unconfined", severity=Severity.HIGH,
    nist=("4.4.3", "4.5.2"), tags=TAG, references=(CIS, SECURITY_OPT),
    aliases=(*cis("5.22"), *same("LSH-K8S-017", "LSH-CMP-004")),
    remediation="Remove --security-opt seccomp=unconfined; use the default profile or a "
    "custom one that allows only the system calls needed.",
    examples=_examples(inspect(SecurityOpt=["seccomp=unconfined"]),
                       Example(inspect(SecurityOpt=["seccomp:unconfined",
                                                    "no-new-privileges"]), True, "colon")),
)(_each(seccomp_msg))


def apparmor_msg(c: Container) -> str | None:
    """An unconfined container escapes the mandatory access control of AppArmor."""
    w = Workload(c)
    if _unconfined(w, "apparmor") or w.apparmor_profile == "unconfined":
        return "runs without an AppArmor profile (apparmor=unconfined)"
    return None


apparmor = rule(
    id="LSH-RUN-010", title="Container runs with AppArmor unconfined", severity=Severity.HIGH,
    nist=("4.4.3",), tags=TAG, references=(CIS, APPARMOR),
    aliases=(*cis("5.2"), *same("LSH-K8S-018", "LSH-CMP-004")),
    remediation="Remove --security-opt apparmor=unconfined; keep the engine's default "
    "profile (docker-default, containers-default) or a custom one.",
    examples=_examples(inspect(SecurityOpt=["apparmor=unconfined"]),
                       Example({**inspect(), "AppArmorProfile": "unconfined"}, True,
                               "profile"),
                       good={**inspect(), "AppArmorProfile": "docker-default"}),
)(_each(apparmor_msg))

root_user = rule(
    id="LSH-RUN-011", title="Container runs as root", severity=Severity.MEDIUM,
    nist=("4.4.3", "4.5.4"), tags=TAG, references=(CIS, DOCKER_RUN),
    aliases=(*cis("4.1"), *same("LSH-K8S-007", "LSH-CMP-011", "LSH-HOST-113")),
    remediation="Set USER in the image or run with --user UID:GID (a non-zero UID).",
    examples=_examples(inspect(config={"User": ""}),
                       Example(inspect(config={"User": "0:0"}), True, "uid 0")),
)(_each(running.root_msg))

memory = rule(
    id="LSH-RUN-012", title="Container has no memory limit", severity=Severity.MEDIUM,
    nist=RUNTIME, tags=TAG, references=(CIS, DOCKER_RUN),
    aliases=(*cis("5.11"), *same("LSH-K8S-041", "LSH-CMP-050", "LSH-HOST-106")),
    remediation="Set --memory (and --memory-swap).",
    examples=_examples(inspect(Memory=0)),
)(_each(running.memory_msg))

pids = rule(
    id="LSH-RUN-013", title="Container has no PIDs limit", severity=Severity.MEDIUM,
    nist=RUNTIME, tags=TAG, references=(CIS, DOCKER_RUN),
    aliases=(*cis("5.29"), *same("LSH-CMP-051", "LSH-HOST-108")),
    remediation="Set --pids-limit (e.g. 100).",
    examples=_examples(inspect(PidsLimit=None),
                       Example(inspect(PidsLimit=-1), True, "unlimited")),
)(_each(running.pids_msg))


@rule(
    id="LSH-RUN-014", title="Container publishes ports on all host interfaces",
    severity=Severity.MEDIUM, nist=("4.4.2",), tags=TAG, references=(CIS, DOCKER_RUN),
    aliases=(*cis("5.14"), *same("LSH-CMP-020", "LSH-HOST-114")),
    remediation="Bind published ports to one address: -p 127.0.0.1:8080:80.",
    examples=_examples(
        inspect(PortBindings={"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}),
        Example(inspect(PortBindings={"80/tcp": [{"HostIp": "::", "HostPort": "80"}]}),
                True, "ipv6 any"),
        Example(inspect(PortBindings={}), False, "no ports"),
    ),
)
def all_interfaces(s: RuntimeSubject) -> Iterator[Violation]:
    """A port on 0.0.0.0 is reachable from every network the host is on."""
    w = s.need_workload()
    for v in running.all_interfaces.check(engine_subject(w.container.inspect)):
        text = v.message.split(": ", 1)[1] if ": " in v.message else v.message
        yield s.violation(text, v.anchor.rsplit("#", 1)[-1])


RULES: tuple[Rule[RuntimeSubject], ...] = (
    privileged, capabilities, host_network, host_pid, host_ipc, host_userns, sensitive_mounts,
    no_new_privileges, seccomp, apparmor, root_user, memory, pids, all_interfaces)
