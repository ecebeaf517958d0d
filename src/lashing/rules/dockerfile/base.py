"""Dockerfile rules about base images, build stages and the file's structure."""

from __future__ import annotations

from collections.abc import Iterator

from lashing.model import Severity
from lashing.rules.dockerfile.subject import Configured
from lashing.rules.dockerfile.subject import DockerfileSubject as D
from lashing.rules.framework import Example, NotApplicable, RuleConfig, Violation, rule
from lashing.rules.refs import registry_matches, split_image

HADOLINT = "https://github.com/hadolint/hadolint/wiki/"
DOCKER_REF = "https://docs.docker.com/reference/dockerfile/"
_TRUSTED = RuleConfig(trusted_registries=("registry.example.com",))


@rule(
    id="LSH-DF-001",
    title="Base image is not pinned to a version",
    severity=Severity.MEDIUM,
    nist=("4.1.5", "4.2.2"),
    aliases=("hadolint:DL3006", "hadolint:DL3007", "checkov:CKV_DOCKER_7"),
    remediation="Name a release tag (alpine:3.20) or, better, a digest "
    "(alpine:3.20@sha256:...) in every FROM.",
    references=(HADOLINT + "DL3007", DOCKER_REF + "#from"),
    examples=(
        Example("FROM alpine\n", True, "no tag"),
        Example("FROM alpine:latest\n", True, "latest"),
        Example("ARG BASE=debian\nFROM ${BASE}\n", True, "untagged through ARG"),
        Example("FROM alpine:3.20\n", False, "tag"),
        Example("FROM alpine@sha256:" + "a" * 64 + "\n", False, "digest"),
        Example("FROM scratch\n", False, "scratch"),
        Example("FROM golang:1.22 AS build\nFROM build\n", False, "earlier stage"),
    ),
)
def unpinned_base(d: D) -> Iterator[Violation]:
    """A tag that moves (`latest`, or none at all) makes builds unrepeatable and pulls
    whatever was pushed last."""
    for stage in d.dockerfile.stages:
        image = stage.resolved
        if image is None or image.lower() == "scratch" or stage.parent is not None:
            continue
        ref = split_image(image)
        if ref.digest:
            continue
        inst = stage.instructions[0]
        if ref.tag is None:
            yield d.violation(inst, f"FROM {image} has no tag, so it means :latest")
        elif ref.tag.lower() == "latest":
            yield d.violation(inst, f"FROM {image} uses the moving tag 'latest'")


@rule(
    id="LSH-DF-002",
    title="Base image from a registry that is not trusted",
    severity=Severity.MEDIUM,
    nist=("4.1.5",),
    aliases=("hadolint:DL3026", "cis-docker-1.6:4.2"),
    remediation="Pull base images only from the registries listed in the policy "
    "(trusted_registries), mirroring what you need there.",
    references=(HADOLINT + "DL3026",),
    examples=(
        Example(Configured("FROM docker.io/library/alpine:3.20\n", _TRUSTED), True),
        Example(Configured("FROM alpine:3.20\n", _TRUSTED), True, "hub short name"),
        Example(Configured("FROM registry.example.com/base:1\n", _TRUSTED), False),
        Example("FROM quay.io/app/base:1\n", False, "no list configured"),
    ),
)
def untrusted_registry(d: D) -> Iterator[Violation]:
    """Only images from registries the organisation controls or vetted may be used."""
    allowed = d.config.trusted_registries
    if not allowed:
        raise NotApplicable("no trusted registries configured")
    for stage in d.dockerfile.stages:
        image = stage.resolved
        if image is None or image.lower() == "scratch" or stage.parent is not None:
            continue
        registry = split_image(image).registry
        if not any(registry_matches(registry, a) for a in allowed):
            yield d.violation(stage.instructions[0],
                              f"FROM {image} pulls from {registry}, which is not in the "
                              f"trusted registries ({', '.join(allowed)})")


