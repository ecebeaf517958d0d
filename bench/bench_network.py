#!/usr/bin/env python3
"""Benchmark lashing's Kubernetes reachability engine on generated clusters.

Run with the project's virtualenv so that `lashing` is the working tree's:

    .venv/bin/python bench/bench_network.py [--sizes 100,1000,5000] [--nca-max 1000]

Each cluster has N workloads (Deployments, each with unique labels and two
named container ports) spread over N/25 namespaces, and N/2 NetworkPolicies:
a default deny (ingress and egress) per namespace, per-namespace egress
allowances (cluster ports, DNS, the internet except 10.0.0.0/8 on 443),
per-tier rules, and per-service rules admitting three client services from
namespaces chosen by a team label. The files are written once to
bench/.work/network-N/ and reused while the generator is unchanged.

Every size runs in a fresh child process that loads the YAML, builds the
model and computes all connections; the wall times of each step and the
peak RSS (resource.getrusage, KiB) are reported. The target is 1,000
workloads x 500 policies in under 10 s.

When network-config-analyzer (IBM NCA) can be installed from PyPI into
bench/.work/nca-venv, its connectivity map of the same files is timed in
the same run (sizes up to --nca-max) and the ratio NCA/lashing printed
(above 1: lashing is faster).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"
NCA_VENV = WORK / "nca-venv"
TARGET_SECONDS = 10.0
NCA_TIMEOUT = 1800
GENERATOR_VERSION = "1"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- data set


def generate(n: int) -> tuple[str, str, int]:
    """(workloads YAML, policies YAML, policy count) of a cluster of n workloads."""
    namespaces = max(1, n // 25)
    tiers = ("web", "api", "db")
    docs: list[str] = []
    for i in range(namespaces):
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-{i}\n  labels:\n"
                    f"    team: team-{i % 5}\n    env: {'prod' if i % 2 else 'dev'}\n")
    for i in range(n):
        docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{i}
  namespace: ns-{i % namespaces}
spec:
  selector:
    matchLabels: {{app: svc-{i}}}
  template:
    metadata:
      labels: {{app: svc-{i}, tier: {tiers[i % 3]}, team: team-{i % 5}}}
    spec:
      containers:
      - name: main
        image: registry.example/svc-{i}:1.0
        ports:
        - {{name: http, containerPort: {8080 + i % 10}}}
        - {{name: metrics, containerPort: 9090}}
""")
    policies: list[str] = []
    for i in range(namespaces):
        ns = f"ns-{i}"
        policies.append(f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: default-deny, namespace: {ns}}}
spec:
  podSelector: {{}}
  policyTypes: [Ingress, Egress]
""")
        policies.append(f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: egress, namespace: {ns}}}
spec:
  podSelector: {{}}
  policyTypes: [Egress]
  egress:
  - to: [{{namespaceSelector: {{}}}}]
    ports: [{{port: 8080, endPort: 8090}}, {{port: metrics}}]
  - to: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: kube-system}}}}}}]
    ports: [{{port: 53, protocol: UDP}}, {{port: 53, protocol: TCP}}]
  - to: [{{ipBlock: {{cidr: 0.0.0.0/0, except: [10.0.0.0/8, 172.16.0.0/12]}}}}]
    ports: [{{port: 443}}]
""")
        policies.append(f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: db-from-api, namespace: {ns}}}
spec:
  podSelector: {{matchLabels: {{tier: db}}}}
  ingress:
  - from: [{{podSelector: {{matchLabels: {{tier: api}}}}}}]
    ports: [{{port: http}}]
""")
    target = max(len(policies), n // 2)
    k = 0
    while len(policies) < target:
        svc = (k * 7) % n
        clients = ",".join(f"svc-{(svc + d) % n}" for d in (1, 11, 101))
        policies.append(f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: allow-svc-{svc}-{k}, namespace: ns-{svc % namespaces}}}
spec:
  podSelector: {{matchLabels: {{app: svc-{svc}}}}}
  ingress:
  - from:
    - namespaceSelector: {{matchLabels: {{team: team-{k % 5}}}}}
      podSelector:
        matchExpressions: [{{key: app, operator: In, values: [{clients}]}}]
    - ipBlock: {{cidr: 192.168.{k % 256}.0/24}}
    ports: [{{port: http}}, {{port: 9090}}]
""")
        k += 1
    return "---\n".join(docs), "---\n".join(policies), len(policies)


