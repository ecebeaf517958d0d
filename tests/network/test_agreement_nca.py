"""Agreement with IBM network-config-analyzer's connectivity maps
(../shared/data/netpol-nca, see its PROVENANCE.md).

Every `connectivityMap` query of an NCA scheme whose expected output is a
text report (`txt` firewall rules, or `txt_no_fw_rules` pairs) is one test
per network configuration it names. The configuration's namespaces, pods,
resources and policies are loaded as NCA would; the expected report is
expanded to pod pairs (namespace lists, pod names or NCA's label
expressions, CIDRs, protocols and ports), pods are mapped to the workloads
that own them, and the result must equal lashing's connections: exactly
between workloads, address by address for external ranges. Pods NCA adds on
its own ("-livesim" stand-ins for kube-system services) are not in the
manifests and are left out of the comparison. Queries that cannot be
compared are skipped with the reason."""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lashing.manifests.kubernetes import K8sObject, load_kubernetes
from lashing.manifests.yaml import load_all
from lashing.model import Connection, EndpointKind
from lashing.network import build_model, connections
from lashing.network.kubernetes import POD_KINDS
from lashing.network.ports import ALL_PORTS, PROTOCOLS, Range, merge

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "netpol-nca"
FORMATS = ("txt", "txt_no_fw_rules")

Ports = dict[str, tuple[Range, ...]]
Pairs = dict[tuple[str, str], Ports]
External = dict[tuple[str, str], list[tuple[int, int, Ports]]]


@dataclass(frozen=True)
class Case:
    scheme: Path
    query: str
    config: str
    spec: Mapping[str, Any]  # the scheme's whole document
    expected: Path
    output_format: str
    skip: str = ""
    filter_system: bool = False  # fwRulesFilterSystemNs: leave out kube-system-only connections

    @property
    def id(self) -> str:
        return f"{self.scheme.relative_to(DATA)}:{self.query}:{self.config}"


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def cases() -> list[Case]:
    found: list[Case] = []
    for scheme in sorted(DATA.rglob("*-scheme.yaml")):
        docs, _problems, error = load_all(scheme.read_bytes(), str(scheme))
        if error is not None or not docs or not isinstance(docs[0], Mapping):
            continue
        spec = docs[0]
        for query in _list(spec.get("queries")):
            if not isinstance(query, Mapping) or "connectivityMap" not in query:
                continue
            out = query.get("outputConfiguration") or {}
            fmt = str(out.get("outputFormat") or "txt")
            expected = query.get("expectedOutput")
            if fmt not in FORMATS or not expected:
                continue
            skip = ""
            if out.get("subset"):
                skip = "the query is restricted to a subset of the workloads"
            elif out.get("outputEndpoints") == "pods":
                skip = "the report is per pod replica, lashing reports per workload"
            for config in _list(query["connectivityMap"]):
                found.append(Case(scheme, str(query.get("name")), str(config), spec,
                                  scheme.parent / str(expected), fmt, skip,
                                  out.get("fwRulesFilterSystemNs") is True))
    return found


# --------------------------------------------------------------------------- the input


def _files(base: Path, entries: list[Any]) -> Iterator[Path]:
    for entry in entries:
        path = (base / str(entry)).resolve()
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*")
                              if p.suffix in (".yaml", ".yml", ".json") and p.is_file())
        elif path.is_file():
            yield path
        else:
            raise FileNotFoundError(f"{entry} (from {base})")


def config_inputs(case: Case) -> list[tuple[Path, str]]:
    """The files of a network configuration, each with the scheme key naming it
    (a namespace or pod list only contributes namespaces or pods)."""
    config = next((c for c in _list(case.spec.get("networkConfigList"))
                   if isinstance(c, Mapping) and c.get("name") == case.config), None)
    if config is None:
        raise LookupError(f"no networkConfig {case.config}")
    base = case.scheme.parent
    found: list[tuple[Path, str]] = []
    for key in ("namespaceList", "podList"):
        found.extend((p, key) for p in _files(base, _list(config.get(key, case.spec.get(key)))))
    for key in ("resourceList", "networkPolicyList"):
        found.extend((p, key) for p in _files(base, _list(config.get(key))))
    return list(dict.fromkeys(found))


