"""Every container rule of LSH-RUN on inspect documents recorded from the real
engine in this run: one container created with the bad setting, and a
hardened one on which no container rule fires."""

from __future__ import annotations

from pathlib import Path

import pytest

from lashing.host.engine import Container
from lashing.rules.runtime import RULES, RuntimeSubject, Workload, scan_runtime
from lashing.rules.runtime import workload as container_rules
from lashing.trust.policy import policy_from_mapping
from watch.watchengine import IMAGE, Engine

HARDENED = {"--cap-drop": "ALL", "--security-opt": "no-new-privileges", "--memory": "64m",
            "--pids-limit": "100", "--user": "1000", "--network": "none"}
# rule id -> (hardened options replaced, flags added): settings that break that rule
BAD: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "LSH-RUN-001": ({}, ("--privileged",)),
    "LSH-RUN-002": ({}, ("--cap-add", "NET_ADMIN")),
    "LSH-RUN-003": ({"--network": "host"}, ()),
    "LSH-RUN-004": ({}, ("--pid", "host")),
    "LSH-RUN-005": ({}, ("--ipc", "host")),
    "LSH-RUN-006": ({}, ("--userns", "host")),
    "LSH-RUN-007": ({}, ("-v", "/etc:/hostetc:ro")),
    "LSH-RUN-008": ({"--security-opt": "no-new-privileges=false"}, ()),
    "LSH-RUN-009": ({}, ("--security-opt", "seccomp=unconfined")),
    "LSH-RUN-010": ({}, ("--security-opt", "apparmor=unconfined")),
    "LSH-RUN-011": ({"--user": "0"}, ()),
    "LSH-RUN-012": ({"--memory": "0"}, ()),
    "LSH-RUN-013": ({"--pids-limit": "-1"}, ()),
    "LSH-RUN-014": ({"--network": "bridge"}, ("-p", "8080:80")),
}
# Podman 4.3's inspect reports --ipc host as "shareable" and --userns host as "".
UNREPORTED = {"LSH-RUN-005": "IpcMode", "LSH-RUN-006": "UsernsMode"}


def _flags(replace: dict[str, str], extra: tuple[str, ...]) -> list[str]:
    options = {**HARDENED, **replace}
    return [*(x for kv in options.items() for x in kv), *extra]


def _fired(doc: dict[str, object]) -> set[str]:
    subject = RuntimeSubject(workload=Workload(Container.from_inspect(doc)), event="create",
                             when="2026-01-01T00:00:00.000000000Z")
    findings, _ = scan_runtime(subject, "unix:///engine.sock", str(doc["Id"]))
    return {f.rule_id for f in findings}


@pytest.fixture(scope="module")
def recorded(engine: Engine) -> dict[str, dict[str, object]]:
    docs = {}
    engine.create("hardened", *_flags({}, ()))
    docs["hardened"] = engine.inspect("hardened")
    for rule_id, (replace, extra) in BAD.items():
        name = rule_id.lower()
        engine.create(name, *_flags(replace, extra))
        docs[rule_id] = engine.inspect(name)
    return docs


def test_every_container_rule_is_covered() -> None:
    assert set(BAD) == {r.id for r in container_rules.RULES}


def test_hardened_container_breaks_no_container_rule(
        recorded: dict[str, dict[str, object]]) -> None:
    fired = _fired(recorded["hardened"]) & set(BAD)
    assert not fired


@pytest.mark.parametrize("rule_id", sorted(BAD))
def test_rule_fires_on_recorded_inspect(recorded: dict[str, dict[str, object]],
                                        rule_id: str) -> None:
    doc = recorded[rule_id]
    field = UNREPORTED.get(rule_id)
    host_config = doc["HostConfig"]
    assert isinstance(host_config, dict)
    if field is not None and host_config.get(field) != "host":
        pytest.skip(f"this engine reports {BAD[rule_id][1]} as {field}="
                    f"{host_config.get(field)!r}; the rule's examples cover it")
    fired = _fired(doc)
    assert rule_id in fired, (rule_id, fired)


def test_provenance_rules_on_a_recorded_container(recorded: dict[str, dict[str, object]],
                                                  tmp_path: Path) -> None:
    policy = policy_from_mapping({"allowed_registries": ["registry.example.com"],
                                  "require_digest": True}, tmp_path / "p.toml")
    w = Workload(Container.from_inspect(recorded["hardened"]))
    assert w.image == IMAGE
    subject = RuntimeSubject(workload=w, image=w.image, policy=policy.for_reference(w.image),
                             event="create", when="2026-01-01T00:00:00.000000000Z")
    findings, _ = scan_runtime(subject, "unix:///engine.sock", w.id)
    got = {f.rule_id: f for f in findings}
    assert {"LSH-RUN-030", "LSH-RUN-032"} <= set(got)
    assert got["LSH-RUN-030"].kind.value == "provenance"
    assert "registry localhost is not one of the allowed" in got["LSH-RUN-030"].message
    allowed = policy_from_mapping({"allowed_registries": ["localhost"]}, tmp_path / "p.toml")
    subject = RuntimeSubject(workload=w, image=w.image, policy=allowed.for_reference(w.image))
    findings, _ = scan_runtime(subject, "unix:///engine.sock", w.id)
    assert not {f.rule_id for f in findings} & {"LSH-RUN-030", "LSH-RUN-032"}


def test_every_rule_has_examples() -> None:
    assert all(any(e.fires for e in r.examples) and any(not e.fires for e in r.examples)
               for r in RULES)
