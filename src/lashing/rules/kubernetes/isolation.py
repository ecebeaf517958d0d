"""Kubernetes rules on kernel isolation: seccomp, AppArmor, SELinux, /proc
masking, sysctls and a shared process namespace."""

from __future__ import annotations

from collections.abc import Iterator

from lashing.manifests.kubernetes import Container
from lashing.model import Severity
from lashing.rules.framework import Example, Violation, rule
from lashing.rules.kubernetes.examples import pod
from lashing.rules.kubernetes.security import RUNTIME, SAFE_SYSCTLS, SECCOMP_REF
from lashing.rules.kubernetes.subject import (
    K8S_DOCS,
    PSS,
    Workload,
    line_at,
    truthy,
)
from lashing.rules.kubernetes.subject import K8sSubject as K


def _seccomp(w: Workload, c: Container) -> str | None:
    ctype = c.get("securityContext", "seccompProfile", "type")
    if ctype is not None:
        return str(ctype)
    notes = w.annotations()
    legacy = notes.get(f"container.seccomp.security.alpha.kubernetes.io/{c.name}")
    if legacy is not None:
        return str(legacy)
    ptype = w.pod_get("securityContext", "seccompProfile", "type")
    if ptype is not None:
        return str(ptype)
    legacy = notes.get("seccomp.security.alpha.kubernetes.io/pod")
    return str(legacy) if legacy is not None else None


@rule(
    id="LSH-K8S-016", title="Seccomp profile not set or unconfined", severity=Severity.MEDIUM,
    nist=RUNTIME, aliases=("checkov:CKV_K8S_31",),
    remediation="Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod.",
    references=(SECCOMP_REF,),
    examples=(Example(pod(), True),
              Example(pod(spec="securityContext: {seccompProfile: {type: RuntimeDefault}}"),
                      False)),
)
def seccomp_unset(k: K) -> Iterator[Violation]:
    """Without a seccomp profile every system call is available to the container."""
    for w in k.workloads():
        for c in w.containers():
            profile = _seccomp(w, c)
            if profile is None or profile.lower() in ("unconfined", ""):
                yield k.violation(w.obj, f"seccomp profile is {profile or 'not set'}",
                                  line_at(c.data, "securityContext"), c)


@rule(
    id="LSH-K8S-017", title="Seccomp explicitly Unconfined", severity=Severity.HIGH,
    nist=RUNTIME, aliases=("kubesec:SeccompUnconfined",),
    remediation="Use `seccompProfile.type: RuntimeDefault` or a Localhost profile.",
    references=(SECCOMP_REF,),
    examples=(Example(pod("securityContext: {seccompProfile: {type: Unconfined}}"), True),
              Example(pod(), False)),
)
def seccomp_unconfined(k: K) -> Iterator[Violation]:
    """Unconfined turns seccomp off on purpose."""
    for w in k.workloads():
        for c in w.containers():
            profile = _seccomp(w, c)
            if profile is not None and profile.lower() == "unconfined":
                yield k.violation(w.obj, "seccomp profile Unconfined",
                                  line_at(c.data, "securityContext"), c)


@rule(
    id="LSH-K8S-018", title="AppArmor unconfined", severity=Severity.HIGH, nist=RUNTIME,
    remediation="Remove the unconfined AppArmor setting; use RuntimeDefault.",
    references=("https://kubernetes.io/docs/tutorials/security/apparmor/",),
    examples=(Example(pod(meta="annotations: {container.apparmor.security.beta.kubernetes.io/"
                               "app: unconfined}"), True),
              Example(pod("securityContext: {appArmorProfile: {type: Unconfined}}"), True,
                      "field"),
              Example(pod(spec="securityContext: {appArmorProfile: {type: RuntimeDefault}}"),
                      False)),
)
def apparmor_unconfined(k: K) -> Iterator[Violation]:
    """Unconfined disables the AppArmor profile the runtime would apply."""
    for w in k.workloads():
        notes = w.annotations()
        for c in w.containers():
            field_type = w.effective(c, "appArmorProfile")
            ftype = field_type.get("type") if isinstance(field_type, dict) else None
            note = notes.get(f"container.apparmor.security.beta.kubernetes.io/{c.name}")
            if str(ftype).lower() == "unconfined" or str(note).lower() == "unconfined":
                yield k.violation(w.obj, "AppArmor profile unconfined",
                                  line_at(c.data, "securityContext"), c)


