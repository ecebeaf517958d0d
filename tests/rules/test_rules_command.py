"""`lashing rules`: list, explain, JSON, unknown ids."""

from __future__ import annotations

from lashing.rules import ALL_RULES

from cli_helpers import run


def test_list_table() -> None:
    r = run("rules")
    assert r.code == 0
    assert "LSH-DF-001" in r.out and "hadolint:DL3007" in r.out and "LSH-IMG-022" in r.out
    assert f"{len(ALL_RULES)} rules" in r.out


def test_list_json() -> None:
    r = run("rules", "--format", "json")
    assert r.code == 0
    doc = r.json()
    assert [d["id"] for d in doc] == [x.id for x in ALL_RULES]
    first = doc[0]
    assert set(first) == {"id", "title", "family", "severity", "surface", "kind", "nist",
                          "aliases", "description", "remediation", "references", "examples"}
    assert any(e["fires"] for e in first["examples"])


def test_explain_by_id_and_alias() -> None:
    for name in ("LSH-DF-020", "hadolint:DL3002", "checkov:CKV_DOCKER_8", "DL3002"):
        r = run("rules", name)
        assert r.code == 0, name
        assert r.out.startswith("LSH-DF-020: Last USER is root")
        assert "remediation:" in r.out and "bad (reported)" in r.out
        assert "good (not reported)" in r.out and "4.1.2" in r.out


def test_alias_naming_several_rules_json() -> None:
    r = run("rules", "dockle:CIS-DI-0010", "--format", "json")
    assert r.code == 0
    assert len(r.json()) >= 2


def test_unknown_id_suggests() -> None:
    r = run("rules", "LSH-DF-01")
    assert r.code == 2
    assert "no rule named 'LSH-DF-01'" in r.err and "LSH-DF-010" in r.err
    r = run("rules", "LSH-DF-0001")
    assert r.code == 2 and "did you mean" in r.err
