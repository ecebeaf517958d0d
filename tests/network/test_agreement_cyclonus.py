"""Agreement with cyclonus (../shared/data/netpol-cyclonus, see PROVENANCE.md).

`analyze-probe.txt` holds cyclonus's ingress, egress and combined truth
tables (rows: source pod, columns: destination pod) for the policies of
networkpolicies/simple-example over the pods of examples/probe.json, one set
of tables per probe (TCP 80, 81, 82). `analyze-query-traffic.txt` answers
the traffic queries of examples/traffic.json for the same policies. Each is
compared with lashing's explanation of the same pair."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from lashing.manifests.kubernetes import K8sObject, load_kubernetes
from lashing.network import NetworkModel, build_model, explain
from lashing.network.explain import Explanation

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "netpol-cyclonus"
EXAMPLES = DATA / "examples"
POLICIES = DATA / "networkpolicies" / "simple-example"


def need_data() -> None:
    if not DATA.is_dir():
        pytest.skip(f"{DATA} is absent (real cyclonus truth tables)")


def cluster(resources: dict[str, Any], extra_pods: list[dict[str, Any]]) -> list[K8sObject]:
    """Namespaces and pods of a cyclonus probe file as Kubernetes objects."""
    docs: list[dict[str, Any]] = []
    for ns, labels in resources["Namespaces"].items():
        docs.append({"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": ns, "labels": labels}})
    for pod in [*resources["Pods"], *extra_pods]:
        ports = [{"containerPort": c["Port"], "protocol": c["Protocol"].upper(),
                  **({"name": c["PortName"]} if c.get("PortName") else {})}
                 for c in pod.get("Containers", [])]
        docs.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": pod["Name"], "namespace": pod["Namespace"],
                                  "labels": pod["Labels"]},
                     "spec": {"containers": [{"name": "c", "image": "i", "ports": ports}]}})
    text = "\n---\n".join(json.dumps(d) for d in docs)
    objects = load_kubernetes(text, "probe.json").objects
    for path in sorted(POLICIES.glob("*.yaml")):
        objects.extend(load_kubernetes(path).objects)
    return objects


def tables() -> list[tuple[str, dict[str, list[tuple[str, str, str]]]]]:
    """(probe name, {"Ingress"|"Egress"|"Combined": [(src, dst, mark)]}) per probe; the
    mark is "." (allowed), "X" (blocked), "N" (no pod serves the port) or "?"."""
    text = (EXAMPLES / "cyclonus-output" / "analyze-probe.txt").read_text()
    probes = json.loads((EXAMPLES / "probe.json").read_text())["Probes"]
    found: list[dict[str, list[tuple[str, str, str]]]] = []
    current: dict[str, list[tuple[str, str, str]]] = {}
    section = ""
    header: list[str] = []
    for line in text.splitlines():
        if line.rstrip(":") in ("Ingress", "Egress", "Combined"):
            section = line.rstrip(":")
            if section == "Ingress":
                current = {}
                found.append(current)
            current[section] = []
            header = []
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") \
            else []
        if not cells or not section:
            continue
        if not header:
            header = [c.lower() for c in cells[1:]]
            continue
        for dst, mark in zip(header, cells[1:], strict=True):
            current[section].append((cells[0], dst, mark))
    named = [(f"{p['Protocol']}-{p['Port']}", t) for p, t in zip(probes, found, strict=False)]
    return [(name, t) for name, t in named if t.get("Combined")]


def _sides(e: Explanation) -> tuple[bool, bool]:
    def side(direction: str) -> bool:
        verdicts = [v for v in e.verdicts if v.direction == direction]
        return not verdicts or any(v.allows for v in verdicts)
    return side("Ingress"), side("Egress")


def _probe_cases() -> list[str]:
    if not (EXAMPLES / "cyclonus-output" / "analyze-probe.txt").is_file():
        return ["<no data>"]
    return [name for name, _ in tables()]


@pytest.fixture(scope="module")
def probe_model() -> NetworkModel:
    need_data()
    return build_model(cluster(json.loads((EXAMPLES / "probe.json").read_text())["Resources"],
                               []))


@pytest.mark.parametrize("probe", _probe_cases())
def test_probe_truth_table(probe: str, probe_model: NetworkModel) -> None:
    need_data()
    table = dict(tables())[probe]
    protocol, port = probe.split("-")
    marks = {mark for cells in table.values() for _, _, mark in cells}
    if not marks <= {".", "X"}:
        pytest.skip(f"cyclonus gives no verdict for {probe}: no probed pod serves that port "
                    f"(cells {''.join(sorted(marks))})")
    compared = 0
    for section, cells in table.items():
        for src, dst, mark in cells:
            allowed = mark == "."
            e = explain(probe_model, src, dst, int(port), protocol)
            ingress, egress = _sides(e)
            got = {"Ingress": ingress, "Egress": egress, "Combined": e.allowed}[section]
            assert got == allowed, f"{section} {src} -> {dst} on {probe}: {e.lines}"
            compared += 1
    assert compared == 3 * 81


def traffic_cases() -> list[tuple[dict[str, Any], bool]]:
    queries = json.loads((EXAMPLES / "traffic.json").read_text())
    text = (EXAMPLES / "cyclonus-output" / "analyze-query-traffic.txt").read_text()
    answers = [m == "TRUE" for m in re.findall(r"IS ALLOWED\? \|\s+(TRUE|FALSE)", text)]
    assert len(answers) == len(queries)
    return list(zip(queries, answers, strict=True))


def _party(side: dict[str, Any], name: str) -> tuple[str, list[dict[str, Any]]]:
    internal = side.get("Internal")
    if internal is None:
        return side["IP"], []
    pod = {"Namespace": internal["Namespace"], "Name": name, "Labels": internal["PodLabels"],
           "Containers": [{"Port": 80, "PortName": "serve-80-tcp", "Protocol": "tcp"}]}
    return f"{internal['Namespace']}/{name}", [pod]


@pytest.mark.parametrize("index", range(4))
def test_traffic_query(index: int) -> None:
    need_data()
    query, allowed = traffic_cases()[index]
    src, src_pods = _party(query["Source"], "query-source")
    dst, dst_pods = _party(query["Destination"], "query-destination")
    resources = json.loads((EXAMPLES / "probe.json").read_text())["Resources"]
    model = build_model(cluster({**resources, "Pods": []}, src_pods + dst_pods))
    e = explain(model, src, dst, query["ResolvedPort"], query["Protocol"])
    assert e.allowed is allowed, e.lines


def test_all_five_probe_is_not_comparable() -> None:
    need_data()
    text = (EXAMPLES / "cyclonus-output" / "analyze-all-five.txt").read_text()
    missing = [n for n in re.findall(r"\| (default/[a-z0-9-]+) ", text)
               if n.startswith("default/accidental")]
    if missing:
        pytest.skip("analyze-all-five.txt was produced from policies that are not in the data "
                    f"set (e.g. {missing[0]}); its tables cannot be recomputed")