@rule(
    id="LSH-DF-003",
    title="FROM --platform is set to a fixed platform",
    severity=Severity.LOW,
    aliases=("hadolint:DL3029",),
    remediation="Leave the platform to the builder (--platform on the command line) or use "
    "$BUILDPLATFORM / $TARGETPLATFORM.",
    references=(HADOLINT + "DL3029",),
    examples=(
        Example("FROM --platform=linux/amd64 alpine:3.20\n", True),
        Example("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n", False),
        Example("FROM alpine:3.20\n", False, "no flag"),
    ),
)
def fixed_platform(d: D) -> Iterator[Violation]:
    """A hard-coded platform silently builds for the wrong architecture elsewhere."""
    for stage in d.dockerfile.stages:
        if stage.platform and "$" not in stage.platform:
            yield d.violation(stage.instructions[0],
                              f"FROM --platform={stage.platform} pins the platform")


@rule(
    id="LSH-DF-004",
    title="Two build stages have the same name",
    severity=Severity.LOW,
    aliases=("hadolint:DL3024", "checkov:CKV_DOCKER_11"),
    remediation="Give every `FROM ... AS name` a unique name.",
    references=(HADOLINT + "DL3024",),
    examples=(
        Example("FROM alpine:3.20 AS build\nFROM debian:12 AS build\n", True),
        Example("FROM alpine:3.20 AS build\nFROM debian:12 AS run\n", False),
    ),
)
def duplicate_stage_names(d: D) -> Iterator[Violation]:
    """COPY --from=name then silently picks one of the stages."""
    seen: dict[str, int] = {}
    for stage in d.dockerfile.stages:
        if stage.name is None:
            continue
        if stage.name in seen:
            yield d.violation(stage.instructions[0],
                              f"stage name {stage.name!r} is already used on line "
                              f"{seen[stage.name]}")
        else:
            seen[stage.name] = stage.line


@rule(
    id="LSH-DF-005",
    title="COPY --from names its own stage",
    severity=Severity.LOW,
    aliases=("hadolint:DL3023",),
    remediation="Copy from an earlier stage or an image, not from the stage being built.",
    references=(HADOLINT + "DL3023",),
    examples=(
        Example("FROM alpine:3.20 AS build\nCOPY --from=build /a /b\n", True),
        Example("FROM alpine:3.20 AS build\nFROM alpine:3.20\nCOPY --from=build /a /b\n",
                False),
    ),
)
def copy_from_self(d: D) -> Iterator[Violation]:
    """A stage cannot read its own result: the build fails or copies nothing useful."""
    for inst in d.all("COPY"):
        src = (inst.flag("from") or "").lower()
        stage = d.dockerfile.stages[inst.stage] if inst.stage >= 0 else None
        if src and stage is not None and (src == stage.name or src == str(stage.index)):
            yield d.violation(inst, f"COPY --from={src} refers to the stage it is in")


@rule(
    id="LSH-DF-006",
    title="COPY --from names no earlier stage",
    severity=Severity.LOW,
    aliases=("hadolint:DL3022",),
    remediation="Define the stage (FROM ... AS name) before copying from it, or name a "
    "full image reference with a tag.",
    references=(HADOLINT + "DL3022",),
    examples=(
        Example("FROM alpine:3.20\nCOPY --from=builder /a /b\n", True),
        Example("FROM golang:1.22 AS builder\nFROM alpine:3.20\nCOPY --from=builder /a /b\n",
                False),
        Example("FROM alpine:3.20\nCOPY --from=nginx:1.27 /etc/nginx /etc/nginx\n", False,
                "image reference"),
    ),
)
def copy_from_unknown(d: D) -> Iterator[Violation]:
    """A typo in a stage name makes BuildKit pull an image of that name instead."""
    for inst in d.all("COPY"):
        src = inst.flag("from")
        if not src or "$" in src or src.isdigit() or any(c in src for c in ":/@."):
            continue
        earlier = {s.name for s in d.dockerfile.stages if s.line < inst.line and s.name}
        if src.lower() not in earlier:
            yield d.violation(inst, f"COPY --from={src}: no stage named {src!r} before "
                              "this line; it would be pulled as an image")


