"""Who can reach whom in a compose project.

Docker's semantics, as lashing models them:

- A service is on the networks it names under `networks:`, or on the project's
  `default` network (`<project>_default`) when it names none. `network_mode:
  bridge` puts it on Docker's default bridge, `host` on the host's network
  stack, `none` on no network; `service:X` / `container:X` share another
  container's network namespace (same addresses, same ports).
- Two containers on one bridge network reach each other on every port and
  protocol: a bridge network has no port filter, and `expose:` is only
  documentation. So service-to-service connections are 1-65535 for TCP, UDP
  and SCTP (ICMP passes too).
- A published port (`ports:`) is reachable from the host on any bind address,
  and from outside (`external` 0.0.0.0/0, or ::/0 for `::`) only when bound to
  all interfaces (no `host_ip`, `0.0.0.0`, `::`). A container-only entry
  (`"3000"`) publishes on an ephemeral host port on all interfaces. The port
  of the connection is the container's port: what the service receives on.
  A container whose networks are all `internal: true` gets no port mapping.
- Every service may open connections to the internet (egress to 0.0.0.0/0)
  unless all of its networks are internal or it has `network_mode: none`.
- `network_mode: host`: the service listens on the host's interfaces, so the
  host reaches it on every port and the outside on the ports it declares.
- A `macvlan` / `ipvlan` network gives the container its own address on the
  host's physical network: it is reachable on every port from that network's
  subnets (`ipam.config`), or from any address when none is declared.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lashing.manifests.compose import ComposeProject, Service
from lashing.manifests.yaml import YMap, YSeq
from lashing.model import Connection, Endpoint, EndpointKind, Issue, Location
from lashing.network.ports import ALL_PORTS, PROTOCOLS, Range, merge

__all__ = ["ComposeModel", "ComposeNetwork", "ComposeService", "PortMapping",
           "build_compose_model", "compose_connections", "lan_sources", "parse_port"]

PROTOCOL_NAMES = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP"}
DEFAULT_BRIDGE = "bridge"  # Docker's own default bridge (docker0), shared by every project
HOST = Endpoint(EndpointKind.HOST)
INTERNET_V4 = Endpoint(EndpointKind.EXTERNAL, cidr="0.0.0.0/0")
INTERNET_V6 = Endpoint(EndpointKind.EXTERNAL, cidr="::/0")
_RANGE = re.compile(r"(\d{1,5})(?:-(\d{1,5}))?\Z")


@dataclass(frozen=True)
class PortMapping:
    """One `ports:` entry: container ports published on the host."""

    host_ip: str  # "" = all interfaces
    host_ports: Range | None  # None: an ephemeral port chosen by Docker
    container_ports: Range
    protocol: str  # TCP, UDP, SCTP
    path: str
    line: int

    @property
    def all_interfaces(self) -> bool:
        return self.host_ip in ("", "0.0.0.0", "::")  # noqa: S104

    @property
    def loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.host_ip).is_loopback
        except ValueError:
            return False

    def describe(self) -> str:
        def text(r: Range | None) -> str:
            return "ephemeral" if r is None else (str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]}")
        ip = f"[{self.host_ip}]" if ":" in self.host_ip else self.host_ip
        where = f"{ip}:" if ip else ""
        return f"{where}{text(self.host_ports)}->{text(self.container_ports)}/" \
               f"{self.protocol.lower()}"


@dataclass(frozen=True)
class ComposeNetwork:
    key: str  # the name under `networks:` (or "default", or "bridge")
    name: str  # the Docker network name: <project>_<key>, or `name:`
    internal: bool = False
    external: bool = False
    driver: str | None = None
    subnets: tuple[str, ...] = ()  # ipam.config[].subnet

    @property
    def on_the_lan(self) -> bool:
        """macvlan / ipvlan: containers get addresses on the host's physical network."""
        return (self.driver or "").lower() in ("macvlan", "ipvlan") and not self.internal


@dataclass(frozen=True)
class ComposeService:
    name: str
    endpoint: Endpoint
    mode: str  # "networks", "host", "none", "bridge", "service:X", "container:X"
    networks: tuple[str, ...]  # network keys, after following service:X
    published: tuple[PortMapping, ...]  # of its network namespace
    declared: tuple[tuple[int, int, str], ...]  # ports from `expose:` and `ports:` targets
    image: str
    links: tuple[str, ...]
    depends_on: tuple[str, ...]
    path: str
    line: int
    namespace_of: str | None = None  # the service whose network namespace it joins

    @property
    def resource(self) -> str:
        return f"service/{self.endpoint.namespace}/{self.name}"