@rule(
    id="LSH-K8S-019", title="Custom SELinux options", severity=Severity.MEDIUM, nist=RUNTIME,
    aliases=("kube-linter:selinux-options",),
    remediation="Leave seLinuxOptions to the runtime, or use only the type container_t, "
    "container_init_t or container_kvm_t.",
    references=(PSS,),
    examples=(Example(pod("securityContext: {seLinuxOptions: {type: spc_t}}"), True),
              Example(pod("securityContext: {seLinuxOptions: {level: 's0:c123,c456'}}"),
                      False)),
)
def selinux_custom(k: K) -> Iterator[Violation]:
    """A custom SELinux type or user/role (spc_t, unconfined_t) lifts the confinement."""
    allowed = {"container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
    for w in k.workloads():
        for c in w.containers():
            opts = w.effective(c, "seLinuxOptions")
            if not isinstance(opts, dict):
                continue
            bad = [f"type {opts['type']}" for _ in [0]
                   if opts.get("type") and str(opts["type"]) not in allowed]
            bad += [f"{key} {opts[key]}" for key in ("user", "role") if opts.get(key)]
            if bad:
                yield k.violation(w.obj, f"seLinuxOptions {', '.join(bad)}",
                                  line_at(c.data, "securityContext"), c)


@rule(
    id="LSH-K8S-020", title="procMount Unmasked", severity=Severity.HIGH, nist=RUNTIME,
    aliases=("polaris:procMount",),
    remediation="Remove `procMount: Unmasked` (Default masks sensitive /proc paths).",
    references=(PSS,),
    examples=(Example(pod("securityContext: {procMount: Unmasked}"), True),
              Example(pod("securityContext: {procMount: Default}"), False)),
)
def proc_unmasked(k: K) -> Iterator[Violation]:
    """An unmasked /proc exposes kernel interfaces the runtime normally hides."""
    for w in k.workloads():
        for c in w.containers():
            if str(c.get("securityContext", "procMount")).lower() == "unmasked":
                yield k.violation(w.obj, "procMount: Unmasked",
                                  line_at(c.data, "securityContext", "procMount"), c)


@rule(
    id="LSH-K8S-021", title="Unsafe sysctl", severity=Severity.HIGH, nist=RUNTIME,
    aliases=("kube-linter:unsafe-sysctls",),
    remediation="Set only the namespaced safe sysctls listed by the Pod Security Standards.",
    references=(K8S_DOCS + "tasks/administer-cluster/sysctl-cluster/",),
    examples=(Example(pod(spec="securityContext: {sysctls: [{name: kernel.msgmax, "
                               "value: '65536'}]}"), True),
              Example(pod(spec="securityContext: {sysctls: [{name: net.ipv4.tcp_syncookies, "
                               "value: '1'}]}"), False)),
)
def unsafe_sysctl(k: K) -> Iterator[Violation]:
    """Unsafe sysctls can affect other pods on the node or the node itself."""
    for w in k.workloads():
        sysctls = w.pod_get("securityContext", "sysctls")
        if not isinstance(sysctls, list):
            continue
        bad = [str(s.get("name")) for s in sysctls
               if isinstance(s, dict) and str(s.get("name")) not in SAFE_SYSCTLS]
        if bad:
            yield k.violation(w.obj, f"unsafe sysctls {', '.join(bad)}",
                              line_at(w.spec, "securityContext", "sysctls"), anchor="sysctls")


@rule(
    id="LSH-K8S-022", title="Pod shares its process namespace", severity=Severity.LOW,
    nist=RUNTIME,
    remediation="Remove `shareProcessNamespace: true` unless a sidecar must see the others.",
    references=(K8S_DOCS + "tasks/configure-pod-container/share-process-namespace/",),
    examples=(Example(pod(spec="shareProcessNamespace: true"), True), Example(pod(), False)),
)
def share_process_namespace(k: K) -> Iterator[Violation]:
    """Containers of the pod can see and signal each other's processes and read their
    filesystems through /proc."""
    for w in k.workloads():
        if truthy(w.pod_get("shareProcessNamespace")):
            yield k.violation(w.obj, "shareProcessNamespace: true",
                              line_at(w.spec, "shareProcessNamespace"), anchor="shareProcess")


RULES = (seccomp_unset, seccomp_unconfined, apparmor_unconfined, selinux_custom, proc_unmasked,
         unsafe_sysctl, share_process_namespace)
