"""Kubernetes rules on pod and container security contexts and host access."""

from __future__ import annotations

from collections.abc import Iterator

from lashing.manifests.hostpaths import sensitive_host_path as host_path_risk
from lashing.model import FindingKind, Severity, Surface
from lashing.rules.framework import Example, Violation, rule
from lashing.rules.kubernetes.examples import HARDENED, pod
from lashing.rules.kubernetes.subject import (
    K8S_DOCS,
    PSS,
    SECCTX,
    Workload,
    as_int,
    caps,
    falsy,
    line_at,
    truthy,
)
from lashing.rules.kubernetes.subject import K8sSubject as K

SECCOMP_REF = K8S_DOCS + "tutorials/security/seccomp/"

RUNTIME = ("4.4.3",)
DANGEROUS_CAPS = frozenset({"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE",
                            "SYS_RAWIO", "SYS_BOOT", "SYS_TIME", "DAC_READ_SEARCH",
                            "BPF", "PERFMON", "MAC_ADMIN", "MAC_OVERRIDE"})
SAFE_SYSCTLS = frozenset({"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                          "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
                          "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                          "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                          "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"})


@rule(
    id="LSH-K8S-001", title="Container runs privileged", severity=Severity.HIGH, nist=RUNTIME,
    aliases=("checkov:CKV_K8S_16", "polaris:runAsPrivileged",
             "kube-score:container-security-context-privileged", "kubesec:Privileged",
             "kube-linter:privileged-container"),
    remediation="Remove `securityContext.privileged: true`; add only the capabilities the "
    "container needs.",
    references=(PSS,),
    examples=(Example(pod("securityContext: {privileged: true}"), True),
              Example(pod(HARDENED), False)),
)
def privileged(k: K) -> Iterator[Violation]:
    """A privileged container has every capability and every host device: it is root on
    the node."""
    for w in k.workloads():
        for c in w.containers():
            if truthy(c.get("securityContext", "privileged")):
                yield k.violation(w.obj, "privileged: true",
                                  line_at(c.data, "securityContext", "privileged"), c)


@rule(
    id="LSH-K8S-002", title="Privilege escalation not disabled", severity=Severity.MEDIUM,
    nist=RUNTIME, aliases=("checkov:CKV_K8S_20", "polaris:privilegeEscalationAllowed"),
    remediation="Set `securityContext.allowPrivilegeEscalation: false` on every container.",
    references=(SECCTX,),
    examples=(Example(pod(), True), Example(pod("securityContext: "
                                                "{allowPrivilegeEscalation: true}"), True),
              Example(pod(HARDENED), False)),
)
def privilege_escalation(k: K) -> Iterator[Violation]:
    """Without allowPrivilegeEscalation: false, setuid binaries and file capabilities can
    raise a process's privileges inside the container."""
    for w in k.workloads():
        for c in w.containers():
            if not falsy(c.get("securityContext", "allowPrivilegeEscalation")):
                yield k.violation(w.obj, "allowPrivilegeEscalation is not false",
                                  line_at(c.data, "securityContext",
                                          "allowPrivilegeEscalation"), c)


@rule(
    id="LSH-K8S-003", title="Dangerous capability added", severity=Severity.HIGH, nist=RUNTIME,
    aliases=("checkov:CKV_K8S_39", "polaris:dangerousCapabilities", "kubesec:CapSysAdmin"),
    remediation="Remove SYS_ADMIN, NET_ADMIN, ALL and similar capabilities from "
    "`capabilities.add`.",
    references=(SECCTX + "#set-capabilities-for-a-container",),
    examples=(Example(pod("securityContext: {capabilities: {add: [SYS_ADMIN]}}"), True),
              Example(pod("securityContext: {capabilities: {add: [NET_BIND_SERVICE]}}"),
                      False)),
)
def dangerous_capability(k: K) -> Iterator[Violation]:
    """SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE and ALL give a container near-root
    power over the node or its network."""
    for w in k.workloads():
        for c in w.containers():
            bad = [cap for cap in caps(c, "add") if cap in DANGEROUS_CAPS]
            if bad:
                yield k.violation(w.obj, f"adds {', '.join(bad)}",
                                  line_at(c.data, "securityContext", "capabilities", "add"), c)


