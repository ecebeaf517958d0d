"""The command line end to end, in-process: formats, exit codes, help, env."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from lashing import __version__
from lashing.cli import COMMANDS, main

from cli_helpers import run
from imagebuilder import F, build, write_docker_archive, write_oci_layout

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "src/lashing/report/report.schema.json").read_text()
)

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'


@pytest.fixture
def image(tmp_path: Path) -> tuple[Path, Path, str]:
    img = build([{"usr/lib/os-release": DEBIAN,
                  "etc/os-release": F(kind="symlink", target="../usr/lib/os-release")},
                 {"app/run": F(b"#!/bin/sh\n", mode=0o755)}])
    oci = write_oci_layout(tmp_path / "oci", [(img, "1.0")])
    archive = write_docker_archive(tmp_path / "img.tar", [(img, ["team/app:1.0"])])
    return oci, archive, img.image_id


def test_version() -> None:
    r = run("--version")
    assert r.code == 0 and r.out.strip() == f"lashing {__version__}"


def test_help_for_every_command() -> None:
    top = run("--help")
    assert top.code == 0
    for spec in COMMANDS:
        assert spec.name in top.out
        r = run(spec.name, "--help")
        assert r.code == 0, spec.name
        assert "usage: lashing " + spec.name in r.out


def test_command_table_matches_the_modules() -> None:
    """The CLI lists commands without importing them; the table must say what they say."""
    for spec in COMMANDS:
        module = spec.load()
        assert (spec.name, spec.help) == (module.NAME, module.HELP)


def test_running_one_command_loads_no_other(tmp_path: Path) -> None:
    code = ("import sys\nfrom lashing.cli import main\n"
            "main(['rules', 'LSH-DF-001'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('lashing.commands.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    loaded = done.stdout.strip().splitlines()[-1]
    assert loaded == "['lashing.commands.common', 'lashing.commands.rules']"


def test_no_command_prints_help_and_exits_2() -> None:
    r = run()
    assert r.code == 2 and "usage:" in r.out


def test_unknown_option_is_exit_2() -> None:
    r = run("scan", "--no-such-option", "x")
    assert r.code == 2 and "unrecognized arguments" in r.err and "Traceback" not in r.err


def test_scan_json_matches_schema(image: tuple[Path, Path, str]) -> None:
    oci, _, image_id = image
    r = run("scan", f"oci:{oci}:1.0", "--format", "json")
    assert r.code == 0, r.err
    doc = r.json()
    jsonschema.validate(doc, SCHEMA)
    target = doc["targets"][0]
    assert target["image_id"] == image_id
    assert target["kind"] == "image"
    assert target["os"] == {"family": "debian", "version": "12",
                            "name": "Debian GNU/Linux 12 (bookworm)",
                            "ecosystem": "Debian:12", "supported": True}
    assert [layer["created_by"] for layer in target["layers"]] == ["layer 0", "layer 1"]
    assert list(doc) == ["schema_version", "tool", "targets", "findings", "checks", "issues",
                         "connections"]


def test_scan_table(image: tuple[Path, Path, str]) -> None:
    _, archive, image_id = image
    r = run("scan", str(archive))
    assert r.code == 0, r.err
    assert image_id in r.out and "Debian:12" in r.out and "layers:          2" in r.out


def test_output_file_and_env_format(image: tuple[Path, Path, str], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    oci, _, image_id = image
    monkeypatch.setenv("LASHING_FORMAT", "json")
    out = tmp_path / "report.json"
    r = run("scan", str(oci), "-o", str(out))
    assert r.code == 0 and r.out == ""
    assert json.loads(out.read_text())["targets"][0]["image_id"] == image_id
    r = run("scan", str(oci), "--format", "table")  # the command line wins
    assert r.out.startswith(str(oci))


def test_bad_env_boolean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LASHING_STRICT", "perhaps")
    r = run("scan", "x")
    assert r.code == 2 and "LASHING_STRICT" in r.err


def test_docker_archive_from_stdin(image: tuple[Path, Path, str]) -> None:
    _, archive, image_id = image
    r = run("scan", "docker-archive:-", "--format", "json", stdin=archive.read_bytes())
    assert r.code == 0, r.err
    assert r.json()["targets"][0]["image_id"] == image_id
    empty = run("scan", "docker-archive:-", stdin=b"")
    assert empty.code == 2 and "standard input is empty" in empty.err


def test_several_targets_one_report(image: tuple[Path, Path, str]) -> None:
    oci, archive, image_id = image
    r = run("scan", str(oci), f"docker-archive:{archive}:team/app:1.0", "--format", "json")
    assert r.code == 0, r.err
    ids = [t["image_id"] for t in r.json()["targets"]]
    assert ids == [image_id, image_id]


def test_failing_target_writes_no_report(image: tuple[Path, Path, str], tmp_path: Path) -> None:
    oci, _, _ = image
    out = tmp_path / "r.json"
    (tmp_path / "not-oci").mkdir()
    r = run("scan", str(oci), f"oci:{tmp_path / 'not-oci'}", "-o", str(out), "--format", "json")
    assert r.code == 2
    assert "not an OCI image layout" in r.err
    assert not out.exists()


def test_strict_exits_4_on_issues(tmp_path: Path) -> None:
    img = build([{"etc/os-release": "ID=centos\nVERSION_ID=7\n"}])
    write_oci_layout(tmp_path / "oci", [(img, "t")])
    assert run("scan", f"oci:{tmp_path / 'oci'}").code == 0
    r = run("scan", f"oci:{tmp_path / 'oci'}", "--strict", "--format", "json")
    assert r.code == 4
    assert r.json()["issues"][0]["stage"] == "os"


def test_directory_scan(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/alpine-release").write_text("3.22.1\n")
    r = run("scan", f"dir:{tmp_path}", "--format", "json")
    assert r.code == 0, r.err
    target = r.json()["targets"][0]
    assert target["kind"] == "filesystem"
    assert target["os"]["ecosystem"] == "Alpine:v3.22"


POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: nginx:latest
      securityContext:
        privileged: true
"""