@dataclass(frozen=True)
class ComposeModel:
    project: str
    files: tuple[str, ...]
    services: tuple[ComposeService, ...]
    networks: Mapping[str, ComposeNetwork]
    issues: tuple[Issue, ...] = ()

    def service(self, name: str) -> ComposeService | None:
        return next((s for s in self.services if s.name == name), None)

    def shared(self, a: ComposeService, b: ComposeService) -> tuple[str, ...]:
        return tuple(n for n in a.networks if n in b.networks)

    def egress(self, s: ComposeService) -> bool:
        """Whether `s` can open connections to the internet."""
        if s.mode == "host":
            return True
        if not s.networks:
            return False
        return any(not self.networks[n].internal for n in s.networks if n in self.networks)

    def publishes(self, s: ComposeService) -> bool:
        """Whether Docker maps `s`'s published ports (not when every network is internal)."""
        return bool(s.published) and (s.mode == "host" or self.egress(s))


# ---- reading the project -----------------------------------------------------------------


@dataclass
class _Reader:
    project: ComposeProject
    issues: list[Issue] = field(default_factory=list)

    def issue(self, s: Service | None, message: str, line: int | None = None,
              path: str | None = None) -> None:
        resource = f"service/{self.project.name}/{s.name}" if s else None
        self.issues.append(Issue("network", "compose", Location(
            path=path or (s.path if s else (self.project.files or ("",))[0]),
            line=line if line is not None else (s.line if s else None), resource=resource),
            message))


def _networks(project: ComposeProject) -> dict[str, ComposeNetwork]:
    found = {"default": ComposeNetwork("default", f"{project.name}_default"),
             DEFAULT_BRIDGE: ComposeNetwork(DEFAULT_BRIDGE, DEFAULT_BRIDGE, driver="bridge")}
    for key, spec in project.networks.items():
        spec = spec if isinstance(spec, dict) else {}
        external = _truthy(spec.get("external")) or isinstance(spec.get("external"), dict)
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            ext = spec.get("external")
            name = ext.get("name") if isinstance(ext, dict) else None
        ipam = spec.get("ipam")
        configs = ipam.get("config") if isinstance(ipam, dict) else None
        subnets = tuple(n for c in configs if isinstance(c, dict)
                        if (n := _subnet(c.get("subnet")))) if isinstance(configs, list) else ()
        found[str(key)] = ComposeNetwork(
            str(key), str(name) if name else (str(key) if external else f"{project.name}_{key}"),
            internal=_truthy(spec.get("internal")), external=external,
            driver=str(spec["driver"]) if spec.get("driver") else None, subnets=subnets)
    return found


def _subnet(value: Any) -> str | None:
    try:
        return str(ipaddress.ip_network(str(value), strict=False)) if value else None
    except ValueError:
        return None


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "yes", "on"))


def _names(value: Any) -> tuple[str, ...]:
    """Names from a list (`[a, b]`, `["a:alias"]` for links) or a mapping's keys."""
    if isinstance(value, dict):
        return tuple(str(k) for k in value)
    if isinstance(value, list):
        return tuple(str(v).split(":", 1)[0] for v in value if isinstance(v, str | int))
    return ()


def _range(text: str) -> Range | None:
    m = _RANGE.match(text.strip())
    if m is None:
        return None
    lo = int(m.group(1))
    hi = int(m.group(2) or lo)
    return (lo, hi) if 1 <= lo <= hi <= 65535 else None


def parse_port(entry: Any) -> tuple[str, str | None, str, str] | str:
    """(host_ip, host_ports or None, container_ports, protocol) of one `ports:` entry in
    either syntax, or an error message."""
    if isinstance(entry, dict):
        target = entry.get("target")
        if target in (None, ""):
            return "long syntax without target"
        published = entry.get("published")
        return (str(entry.get("host_ip") or ""),
                None if published in (None, "") else str(published),
                str(target), str(entry.get("protocol") or "tcp"))
    if not isinstance(entry, str | int) or isinstance(entry, bool):
        return f"unreadable port entry {entry!r}"
    text, _, proto = str(entry).partition("/")
    host_ip = ""
    if text.startswith("["):  # [::1]:8080:80
        host_ip, sep, text = text[1:].partition("]:")
        if not sep:
            return f"unreadable port entry {entry!r}"
    parts = text.split(":")
    if len(parts) == 1:
        return host_ip, None, parts[0], proto or "tcp"
    if len(parts) == 2 and not host_ip:
        return "", parts[0], parts[1], proto or "tcp"
    if len(parts) == 2:  # [ip]:host:container was split at "]:"
        return host_ip, parts[0] or None, parts[1], proto or "tcp"
    if host_ip:
        return f"unreadable port entry {entry!r}"
    if len(parts) == 3:
        return parts[0], parts[1] or None, parts[2], proto or "tcp"
    # a bare IPv6 address: every colon but the last two belongs to it
    return ":".join(parts[:-2]), parts[-2] or None, parts[-1], proto or "tcp"


