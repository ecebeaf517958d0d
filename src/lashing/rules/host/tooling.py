"""containers tooling (podman, buildah, skopeo, CRI-O): /etc/containers/
policy.json, registries.conf, containers.conf and storage.conf."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from lashing.host.containers_config import Merged, Scope
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
REG_D = "/etc/containers/registries.conf.d"
CONF_D = "/etc/containers/containers.conf.d"
ALICE = F("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"
          "alice:x:1000:1000::/home/alice:/bin/bash\n")
ALICE_CONF = "/home/alice/.config/containers"
REJECT = '{"default": [{"type": "reject"}]}'


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
        Example(host(F(POLICY, REJECT), ALICE, F(f"{ALICE_CONF}/policy.json",
                     '{"default": [{"type": "insecureAcceptAnything"}]}')), True, "user"),
        Example(host(F(POLICY, REJECT), ALICE, F(f"{ALICE_CONF}/storage.conf", "")), False,
                "user without a policy of their own"),
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
    found = False
    for scope in s.containers_scopes():
        path = s.containers_file("policy.json", scope)
        data = s.json(path) if path else None
        if path is None or data is None:
            continue
        found = True
        if isinstance(data, dict):
            yield from _policy(s, path, data, scope.prefix)
    if not found:
        raise NotApplicable(f"no {POLICY}")


def _policy(s: H, path: str, data: dict[str, Any], who: str) -> Iterator[Violation]:
    if "insecureAcceptAnything" in _types(data.get("default")):
        yield s.violation(path, f"{who}the default policy is insecureAcceptAnything: "
                          "unsigned images from any registry are accepted", "default")
    transports = data.get("transports") or {}
    for transport in ("docker", "docker-daemon", "atomic"):
        scopes = transports.get(transport) or {} if isinstance(transports, dict) else {}
        for scope, reqs in scopes.items() if isinstance(scopes, dict) else []:
            if transport == "docker" and "insecureAcceptAnything" in _types(reqs):
                yield s.violation(path, f"{who}{transport}:{scope or '(all)'} accepts any "
                                  "image", f"{transport}:{scope}")


def _each_conf(s: H, read: Callable[[Scope], Merged | None], what: str) -> list[Merged]:
    """The effective configuration of every scope that has one; NotApplicable if none."""
    found = [m for m in (read(scope) for scope in s.containers_scopes()) if m is not None]
    if not found:
        raise NotApplicable(f"no {what}")
    return found


def _own(m: Merged, violations: Iterator[Violation]) -> Iterator[Violation]:
    """A scope's violations, without those it inherits from the system's files."""
    return (v for v in violations if not m.inherited(v.location.path or ""))


@rule(
    id="LSH-HOST-061", title="Short image names resolve through several registries",
    severity=Severity.MEDIUM, surface=B, nist=("4.1.5",), tags=TAG,
    remediation="Use fully qualified image names; list one trusted registry in "
    'unqualified-search-registries and set short-name-mode = "enforcing".',
    examples=(
        Example(host(F(REGISTRIES, 'unqualified-search-registries = ["registry.fedoraproject'
                       '.org", "docker.io"]\n')), True),
        Example(host(F(REGISTRIES, 'unqualified-search-registries = ["r.example.com"]\n'),
                     F(f"{REG_D}/50-hub.conf", 'unqualified-search-registries = '
                       '["r.example.com", "docker.io"]\n')), True, "drop-in"),
        Example(host(F(REGISTRIES, 'unqualified-search-registries = ["a.example", "b"]\n'),
                     F(f"{REG_D}/99-one.conf", 'unqualified-search-registries = '
                       '["a.example"]\n')), False, "drop-in narrows"),
        Example(host(F(REGISTRIES, 'unqualified-search-registries = ["docker.io"]\n'
                       'short-name-mode = "permissive"\n')), True, "permissive"),
        Example(host(F(REGISTRIES, 'unqualified-search-registries = ["registry.example.com"]'
                       '\nshort-name-mode = "enforcing"\n')), False),
    ),
)
def short_names(s: H) -> Iterator[Violation]:
    """`podman pull app` takes whichever registry answers first: name squatting."""
    for m in _each_conf(s, s.registries_conf, REGISTRIES):
        yield from _own(m, _short_names(s, m))


def _short_names(s: H, m: Merged) -> Iterator[Violation]:
    regs = m.data.get("unqualified-search-registries") or []
    mode = str(m.data.get("short-name-mode") or "enforcing")
    who = m.scope.prefix
    if isinstance(regs, list) and len(regs) > 1:
        key = "unqualified-search-registries"
        yield s.violation(m.where(key), f"{who}short names are searched in "
                          + ", ".join(map(str, regs)), key)
    elif regs and mode in ("permissive", "disabled"):
        yield s.violation(m.where("short-name-mode"), f"{who}short-name-mode is {mode}",
                          "short-name-mode")


@rule(
    id="LSH-HOST-062", title="registries.conf marks a registry insecure",
    severity=Severity.HIGH, surface=B, nist=("4.2.1",), tags=TAG,
    remediation="Remove insecure = true; give the registry a certificate in "
    "/etc/containers/certs.d/HOST/ca.crt. Mirrors should be HTTPS too.",
    examples=(
        Example(host(F(REGISTRIES, '[[registry]]\nlocation = "registry.lan:5000"\n'
                       "insecure = true\n")), True),
        Example(host(F(REGISTRIES, '[[registry]]\nlocation = "reg.lan"\n'), ALICE,
                     F(f"{ALICE_CONF}/registries.conf.d/a.conf", '[[registry]]\n'
                       'location = "mine.lan"\ninsecure = true\n')), True, "user drop-in"),
        Example(host(F(REGISTRIES, '[[registry]]\nlocation = "reg.lan"\ninsecure = true\n'),
                     F(f"{REG_D}/fix.conf", '[[registry]]\nlocation = "reg.lan"\n')), False,
                "drop-in replaces the registry"),
        Example(host(F(REGISTRIES, '[registries.insecure]\nregistries = ["reg.lan"]\n')), True,
                "v1 format"),
        Example(host(F(REGISTRIES, '[[registry]]\nlocation = "bad.example"\nblocked = true\n'
                       '[[registry]]\nlocation = "registry.lan"\n')), False),
    ),
)
def insecure_registry(s: H) -> Iterator[Violation]:
    """Images from an insecure registry can be swapped on the wire."""
    for m in _each_conf(s, s.registries_conf, REGISTRIES):
        yield from _own(m, _insecure_registry(s, m))


def _insecure_registry(s: H, m: Merged) -> Iterator[Violation]:
    who = m.scope.prefix
    for reg in m.data.get("registry") or []:
        if not isinstance(reg, dict):
            continue
        where = str(reg.get("location") or reg.get("prefix") or "?")
        path = m.where(f"registry:{reg.get('prefix') or reg.get('location') or ''}")
        if reg.get("insecure") is True and not reg.get("blocked"):
            yield s.violation(path, f"{who}{where} is insecure (no TLS verification)",
                              where)
        for mirror in reg.get("mirror") or []:
            if isinstance(mirror, dict) and mirror.get("insecure") is True:
                yield s.violation(path, f"{who}mirror {mirror.get('location')} of "
                                  f"{where} is insecure", f"{where}:mirror")
    v1 = m.table("registries")
    insecure = v1.get("insecure")
    for name in insecure.get("registries") or [] if isinstance(insecure, dict) else []:
        yield s.violation(m.where("registries"), f"{who}{name} is insecure (no TLS "
                          "verification)", str(name))


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
        Example(host(F(CONTAINERS_CONF, "[containers]\nno_new_privileges = true\n"),
                     F(f"{CONF_D}/10-debug.conf", '[containers]\napparmor_profile = '
                       '"unconfined"\n')), True, "drop-in"),
        Example(host(ALICE, F(f"{ALICE_CONF}/containers.conf",
                              "[containers]\nprivileged = true\n")), True, "user"),
        Example(host(F(CONTAINERS_CONF, '[containers]\nseccomp_profile = "unconfined"\n'),
                     F(f"{CONF_D}/99-fix.conf", '[containers]\nseccomp_profile = '
                       '"/usr/share/containers/seccomp.json"\n')), False, "drop-in fixes"),
        Example(host(F(CONTAINERS_CONF, '[containers]\ndefault_capabilities = ["CHOWN"]\n'
                       "no_new_privileges = true\n")), False),
    ),
)
def containers_conf(s: H) -> Iterator[Violation]:
    """These defaults apply to every podman and buildah container on the host."""
    for m in _each_conf(s, s.containers_conf, CONTAINERS_CONF):
        yield from _own(m, _containers_conf(s, m))


def _containers_conf(s: H, m: Merged) -> Iterator[Violation]:
    c = m.table("containers")
    who = m.scope.prefix
    for key in ("seccomp_profile", "apparmor_profile"):
        if str(c.get(key) or "").lower() == "unconfined":
            yield s.violation(m.where(f"containers.{key}"), f"{who}{key} is unconfined",
                              key)
    caps = {str(x).upper().removeprefix("CAP_")
            for x in c.get("default_capabilities") or []}
    if caps & DANGEROUS_CAPS:
        yield s.violation(m.where("containers.default_capabilities"),
                          f"{who}default_capabilities include "
                          + ", ".join(sorted(caps & DANGEROUS_CAPS)),
                          "default_capabilities")
    if str(c.get("privileged") or "").lower() == "true" or c.get("privileged") is True:
        yield s.violation(m.where("containers.privileged"),
                          f"{who}containers run privileged by default", "privileged")


@rule(
    id="LSH-HOST-064", title="Container storage is writable by other users",
    severity=Severity.HIGH, surface=B, nist=("4.5.5",), tags=TAG,
    remediation="chown root:root and chmod 700 the storage graphroot "
    "(/var/lib/containers/storage); check storage.conf's graphroot.",
    examples=(
        Example(host(F(STORAGE, '[storage]\ndriver = "overlay"\ngraphroot = "/srv/c"\n'),
                     F("/srv/c", None, 0o777, kind=Kind.DIR)), True),
        Example(host(ALICE, F(f"{ALICE_CONF}/storage.conf", ""),
                     F("/home/alice/.local/share/containers/storage", None, 0o777, 1000, 1000,
                       Kind.DIR)), True, "user store"),
        Example(host(ALICE, F(f"{ALICE_CONF}/storage.conf", ""),
                     F("/home/alice/.local/share/containers/storage", None, 0o700, 1000, 1000,
                       Kind.DIR)), False, "user store is the user's"),
        Example(host(F(STORAGE, '[storage]\ndriver = "overlay"\ngraphroot = "/srv/c"\n'),
                     F("/srv/c", None, 0o700, kind=Kind.DIR)), False),
    ),
)
def storage(s: H) -> Iterator[Violation]:
    """Whoever writes the image store changes every image the host builds or runs."""
    found = False
    for scope in s.containers_scopes():
        if scope.user and not scope.home:
            continue  # storage.conf is the system's or in a home directory
        path = s.containers_file("storage.conf", scope)
        data = s.toml(path) if path else None
        table = data.get("storage") if isinstance(data, dict) else None
        table = table if isinstance(table, dict) else {}
        if scope.user:
            root = str(table.get("graphroot") or table.get("rootless_storage_path")
                       or f"{scope.home}/.local/share/containers/storage")
            root = root.replace("$HOME", scope.home)
            owner = scope.uid
        else:
            root = str(table.get("graphroot") or "/var/lib/containers/storage")
            owner = 0
        st = s.stat(root)
        if st is None:
            continue
        found = True
        if st.uid != owner or st.mode & 0o022:
            yield s.violation(root, f"{scope.prefix}{root} is uid {st.uid} mode "
                              f"{st.mode:04o}", "graphroot")
    if not found:
        raise NotApplicable("no containers storage")


RULES = (policy, short_names, insecure_registry, containers_conf, storage)