def test_kubernetes_manifest_file_and_stdin(tmp_path: Path) -> None:
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD)
    for r in (run("scan", str(manifest), "--format", "json"),
              run("scan", "-", "--format", "json", stdin=POD.encode())):
        assert r.code == 0, r.err
        doc = r.json()
        privileged = [f for f in doc["findings"] if f["rule_id"] == "LSH-K8S-001"]
        assert privileged and privileged[0]["location"]["line"] >= 1
        assert privileged[0]["location"]["resource"].startswith("Pod/")
    assert run("scan", str(manifest), "--fail-on", "HIGH").code == 1


def test_compose_file_in_a_directory(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  db:\n    image: postgres:16\n    privileged: true\n"
        "    ports: ['5432:5432']\n")
    r = run("scan", f"dir:{tmp_path}", "--format", "json")
    assert r.code == 0, r.err
    ids = {f["rule_id"] for f in r.json()["findings"]}
    assert "LSH-CMP-001" in ids


def test_not_yet_scannable_target_is_a_clear_error(tmp_path: Path) -> None:
    r = run("scan", str(tmp_path / "missing"), "--format", "json")
    assert r.code == 2 and "missing" in r.err


def test_module_entry_point(image: tuple[Path, Path, str]) -> None:
    import subprocess
    import sys

    oci, _, image_id = image
    p = subprocess.run([sys.executable, "-m", "lashing", "scan", str(oci), "--format", "json"],
                       capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["targets"][0]["image_id"] == image_id


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_only(image: tuple[Path, Path, str]) -> None:
    oci, _, image_id = image
    out, err = io.StringIO(), Terminal()
    assert main(["scan", str(oci), "--format", "json"], out, err) == 0
    assert "layer" in err.getvalue()  # the bar was drawn on stderr
    assert json.loads(out.getvalue())["targets"][0]["image_id"] == image_id  # stdout untouched
    quiet = Terminal()
    assert main(["scan", str(oci), "--no-progress"], io.StringIO(), quiet) == 0
    assert quiet.getvalue() == ""
    plain = io.StringIO()
    assert main(["scan", str(oci)], io.StringIO(), plain) == 0
    assert plain.getvalue() == ""


def test_unreadable_manifest_is_exit_2_partly_readable_is_an_issue(tmp_path: Path) -> None:
    bad = "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n"
    only_bad = tmp_path / "bad.yaml"
    only_bad.write_text(bad)
    r = run("scan", str(only_bad))
    assert r.code == 2 and "nothing could be scanned" in r.err and "bad.yaml:4" in r.err
    half = tmp_path / "half.yaml"
    half.write_text(POD + "---\n" + bad)
    r = run("scan", str(half), "--format", "json")
    assert r.code == 0, r.err
    assert r.json()["findings"] and r.json()["issues"]
    assert run("scan", str(half), "--strict").code == 4
