"""networking.k8s.io/v1 NetworkPolicy objects parsed into `Policy`, with the
validation Kubernetes itself applies (a policy it would reject is refused)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lashing.manifests.kubernetes import K8sObject
from lashing.manifests.yaml import YSeq
from lashing.network.cidr import CidrError, parse_ip_block
from lashing.network.model import Peer, Policy, PolicyPort, PolicyRule
from lashing.network.ports import MAX_PORT, MIN_PORT, PROTOCOLS
from lashing.network.selectors import SelectorError, parse_selector

__all__ = ["PolicyError", "parse_policy", "parse_port_number", "valid_port_name"]

POLICY_TYPES = ("Ingress", "Egress")
_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")


class PolicyError(ValueError):
    """A NetworkPolicy Kubernetes would reject; the message names the field."""


def valid_port_name(name: str) -> bool:
    """IANA_SVC_NAME: at most 15 lowercase alphanumerics or '-', a letter, no '--'."""
    return bool(_PORT_NAME.match(name)) and "--" not in name and any(c.isalpha() for c in name)


def parse_port_number(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{where}: {value!r} is not a port number")
    if not MIN_PORT <= value <= MAX_PORT:
        raise PolicyError(f"{where}: port {value} is out of range {MIN_PORT}-{MAX_PORT}")
    return value


def parse_protocol(value: Any, where: str) -> str:
    if value is None:
        return "TCP"
    if value not in PROTOCOLS:
        raise PolicyError(f"{where}: unknown protocol {value!r} (one of {', '.join(PROTOCOLS)})")
    return str(value)


def _port(data: Any, where: str) -> PolicyPort:
    if not isinstance(data, Mapping):
        raise PolicyError(f"{where} must be a mapping")
    protocol = parse_protocol(data.get("protocol"), f"{where}.protocol")
    raw = data.get("port")
    end = data.get("endPort")
    if raw is None:
        if end is not None:
            raise PolicyError(f"{where}: endPort needs a numeric port")
        return PolicyPort(protocol)
    if isinstance(raw, str):
        if not valid_port_name(raw):
            raise PolicyError(f"{where}.port: {raw!r} is neither a port number nor a valid "
                              "port name")
        if end is not None:
            raise PolicyError(f"{where}: endPort cannot be used with the named port {raw!r}")
        return PolicyPort(protocol, raw)
    port = parse_port_number(raw, f"{where}.port")
    if end is None:
        return PolicyPort(protocol, port)
    end_port = parse_port_number(end, f"{where}.endPort")
    if end_port < port:
        raise PolicyError(f"{where}: endPort {end_port} is below port {port}")
    return PolicyPort(protocol, port, end_port)


def _peer(data: Any, where: str) -> Peer:
    if not isinstance(data, Mapping):
        raise PolicyError(f"{where} must be a mapping")
    fields = {k for k in ("podSelector", "namespaceSelector", "ipBlock") if k in data}
    if not fields:
        raise PolicyError(f"{where}: a peer needs podSelector, namespaceSelector or ipBlock")
    if "ipBlock" in fields:
        if len(fields) > 1:
            raise PolicyError(f"{where}: ipBlock cannot be combined with a selector")
        try:
            return Peer(ip_block=parse_ip_block(data["ipBlock"], f"{where}.ipBlock"))
        except CidrError as exc:
            raise PolicyError(str(exc)) from None
    try:
        pods = (parse_selector(data["podSelector"], f"{where}.podSelector")
                if "podSelector" in data else None)
        namespaces = (parse_selector(data["namespaceSelector"], f"{where}.namespaceSelector")
                      if "namespaceSelector" in data else None)
    except SelectorError as exc:
        raise PolicyError(str(exc)) from None
    return Peer(pods, namespaces)


def _list(data: Any, where: str) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise PolicyError(f"{where} must be a list")
    return data


def _rules(spec: Mapping[str, Any], key: str, peer_key: str) -> tuple[PolicyRule, ...]:
    items = _list(spec.get(key), f"spec.{key}")
    rules: list[PolicyRule] = []
    for i, item in enumerate(items):
        where = f"spec.{key}[{i}]"
        if item is None:
            item = {}
        if not isinstance(item, Mapping):
            raise PolicyError(f"{where} must be a mapping")
        peers = tuple(_peer(p, f"{where}.{peer_key}[{j}]")
                      for j, p in enumerate(_list(item.get(peer_key), f"{where}.{peer_key}")))
        ports = tuple(_port(p, f"{where}.ports[{j}]")
                      for j, p in enumerate(_list(item.get("ports"), f"{where}.ports")))
        line = items.line_at(i) if isinstance(items, YSeq) else 0
        rules.append(PolicyRule(peers, ports, line))
    return tuple(rules)


def parse_policy(obj: K8sObject) -> Policy:
    """The Policy of a networking.k8s.io/v1 NetworkPolicy; raises PolicyError."""
    spec = obj.data.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, Mapping):
        raise PolicyError("spec must be a mapping")
    try:
        selector = parse_selector(spec.get("podSelector"), "spec.podSelector")
    except SelectorError as exc:
        raise PolicyError(str(exc)) from None
    raw_types = spec.get("policyTypes")
    types: tuple[str, ...]
    if raw_types is None or raw_types == []:
        types = ("Ingress", "Egress") if "egress" in spec else ("Ingress",)
    else:
        bad = [t for t in _list(raw_types, "spec.policyTypes") if t not in POLICY_TYPES]
        if bad:
            raise PolicyError(f"spec.policyTypes: unknown type {bad[0]!r} (Ingress or Egress)")
        types = tuple(t for t in POLICY_TYPES if t in raw_types)
    ingress = _rules(spec, "ingress", "from")
    egress = _rules(spec, "egress", "to")
    return Policy(namespace=obj.namespace or "default", name=obj.name, pod_selector=selector,
                  policy_types=types, ingress=ingress if "Ingress" in types else (),
                  egress=egress if "Egress" in types else (), path=obj.path, line=obj.line)
