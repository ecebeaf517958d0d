"""Rootless and unprivileged builds: rootful Docker, sub-id ranges for
podman/buildah, BuildKit entitlements, containerd defaults."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from lashing.host.subject import HostSubject as H
from lashing.model import Severity, Surface
from lashing.rules.framework import Example, NotApplicable, Violation, rule
from lashing.rules.host.spec import CIS, DEBIAN_UNIT, PASSWD, F, docker, host

TAG = ("rootless",)
B = Surface.BUILD_HOST
BUILDKITD = ("/etc/buildkit/buildkitd.toml",)
CONTAINERD = "/etc/containerd/config.toml"
PODMAN = ("/usr/bin/podman", "/usr/bin/buildah")
RUNNER = PASSWD.content if isinstance(PASSWD.content, str) else ""


@rule(
    id="LSH-HOST-050", title="Docker daemon runs as root", severity=Severity.LOW, surface=B,
    nist=("4.5.2", "4.5.4"), aliases=("cis-docker-1.6:2.1",), tags=TAG, references=(CIS,),
    remediation="Run Docker in rootless mode (dockerd-rootless-setuptool.sh install) or "
    "build with rootless podman/buildah or BuildKit.",
    examples=(
        Example(docker(DEBIAN_UNIT), True),
        Example(docker(DEBIAN_UNIT, F("/etc/passwd", RUNNER + "ci:x:1000:1000::/home/ci:/bin/sh\n"),
                       F("/home/ci/.config/systemd/user/docker.service", "")), False),
        Example(docker(F("/etc/docker/daemon.json", '{"userns-remap": "default"}')), False,
                "remapped"),
    ),
)
def rootful(s: H) -> Iterator[Violation]:
    """A daemon bug or a container escape lands as root."""
    s.need_docker()
    if s.rootless_docker:
        return
    if s.daemon.get("userns-remap"):
        return
    yield s.violation("/usr/sbin/dockerd", "dockerd runs as root, without rootless mode or "
                      "user-namespace remapping", "rootful")


@rule(
    id="LSH-HOST-051", title="podman/buildah users have no subordinate id ranges",
    severity=Severity.MEDIUM, surface=B, nist=("4.5.4",), tags=TAG,
    remediation="Give each build user a range in /etc/subuid and /etc/subgid "
    "(usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER) so builds run "
    "rootless; make ranges not overlap.",
    examples=(
        Example(host(F("/usr/bin/podman", "", 0o755), F("/etc/subuid", ""),
                     F("/etc/subgid", "")), True),
        Example(host(F("/usr/bin/podman", "", 0o755), F("/etc/subuid", "a:100000:65536\n"
                                                        "b:100000:65536\n"),
                     F("/etc/subgid", "a:100000:65536\n")), True, "overlap"),
        Example(host(F("/usr/bin/podman", "", 0o755), F("/etc/subuid", "ci:100000:65536\n"),
                     F("/etc/subgid", "ci:100000:65536\n")), False),
        Example(host(), False, "no podman"),
    ),
)
def subids(s: H) -> Iterator[Violation]:
    """Without sub-id ranges podman and buildah can only build as root."""
    if not s.installed(*PODMAN):
        raise NotApplicable("neither podman nor buildah is installed")
    for path in ("/etc/subuid", "/etc/subgid"):
        ranges = s.subids(path)
        if not ranges:
            yield s.violation(path, f"{path} gives no user a subordinate id range: rootless "
                              "builds are impossible", "empty")
            continue
        flat = sorted((start, start + count, user) for user, rs in ranges.items()
                      for start, count in rs)
        for (_a0, a1, ua), (b0, _b1, ub) in itertools.pairwise(flat):
            if b0 < a1 and ua != ub:
                yield s.violation(path, f"ranges of {ua} and {ub} overlap: their "
                                  "containers share host uids", f"overlap:{ua}:{ub}")


def _deep(data: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(k)
    return data


@rule(
    id="LSH-HOST-052", title="BuildKit allows insecure entitlements", severity=Severity.HIGH,
    surface=B, nist=("4.5.2", "4.4.3"), tags=TAG,
    remediation="Remove security.insecure and network.host from insecure-entitlements in "
    "buildkitd.toml (and --allow-insecure-entitlement from buildkitd's command line).",
    examples=(
        Example(host(F("/etc/buildkit/buildkitd.toml", 'insecure-entitlements = '
                       '["network.host", "security.insecure"]\n')), True),
        Example(host(F("/etc/buildkit/buildkitd.toml", "[worker.oci]\nenabled = true\n"
                       "rootless = true\n")), False),
    ),
)
def buildkit(s: H) -> Iterator[Violation]:
    """A build step with security.insecure runs as a privileged container."""
    found = False
    for path in BUILDKITD:
        data = s.toml(path)
        if data is None:
            continue
        found = True
        ents = data.get("insecure-entitlements") or []
        bad = [str(e) for e in ents if str(e) in ("security.insecure", "network.host")]
        if bad:
            yield s.violation(path, "builds may request " + ", ".join(bad),
                              "insecure-entitlements")
    if s.live is not None:
        proc = s.live.process("buildkitd")
        if proc is not None:
            found = True
            for a in proc.argv:
                if "allow-insecure-entitlement" in a:
                    yield s.violation(f"/proc/{proc.pid}/cmdline", "buildkitd runs with "
                                      + " ".join(proc.argv[1:]), "cmdline")
    if not found:
        raise NotApplicable("no BuildKit configuration")


@rule(
    id="LSH-HOST-053", title="containerd weakens container isolation by default",
    severity=Severity.MEDIUM, surface=B, nist=("4.4.3", "4.5.4"), tags=TAG,
    remediation="In /etc/containerd/config.toml remove grpc tcp_address (or protect it with "
    "TLS), and keep disable_apparmor and unset_seccomp_profile off.",
    examples=(
        Example(host(F(CONTAINERD, '[grpc]\ntcp_address = "0.0.0.0:1234"\n')), True),
        Example(host(F(CONTAINERD, '[plugins."io.containerd.grpc.v1.cri"]\n'
                       "disable_apparmor = true\n")), True, "apparmor"),
        Example(host(F(CONTAINERD, 'version = 2\n[grpc]\naddress = '
                       '"/run/containerd/containerd.sock"\n')), False),
    ),
)
def containerd(s: H) -> Iterator[Violation]:
    """containerd's defaults apply to every container Kubernetes or nerdctl starts."""
    data = s.toml(CONTAINERD)
    if data is None:
        raise NotApplicable("no /etc/containerd/config.toml")
    tcp = _deep(data, "grpc", "tcp_address")
    if tcp and not _deep(data, "grpc", "tcp_tls_cert"):
        yield s.violation(CONTAINERD, f"the containerd API listens on tcp {tcp} without "
                          "TLS", "grpc.tcp_address")
    plugins = data.get("plugins") or {}
    for name, cfg in plugins.items() if isinstance(plugins, dict) else []:
        if not isinstance(cfg, dict) or "cri" not in name:
            continue
        for key in ("disable_apparmor", "unset_seccomp_profile", "privileged_without_host"
                    "_devices_all_devices_allowed"):
            if cfg.get(key) is True or (key == "unset_seccomp_profile" and cfg.get(key)):
                yield s.violation(CONTAINERD, f"{name}: {key} = {cfg.get(key)}", key)


RULES = (rootful, subids, buildkit, containerd)
