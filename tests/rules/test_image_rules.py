"""scan_image over a FileTree read from a real directory and an ImageConfig."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from lashing.fs import tree_from_directory, tree_from_image, want_globs
from lashing.model import CheckStatus
from lashing.options import SourceOptions
from lashing.progress import NullProgress
from lashing.rules.framework import RuleConfig
from lashing.rules.image import IMAGE_RULE_GLOBS, RULES, ImageSubject, age_days, scan_image
from lashing.source.image import HistoryEntry, ImageConfig
from lashing.source.open import open_image
from lashing.source.resolve import resolve

from imagebuilder import F, Files, build, write_oci_layout

KEY = b"-----BEGIN RSA PRIV" + b"ATE KEY-----\nMIIEow\n-----END RSA PRIV" + b"ATE KEY-----\n"


def _write(root: Path, rel: str, data: bytes = b"", mode: int = 0o644) -> None:
    path = root / rel.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(path, mode)


def _rootfs(root: Path) -> None:
    _write(root, "/etc/passwd", b"root:x:0:0::/root:/bin/sh\nadmin:x:0:0::/:/bin/sh\n")
    _write(root, "/etc/shadow", b"root:*:1::::::\nadmin::1::::::\n", 0o640)
    _write(root, "/etc/group", b"root:x:0:\n")
    _write(root, "/usr/bin/passwd", b"", 0o4755)
    _write(root, "/usr/local/bin/backdoor", b"", 0o4755)
    _write(root, "/app/settings.py", b"", 0o666)
    _write(root, "/root/.ssh/id_rsa", KEY, 0o600)
    _write(root, "/app/.git/HEAD", b"ref: refs/heads/main\n")
    _write(root, "/usr/sbin/sshd", b"", 0o755)
    (root / "tmp").mkdir()
    os.chmod(root / "tmp", 0o1777)  # noqa: S103 - a sticky /tmp, as in images


CONFIG = ImageConfig(
    user="",
    env=("PATH=/usr/bin", "API_TOKEN=abcdef123456"),
    exposed_ports=("22/tcp",),
    history=(HistoryEntry(created_by="RUN |1 NPM_TOKEN=s3cr3tvalue /bin/sh -c npm ci "
                                     "# buildkit"),),
    diff_ids=("sha256:" + "a" * 64,),
)


def test_scan_image(tmp_path: Path) -> None:
    _rootfs(tmp_path)
    tree = tree_from_directory(tmp_path, want_globs(*IMAGE_RULE_GLOBS))
    subject = ImageSubject(CONFIG, "registry.example.com/app:latest", tree, 400)
    findings, checks = scan_image(subject, "app:latest", "sha256:cfg", RuleConfig(), set())
    got: dict[str, list[str]] = {}
    for f in findings:
        got.setdefault(f.rule_id, []).append(f.location.path or f.location.resource or "")
    assert got["LSH-IMG-001"] == ["config.User"]
    assert got["LSH-IMG-003"] == ["config.ExposedPorts[22/tcp]"]
    assert got["LSH-IMG-004"] == ["config.Env[API_TOKEN]"]
    assert got["LSH-IMG-006"] == ["history[0]"]
    assert got["LSH-IMG-008"] and got["LSH-IMG-009"]
    assert got["LSH-IMG-020"] == ["/usr/local/bin/backdoor"]
    assert got["LSH-IMG-021"] == ["/app/settings.py"]
    assert got["LSH-IMG-022"] == ["/etc/shadow"]
    assert got["LSH-IMG-024"] == ["/etc/passwd"]
    assert got["LSH-IMG-026"] == ["/usr/sbin/sshd"]
    assert got["LSH-IMG-028"] == ["/app/.git"]
    assert got["LSH-IMG-029"] == ["/root/.ssh/id_rsa"]
    assert sorted(c.rule_id for c in checks) == sorted(r.id for r in RULES)
    for f in findings:
        assert "abcdef123456" not in f.message and "s3cr3tvalue" not in f.message
        assert f.target == "app:latest" and f.target_identity == "sha256:cfg"
    shadow = next(f for f in findings if f.rule_id == "LSH-IMG-022")
    assert shadow.location.line == 2
    history = next(f for f in findings if f.rule_id == "LSH-IMG-006")
    assert history.location.layer == "sha256:" + "a" * 64


def test_without_tree_content_rules_are_not_checked() -> None:
    subject = ImageSubject(CONFIG, "app@sha256:" + "b" * 64, None, None)
    _, checks = scan_image(subject, "app", "sha256:cfg", RuleConfig(), set())
    status = {c.rule_id: c.status for c in checks}
    for rule_id in ("LSH-IMG-020", "LSH-IMG-022", "LSH-IMG-029", "LSH-IMG-009"):
        assert status[rule_id] is CheckStatus.NOT_CHECKED, rule_id
    assert status["LSH-IMG-008"] is CheckStatus.PASS


def test_unread_contents_are_not_checked(tmp_path: Path) -> None:
    _rootfs(tmp_path)
    tree = tree_from_directory(tmp_path, want_globs())  # nothing kept
    subject = ImageSubject(CONFIG, "app:1", tree, 1)
    _, checks = scan_image(subject, "app", "sha256:cfg", RuleConfig(), set())
    status = {c.rule_id: c.status for c in checks}
    assert status["LSH-IMG-022"] is CheckStatus.NOT_CHECKED
    assert status["LSH-IMG-029"] is CheckStatus.FAIL  # id_rsa is known by its name


def test_config_allow_list_and_age(tmp_path: Path) -> None:
    _rootfs(tmp_path)
    tree = tree_from_directory(tmp_path, want_globs(*IMAGE_RULE_GLOBS))
    subject = ImageSubject(CONFIG, "app:1", tree, 400)
    config = RuleConfig(extra_setuid_allowed=("/usr/local/bin/backdoor",),
                        max_image_age_days=500)
    findings, _ = scan_image(subject, "app", "sha256:cfg", config, set())
    ids = {f.rule_id for f in findings}
    assert "LSH-IMG-020" not in ids and "LSH-IMG-009" not in ids


def test_real_image_layers(tmp_path: Path) -> None:
    """Through the real source and FileTree: paths carry the layer that wrote them."""
    base: Files = {"etc/passwd": "root:x:0:0::/root:/bin/sh\n",
            "etc/shadow": F(b"root::19000::::::\n", mode=0o640),
            "bin/su": F(b"", mode=0o4755)}
    app: Files = {"app/tool": F(b"", mode=0o4755),
           "root/.aws/credentials": "[default]\naws_secret_access_key = x\n"}
    img = build([base, app], config={"User": "app", "Env": ["PATH=/usr/bin"]})
    write_oci_layout(tmp_path / "layout", [(img, "1.0")])
    with open_image(resolve(f"oci:{tmp_path / 'layout'}:1.0"), SourceOptions(),
                    NullProgress()) as image, \
            tree_from_image(image, want_globs(*IMAGE_RULE_GLOBS)) as tree:
        subject = ImageSubject(image.config, "app:1.0", tree, 30)
        findings, _ = scan_image(subject, "app:1.0", image.image_id, RuleConfig(), set())
    where = {f.rule_id: (f.location.path, f.location.layer) for f in findings}
    assert where["LSH-IMG-022"] == ("/etc/shadow", img.diff_ids[0])
    assert where["LSH-IMG-020"] == ("/app/tool", img.diff_ids[1])
    assert where["LSH-IMG-030"] == ("/root/.aws/credentials", img.diff_ids[1])
    assert "LSH-IMG-001" not in where


def test_age_days() -> None:
    now = datetime(2025, 1, 31, 12, tzinfo=UTC)
    assert age_days("2025-01-01T00:00:00Z", now) == 30
    assert age_days("2025-01-01T00:00:00.123456789Z", now) == 30  # Docker's nanoseconds
    assert age_days("2025-01-02T00:30:00+01:00", now) == 29
    assert age_days("1970-01-01T00:00:00Z", now) is None  # reproducible builds
    assert age_days(None, now) is None and age_days("yesterday", now) is None