def _ports(r: _Reader, s: Service) -> tuple[list[PortMapping], list[tuple[int, int, str]]]:
    published: list[PortMapping] = []
    declared: list[tuple[int, int, str]] = []
    ports = s.get("ports")
    if isinstance(ports, YSeq):
        for i, entry in enumerate(ports):
            line, path = ports.line_at(i), ports.source or s.path
            parsed = parse_port(entry)
            if isinstance(parsed, str):
                r.issue(s, parsed, line, path)
                continue
            host_ip, host, container, proto = parsed
            c_range = _range(container)
            h_range = _range(host) if host is not None else None
            protocol = PROTOCOL_NAMES.get(proto.strip().lower())
            if c_range is None or protocol is None or (host is not None and h_range is None):
                r.issue(s, f"unreadable port entry {entry!r}", line, path)
                continue
            published.append(PortMapping(host_ip.strip("[]"), h_range, c_range, protocol,
                                         path, line))
            declared.append((*c_range, protocol))
    expose = s.get("expose")
    if isinstance(expose, YSeq):
        for i, entry in enumerate(expose):
            text, _, proto = str(entry).partition("/")
            rng = _range(text)
            protocol = PROTOCOL_NAMES.get((proto or "tcp").lower())
            if rng is None or protocol is None:
                r.issue(s, f"unreadable expose entry {entry!r}", expose.line_at(i),
                        expose.source or s.path)
                continue
            declared.append((*rng, protocol))
    return published, declared


def _mode(r: _Reader, s: Service, networks: Mapping[str, ComposeNetwork]) -> tuple[
        str, tuple[str, ...]]:
    mode = s.get("network_mode")
    if mode not in (None, ""):
        text = str(mode)
        low = text.lower()
        if low in ("host", "none", DEFAULT_BRIDGE):
            return low, ((DEFAULT_BRIDGE,) if low == DEFAULT_BRIDGE else ())
        if low.startswith(("service:", "container:")):
            return text, ()
        r.issue(s, f"network_mode {text!r} is not one lashing knows (host, none, bridge, "
                "service:NAME, container:NAME); no connections assumed")
        return "none", ()
    named = s.get("networks")
    keys = _names(named) if named not in (None, "") else ("default",)
    known = []
    for key in keys:
        if key == "default" or key in r.project.networks:
            known.append(key)
        else:
            line = named.line_of(key) if isinstance(named, YMap) else None
            r.issue(s, f"network {key} is not declared under the top-level networks", line)
    # Docker's predefined networks joined as external networks behave as network_mode
    predefined = {networks[k].name for k in known if networks[k].external}
    if "host" in predefined:
        return "host", ()
    if "none" in predefined and len(known) == 1:
        return "none", ()
    return "networks", tuple(dict.fromkeys(
        DEFAULT_BRIDGE if networks[k].external and networks[k].name == DEFAULT_BRIDGE else k
        for k in known))


def build_compose_model(project: ComposeProject) -> ComposeModel:
    """The services of `project` with their networks and ports, and what could not be read."""
    r = _Reader(project)
    networks = _networks(project)
    raw: dict[str, ComposeService] = {}
    for s in project.services.values():
        mode, nets = _mode(r, s, networks)
        published, declared = _ports(r, s)
        image = s.get("image")
        raw[s.name] = ComposeService(
            name=s.name, endpoint=Endpoint(EndpointKind.WORKLOAD, project.name, s.name,
                                           "Service"),
            mode=mode, networks=nets, published=tuple(published), declared=tuple(declared),
            image=str(image) if isinstance(image, str) else "",
            links=_names(s.get("links")), depends_on=_names(s.get("depends_on")),
            path=s.path, line=s.line)
    services = [_join_namespace(r, project, raw, svc) for svc in raw.values()]
    model = ComposeModel(project.name, project.files, tuple(services), networks)
    for svc in services:
        for link in svc.links:
            other = model.service(link)
            if other is None:
                r.issue(project.services[svc.name], f"links to {link}, which is not a service "
                        "of this project")
            elif not model.shared(svc, other) and svc.mode != "host":
                r.issue(project.services[svc.name], f"links to {link}, with which it shares "
                        "no network (the link cannot work)")
    return ComposeModel(project.name, project.files, tuple(services), networks,
                        tuple(r.issues))


