"""Dockerfile rules (LSH-DF-NNN) and their entry point, `scan_dockerfile`.

Inline suppression: a comment line `# lashing:ignore=LSH-DF-030[,LSH-DF-050] reason`
directly above an instruction (only other comment lines may come between,
a blank line ends it) suppresses those rules' findings on that instruction.
Aliases work too (`hadolint:DL3004`). The reason is mandatory: an ignore
without one is not applied, and LSH-DF-008 reports it, as it reports ignores
naming unknown rules or attached to no instruction. Suppressed findings stay
in the report with `suppressed: {kind: inline, reason}` and never gate.
"""

from __future__ import annotations

from typing import Any

from lashing.model import Check, Finding, Suppression, SuppressionKind
from lashing.rules.dockerfile import base, caches, instructions, labels, packages, run
from lashing.rules.dockerfile.parser import Dockerfile, DockerfileError, parse
from lashing.rules.dockerfile.subject import Configured, DockerfileSubject
from lashing.rules.framework import Example, Family, Rule, RuleConfig, Violation, evaluate

__all__ = ["FAMILY", "RULES", "Dockerfile", "DockerfileError", "DockerfileSubject",
           "parse", "scan_dockerfile"]

RULES: tuple[Rule[DockerfileSubject], ...] = tuple(sorted(
    (*base.RULES, *instructions.RULES, *run.RULES, *packages.RULES, *caches.RULES,
     *labels.RULES),
    key=lambda r: r.id))
MODULES = (base.__name__, instructions.__name__, run.__name__, packages.__name__,
           caches.__name__, labels.__name__)


def load_example(example: Example) -> DockerfileSubject:
    data = example.data
    if isinstance(data, Configured):
        return DockerfileSubject(parse("Dockerfile", data.text), data.config)
    if not isinstance(data, str):
        raise TypeError(f"a Dockerfile example is text, not {type(data).__name__}")
    return DockerfileSubject(parse("Dockerfile", data))


FAMILY = Family(name="dockerfile", prefix="LSH-DF", rules=RULES, load_example=load_example,
                modules=MODULES)


def inline_suppressor(df: Dockerfile) -> Any:
    """A suppress function for `evaluate` from the file's lashing:ignore comments."""
    by_line = {inst.line: inst for inst in df.instructions}

    def suppress(r: Rule[Any], v: Violation) -> Suppression | None:
        inst = by_line.get(v.location.line or -1)
        if inst is None:
            return None
        for pragma in inst.ignores:
            if pragma.reason and any(r.matches(i) for i in pragma.ids):
                return Suppression(SuppressionKind.INLINE, pragma.reason)
        return None

    return suppress


def scan_dockerfile(path: str, text: str, config: RuleConfig | None = None,
                    skip: set[str] | frozenset[str] = frozenset(),
                    ) -> tuple[list[Finding], list[Check]]:
    """Parse `text` (the Dockerfile at `path`) and run every Dockerfile rule.

    Findings and checks name `path` as their target; raises DockerfileError
    (an InputError, exit 2) naming the file and line when the text is not a
    Dockerfile.
    """
    df = parse(path, text)
    subject = DockerfileSubject(df, config or RuleConfig())
    return evaluate(RULES, subject, path, path, skip, inline_suppressor(df))
