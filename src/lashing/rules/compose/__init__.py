"""Compose rules (LSH-CMP-NNN) and their entry point, `scan_compose`."""

from __future__ import annotations

from lashing.manifests.compose import ComposeProject, load_compose_text
from lashing.model import Check, Finding
from lashing.rules.compose import rules
from lashing.rules.compose.rules import ComposeSubject
from lashing.rules.framework import Example, Family, Rule, RuleConfig, evaluate

__all__ = ["FAMILY", "RULES", "ComposeSubject", "scan_compose"]

RULES: tuple[Rule[ComposeSubject], ...] = tuple(sorted(rules.RULES, key=lambda r: r.id))
MODULES = (rules.__name__,)


def load_example(example: Example) -> ComposeSubject:
    if not isinstance(example.data, str):
        raise TypeError(f"a compose example is YAML text, not {type(example.data).__name__}")
    project = load_compose_text(example.data, "compose.yaml")
    if project.errors:
        raise project.errors[0]
    return ComposeSubject(project)


FAMILY = Family(name="compose", prefix="LSH-CMP", rules=RULES, load_example=load_example,
                modules=MODULES)


def scan_compose(project: ComposeProject, config: RuleConfig | None = None,
                 skip: set[str] | frozenset[str] = frozenset(),
                 ) -> tuple[list[Finding], list[Check]]:
    """Run every compose rule over one project; the target is its first file."""
    target = project.files[0] if project.files else project.name
    return evaluate(RULES, ComposeSubject(project, config or RuleConfig()), target, target, skip)
