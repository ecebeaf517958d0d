"""Build-host rules (LSH-HOST-NNN) over a HostSubject, and their entry point.

Each rule carries an area tag (daemon, access, audit, rootless, containers, ci, running)
that `lashing host --format table` groups by.
"""

from __future__ import annotations

from lashing.host.subject import HostSubject
from lashing.model import Check, Finding
from lashing.rules.framework import Family, Rule, evaluate
from lashing.rules.host import (
    access,
    audit,
    builds,
    daemon,
    engine_api,
    isolation,
    runners,
    running,
    tooling,
)
from lashing.rules.host.spec import HostSpec, host, load_example, subject_from_spec

__all__ = ["AREAS", "FAMILY", "RULES", "HostSpec", "area_of", "host", "scan_host",
           "subject_from_spec"]

RULES: tuple[Rule[HostSubject], ...] = tuple(sorted(
    (*daemon.RULES, *access.RULES, *audit.RULES, *builds.RULES, *tooling.RULES,
     *runners.RULES, *running.RULES, *isolation.RULES,
     *engine_api.RULES), key=lambda r: r.id))
MODULES = (daemon.__name__, access.__name__, audit.__name__, builds.__name__,
           tooling.__name__, runners.__name__, running.__name__, isolation.__name__,
           engine_api.__name__)
FAMILY = Family(name="host", prefix="LSH-HOST", rules=RULES, load_example=load_example,
                modules=MODULES)

AREAS: dict[str, str] = {
    "daemon": "daemon configuration",
    "access": "access",
    "audit": "audit",
    "rootless": "rootless/builds",
    "containers": "containers tooling",
    "ci": "CI runners",
    "packages": "host packages",
    "running": "running containers",
}


def area_of(rule: Rule[HostSubject]) -> str:
    return next((t for t in rule.tags if t in AREAS), "daemon")


def scan_host(subject: HostSubject, target: str, skip: frozenset[str] = frozenset(),
              ) -> tuple[list[Finding], list[Check]]:
    return evaluate(RULES, subject, target, target, skip)
