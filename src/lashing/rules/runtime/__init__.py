"""Runtime rules (LSH-RUN-NNN) over what happens on a running engine:
containers created or started, execs into running containers, images pulled
and run (`lashing watch`). Subjects are `RuntimeSubject`s."""

from __future__ import annotations

from collections.abc import Collection

from lashing.model import Check, Finding
from lashing.rules.framework import Family, Rule, Suppressor, evaluate
from lashing.rules.runtime import execs, provenance, workload
from lashing.rules.runtime.subject import ExecSession, RuntimeSubject, Workload, load_example

__all__ = ["FAMILY", "RULES", "ExecSession", "RuntimeSubject", "Workload", "scan_runtime"]

RULES: tuple[Rule[RuntimeSubject], ...] = tuple(
    sorted((*workload.RULES, *execs.RULES, *provenance.RULES), key=lambda r: r.id))
MODULES = (workload.__name__, execs.__name__, provenance.__name__)
FAMILY = Family(name="runtime", prefix="LSH-RUN", rules=RULES, load_example=load_example,
                modules=MODULES)


def scan_runtime(subject: RuntimeSubject, target: str, identity: str,
                 skip: Collection[str] = frozenset(), suppress: Suppressor | None = None,
                 ) -> tuple[list[Finding], list[Check]]:
    """Every runtime rule over one subject; rules whose part is absent are not applicable."""
    return evaluate(RULES, subject, target, identity, skip, suppress)
