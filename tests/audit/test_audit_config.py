"""lashing.toml for `lashing audit`: sections, relative paths, globs, gates,
unknown keys, and `--init`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from lashing.audit.config import load_audit_config
from lashing.audit.example import EXAMPLE
from lashing.errors import InputError
from lashing.model import Severity, Surface

from cli_helpers import run

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "lashing.toml"
    path.write_text(body)
    return path


def test_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    for name in ("a.tar", "b.tar"):
        (tmp_path / "build" / name).write_bytes(b"")
    (tmp_path / "layout").mkdir()
    cfg = load_audit_config(write(tmp_path, """
[audit]
images = ["build/*.tar", "oci:layout:1.0", "alpine:3.20",
          { target = "docker-archive:build/a.tar", name = "registry.example.com/a:1" }]
dockerfiles = ["Dockerfile"]
kubernetes = ["deploy/"]
compose = "compose.yaml"
host = "hostroot"
vex = ["vex.json"]
[scan]
db = "db/lashing.db"
skip_rules = ["LSH-DF-001"]
[store]
path = "results.db"
"""))
    targets = [e.target for e in cfg.images]
    assert targets == [str(tmp_path / "build/a.tar"), str(tmp_path / "build/b.tar"),
                       f"oci:{tmp_path / 'layout'}:1.0", "alpine:3.20",
                       f"docker-archive:{tmp_path / 'build/a.tar'}"]
    assert cfg.images[-1].names == ("registry.example.com/a:1",)
    assert cfg.dockerfiles == (tmp_path / "Dockerfile",)
    assert cfg.compose == (tmp_path / "compose.yaml",)
    assert cfg.host == tmp_path / "hostroot"
    assert cfg.vex == (tmp_path / "vex.json",)
    assert cfg.scan.db == tmp_path / "db/lashing.db"
    assert cfg.scan.skip_rules == ("LSH-DF-001",)
    assert cfg.store == str(tmp_path / "results.db")
    assert cfg.policy is None and cfg.ignore_file is None


def test_glob_matching_nothing_is_an_error_item_not_a_failure(tmp_path: Path) -> None:
    cfg = load_audit_config(write(tmp_path, '[audit]\nimages = ["build/*.tar"]\n'))
    assert cfg.images[0].error == "build/*.tar: no file matches this pattern"


def test_gates_policy_and_ignore_from_the_same_file(tmp_path: Path) -> None:
    cfg = load_audit_config(write(tmp_path, """
[audit]
images = []
[audit.fail_on]
image = "high"
network = "CRITICAL"
[policy]
allow_latest = false
[ignore]
rules = []
[store]
url = "postgresql://lashing@db.example/lashing"
"""))
    assert cfg.fail_on == {Surface.IMAGE: Severity.HIGH, Surface.NETWORK: Severity.CRITICAL}
    assert cfg.policy == cfg.ignore_file == tmp_path / "lashing.toml"
    assert cfg.store == "postgresql://lashing@db.example/lashing"


@pytest.mark.parametrize(("body", "message", "hint"), [
    ("[audit]\nimagez = []\n", "unknown key 'imagez'", "did you mean 'images'?"),
    ("[audit]\n[audit.fail_on]\nnetwrok = 'HIGH'\n", "unknown key 'netwrok'",
     "did you mean 'network'?"),
    ("[audit]\n[audit.fail_on]\nimage = 'SEVERE'\n", "unknown severity 'SEVERE'", None),
    ("[audit]\n[scan]\ndbb = 'x'\n", "unknown key 'dbb'", "did you mean 'db'?"),
    ("[audti]\n", "unknown key 'audti'", "did you mean 'audit'?"),
    ("[scan]\n", "no [audit] section", None),
    ("[audit]\nimages = [1]\n", "audit.images[1]", None),
    ("[audit]\nimages = [{ target = 'a.tar', tag = 'x' }]\n", "unknown key 'tag'", None),
    ("[audit]\n[store]\npath = 'a'\nurl = 'b'\n", "either path or url", None),
    ("[audit]\nhost = 3\n", "'host' must be a non-empty string", None),
])
def test_bad_config_names_file_and_key(tmp_path: Path, body: str, message: str,
                                       hint: str | None) -> None:
    path = write(tmp_path, body)
    with pytest.raises(InputError) as info:
        load_audit_config(path)
    assert str(path) in info.value.message
    assert message in info.value.message
    if hint:
        assert info.value.hint == hint


def test_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[audit]\nimagez = []\n")
    r = run("audit", "-c", str(path))
    assert r.code == 2
    assert r.err.splitlines() == [f"error: {path}: [audit]: unknown key 'imagez'",
                                  "hint: did you mean 'images'?"]


def test_hostile_config_is_refused(tmp_path: Path) -> None:
    huge = write(tmp_path, "[audit]\n" + "#" * (2 * 1024 * 1024) + "\n")
    r = run("audit", "-c", str(huge))
    assert r.code == 2 and "too large for a config file" in r.err
    (tmp_path / "bin.toml").write_bytes(b"[audit]\n\xff\xfe")
    r = run("audit", "-c", str(tmp_path / "bin.toml"))
    assert r.code == 2 and "not UTF-8" in r.err
    r = run("audit", "-c", str(tmp_path / "missing.toml"))
    assert r.code == 2 and "no such file" in r.err


def test_init_writes_the_example_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "lashing.toml"
    r = run("audit", "--init", str(path))
    assert r.code == 0, r.err
    assert path.read_text() == EXAMPLE
    cfg = load_audit_config(path)
    assert cfg.fail_on[Surface.IMAGE] is Severity.HIGH
    assert cfg.policy == path
    path.write_text("# mine\n")
    r = run("audit", "--init", str(path))
    assert r.code == 2 and "already exists" in r.err
    assert path.read_text() == "# mine\n"


def test_committed_example_is_the_one_init_writes_and_parses() -> None:
    committed = ROOT / "examples" / "lashing.toml"
    assert committed.read_text() == EXAMPLE
    tomllib.loads(EXAMPLE)
    cfg = load_audit_config(committed)
    assert [e.target for e in cfg.images][-1].startswith("oci:")
    assert cfg.images[-1].names == ("registry.example.com/shop/web:1.0",)
    assert set(cfg.fail_on) == set(Surface)
