"""An estate to audit, built in code: two images (an OCI layout and a docker
archive), a Dockerfile, Kubernetes manifests, a compose file, a build-host
root and a vulnerability database imported from the demo OSV records."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))

from hosttrees import debian_docker_io

from cli_helpers import run
from imagebuilder import build, write_docker_archive, write_oci_layout

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "lashing" / "vulndb" / "data" / "demo"
DIST = "usr/lib/python3/dist-packages"

WEB = "registry.example.com/shop/web:1.0"
API = "shop/api:2.0"

DEPLOY_WEB = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: web, image: "{WEB}"}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: shop}}
spec:
  type: LoadBalancer
  selector: {{app: web}}
  ports: [{{port: 80}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: worker, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: worker}}}}
  template:
    metadata: {{labels: {{app: worker}}}}
    spec:
      containers: [{{name: worker, image: "{WEB}"}}]
---
apiVersion: v1
kind: Service
metadata: {{name: worker, namespace: shop}}
spec:
  selector: {{app: worker}}
  ports: [{{port: 80}}]
"""

DEPLOY_API = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      containers: [{{name: api, image: "{API}"}}]
---
apiVersion: v1
kind: Service
metadata: {{name: api, namespace: shop}}
spec:
  type: NodePort
  selector: {{app: api}}
  ports: [{{port: 80}}]
"""

COMPOSE = f"""\
services:
  web:
    image: {WEB}
    ports: ["8080:80"]
  cache:
    image: {WEB}
    ports: ["127.0.0.1:6379:6379"]
"""

DOCKERFILE = "FROM python:3.12\nRUN pip install requests\n"


def package_files(name: str, version: str) -> dict[str, str]:
    """An installed Python package, as a layer's files."""
    return {f"{DIST}/{name}-{version}.dist-info/METADATA":
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"}


@dataclass(frozen=True)
class Estate:
    root: Path
    db: Path
    host: Path

    def config(self, body: str, name: str = "lashing.toml") -> Path:
        path = self.root / name
        path.write_text(body)
        return path


FULL = """\
[audit]
images = [
  { target = "oci:images/web:1.0", name = "registry.example.com/shop/web:1.0" },
  "docker-archive:images/api.tar:docker.io/shop/api:2.0",
]
dockerfiles = ["Dockerfile"]
kubernetes = ["deploy"]
compose = ["compose.yaml"]
host = "hostroot"

[scan]
db = "lashing.db"
"""


def build_estate(root: Path) -> Estate:
    db = root / "lashing.db"
    r = run("db", "import", str(DEMO), "--db", str(db))
    assert r.code == 0, r.err
    images = root / "images"
    images.mkdir()
    # urllib3 1.26.4: HIGH vulnerabilities with fixes. requests 2.25.0: no HIGH one.
    write_oci_layout(images / "web", [(build([package_files("urllib3", "1.26.4")]), "1.0")])
    write_docker_archive(images / "api.tar", [(build([package_files("requests", "2.25.0")]),
                                               ["docker.io/shop/api:2.0"])])
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "deploy").mkdir()
    (root / "deploy" / "web.yaml").write_text(DEPLOY_WEB)
    (root / "deploy" / "api.yaml").write_text(DEPLOY_API)
    (root / "compose.yaml").write_text(COMPOSE)
    host = debian_docker_io(root / "hostroot")
    return Estate(root, db, host)
