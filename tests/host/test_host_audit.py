"""`lashing host` over fixture host trees and over this machine."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hosttrees import debian_docker_io, hardened, put

from lashing.commands.host import audit
from lashing.model import CheckStatus, Report

from cli_helpers import run

needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="fixture files must be owned by root (chown)")


def statuses(report: Report) -> dict[str, CheckStatus]:
    return {c.rule_id: c.status for c in report.checks}


def fired(report: Report) -> set[str]:
    return {f.rule_id for f in report.findings if f.vulnerability is None}


def test_debian_default_install(tmp_path: Path) -> None:
    report, sources = audit(debian_docker_io(tmp_path), db_path=tmp_path / "no.db")
    got = fired(report)
    # the defaults CIS section 2 complains about, the docker group and no auditd
    for rule_id in ("LSH-HOST-002", "LSH-HOST-003", "LSH-HOST-004", "LSH-HOST-005",
                    "LSH-HOST-006", "LSH-HOST-007", "LSH-HOST-010", "LSH-HOST-011",
                    "LSH-HOST-026", "LSH-HOST-030", "LSH-HOST-042", "LSH-HOST-050"):
        assert rule_id in got, rule_id
    assert "LSH-HOST-001" not in got  # -H fd:// only
    group = next(f for f in report.findings if f.rule_id == "LSH-HOST-026")
    assert "alice" in group.message
    assert any("docker.service" in s for s in sources)
    assert report.targets[0].os is not None and report.targets[0].os.family == "debian"
    assert [p.name for p in report.targets[0].packages] == ["docker.io"]
    # no vulnerability database: an issue, not an error, and packages not-checked
    assert any(i.stage == "vulndb" for i in report.issues)
    assert statuses(report)["LSH-HOST-PKG"] is CheckStatus.NOT_CHECKED


@needs_root
def test_hardened_host_has_no_failures(tmp_path: Path) -> None:
    report, _ = audit(hardened(tmp_path), packages=False)
    fails = {c.rule_id: c.reason for c in report.checks if c.status is CheckStatus.FAIL}
    assert not fails, (fails, [f.message for f in report.findings])
    assert not report.findings
    assert statuses(report)["LSH-HOST-030"] is CheckStatus.PASS


def test_drop_in_overrides_execstart(tmp_path: Path) -> None:
    debian_docker_io(tmp_path)
    put(tmp_path, "/etc/systemd/system/docker.service.d/override.conf",
        "[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd -H fd:// -H tcp://0.0.0.0:2375 "
        "--icc=false\n")
    report, _ = audit(tmp_path, packages=False)
    tcp = next(f for f in report.findings if f.rule_id == "LSH-HOST-001")
    assert tcp.location.path == "/etc/systemd/system/docker.service.d/override.conf"
    assert "tcp://0.0.0.0:2375" in tcp.message
    assert statuses(report)["LSH-HOST-002"] is CheckStatus.PASS  # --icc=false


def test_docker_opts_from_etc_default(tmp_path: Path) -> None:
    debian_docker_io(tmp_path)
    put(tmp_path, "/etc/default/docker", 'DOCKER_OPTS="-H tcp://0.0.0.0:2375 '
        '--insecure-registry reg.lan:5000"\n')
    got = fired(audit(tmp_path, packages=False)[0])
    assert {"LSH-HOST-001", "LSH-HOST-008"} <= got


def test_unreadable_file_is_not_checked(tmp_path: Path) -> None:
    debian_docker_io(tmp_path)
    (tmp_path / "etc/docker/daemon.json").mkdir(parents=True)  # a directory: cannot be read
    (tmp_path / "etc/group").unlink()
    (tmp_path / "etc/group").mkdir()
    report, _ = audit(tmp_path, packages=False)
    st = statuses(report)
    assert st["LSH-HOST-002"] is CheckStatus.NOT_CHECKED
    assert st["LSH-HOST-026"] is CheckStatus.NOT_CHECKED
    reason = next(c.reason for c in report.checks if c.rule_id == "LSH-HOST-002")
    assert "daemon.json" in reason and "directory" in reason


def test_unreadable_by_permission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lashing.host import view

    debian_docker_io(tmp_path)
    put(tmp_path, "/etc/audit/rules.d/docker.rules", "-w /usr/sbin/dockerd -k docker\n")
    real = view.DirBackend.read

    def denied(self: view.DirBackend, path: str) -> bytes:
        if path.endswith(".rules"):
            raise view.Unreadable(path, "Permission denied")
        return real(self, path)

    monkeypatch.setattr(view.DirBackend, "read", denied)
    report, _ = audit(tmp_path, packages=False)
    assert statuses(report)["LSH-HOST-030"] is CheckStatus.NOT_CHECKED


def test_symlinks_stay_inside_root(tmp_path: Path) -> None:
    debian_docker_io(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.json"
    outside.write_text('{"icc": false}')
    link = tmp_path / "etc/docker/daemon.json"
    link.symlink_to(outside)  # absolute: resolves to <root>/<outside>, which is absent
    report, _ = audit(tmp_path, packages=False)
    assert statuses(report)["LSH-HOST-002"] is CheckStatus.FAIL
    (tmp_path / "etc/docker/real.json").write_text('{"icc": false}')
    link.unlink()
    link.symlink_to("/etc/docker/real.json")
    report, _ = audit(tmp_path, packages=False)
    assert statuses(report)["LSH-HOST-002"] is CheckStatus.PASS


def test_ci_runners_and_containers_tooling(tmp_path: Path) -> None:
    debian_docker_io(tmp_path)
    put(tmp_path, "/etc/gitlab-runner/config.toml",
        '[[runners]]\nname = "docker"\nexecutor = "docker"\n[runners.docker]\n'
        'privileged = true\nvolumes = ["/var/run/docker.sock:/var/run/docker.sock"]\n')
    put(tmp_path, "/etc/containers/policy.json",
        '{"default": [{"type": "insecureAcceptAnything"}]}')
    put(tmp_path, "/etc/containers/registries.conf",
        '[[registry]]\nlocation = "registry.lan:5000"\ninsecure = true\n')
    put(tmp_path, "/etc/buildkit/buildkitd.toml",
        'insecure-entitlements = ["security.insecure"]\n')
    got = fired(audit(tmp_path, packages=False)[0])
    assert {"LSH-HOST-070", "LSH-HOST-071", "LSH-HOST-060", "LSH-HOST-062",
            "LSH-HOST-052"} <= got


def test_cli_formats_and_gate(tmp_path: Path) -> None:
    root = str(debian_docker_io(tmp_path))
    table = run("host", "--root", root, "--skip-packages")
    assert table.code == 0, table.err
    for heading in ("[daemon configuration]", "[access]", "[audit]", "total:"):
        assert heading in table.out
    assert "alice" in table.out
    doc = run("host", "--root", root, "--skip-packages", "--format", "json").json()
    assert doc["targets"][0]["kind"] == "host"
    assert any(f["surface"] == "build-host" and "cis-docker-1.6:2.2" in f["aliases"]
               for f in doc["findings"])
    assert {c["status"] for c in doc["checks"]} >= {"fail", "not-applicable"}
    sarif = json.loads(run("host", "--root", root, "--skip-packages", "--format",
                           "sarif").out)
    assert any(r["ruleId"] == "LSH-HOST-026" for r in sarif["runs"][0]["results"])
    assert run("host", "--root", root, "--skip-packages", "--fail-on", "HIGH").code == 1
    assert run("host", "--root", root, "--db", str(tmp_path / "none.db"),
               "--strict").code == 4
    missing = run("host", "--root", str(tmp_path / "nope"))
    assert missing.code == 2


def test_this_machine() -> None:
    """The running system: must finish cleanly with whatever it finds."""
    report, sources = audit(Path("/"), packages=False)
    assert sources[0].startswith("mode: live")
    assert len(report.checks) > 40
    assert not [c for c in report.checks if c.reason.startswith("rule failed")]
    result = run("host", "--skip-packages", "--format", "json")
    assert result.code == 0, result.err


def test_host_packages_matched_as_build_host(tmp_path: Path) -> None:
    from lashing.vulndb.importer import import_paths

    root = debian_docker_io(tmp_path / "root")
    records = tmp_path / "osv"
    records.mkdir()
    (records / "DSA-0000-1.json").write_text(json.dumps({
        "schema_version": "1.6.0", "id": "DSA-0000-1", "modified": "2024-01-01T00:00:00Z",
        "summary": "docker.io issue", "aliases": ["CVE-2099-0001"],
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "docker.io"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [
                          {"introduced": "0"}, {"fixed": "20.10.24+dfsg1-1+deb12u1"}]}]}]}))
    db = tmp_path / "t.db"
    import_paths([records], db)
    report, _ = audit(root, db_path=db)
    vulns = [f for f in report.findings if f.vulnerability is not None]
    assert [f.rule_id for f in vulns] == ["CVE-2099-0001"]
    assert vulns[0].surface.value == "build-host"
    assert statuses(report)["LSH-HOST-PKG"] is CheckStatus.FAIL
    table = run("host", "--root", str(root), "--db", str(db))
    assert "[host packages]" in table.out and "CVE-2099-0001" in table.out


def test_unreadable_home_is_an_issue_not_a_blind_spot(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Auditing without root: a home directory the auditor may not list leaves that user's
    own configuration out (an issue says so); the system-wide checks are still judged."""
    from lashing.host import view

    debian_docker_io(tmp_path)
    put(tmp_path, "/etc/containers/policy.json",
        '{"default": [{"type": "insecureAcceptAnything"}]}')
    (tmp_path / "root/.config/containers").mkdir(parents=True)
    real = view.DirBackend.listdir

    def denied(self: view.DirBackend, path: str) -> list[str]:
        if path.startswith("/root/.config"):
            raise view.Unreadable(path, "Permission denied")
        return real(self, path)

    monkeypatch.setattr(view.DirBackend, "listdir", denied)
    report, _ = audit(tmp_path, packages=False)
    st = statuses(report)
    assert st["LSH-HOST-002"] is CheckStatus.FAIL  # daemon.json still judged
    assert st["LSH-HOST-060"] is CheckStatus.FAIL  # the system policy.json still judged
    messages = [i.message for i in report.issues]
    assert any("containers configuration of root" in m and "Permission denied" in m
               for m in messages), messages
