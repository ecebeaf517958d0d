"""Label selectors: matchLabels, every operator, and the selectors Kubernetes rejects."""

from __future__ import annotations

from typing import Any

import pytest

from lashing.network.selectors import Requirement, Selector, SelectorError, parse_selector

LABELS = {"app": "web", "tier": "front"}


@pytest.mark.parametrize(("data", "matches"), [
    (None, True),
    ({}, True),
    ({"matchLabels": {"app": "web"}}, True),
    ({"matchLabels": {"app": "db"}}, False),
    ({"matchLabels": {"app": "web", "tier": "back"}}, False),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["db", "web"]}]}, True),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]}, False),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["db"]}]}, True),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, False),
    ({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, True),
    ({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, False),
    ({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, False),
    ({"matchLabels": {"app": "web"},
      "matchExpressions": [{"key": "tier", "operator": "In", "values": ["back"]}]}, False),
])
def test_selector_matches(data: Any, matches: bool) -> None:
    assert parse_selector(data, "spec.podSelector").matches(LABELS) is matches


@pytest.mark.parametrize(("data", "message"), [
    ({"matchExpressions": [{"key": "app", "operator": "Equals", "values": ["a"]}]},
     "unknown operator 'Equals'"),
    ({"matchExpressions": [{"key": "app", "operator": "In"}]}, "needs at least one value"),
    ({"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["a"]}]},
     "takes no values"),
    ({"matchLabels": {"bad key!": "a"}}, "invalid label key"),
    ({"matchLabels": {"app": "has space"}}, "invalid label value"),
    ({"matchLabels": ["app"]}, "must be a mapping"),
    ({"matchLabel": {"app": "a"}}, "unknown field 'matchLabel'"),
    ("app=web", "must be a mapping"),
])
def test_invalid_selectors_are_refused(data: Any, message: str) -> None:
    with pytest.raises(SelectorError, match=message):
        parse_selector(data, "spec.podSelector")


def test_empty_selector_selects_everything_and_prints_so() -> None:
    assert Selector().is_empty and Selector().matches({})
    assert str(Selector()) == "{} (all)"
    assert str(Requirement("a", "In", ("x",))) == "a=x"
    assert str(Requirement("a", "NotIn", ("x", "y"))) == "a notin (x,y)"
    assert str(Requirement("a", "DoesNotExist")) == "!a"
