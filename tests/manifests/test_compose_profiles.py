"""Compose `profiles:`: every service is judged unless a selection is given;
`inactive` names the services compose would leave out."""

from __future__ import annotations

from pathlib import Path

import pytest

from lashing.manifests.compose import load_compose, load_compose_text
from lashing.manifests.scan import scan_manifest_file

# The Compose Specification's own example, plus a service every profile needs.
SPEC = """\
services:
  web:
    image: web_image
    depends_on: [db]
  db:
    image: db_image
    profiles: [storage]
  test_lib:
    image: test_lib_image
    profiles: [test]
  coverage_lib:
    image: coverage_lib_image
    depends_on:
      test_lib: {condition: service_started}
    profiles: [test]
  debug_lib:
    image: debug_lib_image
    depends_on: [test_lib]
    profiles: [debug]
"""


def test_no_selection_keeps_every_service_and_lists_the_inactive() -> None:
    project = load_compose_text(SPEC, "compose.yaml")
    assert project.profiles is None
    assert list(project.services) == ["web", "db", "test_lib", "coverage_lib", "debug_lib"]
    # db has a profile but web (always enabled) depends on it
    assert list(project.inactive) == ["test_lib", "coverage_lib", "debug_lib"]
    assert project.services["debug_lib"].profiles == ("debug",)
    assert project.services["web"].profiles == ()


@pytest.mark.parametrize(("profiles", "active", "inactive"), [
    ([], ["web", "db"], ["test_lib", "coverage_lib", "debug_lib"]),
    (["test"], ["web", "db", "test_lib", "coverage_lib"], ["debug_lib"]),
    (["debug"], ["web", "db", "test_lib", "debug_lib"], ["coverage_lib"]),  # dependency started
    ("test,debug", ["web", "db", "test_lib", "coverage_lib", "debug_lib"], []),
    (["*"], ["web", "db", "test_lib", "coverage_lib", "debug_lib"], []),
    (["nope"], ["web", "db"], ["test_lib", "coverage_lib", "debug_lib"]),
])
def test_explicit_selection(profiles: list[str] | str, active: list[str],
                            inactive: list[str]) -> None:
    project = load_compose_text(SPEC, "compose.yaml", profiles=profiles)
    assert list(project.services) == active
    assert list(project.inactive) == inactive
    assert project.profiles is not None


def test_compose_profiles_variable_selects(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPOSE_PROFILES", raising=False)
    f = tmp_path / "compose.yaml"
    f.write_text(SPEC)
    assert load_compose([f], env={"COMPOSE_PROFILES": "test, "}).profiles == ("test",)
    assert "debug_lib" not in load_compose([f], env={"COMPOSE_PROFILES": "test"}).services
    (tmp_path / ".env").write_text("COMPOSE_PROFILES=debug\n")  # read like compose does
    project = load_compose([f])
    assert project.profiles == ("debug",) and list(project.inactive) == ["coverage_lib"]
    monkeypatch.setenv("COMPOSE_PROFILES", "test")  # the environment wins over .env
    assert list(load_compose([f]).inactive) == ["debug_lib"]
    # an explicit argument wins over the variable
    assert list(load_compose([f], profiles=["*"]).inactive) == []
    assert load_compose_text(SPEC, "-", env={"COMPOSE_PROFILES": "debug"}).profiles == ("debug",)


def test_bad_profiles_value_is_a_problem_and_the_service_stays_active() -> None:
    project = load_compose_text("services:\n  a:\n    image: x:1\n    profiles: debug\n",
                                "compose.yaml", profiles=[])
    assert list(project.services) == ["a"] and not project.inactive
    assert len(project.problems) == 1
    assert (project.problems[0].name, project.problems[0].line) == ("compose.yaml", 4)
    assert "profiles is a list of names" in project.problems[0].message


def test_scan_judges_services_behind_a_profile(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPOSE_PROFILES", raising=False)
    f = tmp_path / "compose.yaml"
    f.write_text("services:\n  app:\n    image: app:1.0\n  debug:\n    image: busybox:1.36\n"
                 "    privileged: true\n    profiles: [debug]\n")
    findings, _, issues = scan_manifest_file(str(f), f.read_bytes())
    assert not issues
    assert [f.location.line for f in findings if f.rule_id == "LSH-CMP-001"] == [6]
    # with the profile switched off explicitly, compose would not run it: not judged
    monkeypatch.setenv("COMPOSE_PROFILES", "")
    findings, _, _ = scan_manifest_file(str(f), f.read_bytes())
    assert not [f for f in findings if f.rule_id == "LSH-CMP-001"]


def test_profiles_apply_to_included_services(tmp_path: Path) -> None:
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "compose.yaml").write_text(
        "services:\n  adminer:\n    image: adminer:4\n    profiles: [tools]\n")
    main = tmp_path / "compose.yaml"
    main.write_text("include: [tools/compose.yaml]\nservices:\n  app: {image: app:1.0}\n")
    assert list(load_compose([main], env={}).inactive) == ["adminer"]
    project = load_compose([main], env={}, profiles=[])
    assert list(project.services) == ["app"] and list(project.inactive) == ["adminer"]
    assert list(load_compose([main], env={}, profiles=["tools"]).services) == ["app", "adminer"]
