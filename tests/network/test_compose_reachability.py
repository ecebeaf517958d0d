"""Compose network semantics: networks, network_mode, published ports, egress."""

from __future__ import annotations

from pathlib import Path

import pytest

from lashing.manifests.compose import load_compose, load_compose_text
from lashing.model import Connection, Endpoint, EndpointKind
from lashing.network.compose import (
    ComposeModel,
    build_compose_model,
    compose_connections,
    parse_port,
)
from lashing.network.compose_explain import explain_compose
from lashing.network.ports import ALL_PORTS, PROTOCOLS

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "compose-awesome"
HOST = Endpoint(EndpointKind.HOST)
NET4 = Endpoint(EndpointKind.EXTERNAL, cidr="0.0.0.0/0")
NET6 = Endpoint(EndpointKind.EXTERNAL, cidr="::/0")


def model(text: str) -> ComposeModel:
    project = load_compose_text(text, "proj/compose.yaml")
    assert not project.errors, project.errors
    return build_compose_model(project)


def svc(name: str) -> Endpoint:
    return Endpoint(EndpointKind.WORKLOAD, "proj", name, "Service")


def conns(text: str) -> dict[tuple[Endpoint, Endpoint, str], tuple[tuple[int, int], ...]]:
    return {(c.source, c.destination, c.protocol): c.ports
            for c in compose_connections(model(text))}


def test_default_network_connects_every_service_on_every_port() -> None:
    found = conns("services:\n  web: {image: nginx}\n  db: {image: postgres}\n")
    for proto in PROTOCOLS:
        assert found[(svc("web"), svc("db"), proto)] == ALL_PORTS
        assert found[(svc("db"), svc("web"), proto)] == ALL_PORTS
        assert found[(svc("db"), NET4, proto)] == ALL_PORTS  # egress
    assert not any(k[0] == HOST or k[0] == NET4 for k in found)  # nothing published


def test_user_networks_separate_and_internal_stops_egress() -> None:
    found = conns("""
services:
  proxy: {image: nginx, networks: [front], ports: ["80:80"]}
  app: {image: app, networks: [front, back]}
  db: {image: postgres, networks: [back]}
networks:
  front: {}
  back: {internal: true}
""")
    assert (svc("proxy"), svc("app"), "TCP") in found
    assert (svc("app"), svc("db"), "TCP") in found
    assert (svc("proxy"), svc("db"), "TCP") not in found
    assert (svc("db"), svc("proxy"), "TCP") not in found
    assert (svc("db"), NET4, "TCP") not in found  # only on an internal network
    assert (svc("app"), NET4, "TCP") in found  # front is not internal
    assert found[(NET4, svc("proxy"), "TCP")] == ((80, 80),)


def test_published_ports_short_and_long_syntax() -> None:
    found = conns("""
services:
  web:
    image: nginx
    ports:
      - "8080:80"
      - "127.0.0.1:8443:443"
      - "9000-9002:7000-7002"
      - "53:53/udp"
      - "[::1]:6001:6001"
      - "::1:6002:6002"
      - 3000
      - target: 5000
        published: "5000"
        host_ip: 192.0.2.10
      - target: 5001
        published: 5001
        host_ip: "::"
        protocol: udp
""")
    assert found[(HOST, svc("web"), "TCP")] == ((80, 80), (443, 443), (3000, 3000),
                                                 (5000, 5000), (6001, 6002), (7000, 7002))
    # only the ones bound to every interface are reachable from outside
    assert found[(NET4, svc("web"), "TCP")] == ((80, 80), (3000, 3000), (7000, 7002))
    assert found[(NET4, svc("web"), "UDP")] == ((53, 53),)
    assert found[(NET6, svc("web"), "UDP")] == ((5001, 5001),)
    assert found[(HOST, svc("web"), "UDP")] == ((53, 53), (5001, 5001))


