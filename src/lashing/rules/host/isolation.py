"""Running containers' isolation (CIS Docker Benchmark v1.6 section 5, the checks
running.py does not make): AppArmor, SELinux and seccomp left on, host devices,
shared mount propagation, the host's UTS namespace, ulimits, cgroup parent, and
the engine's default bridge network.

Read from each container's `GET /containers/{id}/json`; whether the engine
enforces AppArmor or SELinux at all comes from `GET /info` SecurityOptions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from lashing.host.engine import Container
from lashing.host.subject import HostSubject as H
from lashing.model import Severity, Surface
from lashing.rules.framework import Example, Violation, rule
from lashing.rules.host.running import _each, _examples, _namespace, _violation, inspect
from lashing.rules.host.spec import BENCH, CIS, EngineSpec

TAG = ("running",)
B = Surface.BUILD_HOST
SECURITY_OPT = "https://docs.docker.com/engine/security/"
APPARMOR = ("name=apparmor",)
SELINUX = ("name=selinux",)
# The default network of each engine: Docker's docker0 "bridge", Podman's "podman".
DEFAULT_NETWORKS = frozenset({"bridge", "podman"})


def _security_opts(c: Container) -> list[tuple[str, str]]:
    """HostConfig.SecurityOpt as (name, value): "apparmor=x", "label:disable"..."""
    opts = c.host_config.get("SecurityOpt")
    out = []
    for opt in opts if isinstance(opts, list) else []:
        text = str(opt)
        sep = "=" if "=" in text and (":" not in text or text.index("=") < text.index(":")) \
            else ":"
        name, _, value = text.partition(sep)
        out.append((name.strip().lower(), value.strip()))
    return out


def _opt(c: Container, name: str) -> str | None:
    return next((v for n, v in _security_opts(c) if n == name), None)


@rule(
    id="LSH-HOST-115", title="Container runs without an AppArmor profile",
    severity=Severity.MEDIUM, surface=B, nist=("4.4.3", "4.5.2"),
    aliases=("cis-docker-1.6:5.2",), tags=TAG, references=(CIS, BENCH, SECURITY_OPT),
    remediation="Drop --security-opt apparmor=unconfined; keep the engine's default "
    "profile (docker-default, containers-default) or load a custom one.",
    examples=_examples(
        inspect(SecurityOpt=["apparmor=unconfined"]),
        Example(EngineSpec((inspect(),), APPARMOR), True, "AppArmor host, no profile"),
        Example(EngineSpec(({**inspect(), "AppArmorProfile": "docker-default"},), APPARMOR),
                False, "default profile"),
    ),
)
def apparmor(s: H) -> Iterator[Violation]:
    """AppArmor limits what an escaped process may touch on the host."""
    enforced = s.engine is not None and s.engine.supports("apparmor")
    for c in s.containers():
        profile = str(c.inspect.get("AppArmorProfile") or "")
        if _opt(c, "apparmor") == "unconfined" or profile == "unconfined":
            yield _violation(c, "runs with AppArmor unconfined", "apparmor")
        elif enforced and not profile and c.host_config.get("Privileged") is not True:
            yield _violation(c, "has no AppArmor profile on a host that enforces AppArmor",
                             "apparmor")


@rule(
    id="LSH-HOST-116", title="Container runs with SELinux separation disabled",
    severity=Severity.MEDIUM, surface=B, nist=("4.4.3", "4.5.2"),
    aliases=("cis-docker-1.6:5.3",), tags=TAG, references=(CIS, BENCH, SECURITY_OPT),
    remediation="Drop --security-opt label=disable (label:disable); let the engine give "
    "each container its own SELinux label (container_t with an MCS category).",
    examples=_examples(
        inspect(SecurityOpt=["label=disable"]),
        Example(inspect(SecurityOpt=["label:disable", "no-new-privileges"]), True, "colon"),
        Example(EngineSpec(({**inspect(), "ProcessLabel": ""},), SELINUX), True,
                "SELinux host, no label"),
        Example(EngineSpec(({**inspect(), "ProcessLabel":
                             "system_u:system_r:container_t:s0:c1,c2"},), SELINUX), False,
                "labelled"),
        Example(inspect(SecurityOpt=["label=type:container_t"]), False, "custom type"),
    ),
)
def selinux(s: H) -> Iterator[Violation]:
    """SELinux labels keep one container's processes from another's files and the host's."""
    enforced = s.engine is not None and s.engine.supports("selinux")
    for c in s.containers():
        if any(n == "label" and v == "disable" for n, v in _security_opts(c)):
            yield _violation(c, "runs with SELinux labelling disabled (label=disable)",
                             "selinux")
        elif enforced and not c.inspect.get("ProcessLabel") \
                and c.host_config.get("Privileged") is not True:
            yield _violation(c, "has no SELinux process label on a host that enforces "
                             "SELinux", "selinux")


