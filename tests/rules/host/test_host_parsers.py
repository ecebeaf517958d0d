"""The host parsers and HostView, and a few host rules in detail."""

from __future__ import annotations

from lashing.host.parse import (
    Unit,
    audit_watched,
    expand_exec,
    parse_dockerd_flags,
    parse_env_file,
    parse_sudoers,
)
from lashing.host.view import Kind, MemFile, Unreadable, memory_view
from lashing.model import CheckStatus
from lashing.rules.framework import evaluate
from lashing.rules.host import RULES, subject_from_spec
from lashing.rules.host.spec import F, daemon_json, docker, host, unreadable


def test_unit_drop_in_resets_execstart() -> None:
    unit = Unit("docker.service")
    unit.apply("/lib/a", "[Service]\nExecStart=/usr/bin/dockerd -H fd://\n")
    unit.apply("/etc/b", "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd \\\n  --icc=false\n")
    assert [v.split() for v in unit.values("Service.ExecStart")] == [
        ["/usr/bin/dockerd", "--icc=false"]]


def test_expand_exec_and_env_file() -> None:
    env = parse_env_file('# c\nDOCKER_OPTS="-H tcp://0.0.0.0:2375 --tlsverify"\nexport X=1\n')
    assert env == {"DOCKER_OPTS": "-H tcp://0.0.0.0:2375 --tlsverify", "X": "1"}
    argv = expand_exec("-/usr/sbin/dockerd -H fd:// $DOCKER_OPTS ${X}", env)
    assert argv == ["/usr/sbin/dockerd", "-H", "fd://", "-H", "tcp://0.0.0.0:2375",
                    "--tlsverify", "1"]


def test_dockerd_flags() -> None:
    flags = parse_dockerd_flags(["dockerd", "-H", "fd://", "--host=tcp://0.0.0.0:2376",
                                 "--icc=false", "--live-restore", "--userns-remap", "default",
                                 "--insecure-registry", "a:5000", "--log-driver=syslog"])
    assert flags == {"hosts": ["fd://", "tcp://0.0.0.0:2376"], "icc": False,
                     "live-restore": True, "userns-remap": "default",
                     "insecure-registries": ["a:5000"], "log-driver": "syslog"}


def test_audit_rules_and_sudoers() -> None:
    watched = audit_watched("-w /usr/bin/dockerd -k docker\n# -w /etc/docker\n"
                            "-a always,exit -F path=/usr/bin/runc -F perm=x -k docker\n")
    assert watched == {"/usr/bin/dockerd", "/usr/bin/runc"}
    rules = parse_sudoers("Defaults env_reset\nci ALL=(root) NOPASSWD: /usr/bin/docker, "
                          "/bin/ls  # comment\n%admin ALL=(ALL) ALL\n")
    assert [(r.who, r.nopasswd, r.commands) for r in rules] == [
        ("ci", True, "/usr/bin/docker, /bin/ls"), ("%admin", False, "ALL")]


def test_view_symlinks_resolve_inside_root() -> None:
    view = memory_view((MemFile("/etc/real", "x"),
                        MemFile("/etc/link", None, kind=Kind.LINK, link="../../../etc/real"),
                        MemFile("/loop", None, kind=Kind.LINK, link="/loop")))
    assert view.text("/etc/link") == "x"
    try:
        view.text("/loop")
    except Unreadable as exc:
        assert "symbolic links" in exc.reason
    else:
        raise AssertionError("a symlink loop must be unreadable")


def _status(spec: object, rule_id: str) -> CheckStatus:
    from lashing.rules.host.spec import HostSpec

    assert isinstance(spec, HostSpec)
    _, checks = evaluate(RULES, subject_from_spec(spec), "t", "t")
    return next(c.status for c in checks if c.rule_id == rule_id)


def test_not_installed_is_not_applicable_and_unreadable_is_not_checked() -> None:
    assert _status(host(), "LSH-HOST-002") is CheckStatus.NOT_APPLICABLE
    assert _status(docker(unreadable("/etc/docker/daemon.json")),
                   "LSH-HOST-002") is CheckStatus.NOT_CHECKED
    assert _status(docker(F("/etc/docker/daemon.json", None, kind=Kind.DIR)),
                   "LSH-HOST-002") is CheckStatus.NOT_CHECKED
    assert _status(docker(daemon_json('{"icc": false}')), "LSH-HOST-002") is CheckStatus.PASS


def test_live_state_counts_only_on_live_hosts() -> None:
    from lashing.host.live import LiveState, Process
    from lashing.rules.host.spec import HostSpec

    live = LiveState(processes=(Process(42, ("/usr/bin/dockerd", "-H", "tcp://0.0.0.0:2375"),
                                        0),), listening=(("10.0.0.5", 2375),))
    spec = HostSpec(docker().files, live)
    subject = subject_from_spec(spec)
    assert subject.daemon.sources == ["live dockerd command line (pid 42)"]
    _, checks = evaluate(RULES, subject, "t", "t")
    assert next(c for c in checks if c.rule_id == "LSH-HOST-001").status is CheckStatus.FAIL