@rule(
    id="LSH-K8S-004", title="Capability added", severity=Severity.LOW, nist=RUNTIME,
    aliases=("checkov:CKV_K8S_25",),
    remediation="Drop ALL capabilities and add back only what is needed, documented.",
    references=(SECCTX + "#set-capabilities-for-a-container",),
    examples=(Example(pod("securityContext: {capabilities: {add: [NET_BIND_SERVICE]}}"), True),
              Example(pod(HARDENED), False)),
)
def capability_added(k: K) -> Iterator[Violation]:
    """Every added capability widens what a compromised process can do."""
    for w in k.workloads():
        for c in w.containers():
            added = caps(c, "add")
            if added:
                yield k.violation(w.obj, f"adds {', '.join(added)}",
                                  line_at(c.data, "securityContext", "capabilities", "add"), c)


@rule(
    id="LSH-K8S-005", title="Capabilities not dropped (drop: [ALL])", severity=Severity.LOW,
    nist=RUNTIME, aliases=("kube-score:container-security-context-capabilities",),
    remediation="Set `securityContext.capabilities.drop: [ALL]`.",
    references=(PSS,),
    examples=(Example(pod(), True), Example(pod(HARDENED), False)),
)
def all_not_dropped(k: K) -> Iterator[Violation]:
    """The runtime's default capability set (CHOWN, NET_RAW, SETUID...) is more than most
    applications need."""
    for w in k.workloads():
        for c in w.containers():
            if "ALL" not in caps(c, "drop"):
                yield k.violation(w.obj, "capabilities.drop does not include ALL",
                                  line_at(c.data, "securityContext", "capabilities"), c)


@rule(
    id="LSH-K8S-006", title="NET_RAW capability not dropped", severity=Severity.LOW,
    nist=RUNTIME, aliases=("checkov:CKV_K8S_28",),
    remediation="Drop NET_RAW (or ALL) in `securityContext.capabilities.drop`.",
    references=(SECCTX,),
    examples=(Example(pod(), True),
              Example(pod("securityContext: {capabilities: {drop: [NET_RAW]}}"), False)),
)
def net_raw(k: K) -> Iterator[Violation]:
    """NET_RAW lets a process forge packets and spoof other pods on the node network."""
    for w in k.workloads():
        for c in w.containers():
            dropped = caps(c, "drop")
            if "ALL" not in dropped and "NET_RAW" not in dropped:
                yield k.violation(w.obj, "NET_RAW is not dropped",
                                  line_at(c.data, "securityContext"), c)


@rule(
    id="LSH-K8S-007", title="Container may run as root", severity=Severity.MEDIUM,
    nist=("4.4.3", "4.5.4"),
    aliases=("checkov:CKV_K8S_23", "polaris:runAsRootAllowed"),
    remediation="Set `runAsNonRoot: true` (and a non-zero `runAsUser`) in the pod or "
    "container securityContext.",
    references=(PSS,),
    examples=(Example(pod(), True), Example(pod("securityContext: {runAsNonRoot: false}"), True),
              Example(pod(HARDENED), False),
              Example(pod(spec="securityContext: {runAsUser: 1000}"), False, "pod runAsUser")),
)
def may_run_as_root(k: K) -> Iterator[Violation]:
    """Nothing stops the container's process from being root, which most escapes need."""
    for w in k.workloads():
        for c in w.containers():
            non_root = w.effective(c, "runAsNonRoot")
            user = as_int(w.effective(c, "runAsUser"))
            if user == 0 or (not truthy(non_root) and (user is None or user == 0)):
                yield k.violation(w.obj, "runAsNonRoot is not true and runAsUser is "
                                  f"{'0' if user == 0 else 'unset'}",
                                  line_at(c.data, "securityContext"), c)


