"""Provenance rules (LSH-TRUST): image signatures and the image policy.

Subjects are `TrustSubject`s: a reference, the `ImagePolicy` that applies to
it and, when `lashing verify` checked them, the signature outcome. The
policy-only rules need no network (`lashing.trust.check.check_reference`).
"""

from __future__ import annotations

from lashing.rules.framework import Family
from lashing.rules.trust.rules import POLICY_RULES, RULES, SIGNATURE_RULES, TRANSPORT_RULES
from lashing.rules.trust.subject import TrustSubject, load_example, parse_created

FAMILY: Family[TrustSubject] = Family(
    name="trust",
    prefix="LSH-TRUST",
    rules=RULES,
    load_example=load_example,
    modules=("lashing.rules.trust.rules",),
)

__all__ = [
    "FAMILY",
    "POLICY_RULES",
    "RULES",
    "SIGNATURE_RULES",
    "TRANSPORT_RULES",
    "TrustSubject",
    "parse_created",
]
