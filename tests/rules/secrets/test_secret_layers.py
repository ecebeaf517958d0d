"""SecretScanner as a LayerVisitor over real layers: secrets in files that a
later layer deletes or replaces are still reported, with their layer."""

from __future__ import annotations

from pathlib import Path

from lashing.fs import tree_from_image, want_globs
from lashing.model import Report
from lashing.options import Limits, SourceOptions
from lashing.report.json import render
from lashing.rules.secrets import SecretConfig, SecretScanner
from lashing.rules.secrets.rules import fake
from lashing.source.oci_layout import open_oci_dir

from imagebuilder import F, build, write_oci_layout

TOKEN = "gh" + "p_" + fake(36)
STRIPE = "sk" + "_live_" + fake(28)
PASSWORD = fake(16, "Hq7!vR2_mZ9xK4pL")


def test_deleted_and_replaced_files(tmp_path: Path) -> None:
    img = build([
        {"app/": F(kind="dir"), "app/.env": f"GITHUB_TOKEN={TOKEN}\n",
         "app/config.yaml": f"db:\n  host: db\n  password: {PASSWORD}\n",
         "app/keep.txt": f"stripe: {STRIPE}\n", "usr/share/doc/x/README": f"{TOKEN}\n",
         "app/big.txt": "x" * 2000 + TOKEN, "app/tool": F(b"\x7fELF\x00" + TOKEN.encode(),
                                                          mode=0o755)},
        {"app/.wh..env": "", "app/config.yaml": "db:\n  host: db\n  password_file: /run/pw\n"},
    ], config={"Env": ["PATH=/usr/bin", f"STRIPE_KEY={STRIPE}"], "Cmd": ["/app/run"]})
    write_oci_layout(tmp_path / "oci", [(img, "t")])
    image = open_oci_dir(tmp_path / "oci", "t", SourceOptions(), "oci:test")
    scanner = SecretScanner(SecretConfig(max_file_size=1024))
    tree = tree_from_image(image, want_globs(), Limits(), visitors=[scanner])
    scanner.scan_config(image.config)
    findings = scanner.findings("oci:test", image.image_id, tree=tree)
    tree.close()
    first, second = img.diff_ids
    by_path = {(f.location.path or f.location.resource): f for f in findings}
    assert set(by_path) == {"/app/.env", "/app/config.yaml", "/app/keep.txt",
                            "config:env:STRIPE_KEY"}

    env = by_path["/app/.env"]
    assert env.rule_id == "LSH-SEC-004" and env.location.layer == first
    assert env.location.line == 1
    assert "deleted by a later layer" in env.message and first[:19] in env.message

    cfg = by_path["/app/config.yaml"]
    assert cfg.rule_id == "LSH-SEC-015" and cfg.location.line == 3
    assert "replaced in layer " + second[:19] in cfg.message

    keep = by_path["/app/keep.txt"]
    assert keep.rule_id == "LSH-SEC-008" and "later layer" not in keep.message
    assert "replaced" not in keep.message

    assert by_path["config:env:STRIPE_KEY"].rule_id == "LSH-SEC-008"
    assert len({f.fingerprint for f in findings}) == len(findings)

    c = scanner.counts
    assert c.skipped_size == 1 and c.skipped_binary == 1 and c.skipped_path == 1
    assert c.scanned == 4  # .env, config.yaml twice, keep.txt

    rendered = render(Report(findings=tuple(findings)))
    for secret in (TOKEN, STRIPE, PASSWORD):
        assert secret not in rendered


def test_replacement_known_without_tree(tmp_path: Path) -> None:
    img = build([{"etc/app.conf": f"api_key = {PASSWORD}\n"},
                 {"etc/app.conf": "api_key = ${API_KEY}\n"}])
    write_oci_layout(tmp_path / "oci", [(img, "t")])
    image = open_oci_dir(tmp_path / "oci", "t", SourceOptions(), "oci:test")
    scanner = SecretScanner()
    tree_from_image(image, want_globs(), Limits(), visitors=[scanner]).close()
    [finding] = scanner.findings("oci:test", image.image_id)
    assert finding.location.layer == img.diff_ids[0]
    assert "replaced in layer" in finding.message