def load_objects(inputs: list[tuple[Path, str]]) -> list[K8sObject]:
    wanted: dict[str, Callable[[K8sObject], bool]] = {
        "namespaceList": lambda o: o.kind == "Namespace",
        "podList": lambda o: o.kind in POD_KINDS,
        # NCA reads Ingress objects given with the policies as ingress policies
        "networkPolicyList": lambda o: "Policy" in o.kind or o.kind in ("Ingress", "Route"),
        "resourceList": lambda o: True}
    objects: list[K8sObject] = []
    seen: set[tuple[str, str, str, int]] = set()
    for path, key in inputs:
        for obj in load_kubernetes(path).objects:
            ident = (obj.path, obj.kind, obj.name, obj.line)
            if wanted[key](obj) and ident not in seen:
                seen.add(ident)
                objects.append(obj)
    return objects


@dataclass(frozen=True)
class PodInfo:
    namespace: str
    names: frozenset[str]  # the pod's own name and its workload's
    labels: Mapping[str, str]
    endpoint: str  # ns/workload


def pods_of(objects: list[K8sObject]) -> list[PodInfo]:
    model = build_model(objects)
    found = []
    for obj in objects:
        if obj.kind not in POD_KINDS or obj.pod_spec is None:
            continue
        ns = obj.namespace or "default"
        owner = obj.name
        owners = (obj.data.get("metadata") or {}).get("ownerReferences")
        if obj.kind == "Pod" and isinstance(owners, list):
            chosen = [o for o in owners if isinstance(o, Mapping) and o.get("name")
                      and o.get("kind", "Pod") in POD_KINDS]
            if chosen:
                owner = str(next((o for o in chosen if o.get("controller")), chosen[0])["name"])
        meta = obj.pod_metadata
        raw = meta.get("labels") if meta is not None else None
        labels = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
        if any(w.namespace == ns and w.endpoint.name == owner for w in model.workloads):
            found.append(PodInfo(ns, frozenset({obj.name, owner}), labels, f"{ns}/{owner}"))
    return found


# --------------------------------------------------------------------------- NCA's report


def label_expression(text: str) -> Any:
    """A predicate over labels for NCA's label expressions
    (k=v, k!=v, k in (a,b), k not in (a,b), has(k), !has(k), and, or, parentheses or
    braces for grouping)."""
    text = text.strip().replace("{", "(").replace("}", ")")
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    alternatives = _split(text, " or ")
    if len(alternatives) > 1:
        parts = [label_expression(a) for a in alternatives]
        return lambda labels: any(p(labels) for p in parts)
    conjuncts = _split(text, " and ")
    if len(conjuncts) > 1:
        parts = [label_expression(c) for c in conjuncts]
        return lambda labels: all(p(labels) for p in parts)
    if m := re.fullmatch(r"(!?)has\(([^)]+)\)", text):
        negate, key = m[1] == "!", m[2]
        return lambda labels: (key in labels) != negate
    if m := re.fullmatch(r"(\S+) (not in|in) \(([^)]*)\)", text):
        key, op, values = m[1], m[2], {v.strip() for v in m[3].split(",")}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if m := re.fullmatch(r"([^!=\s]+)(!?=)(.*)", text):
        key, op, value = m[1], m[2], m[3]
        if op == "=":
            return lambda labels: labels.get(key) == value
        return lambda labels: labels.get(key) != value
    raise ValueError(f"unknown NCA label expression {text!r}")


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _split(text: str, word: str) -> list[str]:
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        if text[i] in "()":
            depth += 1 if text[i] == "(" else -1
        elif depth == 0 and text.startswith(word, i):
            parts.append(text[start:i])
            start = i + len(word)
            i = start
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def parse_conn(text: str) -> Ports:
    text = text.strip()
    if text == "All connections":
        return {p: ALL_PORTS for p in PROTOCOLS}
    ports: dict[str, list[Range]] = defaultdict(list)
    for group in re.findall(r"\{([^}]*)\}", text):
        m = re.fullmatch(r"protocols:([A-Z, ]+?)(?:,dst_ports:([0-9,\-]+?))?"
                         r"(?:,(?:hosts|paths):.*)?", group)
        if not m:
            raise ValueError(f"unknown NCA connection {group!r}")
        ranges: list[Range] = []
        for token in (m[2] or "").split(","):
            if token:
                lo, _, hi = token.partition("-")
                ranges.append((int(lo), int(hi or lo)))
        for proto in (p.strip() for p in m[1].split(",")):
            ports[proto].extend(ranges or ALL_PORTS)
    return {p: merge(r) for p, r in ports.items()}


