"""Secrets in image layers and configuration (NIST SP 800-190 4.1.4).

Entry points: `SecretScanner` (a LayerVisitor for `tree_from_image`, plus
`scan_config`, `findings`, `checks` and skip `counts`), `scan_config` for an
image configuration alone, `redact_text` for anything that echoes image
metadata, and `FAMILY` for the rule catalogue and the example tests.
"""

from __future__ import annotations

from lashing.rules.framework import Family
from lashing.rules.secrets.rules import RULES, Sample, load_example
from lashing.rules.secrets.scanner import (
    ScanCounts,
    SecretConfig,
    SecretScanner,
    redact_text,
    scan_config,
    scan_text,
)
from lashing.rules.secrets.subject import TextSubject, redact

FAMILY: Family[TextSubject] = Family(
    name="secrets",
    prefix="LSH-SEC",
    rules=RULES,
    load_example=load_example,
    modules=("lashing.rules.secrets.rules",),
)

__all__ = [
    "FAMILY",
    "RULES",
    "Sample",
    "ScanCounts",
    "SecretConfig",
    "SecretScanner",
    "TextSubject",
    "redact",
    "redact_text",
    "scan_config",
    "scan_text",
]
