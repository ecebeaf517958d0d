"""Provenance rules (LSH-RUN-030..035): the image of a pulled image or a new
container against the provenance policy (`--policy`, or `[policy]` in
`lashing.toml`) and, with `--verify-images`, its cosign signature.

Each rule applies the provenance rule of `lashing verify` (LSH-TRUST) that it
names in its aliases to what the engine ran; the policy semantics live there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lashing.model import FindingKind, Severity
from lashing.rules import trust
from lashing.rules.framework import Example, Rule, Violation, rule
from lashing.rules.runtime.subject import RuntimeSubject
from lashing.rules.runtime.workload import same
from lashing.rules.trust import rules as trust_rules

NIST = ("4.4.5", "4.1.5")
TAG = ("provenance",)
POLICY_DOCS = "https://doi.org/10.6028/NIST.SP.800-190"


def _delegating(source: Rule[Any]) -> Any:
    def check(s: RuntimeSubject) -> Iterator[Violation]:
        for v in source.check(s.trust()):
            yield s.violation(v.message, v.anchor)
    check.__doc__ = source.description
    return check


def _img(ref: str, fires: bool, name: str = "", **policy: Any) -> Example:
    return Example({"image": ref, "policy": policy}, fires, name)


registry = rule(
    id="LSH-RUN-030", title="Running image comes from a registry the policy does not allow",
    severity=Severity.HIGH, kind=FindingKind.PROVENANCE, nist=NIST, tags=TAG,
    aliases=same("LSH-TRUST-006", "LSH-K8S-033"), references=(POLICY_DOCS,),
    remediation=trust_rules.registry_not_allowed.remediation,
    examples=(_img("quay.io/x/app:1", True, allowed_registries=["ghcr.io"]),
              _img("ghcr.io/x/app:1", False, allowed_registries=["ghcr.io"])),
)(_delegating(trust_rules.registry_not_allowed))

repository = rule(
    id="LSH-RUN-031", title="Running image's repository is not allowed by the policy",
    severity=Severity.HIGH, kind=FindingKind.PROVENANCE, nist=NIST, tags=TAG,
    aliases=same("LSH-TRUST-007"), references=(POLICY_DOCS,),
    remediation=trust_rules.repository_not_allowed.remediation,
    examples=(_img("ghcr.io/evil/app:1", True, allowed_repositories=["ghcr.io/good/**"]),
              _img("ghcr.io/good/app:1", False, allowed_repositories=["ghcr.io/good/**"])),
)(_delegating(trust_rules.repository_not_allowed))

pinning = rule(
    id="LSH-RUN-032", title="Running image is not pinned by digest",
    severity=Severity.MEDIUM, kind=FindingKind.PROVENANCE, nist=NIST, tags=TAG,
    aliases=same("LSH-TRUST-008", "LSH-K8S-031", "LSH-CMP-031"),
    references=(POLICY_DOCS,), remediation=trust_rules.not_pinned.remediation,
    examples=(_img("ghcr.io/x/app:1.2", True, require_digest=True),
              _img("ghcr.io/x/app:1.2@sha256:" + "b" * 64, False, require_digest=True)),
)(_delegating(trust_rules.not_pinned))

latest = rule(
    id="LSH-RUN-033", title="Running image uses the latest tag",
    severity=Severity.LOW, kind=FindingKind.PROVENANCE, nist=NIST, tags=TAG,
    aliases=(*same("LSH-TRUST-009", "LSH-K8S-030", "LSH-CMP-030"), "cis-docker-1.6:5.28"),
    references=(POLICY_DOCS,), remediation=trust_rules.latest_tag.remediation,
    examples=(_img("ghcr.io/x/app", True, allow_latest=False),
              _img("ghcr.io/x/app:1", False, allow_latest=False)),
)(_delegating(trust_rules.latest_tag))

too_old = rule(
    id="LSH-RUN-034", title="Running image is older than the policy's maximum age",
    severity=Severity.MEDIUM, kind=FindingKind.PROVENANCE, nist=("4.4.5", "4.2.2"), tags=TAG,
    aliases=same("LSH-TRUST-010"), references=(POLICY_DOCS,),
    remediation=trust_rules.too_old.remediation,
    examples=(
        Example({"image": "ghcr.io/x/app:1", "policy": {"max_age_days": 30},
                 "created": "2020-01-01T00:00:00Z"}, True),
        Example({"image": "ghcr.io/x/app:1", "policy": {"max_age_days": 36500},
                 "created": "2020-01-01T00:00:00Z"}, False),
    ),
)(_delegating(trust_rules.too_old))


@rule(
    id="LSH-RUN-035", title="Running image's signature does not verify",
    severity=Severity.HIGH, kind=FindingKind.PROVENANCE, nist=NIST, tags=TAG,
    aliases=same("LSH-TRUST-001", "LSH-TRUST-002", "LSH-TRUST-003", "LSH-TRUST-004",
                 "LSH-TRUST-005"),
    references=(POLICY_DOCS,),
    remediation="Stop the container unless its image is signed by a trusted key "
    "(lashing verify explains why it is not); sign images in the pipeline that builds them.",
    examples=(
        Example({"image": "ghcr.io/x/app:1", "policy": {"keys": []},
                 "signature": "unsigned"}, True, "unsigned"),
        Example({"image": "ghcr.io/x/app:1", "signature": "invalid-signature"}, True,
                "invalid"),
        Example({"image": "ghcr.io/x/app:1", "signature": "verified"}, False, "verified"),
    ),
)
def signature(s: RuntimeSubject) -> Iterator[Violation]:
    """With --verify-images, the image's cosign signature is checked with the policy's
    keys; unsigned, invalid, malformed or misdirected signatures are findings."""
    subject = s.trust()
    for source in trust.SIGNATURE_RULES:
        for v in source.check(subject):
            yield s.violation(v.message, v.anchor)


RULES: tuple[Rule[RuntimeSubject], ...] = (registry, repository, pinning, latest, too_old,
                                           signature)