def _join_namespace(r: _Reader, project: ComposeProject, raw: Mapping[str, ComposeService],
                    svc: ComposeService) -> ComposeService:
    """A `service:X` service takes X's networks and published ports (followed to the end)."""
    current, seen = svc, {svc.name}
    while current.mode.startswith(("service:", "container:")):
        kind, _, target = current.mode.partition(":")
        if kind == "container":
            r.issue(project.services[svc.name], f"network_mode {current.mode}: a container "
                    "outside this project; its connections are not known")
            return _replace(svc, "none", (), (), None)
        nxt = raw.get(target)
        if nxt is None or target in seen:
            r.issue(project.services[svc.name], f"network_mode {current.mode}: "
                    + ("a cycle" if nxt is not None else "no such service"))
            return _replace(svc, "none", (), (), None)
        seen.add(target)
        current = nxt
    if current is svc:
        return svc
    return _replace(svc, current.mode, current.networks, current.published + svc.published,
                    current.name)


def _replace(s: ComposeService, mode: str, networks: tuple[str, ...],
             published: tuple[PortMapping, ...], owner: str | None) -> ComposeService:
    return ComposeService(s.name, s.endpoint, mode, networks, published, s.declared, s.image,
                          s.links, s.depends_on, s.path, s.line, owner)


# ---- connections --------------------------------------------------------------------------


def _outside(m: PortMapping) -> Endpoint | None:
    if not m.all_interfaces:
        return None
    return INTERNET_V6 if m.host_ip == "::" else INTERNET_V4


def lan_sources(model: ComposeModel, s: ComposeService) -> set[Endpoint]:
    """Who reaches `s` directly on a macvlan/ipvlan network: its declared subnets (the
    LAN it is attached to), or any address when none is declared."""
    found: set[Endpoint] = set()
    for key in s.networks:
        net = model.networks.get(key)
        if net is not None and net.on_the_lan:
            found.update(Endpoint(EndpointKind.EXTERNAL, cidr=c) for c in net.subnets or
                         ("0.0.0.0/0",))
    return found


def _edges(model: ComposeModel) -> Iterator[tuple[Endpoint, Endpoint, str, Range]]:
    services = model.services
    for a in services:
        for b in services:
            if a is b:
                continue
            same_ns = b.namespace_of == a.name or a.namespace_of == b.name or (
                a.namespace_of is not None and a.namespace_of == b.namespace_of)
            if same_ns or model.shared(a, b):
                for proto in PROTOCOLS:
                    yield a.endpoint, b.endpoint, proto, ALL_PORTS[0]
        if model.egress(a):
            for proto in PROTOCOLS:
                yield a.endpoint, INTERNET_V4, proto, ALL_PORTS[0]
        for lan in lan_sources(model, a):
            for proto in PROTOCOLS:
                yield lan, a.endpoint, proto, ALL_PORTS[0]
        if a.mode == "host":
            for proto in PROTOCOLS:
                yield HOST, a.endpoint, proto, ALL_PORTS[0]
            for lo, hi, proto in a.declared:
                yield INTERNET_V4, a.endpoint, proto, (lo, hi)
            continue
        if model.publishes(a):
            for m in a.published:
                yield HOST, a.endpoint, m.protocol, m.container_ports
                outside = _outside(m)
                if outside is not None:
                    yield outside, a.endpoint, m.protocol, m.container_ports


def compose_connections(model: ComposeModel) -> list[Connection]:
    """One connection per (source, destination, protocol), ports merged."""
    ports: dict[tuple[Endpoint, Endpoint, str], list[Range]] = {}
    for src, dst, proto, rng in _edges(model):
        ports.setdefault((src, dst, proto), []).append(rng)
    return [Connection(src, dst, proto, merge(r))
            for (src, dst, proto), r in sorted(ports.items())]
