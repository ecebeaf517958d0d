"""Build a small container estate to audit, entirely in code and offline:

    python examples/audit_demo.py build/audit
    lashing db import --db build/demo.db src/lashing/vulndb/data/demo
    lashing audit -c build/audit/lashing.toml --db build/demo.db

What is written under the directory, and what `lashing audit` finds in it:

- images/web        the demo image (examples/demo_image.py): old urllib3 and
                    requests, runs as root, a setuid shell, port 22 exposed;
- Dockerfile        unpinned base, `curl | sh`, no USER, shell-form CMD;
- deploy/           Kubernetes: the web Deployment behind a LoadBalancer runs
                    that image (vulnerable and exposed: LSH-NET-201), a
                    PostgreSQL StatefulSet, and NetworkPolicies, one of
                    which admits a pod label nobody has (`app: wbe`);
- compose.yaml      the developers' stack: web and Redis published on every
                    address of the machine;
- hostroot/         the build host's files: dockerd listening on TCP without
                    TLS, a user in the docker group, no audit rules;
- lashing.toml      names all of the above, with a provenance policy.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import demo_image

WEB_IMAGE = "registry.example.com/shop/web:1.0"

LASHING_TOML = f"""\
# The estate of examples/audit_demo.py. Run:
#   lashing audit -c lashing.toml --db DEMO_DB
[audit]
images = [{{ target = "oci:images/web:1.0", name = "{WEB_IMAGE}" }}]
dockerfiles = ["Dockerfile"]
kubernetes = ["deploy"]
compose = ["compose.yaml"]
host = "hostroot"

[audit.fail_on]
build-host = "HIGH"
image = "CRITICAL"
application = "CRITICAL"
network = "CRITICAL"

[scan]
trusted_registries = ["registry.example.com"]

[policy]
allowed_registries = ["registry.example.com"]
allow_latest = false
"""

DOCKERFILE = """\
FROM python:3.12
RUN apt-get update && apt-get install -y curl
RUN curl -fsSL https://install.example.com/agent.sh | sh
COPY app/ /app/
RUN pip install -r /app/requirements.txt
EXPOSE 8080
CMD python /app/main.py
"""

WEB_YAML = f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
        - name: web
          image: {WEB_IMAGE}
          ports: [{{containerPort: 80}}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  type: LoadBalancer
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: 80}}]
"""

DB_YAML = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: shop
spec:
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 999}
      containers:
        - name: postgres
          image: registry.example.com/mirror/postgres:16.4
          ports: [{containerPort: 5432}]
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
---
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: shop
spec:
  selector: {app: db}
  ports: [{port: 5432}]
"""

POLICIES_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
# The shop's front end takes traffic from anywhere, on port 80 only.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-from-anywhere
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: web}
  ingress:
    - ports: [{port: 80}]
---
# Meant to let web reach the database; the label is misspelt.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-from-web
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: db}
  ingress:
    - from:
        - podSelector:
            matchLabels: {app: wbe}
      ports: [{port: 5432}]
"""

COMPOSE = f"""\
services:
  web:
    image: {WEB_IMAGE}
    ports: ["8080:80"]
    depends_on: [cache]
  cache:
    image: registry.example.com/mirror/redis:7.2
    ports: ["6379:6379"]
"""

# The build host: Debian 12 with docker.io, and dockerd also listening on TCP.
HOST_FILES: dict[str, tuple[str, int]] = {
    "etc/os-release": ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'
                       'ID=debian\nVERSION_ID="12"\n', 0o644),
    "var/lib/dpkg/status": ("Package: docker.io\nStatus: install ok installed\n"
                            "Architecture: amd64\nSource: docker.io (20.10.24+dfsg1-1)\n"
                            "Version: 20.10.24+dfsg1-1+b3\n\n", 0o644),
    "etc/passwd": ("root:x:0:0:root:/root:/bin/bash\n"
                   "builder:x:1000:1000:CI builder:/home/builder:/bin/bash\n", 0o644),
    "etc/group": ("root:x:0:\nbuilder:x:1000:\ndocker:x:999:builder\n", 0o644),
    "etc/docker/daemon.json": ('{\n  "hosts": ["unix:///run/docker.sock", '
                               '"tcp://0.0.0.0:2375"],\n'
                               '  "insecure-registries": ["registry.example.com:5000"]\n}\n',
                               0o644),
    "lib/systemd/system/docker.service": (
        "[Unit]\nDescription=Docker Application Container Engine\n"
        "Requires=docker.socket\n\n[Service]\nType=notify\n"
        "ExecStart=/usr/sbin/dockerd --containerd=/run/containerd/containerd.sock\n", 0o644),
    "lib/systemd/system/docker.socket": (
        "[Socket]\nListenStream=/run/docker.sock\nSocketMode=0660\n"
        "SocketUser=root\nSocketGroup=docker\n", 0o644),
    "usr/sbin/dockerd": ("", 0o755),
    "usr/sbin/runc": ("", 0o755),
    "usr/bin/containerd": ("", 0o755),
    "etc/fstab": ("UUID=1234 / ext4 errors=remount-ro 0 1\n", 0o644),
}


def write(root: Path, path: str, text: str, mode: int = 0o644) -> None:
    full = root / path
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_text(text)
    full.chmod(mode)


def host_root(root: Path) -> None:
    for path, (text, mode) in HOST_FILES.items():
        write(root, path, text, mode)
    if os.geteuid() == 0:  # a real host's files are root's; as another user they are yours
        for p in [root, *root.rglob("*")]:
            os.chown(p, 0, 0)


def main(out: Path) -> None:
    if out.is_symlink() or (out.exists() and (not out.is_dir() or any(out.iterdir()))):
        sys.exit(f"{out}: not an empty directory; remove it or name another directory")
    out.mkdir(parents=True, exist_ok=True)
    (out / "images" / "web").mkdir(parents=True)
    demo_image.main(out / "images" / "web")
    write(out, "Dockerfile", DOCKERFILE)
    write(out, "deploy/web.yaml", WEB_YAML)
    write(out, "deploy/db.yaml", DB_YAML)
    write(out, "deploy/network-policies.yaml", POLICIES_YAML)
    write(out, "compose.yaml", COMPOSE)
    host_root(out / "hostroot")
    write(out, "lashing.toml", LASHING_TOML)
    print(f"estate written to {out}; run: lashing audit -c {out / 'lashing.toml'}",
          file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/audit"))
