"""`lashing audit` with an image pulled from the real Distribution registry on
127.0.0.1: the registry reference joins with the workload that names it, and
an image the registry does not have is an item error while the rest completes."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_estate import DEMO, package_files

from cli_helpers import run
from imagebuilder import build
from registry import Registry

pytestmark = [pytest.mark.registry, pytest.mark.usefixtures("registry_env")]


def test_registry_image_joins_by_reference(registry: Registry, tmp_path: Path) -> None:
    pusher = registry.pusher()
    try:
        pusher.image("shop/web", "1.0", build([package_files("urllib3", "1.26.4")]))
    finally:
        pusher.close()
    ref = f"{registry.host}/shop/web:1.0"
    db = tmp_path / "lashing.db"
    assert run("db", "import", str(DEMO), "--db", str(db)).code == 0
    (tmp_path / "web.yaml").write_text(f"""\
apiVersion: v1
kind: Pod
metadata: {{name: web, labels: {{app: web}}}}
spec:
  containers: [{{name: web, image: "{ref}", ports: [{{containerPort: 80, hostPort: 80}}]}}]
""")
    (tmp_path / "lashing.toml").write_text(f"""\
[audit]
images = ["docker://{ref}", "docker://{registry.host}/shop/missing:1.0"]
kubernetes = ["web.yaml"]
[scan]
db = "lashing.db"
skip_rules = ["LSH-TRUST-011"]
""")
    r = run("audit", "-c", str(tmp_path / "lashing.toml"), "--format", "json",
            "--insecure-registry", registry.host, "--cache-dir", str(tmp_path / "cache"))
    assert r.code == 0, r.err
    doc = r.json()
    assert [i["status"] for i in doc["audit"]["items"]] == ["ok", "error", "ok"]
    assert "shop/missing" in doc["audit"]["items"][1]["error"]
    net = [f for f in doc["findings"] if f["rule_id"] == "LSH-NET-201"]
    assert len(net) == 1
    assert net[0]["location"]["resource"] == "Pod/default/web"
    assert "hostPort" in net[0]["message"] and "CVE-2023-43804" in net[0]["message"]
