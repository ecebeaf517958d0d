"""Compose `include:`: sub-projects with their own directory and `.env`, merged
resources, conflicts, cycles, limits, missing and remote files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lashing.errors import InputError
from lashing.manifests import compose
from lashing.manifests.compose import load_compose, load_compose_text
from lashing.manifests.scan import scan_manifest_file

from cli_helpers import run

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "compose-awesome"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_short_syntax_uses_the_included_directory_and_env(tmp_path: Path) -> None:
    _write(tmp_path / "db" / ".env", "TAG=16\nUSER_ID=999\n")
    _write(tmp_path / "db" / "common.yaml", "services:\n  base:\n    cap_add: [SYS_ADMIN]\n")
    db = _write(tmp_path / "db" / "compose.yaml",
                "services:\n  db:\n    extends: {file: common.yaml, service: base}\n"
                "    image: postgres:${TAG}\n    user: '${USER_ID}'\n"
                "networks:\n  back: {}\nvolumes:\n  data: {}\n")
    main = _write(tmp_path / "compose.yaml",
                  "include:\n  - db/compose.yaml\nservices:\n  web:\n    image: nginx:1.27\n"
                  "    depends_on: [db]\n")
    project = load_compose([main], env={})
    assert not project.errors and not project.problems
    assert list(project.services) == ["web", "db"]
    db_service = project.services["db"]
    assert (db_service.path, db_service.line) == (str(db), 2)
    assert db_service.get("image") == "postgres:16"
    assert db_service.get("cap_add") == ["SYS_ADMIN"]  # extends relative to db/
    assert "back" in project.networks and "data" in project.volumes
    assert project.networks.source_of("back") == str(db)
    assert project.included == (str(db),)
    assert project.files == (str(main),)


def test_including_environment_wins_over_the_included_env_file(tmp_path: Path) -> None:
    _write(tmp_path / "db" / ".env", "TAG=16\n")
    _write(tmp_path / "db" / "compose.yaml", "services:\n  db:\n    image: postgres:${TAG}\n")
    main = _write(tmp_path / "compose.yaml", "include: [db/compose.yaml]\nservices: {}\n")
    project = load_compose([main], env={"TAG": "17"})
    assert project.services["db"].get("image") == "postgres:17"


def test_long_syntax_path_list_project_directory_env_file(tmp_path: Path) -> None:
    _write(tmp_path / "envs" / "db.env", "TAG=15\n")
    base = _write(tmp_path / "lib" / "compose.yaml",
                  "services:\n  db:\n    image: postgres:${TAG}\n    ports: ['5432:5432']\n")
    over = _write(tmp_path / "lib" / "override.yaml",
                  "services:\n  db:\n    privileged: true\n    ports: ['127.0.0.1:5432:5432']\n")
    _write(tmp_path / "lib" / "shared.yaml", "services:\n  base:\n    read_only: true\n")
    main = _write(tmp_path / "compose.yaml",
                  "include:\n  - path:\n      - lib/compose.yaml\n      - lib/override.yaml\n"
                  "    project_directory: lib\n    env_file: envs/db.env\nservices: {}\n")
    project = load_compose([main], env={})
    assert not project.errors
    db = project.services["db"]
    assert db.get("image") == "postgres:15"
    assert db.get("privileged") is True
    assert db.data.source_of("privileged") == str(over)
    assert db.get("ports") == ["5432:5432", "127.0.0.1:5432:5432"]
    assert db.path == str(base)
    assert project.included == (str(base), str(over))


def test_missing_env_file_of_an_include_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path / "lib" / "compose.yaml", "services:\n  db:\n    image: postgres:16\n")
    main = _write(tmp_path / "compose.yaml",
                  "include:\n  - path: lib/compose.yaml\n    env_file: nope.env\n")
    project = load_compose([main], env={})
    assert len(project.errors) == 1 and "nope.env does not exist" in project.errors[0].message


def test_files_outside_the_including_directory_are_followed(tmp_path: Path) -> None:
    _write(tmp_path / "shared" / "compose.yaml", "services:\n  cache:\n    image: redis:7\n")
    main = _write(tmp_path / "app" / "compose.yaml",
                  "include: [../shared/compose.yaml]\nservices:\n  web: {image: nginx:1.27}\n")
    project = load_compose([main], env={})
    assert not project.errors and set(project.services) == {"web", "cache"}


def test_conflicting_service_is_a_problem_naming_both_files(tmp_path: Path) -> None:
    other = _write(tmp_path / "lib" / "compose.yaml",
                   "services:\n  web:\n    image: nginx:1.27\n    privileged: true\n"
                   "networks:\n  front: {internal: true}\n")
    main = _write(tmp_path / "compose.yaml",
                  "include: [lib/compose.yaml]\nservices:\n  web:\n    image: nginx:1.27\n"
                  "networks:\n  front: {}\n")
    project = load_compose([main], env={})
    assert not project.errors
    messages = [p.message for p in project.problems]
    assert len(messages) == 2
    assert f"service web is defined in both {main}:3 and {other}:2" in messages[0]
    assert "network front is defined in both" in messages[1]
    assert all(p.name == str(main) and p.line == 1 for p in project.problems)
    assert project.services["web"].get("privileged") is None  # the including side is kept
    findings, _, issues = scan_manifest_file(str(main), main.read_bytes(), env={})
    assert any("defined in both" in i.message for i in issues)
    assert not [f for f in findings if f.rule_id == "LSH-CMP-001"]


def test_identical_definitions_are_not_a_conflict(tmp_path: Path) -> None:
    text = "services:\n  web:\n    image: nginx:1.27\n"
    _write(tmp_path / "lib" / "compose.yaml", text)
    main = _write(tmp_path / "compose.yaml", "include: [lib/compose.yaml]\n" + text)
    project = load_compose([main], env={})
    assert not project.problems and not project.errors and list(project.services) == ["web"]


def test_include_cycle_is_refused(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.yaml", "include: [b.yaml]\nservices:\n  a: {image: alpine:3.20}\n")
    _write(tmp_path / "b.yaml", "include: [a.yaml]\nservices:\n  b: {image: alpine:3.20}\n")
    project = load_compose([a], env={})
    assert set(project.services) == {"a", "b"}
    assert len(project.errors) == 1
    error = project.errors[0]
    assert isinstance(error, InputError)
    assert "include cycle refused" in error.message and error.name == str(tmp_path / "b.yaml")
    selfish = _write(tmp_path / "self.yaml", "include: [self.yaml]\nservices: {}\n")
    assert "cycle" in load_compose([selfish], env={}).errors[0].message


def test_depth_and_count_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        _write(tmp_path / f"c{i}.yaml",
               f"include: [c{i + 1}.yaml]\nservices:\n  s{i}: {{image: alpine:3.20}}\n")
    _write(tmp_path / "c5.yaml", "services:\n  s5: {image: alpine:3.20}\n")
    monkeypatch.setattr(compose, "MAX_INCLUDE_DEPTH", 3)
    project = load_compose([tmp_path / "c0.yaml"], env={})
    assert set(project.services) == {"s0", "s1", "s2", "s3"}
    assert len(project.errors) == 1 and "deeper than 3 levels" in project.errors[0].message
    monkeypatch.setattr(compose, "MAX_INCLUDE_DEPTH", 10)
    monkeypatch.setattr(compose, "MAX_INCLUDED_FILES", 2)
    project = load_compose([tmp_path / "c0.yaml"], env={})
    assert set(project.services) == {"s0", "s1", "s2"}
    assert "more than 2 included files" in project.errors[0].message


def test_missing_file_is_an_input_error_naming_the_include(tmp_path: Path) -> None:
    main = _write(tmp_path / "compose.yaml",
                  "services:\n  web: {image: nginx:1.27}\ninclude:\n  - lib/nope.yaml\n")
    project = load_compose([main], env={})
    assert list(project.services) == ["web"]
    error = project.errors[0]
    assert isinstance(error, InputError) and (error.name, error.line) == (str(main), 4)
    assert error.message == (f"{main}:4: include lib/nope.yaml: {tmp_path / 'lib' / 'nope.yaml'}"
                             " does not exist")
    (tmp_path / "dir.yaml").mkdir()
    main.write_text("include: [dir.yaml]\nservices: {}\n")
    assert "is not a file" in load_compose([main], env={}).errors[0].message
    _, _, issues = scan_manifest_file(str(main), main.read_bytes(), env={})
    assert issues and "is not a file" in issues[0].message


def test_bad_include_entries_are_errors(tmp_path: Path) -> None:
    main = _write(tmp_path / "compose.yaml",
                  "include:\n  - 42\n  - {project_directory: x}\n  - {path: [a, 1]}\n"
                  "services:\n  web: {image: nginx:1.27}\n")
    project = load_compose([main], env={})
    assert [e.line for e in project.errors] == [2, 3, 4]
    assert list(project.services) == ["web"]
    main.write_text("include: {path: a.yaml}\nservices: {}\n")
    assert "include is a list" in load_compose([main], env={}).errors[0].message


def test_remote_and_stream_includes_are_not_followed(tmp_path: Path) -> None:
    main = _write(tmp_path / "compose.yaml",
                  "include:\n  - git@github.com:org/repo.git\n"
                  "  - path: oci://registry.example/app:1\n"
                  "services:\n  web: {image: nginx:1.27}\n")
    project = load_compose([main], env={})
    assert not project.errors
    assert [p.message for p in project.problems] == [
        "include git@github.com:org/repo.git not followed (remote includes are not fetched)",
        "include oci://registry.example/app:1 not followed (remote includes are not fetched)"]
    streamed = load_compose_text("include: [/etc/compose.yaml]\nservices:\n  web: {}\n", "-")
    assert not streamed.errors and list(streamed.services) == ["web"]
    assert "not followed (input read from a stream)" in streamed.problems[0].message


def test_included_service_findings_name_the_included_file(tmp_path: Path) -> None:
    lib = _write(tmp_path / "lib" / "compose.yaml",
                 "services:\n  agent:\n    image: agent:1.0\n    privileged: true\n")
    main = _write(tmp_path / "compose.yaml", "include: [lib/compose.yaml]\nservices: {}\n")
    findings, _, issues = scan_manifest_file(str(main), main.read_bytes(), env={})
    assert not issues
    priv = [f for f in findings if f.rule_id == "LSH-CMP-001"]
    assert len(priv) == 1 and (priv[0].location.path, priv[0].location.line) == (str(lib), 4)


def _need_data() -> None:
    if not DATA.is_dir():
        pytest.skip(f"{DATA} is absent (../shared/data)")


def test_real_projects_included(tmp_path: Path) -> None:
    _need_data()
    portainer = DATA / "portainer" / "compose.yaml"
    mysql = DATA / "nginx-golang-mysql" / "compose.yaml"
    main = _write(tmp_path / "compose.yaml",
                  f"include:\n  - {portainer}\n  - path: {mysql}\nservices: {{}}\n")
    project = load_compose([main], env={})
    assert not project.errors and not project.problems
    assert list(project.services) == ["portainer", "backend", "db", "proxy"]
    assert project.services["proxy"].path == str(mysql)
    assert set(project.volumes) == {"portainer_data", "db-data"}
    assert set(project.secrets) == {"db-password"}
    findings, _, _ = scan_manifest_file(str(main), main.read_bytes(), env={})
    sock = [f for f in findings if f.rule_id == "LSH-CMP-010"]
    assert sock and {f.location.path for f in sock} == {str(portainer)}


def test_real_project_env_file_and_local_override(tmp_path: Path) -> None:
    _need_data()
    pihole = DATA / "pihole-cloudflared-DoH" / "compose.yaml"
    if not (pihole.parent / ".env").is_file():
        pytest.skip(f"{pihole.parent / '.env'} is absent")
    main = _write(tmp_path / "compose.yaml", f"include: [{pihole}]\nservices: {{}}\n")
    env = load_compose([main], env={}).services["pihole"].get("environment")
    assert "WEBPASSWORD=changeit" in env and "TZ=Etc/UTC" in env
    env = load_compose([main], env={"PIHOLE_PW": "local"}).services["pihole"].get("environment")
    assert "WEBPASSWORD=local" in env and "TZ=Etc/UTC" in env


def test_devices_are_refused_not_read(tmp_path: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("needs /dev/zero")
    main = _write(tmp_path / "compose.yaml",
                  "include: [/dev/zero]\nservices:\n  web:\n"
                  "    extends: {file: /dev/zero, service: base}\n")
    project = load_compose([main], env={})
    assert [e.message for e in project.errors] == [
        "/dev/zero: not a regular file", f"{main}:1: include /dev/zero: /dev/zero is not a file"]


def test_cli_scan_follows_includes_and_reports_broken_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPOSE_PROFILES", raising=False)
    lib = _write(tmp_path / "tools" / "compose.yaml",
                 "services:\n  debug:\n    image: busybox:1.36\n    privileged: true\n"
                 "    profiles: [debug]\n")
    main = _write(tmp_path / "compose.yaml",
                  "include: [tools/compose.yaml]\nservices:\n  web: {image: nginx:1.27}\n")
    result = run("scan", str(main), "--scanners", "misconfig", "--fail-on", "HIGH",
                 "--format", "json")
    assert result.code == 1, result.err
    priv = [f for f in result.json()["findings"] if f["rule_id"] == "LSH-CMP-001"]
    assert [(f["location"]["path"], f["location"]["line"]) for f in priv] == [(str(lib), 4)]
    monkeypatch.setenv("COMPOSE_PROFILES", "")  # the profile explicitly off: not deployed
    assert run("scan", str(main), "--scanners", "misconfig", "--fail-on", "HIGH").code == 0
    monkeypatch.delenv("COMPOSE_PROFILES")
    main.write_text("include: [tools/missing.yaml]\nservices:\n  web: {image: nginx:1.27}\n")
    result = run("scan", str(main), "--scanners", "misconfig", "--strict", "--format", "json")
    assert result.code == 4, result.err
    messages = [i["message"] for i in result.json()["issues"]]
    assert any("include tools/missing.yaml:" in m and "does not exist" in m for m in messages)


def test_directory_scan_reports_an_included_file_once(tmp_path: Path) -> None:
    """The included file is judged as part of the project that includes it, not again as a
    project of its own."""
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "compose.yaml").write_text(
        "services:\n  debug:\n    image: alpine:3.20\n    privileged: true\n")
    (tmp_path / "compose.yaml").write_text(
        "include:\n  - tools/compose.yaml\nservices:\n  web:\n    image: nginx:1.27\n")
    result = run("scan", str(tmp_path), "--scanners", "misconfig", "--format", "json")
    doc = json.loads(result.out)
    privileged = [f for f in doc["findings"] if "privileged" in f["message"]]
    assert len(privileged) == 1, privileged
    assert privileged[0]["location"]["path"].endswith("tools/compose.yaml")
    # alone, the included file is still scanned
    alone = run("scan", str(tmp_path / "tools"), "--scanners", "misconfig", "--format", "json")
    assert any("privileged" in f["message"] for f in json.loads(alone.out)["findings"])