def seccomp_msg(c: Container) -> str | None:
    """Without seccomp the container may call every system call of the shared kernel."""
    return "runs with seccomp unconfined" if _opt(c, "seccomp") == "unconfined" else None


seccomp = rule(
    id="LSH-HOST-117", title="Container runs with the seccomp profile disabled",
    severity=Severity.HIGH, surface=B, nist=("4.4.3", "4.5.2"),
    aliases=("cis-docker-1.6:5.22",), tags=TAG, references=(CIS, BENCH, SECURITY_OPT),
    remediation="Drop --security-opt seccomp=unconfined; keep the default profile or give "
    "a custom one that allows only the calls the workload makes.",
    examples=_examples(inspect(SecurityOpt=["seccomp=unconfined"]),
                       Example(inspect(SecurityOpt=["seccomp:unconfined"]), True, "colon"),
                       Example(inspect(SecurityOpt=["seccomp=/etc/app.json"]), False,
                               "custom profile")),
)(_each(seccomp_msg))


def devices_msg(c: Container) -> str | None:
    """A host device in a container bypasses the kernel's isolation of that hardware."""
    devices = c.host_config.get("Devices")
    found = []
    for d in devices if isinstance(devices, list) else []:
        if isinstance(d, Mapping) and d.get("PathOnHost"):
            perms = str(d.get("CgroupPermissions") or "rwm")
            found.append(f"{d['PathOnHost']}:{d.get('PathInContainer') or d['PathOnHost']}"
                         f":{perms}")
    return f"has host devices {', '.join(sorted(found))}" if found else None


devices = rule(
    id="LSH-HOST-118", title="Container has host devices", severity=Severity.MEDIUM,
    surface=B, nist=("4.4.3", "4.5.2"), aliases=("cis-docker-1.6:5.18",), tags=TAG,
    references=(CIS, BENCH),
    remediation="Remove --device unless the workload needs the hardware; then give it "
    "read-only access (--device /dev/x:/dev/x:r).",
    examples=_examples(inspect(Devices=[{"PathOnHost": "/dev/sda", "PathInContainer":
                                         "/dev/xvda", "CgroupPermissions": "rwm"}]),
                       Example(inspect(Devices=None), False, "none")),
)(_each(devices_msg))


@rule(
    id="LSH-HOST-119", title="Container mount propagation is shared",
    severity=Severity.MEDIUM, surface=B, nist=("4.4.3", "4.5.5"),
    aliases=("cis-docker-1.6:5.20",), tags=TAG, references=(CIS, BENCH),
    remediation="Mount volumes with private (the default) or slave propagation; drop "
    "shared and rshared.",
    examples=_examples(
        {**inspect(), "Mounts": [{"Type": "bind", "Source": "/srv/app", "Destination":
                                  "/data", "RW": True, "Propagation": "rshared"}]},
        good={**inspect(), "Mounts": [{"Type": "bind", "Source": "/srv/app", "Destination":
                                       "/data", "RW": True, "Propagation": "rprivate"}]},
    ),
)
def propagation(s: H) -> Iterator[Violation]:
    """A mount made inside the container then appears on the host, and the reverse."""
    for c in s.containers():
        mounts = c.inspect.get("Mounts")
        for m in mounts if isinstance(mounts, list) else []:
            if isinstance(m, Mapping) and str(m.get("Propagation") or "") in ("shared",
                                                                              "rshared"):
                yield _violation(c, f"mounts {m.get('Source')} on {m.get('Destination')} "
                                 f"with {m.get('Propagation')} propagation",
                                 f"propagation:{m.get('Destination')}")


