"""The rule registry: explicit tuples, unique ids, complete metadata."""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

import lashing.rules
from lashing.model import Severity
from lashing.rules import ALL_RULES, FAMILIES, find_rule, get_rule
from lashing.rules.framework import ALIAS, RULE_ID, Rule


def test_ids_unique_and_well_formed() -> None:
    ids = [r.id for r in ALL_RULES]
    assert len(ids) == len(set(ids))
    for family in FAMILIES:
        for r in family.rules:
            assert RULE_ID.match(r.id), r.id
            assert r.id.startswith(family.prefix + "-"), (family.name, r.id)


def test_every_rule_has_metadata_and_examples() -> None:
    for r in ALL_RULES:
        assert r.title and r.remediation, r.id
        assert isinstance(r.severity, Severity)
        assert any(e.fires for e in r.examples), f"{r.id} has no firing example"
        assert any(not e.fires for e in r.examples), f"{r.id} has no non-firing example"
        for alias in r.aliases:
            assert ALIAS.match(alias), (r.id, alias)
        for section in r.nist:
            assert re.fullmatch(r"4\.\d\.\d", section), (r.id, section)


def _modules_with_rules() -> dict[str, tuple[Rule[Any], ...]]:
    found = {}
    for info in pkgutil.walk_packages(lashing.rules.__path__, "lashing.rules."):
        module = importlib.import_module(info.name)
        rules = getattr(module, "RULES", None)
        if isinstance(rules, tuple) and rules and all(isinstance(r, Rule) for r in rules):
            found[info.name] = rules
    return found


def test_every_module_with_rules_is_registered() -> None:
    registered = {id(r) for r in ALL_RULES}
    modules = _modules_with_rules()
    assert "lashing.rules.dockerfile.base" in modules
    assert "lashing.rules.image.files" in modules
    for name, rules in modules.items():
        missing = [r.id for r in rules if id(r) not in registered]
        assert not missing, f"{name} has rules missing from ALL_RULES: {missing}"
    for family in FAMILIES:
        for name in family.modules:
            assert name in modules, f"{family.name} names {name}, which has no RULES"


def test_lookup_by_id_and_alias() -> None:
    assert get_rule("lsh-df-001").id == "LSH-DF-001"
    rule = find_rule("hadolint:DL3007")
    assert rule is not None and rule.id == "LSH-DF-001"
    assert find_rule("checkov:ckv_docker_8") is not None
    assert find_rule("LSH-DF-999") is None


def test_checkov_dockerfile_ids_covered() -> None:
    aliases = {a for r in ALL_RULES for a in r.aliases}
    for n in range(1, 12):
        assert f"checkov:CKV_DOCKER_{n}" in aliases
