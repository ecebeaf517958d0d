"""Image rules (LSH-IMG-NNN) over the configuration, history and files, and their
entry point, `scan_image`.

The content rules read a few files; `IMAGE_RULE_GLOBS` lists them so the
pipeline asks the FileTree to keep their contents. Without a tree (a
configuration-only scan) those rules report `not-checked`.
"""

from __future__ import annotations

from dataclasses import replace

from lashing.model import Check, Finding
from lashing.rules.framework import Family, Rule, RuleConfig, evaluate
from lashing.rules.image import accounts, config, files, history
from lashing.rules.image.subject import (
    FileSpec,
    ImageSpec,
    ImageSubject,
    age_days,
    build_tree,
    load_example,
    subject_from_spec,
)

__all__ = ["FAMILY", "IMAGE_RULE_GLOBS", "RULES", "FileSpec", "ImageSpec", "ImageSubject",
           "age_days", "build_tree", "scan_image", "subject_from_spec"]

RULES: tuple[Rule[ImageSubject], ...] = (
    *config.RULES, *history.RULES, *accounts.RULES, *files.RULES,
)
RULES = tuple(sorted(RULES, key=lambda r: r.id))
MODULES = (config.__name__, history.__name__, accounts.__name__, files.__name__)
IMAGE_RULE_GLOBS: tuple[str, ...] = files.WANTED

FAMILY = Family(name="image", prefix="LSH-IMG", rules=RULES, load_example=load_example,
                modules=MODULES)


def scan_image(subject: ImageSubject, target: str, target_identity: str,
               config: RuleConfig | None = None, skip: set[str] | frozenset[str] = frozenset(),
               ) -> tuple[list[Finding], list[Check]]:
    """Run every image rule over one image.

    `target` names the image in the report; `target_identity` (the image id) goes
    into fingerprints. `config` replaces the subject's RuleConfig when given.
    """
    if config is not None:
        subject = replace(subject, config=config)
    return evaluate(RULES, subject, target, target_identity, skip)
