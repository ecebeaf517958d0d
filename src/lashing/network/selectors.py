"""Label selectors (matchLabels and matchExpressions) parsed from manifests
and matched against label sets."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["OPERATORS", "Requirement", "Selector", "SelectorError", "parse_selector"]

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
# a qualified label key: optional DNS-subdomain prefix and a name of at most 63 characters
_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}"
                  r"[A-Za-z0-9])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


class SelectorError(ValueError):
    """A selector that Kubernetes would reject; the message says why."""


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # one of OPERATORS
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "In":
            return self.key in labels and labels[self.key] in self.values
        if self.operator == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        if self.operator == "Exists":
            return self.key in labels
        return self.key not in labels

    def __str__(self) -> str:
        if self.operator == "Exists":
            return self.key
        if self.operator == "DoesNotExist":
            return f"!{self.key}"
        if self.operator == "In" and len(self.values) == 1:
            return f"{self.key}={self.values[0]}"
        if self.operator == "NotIn" and len(self.values) == 1:
            return f"{self.key}!={self.values[0]}"
        word = "in" if self.operator == "In" else "notin"
        return f"{self.key} {word} ({','.join(self.values)})"


@dataclass(frozen=True)
class Selector:
    """All requirements must hold; no requirements selects everything."""

    requirements: tuple[Requirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements) if self.requirements else "{} (all)"


def _label_value(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise SelectorError(f"{where}: label value must be a string, not {type(value).__name__}")
    text = str(value)
    if not _VALUE.match(text):
        raise SelectorError(f"{where}: invalid label value {text!r}")
    return text


def _label_key(key: Any, where: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise SelectorError(f"{where}: invalid label key {key!r}")
    return key


def parse_selector(data: Any, where: str) -> Selector:
    """A LabelSelector from its manifest form; raises SelectorError."""
    if data is None:
        return Selector()
    if not isinstance(data, Mapping):
        raise SelectorError(f"{where} must be a mapping")
    unknown = set(data) - {"matchLabels", "matchExpressions"}
    if unknown:
        raise SelectorError(f"{where}: unknown field {sorted(map(str, unknown))[0]!r}")
    reqs: list[Requirement] = []
    labels = data.get("matchLabels")
    if labels is not None:
        if not isinstance(labels, Mapping):
            raise SelectorError(f"{where}.matchLabels must be a mapping")
        for key, value in labels.items():
            reqs.append(Requirement(_label_key(key, f"{where}.matchLabels"), "In",
                                    (_label_value(value, f"{where}.matchLabels.{key}"),)))
    exprs = data.get("matchExpressions")
    if exprs is not None:
        if not isinstance(exprs, list):
            raise SelectorError(f"{where}.matchExpressions must be a list")
        for i, expr in enumerate(exprs):
            reqs.append(_expression(expr, f"{where}.matchExpressions[{i}]"))
    return Selector(tuple(reqs))


def _expression(expr: Any, where: str) -> Requirement:
    if not isinstance(expr, Mapping):
        raise SelectorError(f"{where} must be a mapping")
    key = _label_key(expr.get("key"), where)
    op = expr.get("operator")
    if op not in OPERATORS:
        raise SelectorError(f"{where}: unknown operator {op!r} (one of {', '.join(OPERATORS)})")
    values = expr.get("values")
    if values is None:
        values = []
    if not isinstance(values, list):
        raise SelectorError(f"{where}.values must be a list")
    if op in ("In", "NotIn") and not values:
        raise SelectorError(f"{where}: operator {op} needs at least one value")
    if op in ("Exists", "DoesNotExist") and values:
        raise SelectorError(f"{where}: operator {op} takes no values")
    return Requirement(key, str(op), tuple(sorted({_label_value(v, where) for v in values})))
