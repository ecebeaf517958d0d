"""The image policy alone, without network: for images named in Kubernetes
manifests, compose files and Dockerfiles.

    findings = check_reference("nginx:latest", policy)
    findings = check_reference(text, policy, location=Location(path="deploy.yaml", line=12),
                               target="deploy.yaml", created=config.created)

Runs the policy rules (registry, repository, digest pinning, latest, and
maximum age when `created` is given) of LSH-TRUST; signature rules need
`lashing verify`. A reference that does not parse is an InputError.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from lashing.model import Check, Finding, Location
from lashing.rules.framework import evaluate
from lashing.rules.trust import POLICY_RULES, TrustSubject
from lashing.source.reference import parse_reference
from lashing.trust.policy import Policy


def check_reference_with_checks(
    ref_text: str,
    policy: Policy,
    *,
    created: str | None = None,
    now: datetime | None = None,
    location: Location | None = None,
    target: str | None = None,
    skip: Collection[str] = frozenset(),
) -> tuple[list[Finding], list[Check]]:
    """Findings and one Check per policy rule."""
    ref = parse_reference(ref_text)
    subject = TrustSubject(reference=ref_text.strip(), policy=policy.for_repository(
        ref.repository_name), created=created, now=now, location=location)
    return evaluate(POLICY_RULES, subject, target or ref_text.strip(), str(ref), skip)


def check_reference(
    ref_text: str,
    policy: Policy,
    *,
    created: str | None = None,
    now: datetime | None = None,
    location: Location | None = None,
    target: str | None = None,
) -> list[Finding]:
    """The policy findings for one image reference (no network)."""
    findings, _ = check_reference_with_checks(ref_text, policy, created=created, now=now,
                                              location=location, target=target)
    return findings