@rule(
    id="LSH-K8S-008", title="runAsUser or runAsGroup is 0 (root)", severity=Severity.MEDIUM,
    nist=("4.4.3", "4.5.4"),
    remediation="Use a non-zero UID and GID (10000 or above avoids host accounts).",
    references=(SECCTX,),
    examples=(Example(pod("securityContext: {runAsUser: 0}"), True),
              Example(pod(spec="securityContext: {runAsGroup: 0}"), True, "pod group"),
              Example(pod(HARDENED), False)),
)
def root_ids(k: K) -> Iterator[Violation]:
    """An explicit UID or GID 0 runs the process as root whatever the image says."""
    for w in k.workloads():
        for c in w.containers():
            for key in ("runAsUser", "runAsGroup"):
                if as_int(w.effective(c, key)) == 0:
                    yield k.violation(w.obj, f"{key}: 0", line_at(c.data, "securityContext",
                                                                    key), c)


@rule(
    id="LSH-K8S-009", title="Root filesystem is writable", severity=Severity.LOW,
    nist=RUNTIME,
    aliases=("checkov:CKV_K8S_22", "polaris:notReadOnlyRootFilesystem",
             "kube-linter:no-read-only-root-fs",
             "kube-score:container-security-context-readonlyrootfilesystem"),
    remediation="Set `securityContext.readOnlyRootFilesystem: true`; mount emptyDir volumes "
    "where the application writes.",
    references=(SECCTX,),
    examples=(Example(pod(), True), Example(pod(HARDENED), False)),
)
def writable_root(k: K) -> Iterator[Violation]:
    """A writable root filesystem lets an attacker drop tools and modify binaries."""
    for w in k.workloads():
        for c in w.containers():
            if not truthy(c.get("securityContext", "readOnlyRootFilesystem")):
                yield k.violation(w.obj, "readOnlyRootFilesystem is not true",
                                  line_at(c.data, "securityContext", "readOnlyRootFilesystem"),
                                  c)


@rule(
    id="LSH-K8S-010", title="Pod shares the host PID namespace", severity=Severity.HIGH,
    nist=RUNTIME,
    aliases=("checkov:CKV_K8S_17", "polaris:hostPIDSet", "kube-linter:host-pid",
             "kubesec:HostPID"),
    remediation="Remove `hostPID: true`.", references=(PSS,),
    examples=(Example(pod(spec="hostPID: true"), True), Example(pod(), False)),
)
def host_pid(k: K) -> Iterator[Violation]:
    """With hostPID the pod sees and can signal every process on the node."""
    for w in k.workloads():
        if truthy(w.pod_get("hostPID")):
            yield k.violation(w.obj, "hostPID: true", line_at(w.spec, "hostPID"),
                              anchor="hostPID")


@rule(
    id="LSH-K8S-011", title="Pod shares the host IPC namespace", severity=Severity.HIGH,
    nist=RUNTIME,
    aliases=("checkov:CKV_K8S_18", "polaris:hostIPCSet", "kube-linter:host-ipc",
             "kubesec:HostIPC"),
    remediation="Remove `hostIPC: true`.", references=(PSS,),
    examples=(Example(pod(spec="hostIPC: true"), True), Example(pod(), False)),
)
def host_ipc(k: K) -> Iterator[Violation]:
    """With hostIPC the pod can read and write the shared memory of host processes."""
    for w in k.workloads():
        if truthy(w.pod_get("hostIPC")):
            yield k.violation(w.obj, "hostIPC: true", line_at(w.spec, "hostIPC"),
                              anchor="hostIPC")


@rule(
    id="LSH-K8S-012", title="Pod uses the host network", severity=Severity.HIGH,
    surface=Surface.NETWORK, kind=FindingKind.EXPOSURE, nist=("4.4.2", "4.4.3"),
    aliases=("checkov:CKV_K8S_19", "polaris:hostNetworkSet", "kube-linter:host-network",
             "kubesec:HostNetwork"),
    remediation="Remove `hostNetwork: true`; expose the pod through a Service.",
    references=(PSS,),
    examples=(Example(pod(spec="hostNetwork: true"), True), Example(pod(), False)),
)
def host_network(k: K) -> Iterator[Violation]:
    """On the host network the pod bypasses NetworkPolicies and can reach node-local
    services."""
    for w in k.workloads():
        if truthy(w.pod_get("hostNetwork")):
            yield k.violation(w.obj, "hostNetwork: true", line_at(w.spec, "hostNetwork"),
                              anchor="hostNetwork")


