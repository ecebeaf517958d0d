"""Agreement with np-guard/netpol-analyzer's expected connection lists
(../shared/data/netpol-analyzer, see its PROVENANCE.md).

One test per case without AdminNetworkPolicy and without user-defined
networks: every workload-to-workload and ingress-controller connection must
agree exactly (protocols and ports); connections with external addresses
must agree address by address after normalising how ranges are split."""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections import defaultdict
from pathlib import Path

import pytest

from lashing.manifests.kubernetes import K8sObject, load_kubernetes
from lashing.model import Connection, Endpoint, EndpointKind
from lashing.network import build_model, connections
from lashing.network.ports import ALL_PORTS, PROTOCOLS, Range, merge

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "netpol-analyzer"

# cases that cannot be compared, with the precise reason
SKIP = {
    "virtual_machines_example": "KubeVirt VirtualMachine workloads are not a lashing workload kind",
}

Ports = dict[str, tuple[Range, ...]]
Pairs = dict[tuple[str, str], Ports]
External = dict[tuple[str, str], list[tuple[int, int, Ports]]]  # (workload, "in"/"out")

_LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conns>.+)$")
_RANGE = re.compile(r"^(\d+\.\d+\.\d+\.\d+)-(\d+\.\d+\.\d+\.\d+)\[External\]$")


def case_names() -> list[str]:
    index = DATA / "INDEX.tsv"
    if not index.is_file():
        return []
    names = []
    for line in index.read_text().splitlines()[1:]:
        case, anp, udn, _outputs = line.split("\t")
        if anp == "no" and udn == "no":
            names.append(case)
    return names


def parse_conns(text: str) -> Ports:
    if text.strip() == "All Connections":
        return {p: ALL_PORTS for p in PROTOCOLS}
    ports: dict[str, list[Range]] = defaultdict(list)
    proto = ""
    for token in text.split(","):
        token = token.strip()
        if " " in token:
            proto, token = token.split(" ", 1)
        lo, _, hi = token.partition("-")
        ports[proto].append((int(lo), int(hi or lo)))
    return {p: merge(r) for p, r in ports.items()}


def expected(case: str) -> tuple[Pairs, External]:
    pairs: Pairs = {}
    external: External = defaultdict(list)
    text = (DATA / "test_outputs" / "connlist" / f"{case}_connlist_output.txt").read_text()
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        src, dst, ports = m["src"], m["dst"], parse_conns(m["conns"])
        ms, md = _RANGE.match(src), _RANGE.match(dst)
        if ms:
            external[(dst, "in")].append((_ip(ms[1]), _ip(ms[2]), ports))
        elif md:
            external[(src, "out")].append((_ip(md[1]), _ip(md[2]), ports))
        else:
            pairs[(src, dst)] = ports
    return pairs, dict(external)


def _ip(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def _name(e: Endpoint) -> str:
    if e.kind == EndpointKind.INGRESS_CONTROLLER:
        return "{ingress-controller}"
    return f"{e.namespace}/{e.name}[{e.workload_kind}]"


def actual(conns: list[Connection]) -> tuple[Pairs, External]:
    pairs: dict[tuple[str, str], dict[str, tuple[Range, ...]]] = defaultdict(dict)
    external: dict[tuple[str, str], list[tuple[int, int, Ports]]] = defaultdict(list)
    for c in conns:
        for ext, other, direction in ((c.source, c.destination, "in"),
                                      (c.destination, c.source, "out")):
            if ext.kind == EndpointKind.EXTERNAL and ext.cidr:
                net = ipaddress.ip_network(ext.cidr)
                if net.version == 4:
                    external[(_name(other), direction)].append(
                        (int(net.network_address), int(net.broadcast_address),
                         {c.protocol: c.ports}))
                break
        else:
            pairs[(_name(c.source), _name(c.destination))][c.protocol] = c.ports
    return dict(pairs), dict(external)


def by_address(ranges: list[tuple[int, int, Ports]]) -> list[tuple[int, int, Ports]]:
    """The union of the ranges' ports, over pieces cut at every boundary."""
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


def load(case: str) -> list[K8sObject]:
    objects: list[K8sObject] = []
    for path in sorted((DATA / "tests" / case).rglob("*")):
        if path.suffix in (".yaml", ".yml", ".json") and path.is_file():
            loaded = load_kubernetes(path)
            objects.extend(loaded.objects)
    return objects


@pytest.mark.parametrize("case", case_names() or ["<no data>"])
def test_agrees_with_netpol_analyzer(case: str) -> None:
    if not DATA.is_dir():
        pytest.skip(f"{DATA} is absent (real netpol-analyzer cases)")
    if case in SKIP:
        pytest.skip(SKIP[case])
    model = build_model(load(case))
    got_pairs, got_external = actual(connections(model))
    want_pairs, want_external = expected(case)
    assert got_pairs == want_pairs
    keys = sorted(set(got_external) | set(want_external))
    assert {k: by_address(got_external.get(k, [])) for k in keys} == {
        k: by_address(want_external.get(k, [])) for k in keys}