host_uts = rule(
    id="LSH-HOST-120", title="Container shares the host's UTS namespace",
    severity=Severity.MEDIUM, surface=B, nist=("4.5.2", "4.4.3"),
    aliases=("cis-docker-1.6:5.21",), tags=TAG, references=(CIS, BENCH),
    remediation="Drop --uts host: the container can change the host's hostname.",
    examples=_examples(inspect(UTSMode="host")),
)(_each(_namespace("UTSMode", "UTS")))


def _limit(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def ulimits_msg(c: Container) -> str | None:
    """Without ulimits of its own a container lives on the engine's defaults; an
    unlimited one may exhaust the host's file handles or processes."""
    limits = c.host_config.get("Ulimits")
    if not isinstance(limits, list) or not limits:
        return "sets no ulimits (the engine's defaults apply)"
    unlimited = sorted(str(u.get("Name")) for u in limits if isinstance(u, Mapping)
                       and -1 in (_limit(u.get("Soft")), _limit(u.get("Hard"))))
    return f"sets unlimited {', '.join(unlimited)}" if unlimited else None


ulimits = rule(
    id="LSH-HOST-121", title="Container has no ulimits of its own, or unlimited ones",
    severity=Severity.LOW, surface=B, nist=("4.4.3",), aliases=("cis-docker-1.6:5.19",),
    tags=TAG, references=(CIS, BENCH),
    remediation="Give the container --ulimit nofile=SOFT:HARD and nproc limits that fit "
    "the workload; never -1 (unlimited).",
    examples=_examples(inspect(Ulimits=None),
                       Example(inspect(Ulimits=[{"Name": "nproc", "Soft": -1, "Hard": -1}]),
                               True, "unlimited")),
)(_each(ulimits_msg))


def cgroup_msg(c: Container) -> str | None:
    """A container in a cgroup of its choosing escapes the engine's resource accounting."""
    parent = str(c.host_config.get("CgroupParent") or "")
    return f"runs under cgroup parent {parent}" if parent else None


cgroup = rule(
    id="LSH-HOST-122", title="Container runs under a non-default cgroup parent",
    severity=Severity.LOW, surface=B, nist=("4.4.3",), aliases=("cis-docker-1.6:5.25",),
    tags=TAG, references=(CIS, BENCH),
    remediation="Drop --cgroup-parent unless that cgroup is deliberately limited.",
    examples=_examples(inspect(CgroupParent="/unlimited")),
)(_each(cgroup_msg))


def bridge_msg(c: Container) -> str | None:
    """Every container on the default bridge can reach every other one on it."""
    settings = c.inspect.get("NetworkSettings")
    networks = settings.get("Networks") if isinstance(settings, Mapping) else None
    names = set(networks) if isinstance(networks, Mapping) else set()
    mode = str(c.host_config.get("NetworkMode") or "")
    # Docker's "default" mode is docker0; Podman says "bridge" for any bridge network
    on_default = names & DEFAULT_NETWORKS or mode == "default" or (not names and
                                                                  mode == "bridge")
    return f"is on the default network {', '.join(sorted(names & DEFAULT_NETWORKS) or [mode])}" \
        if on_default else None


default_bridge = rule(
    id="LSH-HOST-123", title="Container is on the engine's default bridge network",
    severity=Severity.LOW, surface=B, nist=("4.4.2", "4.3.3"),
    aliases=("cis-docker-1.6:5.30",), tags=TAG, references=(CIS, BENCH),
    remediation="Create a user-defined network per application (docker network create) "
    "and attach the container to it instead of docker0.",
    examples=_examples(inspect(NetworkMode="bridge"),
                       Example(inspect(NetworkMode="default"), True, "default"),
                       Example(inspect(NetworkMode="podman"), True, "podman"),
                       Example(inspect(NetworkMode="none"), False, "none")),
)(_each(bridge_msg))


RULES = (apparmor, selinux, seccomp, devices, propagation, host_uts, ulimits, cgroup,
         default_bridge)
