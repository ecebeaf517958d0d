"""Where settings come from: /etc/sysconfig/docker and /etc/default/docker flags
merged with daemon.json, flag/daemon.json conflicts, containers drop-in
directories and per-user files, and the remaining CIS 1.1 audit watches."""

from __future__ import annotations

from pathlib import Path

from hosttrees import debian_docker_io, put

from lashing.commands.host import audit
from lashing.model import CheckStatus, Finding, Report

from cli_helpers import run

RHEL_UNIT = """\
[Service]
Type=notify
EnvironmentFile=-/etc/sysconfig/docker
ExecStart=/usr/bin/dockerd $OPTIONS
"""


def findings(report: Report, rule_id: str) -> list[Finding]:
    return [f for f in report.findings if f.rule_id == rule_id]


def status(report: Report, rule_id: str) -> CheckStatus:
    return next(c.status for c in report.checks if c.rule_id == rule_id)


def rhel(root: Path, options: str) -> Path:
    put(root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
    put(root, "/etc/group", "root:x:0:\ndocker:x:994:\n")
    put(root, "/usr/bin/dockerd", "", 0o755)
    put(root, "/usr/lib/systemd/system/docker.service", RHEL_UNIT)
    put(root, "/etc/sysconfig/docker", f"# /etc/sysconfig/docker\nOPTIONS='{options}'\n")
    return root


def test_sysconfig_options_are_dockerd_flags(tmp_path: Path) -> None:
    report, sources = audit(rhel(tmp_path, "--selinux-enabled -H tcp://0.0.0.0:2375 "
                                 "--icc=false"), packages=False)
    tcp = findings(report, "LSH-HOST-001")
    assert [f.location.path for f in tcp] == ["/etc/sysconfig/docker"]
    assert "tcp://0.0.0.0:2375" in tcp[0].message
    assert status(report, "LSH-HOST-002") is CheckStatus.PASS  # --icc=false from OPTIONS
    assert any("/etc/sysconfig/docker" in s for s in sources)


def test_sysconfig_without_a_unit(tmp_path: Path) -> None:
    rhel(tmp_path, "--insecure-registry reg.lan:5000")
    (tmp_path / "usr/lib/systemd/system/docker.service").unlink()
    report, _ = audit(tmp_path, packages=False)
    insecure = findings(report, "LSH-HOST-008")
    assert [f.location.path for f in insecure] == ["/etc/sysconfig/docker"]


def test_flag_and_daemon_json_conflict(tmp_path: Path) -> None:
    debian_docker_io(tmp_path)
    put(tmp_path, "/etc/docker/daemon.json", '{"hosts": ["unix:///run/docker.sock"], '
        '"icc": false}')
    report, _ = audit(tmp_path, packages=False)
    [conflict] = findings(report, "LSH-HOST-016")
    assert conflict.location.path == "/etc/docker/daemon.json"
    assert conflict.message == (
        'hosts is set by a flag in /lib/systemd/system/docker.service (["fd://"]) and in '
        '/etc/docker/daemon.json (["unix:///run/docker.sock"]): dockerd will refuse to start')


def test_docker_opts_conflict_names_etc_default(tmp_path: Path) -> None:
    debian_docker_io(tmp_path)
    put(tmp_path, "/etc/default/docker", 'DOCKER_OPTS="--log-driver journald"\n')
    put(tmp_path, "/etc/docker/daemon.json", '{"log-driver": "syslog"}')
    report, _ = audit(tmp_path, packages=False)
    [conflict] = findings(report, "LSH-HOST-016")
    assert "a flag in /etc/default/docker (journald)" in conflict.message
    put(tmp_path, "/etc/default/docker", "")
    report, _ = audit(tmp_path, packages=False)
    assert status(report, "LSH-HOST-016") is CheckStatus.PASS


def test_registries_drop_in_overrides_and_is_named(tmp_path: Path) -> None:
    put(tmp_path, "/etc/containers/registries.conf",
        'unqualified-search-registries = ["registry.example.com"]\n'
        '[[registry]]\nlocation = "registry.example.com"\n')
    put(tmp_path, "/etc/containers/registries.conf.d/000-shortnames.conf",
        'unqualified-search-registries = ["registry.example.com", "docker.io"]\n')
    put(tmp_path, "/etc/containers/registries.conf.d/50-lab.conf",
        '[[registry]]\nlocation = "registry.example.com"\ninsecure = true\n')
    put(tmp_path, "/etc/containers/registries.conf.d/README", "not a .conf: ignored")
    report, _ = audit(tmp_path, packages=False)
    [short] = findings(report, "LSH-HOST-061")
    assert short.location.path == "/etc/containers/registries.conf.d/000-shortnames.conf"
    [insecure] = findings(report, "LSH-HOST-062")
    assert insecure.location.path == "/etc/containers/registries.conf.d/50-lab.conf"
    # a later drop-in puts the registry back: nothing insecure remains
    put(tmp_path, "/etc/containers/registries.conf.d/99-fix.conf",
        '[[registry]]\nlocation = "registry.example.com"\n')
    report, _ = audit(tmp_path, packages=False)
    assert status(report, "LSH-HOST-062") is CheckStatus.PASS


def test_user_files_override_for_that_user(tmp_path: Path) -> None:
    put(tmp_path, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"
        "ci:x:1001:1001::/home/ci:/bin/sh\nbob:x:1002:1002::/home/bob:/bin/sh\n")
    put(tmp_path, "/etc/containers/containers.conf", "[containers]\nno_new_privileges = true\n")
    put(tmp_path, "/etc/containers/policy.json", '{"default": [{"type": "reject"}]}')
    put(tmp_path, "/home/ci/.config/containers/containers.conf.d/10-build.conf",
        '[containers]\nseccomp_profile = "unconfined"\n')
    put(tmp_path, "/home/ci/.config/containers/policy.json",
        '{"default": [{"type": "insecureAcceptAnything"}]}')
    put(tmp_path, "/home/bob/.config/containers/registries.conf",
        'unqualified-search-registries = ["quay.io", "docker.io"]\n')
    report, _ = audit(tmp_path, packages=False)
    [conf] = findings(report, "LSH-HOST-063")
    assert conf.location.path == "/home/ci/.config/containers/containers.conf.d/10-build.conf"
    assert conf.message == "for user ci: seccomp_profile is unconfined"
    [pol] = findings(report, "LSH-HOST-060")
    assert pol.location.path == "/home/ci/.config/containers/policy.json"
    [short] = findings(report, "LSH-HOST-061")
    assert short.location.path == "/home/bob/.config/containers/registries.conf"
    assert short.message.startswith("for user bob: ")


def test_unreadable_drop_in_is_not_checked(tmp_path: Path) -> None:
    put(tmp_path, "/etc/containers/registries.conf", 'unqualified-search-registries = ["a"]\n')
    (tmp_path / "etc/containers/registries.conf.d/broken.conf").mkdir(parents=True)
    report, _ = audit(tmp_path, packages=False)
    assert status(report, "LSH-HOST-061") is CheckStatus.NOT_CHECKED
    reason = next(c.reason for c in report.checks if c.rule_id == "LSH-HOST-061")
    assert "broken.conf" in reason


def test_hostile_drop_in_is_refused_not_crashed(tmp_path: Path) -> None:
    put(tmp_path, "/etc/containers/containers.conf.d/x.conf", "[containers\nbroken = ")
    put(tmp_path, "/etc/containers/registries.conf.d/loop.conf", "")
    (tmp_path / "etc/containers/registries.conf.d/loop.conf").unlink()
    (tmp_path / "etc/containers/registries.conf.d/loop.conf").symlink_to("loop.conf")
    result = run("host", "--root", str(tmp_path), "--skip-packages", "--format", "json")
    assert result.code == 0, result.err
    checks = {c["rule_id"]: c for c in result.json()["checks"]}
    assert checks["LSH-HOST-063"]["status"] == "not-checked"
    assert "x.conf" in checks["LSH-HOST-063"]["reason"]
    assert checks["LSH-HOST-061"]["status"] == "not-checked"


def test_remaining_cis_audit_watches(tmp_path: Path) -> None:
    debian_docker_io(tmp_path)
    for binary in ("containerd-shim", "containerd-shim-runc-v1", "containerd-shim-runc-v2"):
        put(tmp_path, f"/usr/bin/{binary}", "", 0o755)
    put(tmp_path, "/etc/sysconfig/docker", "OPTIONS=''\n")
    put(tmp_path, "/etc/audit/rules.d/docker.rules", "-w /usr/bin/containerd-shim -k docker\n"
        "-a always,exit -F path=/usr/bin/containerd-shim-runc-v2 -F perm=x -k docker\n")
    report, _ = audit(tmp_path, packages=False)
    assert status(report, "LSH-HOST-044") is CheckStatus.PASS  # 1.1.15
    assert status(report, "LSH-HOST-046") is CheckStatus.PASS  # 1.1.17
    assert status(report, "LSH-HOST-045") is CheckStatus.FAIL  # 1.1.16
    assert status(report, "LSH-HOST-043") is CheckStatus.FAIL  # 1.1.13
    [shim] = findings(report, "LSH-HOST-045")
    assert "cis-docker-1.6:1.1.16" in shim.aliases
    assert "/usr/bin/containerd-shim-runc-v1" in shim.message


def test_rootless_daemon_is_judged_too(tmp_path: Path) -> None:
    debian_docker_io(tmp_path)
    put(tmp_path, "/etc/docker/daemon.json", '{"icc": false}')
    put(tmp_path, "/home/alice/.config/systemd/user/docker.service",
        "[Service]\nExecStart=/home/alice/bin/dockerd-rootless.sh --experimental\n")
    put(tmp_path, "/home/alice/.config/docker/daemon.json", '{"icc": true, '
        '"experimental": true}')
    report, sources = audit(tmp_path, packages=False)
    [icc] = findings(report, "LSH-HOST-002")
    assert icc.location.path == "/home/alice/.config/docker/daemon.json"
    assert icc.message.startswith("rootless dockerd of alice: icc is not disabled")
    [exp] = findings(report, "LSH-HOST-012")  # the system daemon has no experimental
    assert exp.location.path == "/home/alice/.config/systemd/user/docker.service"
    [conflict] = findings(report, "LSH-HOST-016")
    assert conflict.message.startswith("rootless dockerd of alice: experimental is set by a "
                                       "flag in /home/alice/.config/systemd/user/")
    assert any("/home/alice/.config/docker/daemon.json" in s for s in sources)


def test_rootful_and_rootless_containers_conf_dirs(tmp_path: Path) -> None:
    put(tmp_path, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"
        "ci:x:1001:1001::/home/ci:/bin/sh\n")
    etc = "/etc/containers"
    put(tmp_path, f"{etc}/containers.conf", "[containers]\nno_new_privileges = true\n")
    put(tmp_path, f"{etc}/containers.rootful.conf.d/50-root.conf",
        '[containers]\napparmor_profile = "unconfined"\n')
    put(tmp_path, f"{etc}/containers.rootless.conf.d/50-all.conf",
        "[containers]\nprivileged = true\n")
    put(tmp_path, f"{etc}/containers.rootless.conf.d/1001/50-ci.conf",
        '[containers]\nseccomp_profile = "unconfined"\n')
    # a later vendor file cannot undo /etc: /etc loads after /usr/share
    put(tmp_path, "/usr/share/containers/containers.conf.d/99-vendor.conf",
        '[containers]\napparmor_profile = "container-default"\n')
    report, _ = audit(tmp_path, packages=False)
    # ci inherits the shared rootless drop-in: reported once, for rootless users
    got = sorted((f.message, f.location.path) for f in findings(report, "LSH-HOST-063"))
    assert got == [
        ("apparmor_profile is unconfined", f"{etc}/containers.rootful.conf.d/50-root.conf"),
        ("for rootless users: containers run privileged by default",
         f"{etc}/containers.rootless.conf.d/50-all.conf"),
        ("for user ci: seccomp_profile is unconfined",
         f"{etc}/containers.rootless.conf.d/1001/50-ci.conf"),
    ]


def test_docker_opts_the_unit_does_not_read_is_reported_as_ignored(tmp_path: Path) -> None:
    debian_docker_io(tmp_path)
    put(tmp_path, "/lib/systemd/system/docker.service",  # docker-ce's unit: no EnvironmentFile
        "[Service]\nExecStart=/usr/bin/dockerd -H fd:// "
        "--containerd=/run/containerd/containerd.sock\n")
    put(tmp_path, "/etc/default/docker", 'DOCKER_OPTS="-H tcp://0.0.0.0:2375"\n')
    report, sources = audit(tmp_path, packages=False)
    assert status(report, "LSH-HOST-001") is CheckStatus.PASS  # not in effect
    assert "ignored: DOCKER_OPTS in /etc/default/docker (docker.service does not read it)" \
        in sources