@rule(
    id="LSH-K8S-013", title="Container binds a host port", severity=Severity.MEDIUM,
    surface=Surface.NETWORK, kind=FindingKind.EXPOSURE, nist=("4.4.2",),
    aliases=("checkov:CKV_K8S_26", "polaris:hostPortSet", "kube-linter:host-port"),
    remediation="Remove `hostPort`; use a Service.",
    references=(PSS,),
    examples=(Example(pod("ports: [{containerPort: 80, hostPort: 8080}]"), True),
              Example(pod("ports: [{containerPort: 80}]"), False)),
)
def host_port(k: K) -> Iterator[Violation]:
    """A hostPort publishes the container on the node's address, outside Service and
    NetworkPolicy control."""
    for w in k.workloads():
        for c in w.containers():
            ports = c.get("ports")
            if not isinstance(ports, list):
                continue
            for i, p in enumerate(ports):
                if isinstance(p, dict) and as_int(p.get("hostPort")):
                    yield k.violation(w.obj, f"hostPort {p.get('hostPort')}",
                                      ports.line_at(i) if hasattr(ports, "line_at") else None,
                                      c, anchor=f"{c.name}/hostPort/{p.get('hostPort')}")


def _host_paths(k: K) -> Iterator[tuple[Workload, str, str, int]]:
    for w in k.workloads():
        volumes = w.pod_get("volumes")
        if not isinstance(volumes, list):
            continue
        for i, v in enumerate(volumes):
            path = v.get("hostPath", {}).get("path") if isinstance(v, dict) and isinstance(
                v.get("hostPath"), dict) else None
            if isinstance(path, str):
                yield w, str(v.get("name")), path, volumes.line_at(i) if hasattr(
                    volumes, "line_at") else 0


@rule(
    id="LSH-K8S-014", title="hostPath volume", severity=Severity.MEDIUM, nist=RUNTIME,
    aliases=("polaris:hostPathSet",),
    remediation="Use emptyDir, a PersistentVolumeClaim, a ConfigMap or a Secret instead of "
    "hostPath.",
    references=(PSS,),
    examples=(Example(pod(spec="volumes: [{name: d, hostPath: {path: /data}}]"), True),
              Example(pod(spec="volumes: [{name: d, emptyDir: {}}]"), False)),
)
def host_path(k: K) -> Iterator[Violation]:
    """A hostPath volume exposes node files to the pod and ties it to a node."""
    for w, name, path, line in _host_paths(k):
        yield k.violation(w.obj, f"volume {name} mounts host path {path}", line,
                          anchor=f"hostPath/{name}")


@rule(
    id="LSH-K8S-015", title="Sensitive host path mounted", severity=Severity.CRITICAL,
    nist=RUNTIME,
    aliases=("kube-linter:sensitive-host-mounts", "kube-linter:docker-sock"),
    remediation="Never mount the node's root, /etc, /proc, the container runtime socket or "
    "the kubelet directory into a pod.",
    references=(PSS,),
    examples=(Example(pod(spec="volumes: [{name: s, hostPath: {path: /var/run/docker.sock}}]"),
                      True),
              Example(pod(spec="volumes: [{name: d, hostPath: {path: /data}}]"), False)),
)
def sensitive_host_path(k: K) -> Iterator[Violation]:
    """The runtime socket or the node's system directories give full control of the node."""
    for w, name, path, line in _host_paths(k):
        why = host_path_risk(path)
        if why is not None:
            yield k.violation(w.obj, f"volume {name} mounts {path} ({why})", line,
                              anchor=f"hostPath/{name}")


RULES = (privileged, privilege_escalation, dangerous_capability, capability_added,
         all_not_dropped, net_raw, may_run_as_root, root_ids, writable_root, host_pid, host_ipc,
         host_network, host_port, host_path, sensitive_host_path)