def section(case: Case) -> list[str]:
    lines = case.expected.read_text().splitlines()
    if case.output_format == "txt_no_fw_rules":
        return [line for line in lines if " => " in line]
    header = f"final fw rules for query: {case.query}, config: {case.config}:"
    if header not in lines:
        raise LookupError(f"no section {header!r} in {case.expected.name}")
    start = lines.index(header) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("final fw rules")),
               len(lines))
    return [line for line in lines[start:end] if line.strip()]


_SIDE = re.compile(r"(?P<dir>src|dst)(?:_ns: \[(?P<ns>[^\]]*)\] (?P=dir)_pods: \[(?P<pods>.*?)\]"
                   r"|: (?P<ip>[^ ]+?),?)(?= (?:dst|conn)|$)")


def _peers(ns: str | None, pods: str | None, ip: str | None,
           all_pods: list[PodInfo]) -> list[str | tuple[int, int]]:
    if ip is not None:
        if ip[0].isdigit():  # CIDRs and first-last ranges
            found: list[str | tuple[int, int]] = []
            for token in filter(None, ip.split(",")):
                if "/" in token:
                    net = ipaddress.ip_network(token)
                    if net.version == 4:
                        found.append((int(net.network_address), int(net.broadcast_address)))
                else:
                    first, _, last = token.partition("-")
                    found.append((int(ipaddress.IPv4Address(first)),
                                  int(ipaddress.IPv4Address(last or first))))
            return found
        namespace, _, name = ip.partition("/")
        return [p.endpoint for p in all_pods if p.namespace == namespace and name in p.names]
    assert ns is not None and pods is not None
    namespaces = {n.strip() for n in ns.split(",")}
    chosen = [p for p in all_pods if p.namespace in namespaces]
    if pods.strip() != "*":
        if re.search(r"=|has\(| in \(", pods):
            match = label_expression(pods)
            chosen = [p for p in chosen if match(p.labels)]
        else:
            names = {n.strip() for n in pods.split(",")}
            chosen = [p for p in chosen if p.names & names]
    return [p.endpoint for p in chosen]


def _add(pairs: Pairs, external: External, src: str | tuple[int, int],
         dst: str | tuple[int, int], ports: Ports) -> None:
    if isinstance(src, tuple) and isinstance(dst, str):
        external[(dst, "in")].append((src[0], src[1], ports))
    elif isinstance(dst, tuple) and isinstance(src, str):
        external[(src, "out")].append((dst[0], dst[1], ports))
    elif isinstance(src, str) and isinstance(dst, str) and src != dst:
        got = pairs.setdefault((src, dst), {})
        for proto, ranges in ports.items():
            got[proto] = merge((*got.get(proto, ()), *ranges))


def expected(case: Case, all_pods: list[PodInfo]) -> tuple[Pairs, External]:
    pairs: Pairs = {}
    external: External = defaultdict(list)
    for line in section(case):
        if "livesim" in line:
            continue
        if case.output_format == "txt_no_fw_rules":
            m = re.match(r"(\S+) => (\S+) : (.*)$", line)
            assert m, line
            ends: list[list[str | tuple[int, int]]] = []
            for token in (m[1], m[2]):
                if m2 := re.fullmatch(r"([\d.]+)-([\d.]+)", token):
                    ends.append([(int(ipaddress.IPv4Address(m2[1])),
                                  int(ipaddress.IPv4Address(m2[2])))])
                else:
                    ns, _, rest = token.partition("/")
                    name = rest.split("[")[0]
                    ends.append([p.endpoint for p in all_pods
                                 if p.namespace == ns and name in p.names])
            srcs, dsts, conn = ends[0], ends[1], m[3]
        else:
            head, _, conn = line.partition(" conn: ")
            sides = {m["dir"]: m for m in _SIDE.finditer(head)}
            srcs = _peers(sides["src"]["ns"], sides["src"]["pods"], sides["src"]["ip"], all_pods)
            dsts = _peers(sides["dst"]["ns"], sides["dst"]["pods"], sides["dst"]["ip"], all_pods)
        ports = parse_conn(conn)
        for s, d in itertools.product(srcs, dsts):
            _add(pairs, external, s, d, ports)
    return pairs, dict(external)


