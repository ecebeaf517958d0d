"""containers tooling (podman, buildah, skopeo, CRI-O): /etc/containers/
policy.json, registries.conf, containers.conf and storage.conf."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lashing.host.subject import HostSubject as H
from lashing.host.view import Kind
from lashing.model import Severity, Surface
from lashing.rules.framework import Example, NotApplicable, Violation, rule
from lashing.rules.host.spec import F, host

TAG = ("containers",)
B = Surface.BUILD_HOST
POLICY = "/etc/containers/policy.json"
REGISTRIES = "/etc/containers/registries.conf"
CONTAINERS_CONF = "/etc/containers/containers.conf"
STORAGE = "/etc/containers/storage.conf"
SIGNED = {"signedBy", "sigstoreSigned"}


def _types(reqs: Any) -> set[str]:
    return {str(r.get("type")) for r in reqs if isinstance(r, dict)} if isinstance(
        reqs, list) else set()


@rule(
    id="LSH-HOST-060", title="Image trust policy accepts any image", severity=Severity.HIGH,
    surface=B, nist=("4.1.5", "4.2.1"), tags=TAG,
    remediation='Set "default": [{"type": "reject"}] in /etc/containers/policy.json and '
    "allow registries with signedBy or sigstoreSigned requirements.",
    examples=(
        Example(host(F(POLICY, '{"default": [{"type": "insecureAcceptAnything"}]}')), True),
        Example(host(F(POLICY, '{"default": [{"type": "reject"}], "transports": {"docker": '
                       '{"registry.example.com": [{"type": "sigstoreSigned", '
                       '"keyPath": "/etc/pki/k.pub"}], "docker.io": '
                       '[{"type": "insecureAcceptAnything"}]}}}')), True, "scope"),
        Example(host(F(POLICY, '{"default": [{"type": "reject"}], "transports": {"docker": '
                       '{"registry.example.com": [{"type": "signedBy", "keyType": '
                       '"GPGKeys", "keyPath": "/etc/pki/k.gpg"}]}}}')), False),
    ),
)
def policy(s: H) -> Iterator[Violation]:
    """podman, buildah and skopeo run whatever a registry serves."""
    data = s.json(POLICY)
    if data is None:
        raise NotApplicable(f"no {POLICY}")
    if not isinstance(data, dict):
        return
    if "insecureAcceptAnything" in _types(data.get("default")):
        yield s.violation(POLICY, "the default policy is insecureAcceptAnything: unsigned "
                          "images from any registry are accepted", "default")
    transports = data.get("transports") or {}
    for transport in ("docker", "docker-daemon", "atomic"):
        scopes = transports.get(transport) or {} if isinstance(transports, dict) else {}
        for scope, reqs in scopes.items() if isinstance(scopes, dict) else []:
            if transport == "docker" and "insecureAcceptAnything" in _types(reqs):
                yield s.violation(POLICY, f"{transport}:{scope or '(all)'} accepts any image",
                                  f"{transport}:{scope}")


@rule(
    id="LSH-HOST-061", title="Short image names resolve through several registries",
    severity=Severity.MEDIUM, surface=B, nist=("4.1.5",), tags=TAG,
    remediation="Use fully qualified image names; list one trusted registry in "
    'unqualified-search-registries and set short-name-mode = "enforcing".',
    examples=(
        Example(host(F(REGISTRIES, 'unqualified-search-registries = ["registry.fedoraproject'
                       '.org", "docker.io"]\n')), True),
        Example(host(F(REGISTRIES, 'unqualified-search-registries = ["docker.io"]\n'
                       'short-name-mode = "permissive"\n')), True, "permissive"),
        Example(host(F(REGISTRIES, 'unqualified-search-registries = ["registry.example.com"]'
                       '\nshort-name-mode = "enforcing"\n')), False),
    ),
)
def short_names(s: H) -> Iterator[Violation]:
    """`podman pull app` takes whichever registry answers first: name squatting."""
    data = s.toml(REGISTRIES)
    if data is None:
        raise NotApplicable(f"no {REGISTRIES}")
    regs = data.get("unqualified-search-registries") or []
    mode = str(data.get("short-name-mode") or "enforcing")
    if len(regs) > 1:
        yield s.violation(REGISTRIES, "short names are searched in " + ", ".join(map(str, regs)),
                          "unqualified-search-registries")
    elif regs and mode in ("permissive", "disabled"):
        yield s.violation(REGISTRIES, f"short-name-mode is {mode}", "short-name-mode")


@rule(
    id="LSH-HOST-062", title="registries.conf marks a registry insecure",
    severity=Severity.HIGH, surface=B, nist=("4.2.1",), tags=TAG,
    remediation="Remove insecure = true; give the registry a certificate in "
    "/etc/containers/certs.d/HOST/ca.crt. Mirrors should be HTTPS too.",
    examples=(
        Example(host(F(REGISTRIES, '[[registry]]\nlocation = "registry.lan:5000"\n'
                       "insecure = true\n")), True),
        Example(host(F(REGISTRIES, '[registries.insecure]\nregistries = ["reg.lan"]\n')), True,
                "v1 format"),
        Example(host(F(REGISTRIES, '[[registry]]\nlocation = "bad.example"\nblocked = true\n'
                       '[[registry]]\nlocation = "registry.lan"\n')), False),
    ),
)
def insecure_registry(s: H) -> Iterator[Violation]:
    """Images from an insecure registry can be swapped on the wire."""
    data = s.toml(REGISTRIES)
    if data is None:
        raise NotApplicable(f"no {REGISTRIES}")
    for reg in data.get("registry") or []:
        if not isinstance(reg, dict):
            continue
        where = str(reg.get("location") or reg.get("prefix") or "?")
        if reg.get("insecure") is True and not reg.get("blocked"):
            yield s.violation(REGISTRIES, f"{where} is insecure (no TLS verification)", where)
        for mirror in reg.get("mirror") or []:
            if isinstance(mirror, dict) and mirror.get("insecure") is True:
                yield s.violation(REGISTRIES, f"mirror {mirror.get('location')} of {where} "
                                  "is insecure", f"{where}:mirror")
    v1 = data.get("registries") or {}
    for name in (v1.get("insecure") or {}).get("registries") or [] if isinstance(v1, dict) \
            else []:
        yield s.violation(REGISTRIES, f"{name} is insecure (no TLS verification)", str(name))


DANGEROUS_CAPS = {"SYS_ADMIN", "NET_ADMIN", "SYS_MODULE", "SYS_PTRACE", "DAC_READ_SEARCH",
                  "SYS_RAWIO", "BPF", "PERFMON"}


@rule(
    id="LSH-HOST-063", title="containers.conf weakens container defaults",
    severity=Severity.MEDIUM, surface=B, nist=("4.4.3",), tags=TAG,
    remediation="In containers.conf keep seccomp and AppArmor profiles, no dangerous "
    "default_capabilities, and userns not 'host' for rootful builds.",
    examples=(
        Example(host(F(CONTAINERS_CONF, '[containers]\nseccomp_profile = "unconfined"\n'
                       'default_capabilities = ["CHOWN", "SYS_ADMIN"]\n')), True),
        Example(host(F(CONTAINERS_CONF, '[containers]\ndefault_capabilities = ["CHOWN"]\n'
                       "no_new_privileges = true\n")), False),
    ),
)
def containers_conf(s: H) -> Iterator[Violation]:
    """These defaults apply to every podman and buildah container on the host."""
    data = s.toml(CONTAINERS_CONF)
    if data is None:
        raise NotApplicable(f"no {CONTAINERS_CONF}")
    c = data.get("containers") or {}
    if not isinstance(c, dict):
        return
    for key in ("seccomp_profile", "apparmor_profile"):
        if str(c.get(key) or "").lower() == "unconfined":
            yield s.violation(CONTAINERS_CONF, f"{key} is unconfined", key)
    caps = {str(x).upper().removeprefix("CAP_") for x in c.get("default_capabilities") or []}
    if caps & DANGEROUS_CAPS:
        yield s.violation(CONTAINERS_CONF, "default_capabilities include "
                          + ", ".join(sorted(caps & DANGEROUS_CAPS)), "default_capabilities")
    if str(c.get("privileged") or "").lower() == "true" or c.get("privileged") is True:
        yield s.violation(CONTAINERS_CONF, "containers run privileged by default", "privileged")


@rule(
    id="LSH-HOST-064", title="Container storage is writable by other users",
    severity=Severity.HIGH, surface=B, nist=("4.5.5",), tags=TAG,
    remediation="chown root:root and chmod 700 the storage graphroot "
    "(/var/lib/containers/storage); check storage.conf's graphroot.",
    examples=(
        Example(host(F(STORAGE, '[storage]\ndriver = "overlay"\ngraphroot = "/srv/c"\n'),
                     F("/srv/c", None, 0o777, kind=Kind.DIR)), True),
        Example(host(F(STORAGE, '[storage]\ndriver = "overlay"\ngraphroot = "/srv/c"\n'),
                     F("/srv/c", None, 0o700, kind=Kind.DIR)), False),
    ),
)
def storage(s: H) -> Iterator[Violation]:
    """Whoever writes the image store changes every image the host builds or runs."""
    data = s.toml(STORAGE)
    root = "/var/lib/containers/storage"
    if data is not None:
        root = str((data.get("storage") or {}).get("graphroot") or root)
    elif not s.exists(root):
        raise NotApplicable("no containers storage")
    st = s.stat(root)
    if st is None:
        raise NotApplicable(f"{root} does not exist yet")
    if st.uid != 0 or st.mode & 0o022:
        yield s.violation(root, f"{root} is uid {st.uid} mode {st.mode:04o}", "graphroot")


RULES = (policy, short_names, insecure_registry, containers_conf, storage)