@pytest.mark.parametrize(("entry", "parsed"), [
    ("80", ("", None, "80", "tcp")),
    ("8080:80/udp", ("", "8080", "80", "udp")),
    ("127.0.0.1::80", ("127.0.0.1", None, "80", "tcp")),
    ("[2001:db8::1]:8080:80", ("2001:db8::1", "8080", "80", "tcp")),
    ("2001:db8::1:8080:80", ("2001:db8::1", "8080", "80", "tcp")),
])
def test_parse_port(entry: str, parsed: tuple[str, str | None, str, str]) -> None:
    assert parse_port(entry) == parsed


def test_bad_ports_are_issues_not_crashes() -> None:
    m = model("services:\n  web:\n    image: nginx\n    ports: ['80:http', '70000:80', "
              "'80:80/icmp', {published: 80}]\n    expose: ['x']\n")
    messages = [i.message for i in m.issues]
    assert len(messages) == 5, messages
    assert all(i.location.path == "proj/compose.yaml" and i.location.line for i in m.issues)
    assert not [c for c in compose_connections(m) if c.source == HOST]


def test_network_mode_none_host_and_bridge() -> None:
    found = conns("""
services:
  batch: {image: tool, network_mode: none}
  agent: {image: agent, network_mode: host, expose: ["9100"]}
  legacy: {image: old, network_mode: bridge, ports: ["8080:80"]}
  web: {image: nginx}
""")
    assert not any(svc("batch") in k[:2] for k in found)
    assert found[(HOST, svc("agent"), "TCP")] == ALL_PORTS
    assert found[(NET4, svc("agent"), "TCP")] == ((9100, 9100),)
    assert (svc("agent"), NET4, "UDP") in found
    assert (svc("web"), svc("agent"), "TCP") not in found  # the host stack is not a bridge
    assert (svc("legacy"), svc("web"), "TCP") not in found  # docker0 vs proj_default
    assert found[(NET4, svc("legacy"), "TCP")] == ((80, 80),)


def test_service_network_mode_shares_the_namespace() -> None:
    m = model("""
services:
  vpn: {image: vpn, networks: [edge], ports: ["8080:8080"]}
  app: {image: app, network_mode: "service:vpn"}
  db: {image: postgres}
networks:
  edge: {}
""")
    app = m.service("app")
    assert app is not None and app.networks == ("edge",) and app.namespace_of == "vpn"
    found = {(c.source, c.destination, c.protocol): c.ports for c in compose_connections(m)}
    assert found[(NET4, svc("app"), "TCP")] == ((8080, 8080),)
    assert (svc("app"), svc("vpn"), "TCP") in found
    assert (svc("app"), svc("db"), "TCP") not in found
    assert not m.issues


def test_unknown_references_are_issues() -> None:
    m = model("""
services:
  a: {image: x, network_mode: "service:ghost"}
  b: {image: x, network_mode: "container:abc123"}
  c: {image: x, networks: [nowhere], links: [d]}
  d: {image: x, networks: [other]}
networks:
  other: {}
""")
    text = " | ".join(i.message for i in m.issues)
    assert "service:ghost: no such service" in text
    assert "container:abc123" in text
    assert "network nowhere is not declared" in text
    assert "links to d, with which it shares no network" in text
    assert {c.source for c in compose_connections(m)} <= {svc("d"), svc("c")}


def test_internal_only_service_publishes_nothing() -> None:
    found = conns("services:\n  db:\n    image: postgres\n    networks: [back]\n"
                  "    ports: ['5432:5432']\nnetworks:\n  back: {internal: true}\n")
    assert not found


def test_external_network_and_named_default() -> None:
    m = model("""
services:
  web: {image: nginx, networks: [shared]}
  db: {image: postgres}
networks:
  shared: {external: true, name: traefik_public}
  default: {internal: true}
""")
    assert m.networks["shared"].name == "traefik_public" and m.networks["shared"].external
    web, db = m.service("web"), m.service("db")
    assert web is not None and db is not None
    assert m.egress(web) and not m.egress(db)


