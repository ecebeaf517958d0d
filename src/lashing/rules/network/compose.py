"""Network rules for compose projects (LSH-NET-1NN), over the reachability model.

Published ports on all interfaces, sensitive ports published and
`network_mode: host` are compose rules already (LSH-CMP-020, LSH-CMP-021,
LSH-CMP-006); `lashing network` reports them with these. The rules here need
the network model: who shares a network with whom, and who can leave.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from lashing.manifests.compose import ComposeProject, Service
from lashing.model import FindingKind, Location, Severity, Surface
from lashing.network.compose import (
    DEFAULT_BRIDGE,
    ComposeModel,
    ComposeService,
    build_compose_model,
)
from lashing.rules import refs
from lashing.rules.framework import Example, NotApplicable, Violation, rule
from lashing.rules.network.services import DATASTORE_IMAGES, DATASTORE_PORTS

SPEC = "https://docs.docker.com/reference/compose-file/"
NETWORKS_SPEC = SPEC + "networks/"
SEPARATION = ("4.3.3",)
EGRESS = ("4.4.2",)



@dataclass(frozen=True)
class ComposeNetworkSubject:
    project: ComposeProject
    model: ComposeModel

    def services(self) -> Iterator[ComposeService]:
        if not self.model.services:
            raise NotApplicable("no services")
        yield from self.model.services

    def raw(self, s: ComposeService) -> Service:
        return self.project.services[s.name]

    def violation(self, s: ComposeService, message: str, key: str | None = None,
                  anchor: str = "") -> Violation:
        data = self.raw(s).data
        path, line = s.path, s.line
        if key is not None and key in data:
            path, line = data.source_of(key), data.line_of(key)
        return Violation(f"service {s.name}: {message}",
                         Location(path=path, line=line, resource=s.resource),
                         f"{self.model.project}/{s.name}:{anchor or key or ''}")


def subject_of(project: ComposeProject) -> ComposeNetworkSubject:
    return ComposeNetworkSubject(project, build_compose_model(project))


N = ComposeNetworkSubject


def datastore(s: ComposeService) -> str | None:
    """What datastore `s` runs (by its declared ports, then its image), or None."""
    for lo, hi, _ in s.declared:
        if lo == hi and lo in DATASTORE_PORTS:
            return DATASTORE_PORTS[lo]
    if s.image:
        repo = refs.split_image(s.image).repository.rsplit("/", 1)[-1].lower()
        m = DATASTORE_IMAGES.search(repo)
        if m:
            return m.group(2)
    return None


def svc(body: str, name: str = "db", image: str = "postgres:16", extra: str = "",
        more: str = "") -> str:
    lines = "".join(f"    {line}\n" for line in body.strip("\n").splitlines())
    return f"services:\n  {name}:\n    image: {image}\n{lines}{more}{extra}"


INTERNAL = "networks:\n  back:\n    internal: true\n"
APP = "  app:\n    image: example/app:1\n    depends_on: [db]\n"
APP_BACK = "  app:\n    image: example/app:1\n    depends_on: [db]\n    networks: [back]\n"


@rule(id="LSH-NET-101", title="Datastore can reach the internet", severity=Severity.MEDIUM,
      surface=Surface.NETWORK, kind=FindingKind.MISCONFIGURATION, nist=EGRESS,
      remediation="Put databases and caches only on networks with `internal: true`; give the "
      "services that need the internet a second, non-internal network.",
      references=(NETWORKS_SPEC + "#internal",),
      examples=(Example(svc(""), True),
                Example(svc("expose: ['6379']", image="example/cache:2"), True, "by port"),
                Example(svc("networks: [back]", extra=INTERNAL), False, "internal network"),
                Example(svc("network_mode: none"), False, "no network"),
                Example(svc("", name="web", image="nginx:1.27"), False, "not a datastore")))
def datastore_egress(n: N) -> Iterator[Violation]:
    """A database that can open connections to the internet lets an attacker who reaches it
    (SQL injection, a leaked password) copy the data straight out."""
    for s in n.services():
        what = datastore(s)
        if what is not None and n.model.egress(s):
            nets = ", ".join(s.networks) or s.mode
            yield n.violation(s, f"runs {what} and can reach the internet (on {nets}, not "
                              "internal)", "networks")


def _users(n: N, store: ComposeService) -> set[str]:
    """Services that use `store`: they depend on or link to it, it depends on them, or their
    environment names it."""
    word = re.compile(rf"(^|[^A-Za-z0-9_.-]){re.escape(store.name)}([^A-Za-z0-9_.-]|$)")
    users = set(store.depends_on) | set(store.links)
    for s in n.model.services:
        if store.name in s.depends_on or store.name in s.links:
            users.add(s.name)
            continue
        env = n.raw(s).get("environment")
        values = env.values() if isinstance(env, dict) else env if isinstance(env, list) else []
        if any(isinstance(v, str) and word.search(v) for v in values):
            users.add(s.name)
    return users


@rule(id="LSH-NET-102", title="Datastore reachable from services that do not use it",
      severity=Severity.LOW, surface=Surface.NETWORK, kind=FindingKind.MISCONFIGURATION,
      nist=SEPARATION,
      remediation="Split the project into networks: a back-end network with the datastore and "
      "the services that use it, a front-end network for the proxy and the application.",
      references=(NETWORKS_SPEC,),
      examples=(Example(svc("", more=APP + "  proxy:\n    image: nginx:1.27\n"), True),
                Example(svc("", more=APP), False, "only its user"),
                Example(svc("networks: [back]", extra=INTERNAL,
                            more=APP_BACK + "  proxy:\n    image: nginx:1.27\n"), False,
                        "separate network")))
def datastore_shared(n: N) -> Iterator[Violation]:
    """On a shared bridge network every container reaches the database on every port; a
    compromised proxy or admin tool should not be one hop from the data."""
    for s in n.services():
        if datastore(s) is None:
            continue
        users = _users(n, s)
        others = sorted(o.name for o in n.model.services
                        if o is not s and o.name not in users and n.model.shared(s, o))
        if others:
            verb = "does" if len(others) == 1 else "do"
            yield n.violation(s, f"reachable on every port from {', '.join(others)}, which "
                              f"{verb} not use it", "networks")


@rule(id="LSH-NET-103", title="Service on an external network", severity=Severity.LOW,
      surface=Surface.NETWORK, kind=FindingKind.EXPOSURE, nist=SEPARATION,
      remediation="Use a network of the project; if services of several projects must talk, "
      "give that network only the services that need it.",
      references=(NETWORKS_SPEC + "#external",),
      examples=(Example(svc("networks: [shared]", name="web", image="nginx:1.27",
                            extra="networks:\n  shared:\n    external: true\n"), True),
                Example(svc("networks: [front]", name="web", image="nginx:1.27",
                            extra="networks:\n  front: {}\n"), False)))
def external_network(n: N) -> Iterator[Violation]:
    """Containers of other projects on an external network reach this service on every
    port; nothing in this file says who they are."""
    for s in n.services():
        ext = [n.model.networks[k].name for k in s.networks
               if k in n.model.networks and n.model.networks[k].external]
        if ext and s.namespace_of is None:
            yield n.violation(s, f"on external network {', '.join(ext)}: reachable from "
                              "containers outside this project", "networks")


@rule(id="LSH-NET-104", title="Service shares another container's network namespace",
      severity=Severity.LOW, surface=Surface.NETWORK, kind=FindingKind.MISCONFIGURATION,
      nist=SEPARATION,
      remediation="Give the service its own network namespace and reach the other service over "
      "a network; keep `network_mode: service:` for sidecars that must share it.",
      references=(SPEC + "services/#network_mode",),
      examples=(Example(svc("network_mode: 'service:vpn'", name="app", image="example/app:1",
                            more="  vpn:\n    image: example/vpn:1\n"), True),
                Example(svc("network_mode: 'container:abc'", name="app", image="example/app:1"),
                        True, "a container"),
                Example(svc("", name="app", image="example/app:1"), False)))
def shared_namespace(n: N) -> Iterator[Violation]:
    """The two containers see each other's loopback ports and traffic; one compromised
    process can listen on or spoof the other's ports."""
    for s in n.services():
        mode = str(n.raw(s).get("network_mode") or "")
        if mode.lower().startswith(("service:", "container:")):
            yield n.violation(s, f"network_mode {mode}: shares that container's addresses, "
                              "ports and loopback", "network_mode")