@rule(
    id="LSH-DF-007",
    title="Unknown or misplaced instruction",
    severity=Severity.LOW,
    aliases=("hadolint:DL3061",),
    remediation="Start the Dockerfile with FROM (only ARG, comments and parser directives "
    "may come first) and use only Dockerfile instructions.",
    references=(HADOLINT + "DL3061", DOCKER_REF),
    examples=(
        Example("RUN echo hi\nFROM alpine:3.20\n", True, "before FROM"),
        Example("FROM alpine:3.20\nRUNN echo hi\n", True, "typo"),
        Example("ARG V=3.20\nFROM alpine:${V}\nRUN echo hi\n", False),
    ),
)
def invalid_instruction(d: D) -> Iterator[Violation]:
    """The builder rejects these; a scan should say so rather than guess."""
    for inst in d.all():
        if not inst.known:
            yield d.violation(inst, f"unknown instruction {inst.keyword!r}")
        elif inst.stage < 0 and inst.keyword != "ARG":
            yield d.violation(inst, f"{inst.keyword} before the first FROM")


@rule(
    id="LSH-DF-008",
    title="Inline ignore comment without a reason or a known rule",
    severity=Severity.LOW,
    remediation="Write `# lashing:ignore=LSH-DF-001 why this is acceptable` on the line "
    "directly above the instruction; the reason is mandatory.",
    examples=(
        Example("FROM alpine:3.20\n# lashing:ignore=LSH-DF-030\nRUN sudo ls\n", True,
                "no reason"),
        Example("FROM alpine:3.20\n# lashing:ignore=LSH-DF-999 legacy\nRUN ls\n", True,
                "unknown rule"),
        Example("FROM alpine:3.20\n# lashing:ignore=LSH-DF-030 legacy\n\nRUN sudo ls\n", True,
                "not attached"),
        Example("FROM alpine:3.20\n# lashing:ignore=LSH-DF-030 vendor script needs it\n"
                "RUN sudo ls\n", False),
    ),
)
def bad_ignore(d: D) -> Iterator[Violation]:
    """An ignore without a reason is not honoured: the finding stays live and this rule
    reports the comment, so every accepted risk is explained where it is accepted."""
    from lashing.rules import find_rule  # the registry imports this module

    for p in d.dockerfile.pragmas:
        problems = []
        if not p.ids:
            problems.append("names no rule")
        unknown = [i for i in p.ids if find_rule(i) is None]
        if unknown:
            problems.append(f"unknown rule {', '.join(unknown)}")
        if not p.reason:
            problems.append("has no reason, so it is not applied")
        if p.target_line is None:
            problems.append("is not directly above an instruction")
        if problems:
            yield d.file_violation("lashing:ignore " + "; ".join(problems), p.line)


@rule(
    id="LSH-DF-009",
    title="ONBUILD triggers FROM, ONBUILD or MAINTAINER",
    severity=Severity.LOW,
    aliases=("hadolint:DL3043",),
    remediation="Only use ONBUILD with instructions that are valid in a child build.",
    references=(HADOLINT + "DL3043",),
    examples=(
        Example("FROM alpine:3.20\nONBUILD ONBUILD RUN ls\n", True),
        Example("FROM alpine:3.20\nONBUILD RUN ls\n", False),
    ),
)
def bad_onbuild(d: D) -> Iterator[Violation]:
    """The builder refuses these triggers when a child image builds."""
    for inst in d.all("ONBUILD"):
        if inst.sub is not None and inst.sub.keyword in ("ONBUILD", "FROM", "MAINTAINER"):
            yield d.violation(inst, f"ONBUILD {inst.sub.keyword} is not allowed")


@rule(
    id="LSH-DF-010",
    title="MAINTAINER is deprecated",
    severity=Severity.LOW,
    aliases=("hadolint:DL4000", "checkov:CKV_DOCKER_6"),
    remediation='Use LABEL org.opencontainers.image.authors="..." instead.',
    references=(HADOLINT + "DL4000",),
    examples=(
        Example("FROM alpine:3.20\nMAINTAINER me@example.com\n", True),
        Example('FROM alpine:3.20\nLABEL org.opencontainers.image.authors="me"\n', False),
    ),
)
def maintainer(d: D) -> Iterator[Violation]:
    """MAINTAINER is ignored by OCI tooling; labels carry authorship."""
    for inst in d.all("MAINTAINER"):
        yield d.violation(inst, "MAINTAINER is deprecated")


RULES = (unpinned_base, untrusted_registry, fixed_platform, duplicate_stage_names,
         copy_from_self, copy_from_unknown, invalid_instruction, bad_ignore, bad_onbuild,
         maintainer)