def dataset(n: int) -> tuple[Path, int]:
    recipe = hashlib.sha256(f"{GENERATOR_VERSION} {n}".encode()).hexdigest()
    dest = WORK / f"network-{n}"
    stamp = dest / ".recipe.json"
    if stamp.is_file():
        saved = json.loads(stamp.read_text())
        if saved.get("digest") == recipe:
            log(f"reusing {dest}")
            return dest, int(saved["policies"])
    log(f"generating {dest}")
    dest.mkdir(parents=True, exist_ok=True)
    workloads, policies, count = generate(n)
    (dest / "workloads.yaml").write_text(workloads)
    (dest / "policies.yaml").write_text(policies)
    stamp.write_text(json.dumps({"digest": recipe, "policies": count}))
    return dest, count


# --------------------------------------------------------------------------- lashing


def child(directory: Path) -> None:
    """Run in a fresh process: time load, model and connections; print JSON."""
    from lashing.manifests.kubernetes import load_kubernetes
    from lashing.manifests.yaml import YamlLimits
    from lashing.network import build_model, connections

    limits = YamlLimits(max_bytes=1 << 30, max_expanded_nodes=50_000_000)
    t0 = time.perf_counter()
    objects = []
    for name in ("workloads.yaml", "policies.yaml"):
        objects.extend(load_kubernetes(directory / name, limits=limits).objects)
    t1 = time.perf_counter()
    model = build_model(objects)
    t2 = time.perf_counter()
    conns = connections(model)
    t3 = time.perf_counter()
    print(json.dumps({
        "load": t1 - t0, "model": t2 - t1, "connections": t3 - t2,
        "workloads": len(model.workloads), "policies": len(model.policies),
        "issues": len(model.issues), "edges": len(conns),
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


def run_lashing(directory: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", str(directory)], check=True,
                         capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    result: dict[str, float] = json.loads(out.stdout)
    return result


# --------------------------------------------------------------------------- NCA


def ensure_nca() -> Path | None:
    exe = NCA_VENV / "bin" / "nca"
    if not exe.exists():
        log(f"installing network-config-analyzer into {NCA_VENV} (PyPI)")
        try:
            subprocess.run(["python3", "-m", "venv", str(NCA_VENV)], check=True)
            subprocess.run([str(NCA_VENV / "bin" / "pip"), "install", "-q",
                            "network-config-analyzer"], check=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            log(f"NCA not available ({exc}); comparison skipped")
            return None
    return exe if exe.exists() else None


def nca_version() -> str:
    out = subprocess.run([str(NCA_VENV / "bin" / "pip"), "show", "network-config-analyzer"],
                         capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def run_nca(exe: Path, directory: Path) -> float | None:
    cmd = [str(exe), "--connectivity", str(directory / "policies.yaml"),
           "--resource_list", str(directory / "workloads.yaml"), "--output_format", "txt",
           "--file_out", str(directory / "nca-connectivity.txt")]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=NCA_TIMEOUT)
    except subprocess.TimeoutExpired:
        log(f"NCA timed out after {NCA_TIMEOUT} s on {directory}")
        return None
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1) or not (directory / "nca-connectivity.txt").is_file():
        log(f"NCA failed on {directory} (exit {proc.returncode}): {proc.stderr.strip()[-400:]}")
        return None
    return elapsed


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--nca-max", type=int, default=1000,
                        help="largest size NCA is timed on (0: never)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    sys.path.insert(0, str(ROOT / "src"))
    from lashing import __version__

    sizes = [int(s) for s in args.sizes.split(",")]
    nca = ensure_nca() if args.nca_max else None
    print(f"python {sys.version.split()[0]}, lashing {__version__}"
          + (f", network-config-analyzer {nca_version()}" if nca else ", NCA not compared"))
    print(f"{'workloads':>9} {'policies':>8} {'edges':>9} {'load s':>7} {'model s':>7} "
          f"{'reach s':>7} {'total s':>7} {'peak MiB':>8} {'NCA s':>8} {'NCA/lashing':>11}")
    failed = False
    for n in sizes:
        directory, _count = dataset(n)
        r = run_lashing(directory)
        reach = r["model"] + r["connections"]
        nca_s = run_nca(nca, directory) if nca and n <= args.nca_max else None
        ratio = f"{nca_s / (r['load'] + reach):.1f}x" if nca_s else "-"
        print(f"{int(r['workloads']):>9} {int(r['policies']):>8} {int(r['edges']):>9} "
              f"{r['load']:>7.2f} {r['model']:>7.2f} {r['connections']:>7.2f} "
              f"{r['load'] + reach:>7.2f} {r['peak_rss_kib'] / 1024:>8.0f} "
              f"{(f'{nca_s:.1f}' if nca_s else '-'):>8} {ratio:>11}", flush=True)
        if n == 1000 and reach >= TARGET_SECONDS:
            failed = True
    print(f"target: 1,000 workloads x 500 policies, model + reachability < {TARGET_SECONDS:.0f} s"
          f" -> {'MISSED' if failed else 'met'}" if 1000 in sizes else "")
    print("NCA/lashing compares NCA's whole run with lashing's load + model + reachability")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
