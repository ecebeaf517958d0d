"""Every rule's every example, through its family's example loader."""

from __future__ import annotations

from typing import Any

import pytest

from lashing.rules import FAMILIES
from lashing.rules.framework import Example, Family, Rule

CASES = [
    pytest.param(family, rule, example, id=f"{rule.id}-{'bad' if example.fires else 'good'}-{k}")
    for family in FAMILIES
    for rule in family.rules
    for k, example in enumerate(rule.examples)
]


@pytest.mark.parametrize(("family", "rule", "example"), CASES)
def test_example(family: Family[Any], rule: Rule[Any], example: Example) -> None:
    fired = family.fires(rule, example)
    what = "fire" if example.fires else "stay silent"
    assert fired is example.fires, f"{rule.id} should {what} on {example.name or example.data}"