def actual(conns: list[Connection]) -> tuple[Pairs, External]:
    pairs: Pairs = {}
    external: External = defaultdict(list)
    for c in conns:
        ends: list[str | tuple[int, int]] = []
        for e in (c.source, c.destination):
            if e.kind == EndpointKind.EXTERNAL and e.cidr:
                net = ipaddress.ip_network(e.cidr)
                if net.version != 4:
                    break
                ends.append((int(net.network_address), int(net.broadcast_address)))
            elif e.kind == EndpointKind.WORKLOAD:
                ends.append(f"{e.namespace}/{e.name}")
        if len(ends) == 2:
            _add(pairs, external, ends[0], ends[1], {c.protocol: c.ports})
    return pairs, dict(external)


def by_address(ranges: list[tuple[int, int, Ports]]) -> list[tuple[int, int, Ports]]:
    cuts = sorted({0, 2**32} | {r[0] for r in ranges} | {r[1] + 1 for r in ranges})
    out: list[tuple[int, int, Ports]] = []
    for start, stop in itertools.pairwise(cuts):
        ports: dict[str, list[Range]] = defaultdict(list)
        for lo, hi, p in ranges:
            if lo <= start and stop - 1 <= hi:
                for proto, rr in p.items():
                    ports[proto].extend(rr)
        merged = {k: merge(v) for k, v in ports.items()}
        if out and out[-1][2] == merged:
            out[-1] = (out[-1][0], stop - 1, merged)
        else:
            out.append((start, stop - 1, merged))
    return [r for r in out if r[2]]


CASES = cases() if DATA.is_dir() else []


@pytest.mark.parametrize("case", CASES or [None], ids=[c.id for c in CASES] or ["<no data>"])
def test_agrees_with_nca_connectivity_map(case: Case | None) -> None:
    if case is None:
        pytest.skip(f"{DATA} is absent (real network-config-analyzer cases)")
    if case.skip:
        pytest.skip(case.skip)
    if not case.expected.is_file():
        pytest.skip(f"expected output {case.expected.name} is not in the data set")
    try:
        paths = config_inputs(case)
    except (FileNotFoundError, LookupError) as exc:
        pytest.skip(f"an input of the configuration is not in the data set: {exc}")
    if any(p.name.startswith(("calico", "istio")) for p, _key in paths):
        pytest.skip("the configuration uses Calico or Istio policies (not evaluated)")
    objects = load_objects(paths)
    if any(o.kind in ("Ingress", "Route") for o in objects):
        pytest.skip("NCA models the real ingress-nginx controller pods and HTTP hosts/paths; "
                    "lashing reports an abstract ingress-controller endpoint")
    model = build_model(objects)
    all_pods = pods_of(objects)
    want_pairs, want_external = expected(case, all_pods)
    assert want_pairs or want_external, "the expected report expanded to nothing"
    got_pairs, got_external = actual(connections(model))
    if case.filter_system:
        got_pairs = {k: v for k, v in got_pairs.items()
                     if not all(e.startswith("kube-system/") for e in k)}
        got_external = {k: v for k, v in got_external.items()
                        if not k[0].startswith("kube-system/")}
    assert got_pairs == want_pairs
    keys = sorted(set(got_external) | set(want_external))
    assert {k: by_address(got_external.get(k, [])) for k in keys} == {
        k: by_address(want_external.get(k, [])) for k in keys}


def test_label_expressions() -> None:
    match = label_expression("(has(app) and app not in (a,b)) or tier=x")
    assert match({"app": "c"}) and match({"tier": "x"}) and not match({"app": "a"})
    assert label_expression("!has(tier) or tier=not_front")({})
    assert not label_expression("pod!=c")({"pod": "c"})
