"""Rules: the framework and every rule family, collected in explicit tuples.

`FAMILIES` lists each family (its id prefix, rules and example loader);
`ALL_RULES` is their concatenation. Nothing registers itself on import.
"""

from __future__ import annotations

from typing import Any

from lashing.audit import escalation
from lashing.rules import compose, dockerfile, host, image, kubernetes, malware, secrets, trust
from lashing.rules import network as network_rules
from lashing.rules import runtime as runtime_rules
from lashing.rules.framework import Family, Rule

FAMILIES: tuple[Family[Any], ...] = (dockerfile.FAMILY, image.FAMILY, secrets.FAMILY,
                                     malware.FAMILY, trust.FAMILY, host.FAMILY,
                                     kubernetes.FAMILY, compose.FAMILY, escalation.FAMILY,
                                     *network_rules.FAMILIES, runtime_rules.FAMILY)
ALL_RULES: tuple[Rule[Any], ...] = tuple(r for f in FAMILIES for r in f.rules)
_BY_ID: dict[str, Rule[Any]] = {r.id: r for r in ALL_RULES}


def get_rule(rule_id: str) -> Rule[Any]:
    """The rule with this id; KeyError when there is none."""
    return _BY_ID[rule_id.strip().upper()]


def find_rule(name: str) -> Rule[Any] | None:
    """The rule named by an id or an alias (`hadolint:DL3007`), any case; None if unknown."""
    found = _BY_ID.get(name.strip().upper())
    if found is not None:
        return found
    return next((r for r in ALL_RULES if r.matches(name)), None)


def family_of(rule: Rule[Any]) -> Family[Any]:
    return next(f for f in FAMILIES if rule in f.rules)


__all__ = ["ALL_RULES", "FAMILIES", "family_of", "find_rule", "get_rule"]