def test_explain_compose() -> None:
    m = model("""
services:
  proxy: {image: nginx, networks: [front], ports: ["127.0.0.1:8080:80"]}
  app: {image: app, networks: [front, back]}
  db: {image: postgres, networks: [back]}
networks:
  front: {}
  back: {internal: true}
""")
    yes = explain_compose(m, "app", "db", 5432)
    assert yes is not None and yes.allowed
    assert "back (proj_back)" in yes.lines[1] and yes.lines[-1] == "Result: ALLOWED"
    no = explain_compose(m, "proj/proxy", "db", None)
    assert no is not None and not no.allowed and "no network in common" in no.lines[1]
    out = explain_compose(m, "db", "external", 443)
    assert out is not None and not out.allowed and "internal" in out.lines[1]
    host = explain_compose(m, "host", "proxy", 80)
    assert host is not None and host.allowed
    outside = explain_compose(m, "external", "proxy", 80)
    assert outside is not None and not outside.allowed  # loopback only
    assert explain_compose(m, "app", "nosuch", None) is None
    assert explain_compose(m, "other/app", "db", None) is None
    assert out.to_dict()["allowed"] is False


def test_real_compose_files() -> None:
    if not DATA.is_dir():
        pytest.skip(f"{DATA} is absent (../shared/data)")
    project = load_compose([DATA / "react-express-mysql" / "compose.yaml"], env={},
                           project_name="rem")
    m = build_compose_model(project)
    assert not m.issues
    got = {(c.source.name or c.source.cidr or c.source.kind.value,
            c.destination.name or c.destination.cidr, c.protocol): c
           for c in compose_connections(m)}
    # frontend is only on `public`, db only on `private`: they cannot talk
    assert ("frontend", "db", "TCP") not in got
    assert ("backend", "db", "TCP") in got
    assert got[("0.0.0.0/0", "backend", "TCP")].ports == ((80, 80), (9229, 9230))
    assert got[("0.0.0.0/0", "frontend", "TCP")].ports == ((3000, 3000),)
    # every sample builds without issues
    for f in sorted(DATA.rglob("*.y*ml")):
        if f.name in ("compose.yaml", "compose.yml", "docker-compose.yml",
                      "docker-compose.yaml"):
            sample = build_compose_model(load_compose([f], env={}))
            assert not sample.issues, (f, sample.issues)
            assert all(isinstance(c, Connection) for c in compose_connections(sample))


def test_macvlan_service_is_reachable_from_its_lan() -> None:
    m = model("""
services:
  dns: {image: pihole, networks: [lan, default]}
  web: {image: nginx}
networks:
  lan:
    driver: macvlan
    ipam: {config: [{subnet: 192.168.1.0/24}, {subnet: not-a-subnet}]}
""")
    found = {(c.source, c.destination, c.protocol): c.ports for c in compose_connections(m)}
    lan = Endpoint(EndpointKind.EXTERNAL, cidr="192.168.1.0/24")
    assert found[(lan, svc("dns"), "UDP")] == ALL_PORTS
    assert (lan, svc("web"), "TCP") not in found
    why = explain_compose(m, "external", "dns", 53, "UDP")
    assert why is not None and why.allowed and "192.168.1.0/24" in why.lines[1]
    assert m.networks["lan"].subnets == ("192.168.1.0/24",)


def test_predefined_networks_joined_as_external() -> None:
    m = model("""
services:
  agent: {image: agent, networks: [hostnet], expose: ["9100"]}
  legacy: {image: old, networks: [outer]}
  other: {image: old, network_mode: bridge}
  idle: {image: tool, networks: [nonet]}
networks:
  hostnet: {external: true, name: host}
  outer: {external: true, name: bridge}
  nonet: {external: true, name: none}
""")
    modes = {s.name: (s.mode, s.networks) for s in m.services}
    assert modes["agent"] == ("host", ())
    assert modes["legacy"] == ("networks", ("bridge",))
    assert modes["idle"] == ("none", ())
    found = {(c.source, c.destination, c.protocol) for c in compose_connections(m)}
    assert (svc("legacy"), svc("other"), "TCP") in found  # both on docker0
    assert (HOST, svc("agent"), "TCP") in found
    assert not any(svc("idle") in k[:2] for k in found)