@rule(id="LSH-NET-105", title="Service on Docker's default bridge network",
      severity=Severity.LOW, surface=Surface.NETWORK, kind=FindingKind.MISCONFIGURATION,
      nist=SEPARATION, aliases=("cis-docker-1.6:5.30",),
      remediation="Remove `network_mode: bridge`; compose then creates a network for the "
      "project.",
      references=(SPEC + "services/#network_mode",
                  "https://docs.docker.com/engine/network/drivers/bridge/"),
      examples=(Example(svc("network_mode: bridge", name="web", image="nginx:1.27"), True),
                Example(svc("networks: [outer]", name="web", image="nginx:1.27",
                            extra="networks:\n  outer: {external: true, name: bridge}\n"),
                        True, "external bridge"),
                Example(svc("", name="web", image="nginx:1.27"), False)))
def default_bridge(n: N) -> Iterator[Violation]:
    """Every container started without a network, from any project, is on docker0 and
    reaches this service on every port."""
    for s in n.services():
        if DEFAULT_BRIDGE in s.networks and s.namespace_of is None:
            how = "network_mode: bridge" if s.mode == "bridge" else "the external bridge network"
            yield n.violation(s, f"{how} puts it on docker0 with every other container "
                              "started without a network",
                              "network_mode" if s.mode == "bridge" else "networks")


MACVLAN = "networks:\n  lan:\n    driver: macvlan\n    ipam: {config: [{subnet: 192.168.1.0/24}]}\n"


@rule(id="LSH-NET-106", title="Service on a macvlan or ipvlan network",
      severity=Severity.MEDIUM, surface=Surface.NETWORK, kind=FindingKind.EXPOSURE,
      nist=("4.4.2",),
      remediation="Use a bridge network and publish only the ports that must be reachable, "
      "bound to the address that needs them.",
      references=("https://docs.docker.com/engine/network/drivers/macvlan/",),
      examples=(Example(svc("networks: [lan]", name="dns", image="example/dns:1",
                            extra=MACVLAN), True),
                Example(svc("networks: [lan]", name="dns", image="example/dns:1",
                            extra=MACVLAN.replace("driver: macvlan", "driver: bridge")),
                        False)))
def lan_address(n: N) -> Iterator[Violation]:
    """A container with its own address on the physical network is reachable on every port
    it listens on, with no published-port boundary and no host firewall in between."""
    for s in n.services():
        nets = [n.model.networks[k] for k in s.networks if k in n.model.networks]
        lan = [f"{net.name} ({net.driver}, {', '.join(net.subnets) or 'no subnet declared'})"
               for net in nets if net.on_the_lan]
        if lan and s.namespace_of is None:
            yield n.violation(s, f"on {', '.join(lan)}: every port is reachable from that "
                              "network", "networks")


RULES = (datastore_egress, datastore_shared, external_network, shared_namespace, default_bridge,
         lan_address)
