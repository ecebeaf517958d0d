"""Dockerfile rules about package-manager caches left in the final image."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lashing.model import Severity
from lashing.rules import pkgmgr
from lashing.rules.dockerfile.packages import matching, named
from lashing.rules.dockerfile.parser import Instruction, key_values
from lashing.rules.dockerfile.subject import DockerfileSubject as D
from lashing.rules.framework import Example, Violation, rule
from lashing.rules.shell import Script

HADOLINT = "https://github.com/hadolint/hadolint/wiki/"


def _has_cache_mount(inst: Instruction, *paths: str) -> bool:
    for key, value in inst.flags:
        if key == "mount" and value and "type=cache" in value:
            target = re.search(r"(?:target|dst|destination)=([^,]+)", value)
            if target and target.group(1).rstrip("/").startswith(paths):
                return True
    return False


def _removes(script: Script, *paths: str) -> bool:
    return any(c.name == "rm" and any(a.startswith(paths) for a in c.args)
               for c in script.commands)


def _apt_cleans_lists(script: Script) -> bool:
    """rm -rf /var/lib/apt/lists/* or apt-get dist-clean (apt 2.7+)."""
    return _removes(script, "/var/lib/apt/lists") or any(
        c.name in ("apt-get", "apt") and pkgmgr.subcommand(c) == "dist-clean"
        for c in script.commands)


@rule(
    id="LSH-DF-052",
    title="apt lists left in the image",
    severity=Severity.LOW,
    aliases=("hadolint:DL3009",),
    remediation="End the RUN that runs apt-get update with rm -rf /var/lib/apt/lists/*.",
    references=(HADOLINT + "DL3009",),
    examples=(
        Example("FROM debian:12\nRUN apt-get update && apt-get install -y curl\n", True),
        Example("FROM debian:12\nRUN apt-get update && apt-get install -y curl "
                "&& rm -rf /var/lib/apt/lists/*\n", False),
        Example("FROM debian:12 AS build\nRUN apt-get update\nFROM scratch\n", False,
                "build stage only"),
    ),
)
def apt_lists(d: D) -> Iterator[Violation]:
    """Stale package indexes bloat the image and mislead later installs."""
    hits = matching(d, named("apt-get", "apt"), final_only=True)
    for inst in dict.fromkeys(i for i, c in hits if pkgmgr.subcommand(c) == "update"):
        if not _apt_cleans_lists(d.script(inst)) and \
                not _has_cache_mount(inst, "/var/lib/apt"):
            yield d.violation(inst, "apt-get update without rm -rf /var/lib/apt/lists/*")


@rule(
    id="LSH-DF-056",
    title="apk add without --no-cache",
    severity=Severity.LOW,
    aliases=("hadolint:DL3019",),
    remediation="apk add --no-cache ... (no apk update, no /var/cache/apk to remove).",
    references=(HADOLINT + "DL3019",),
    examples=(
        Example("FROM alpine:3.20\nRUN apk update && apk add curl\n", True),
        Example("FROM alpine:3.20\nRUN apk add --no-cache curl\n", False),
    ),
)
def apk_cache(d: D) -> Iterator[Violation]:
    """The package index cache stays in the final image."""
    for inst, cmd in matching(d, named("apk"), final_only=True):
        if pkgmgr.subcommand(cmd) != "add" or "--no-cache" in cmd.args or \
                "--no-network" in cmd.args:
            continue
        if _removes(d.script(inst), "/var/cache/apk") or \
                _has_cache_mount(inst, "/var/cache/apk", "/etc/apk/cache"):
            continue
        yield d.violation(inst, "apk add without --no-cache")


def _stage_env(d: D, inst: Instruction, name: str) -> bool:
    stage = d.dockerfile.stages[inst.stage] if inst.stage >= 0 else None
    chain = d.dockerfile.chain(stage) if stage else []
    return any(k.upper() == name for s in chain for e in d.in_stage(s, "ENV", "ARG")
               if e.line < inst.line or e.stage != inst.stage
               for k, _ in key_values(e, d.dockerfile.escape))


@rule(
    id="LSH-DF-058",
    title="pip install without --no-cache-dir",
    severity=Severity.LOW,
    aliases=("hadolint:DL3042",),
    remediation="pip install --no-cache-dir ..., or ENV PIP_NO_CACHE_DIR=1.",
    references=(HADOLINT + "DL3042",),
    examples=(
        Example("FROM python:3.12\nRUN pip install requests==2.32.3\n", True),
        Example("FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN pip install requests==2.32.3\n"
                "RUN pip install --no-cache-dir flask==3.0.3\n", False),
    ),
)
def pip_cache(d: D) -> Iterator[Violation]:
    """pip's download cache stays in the final image."""
    for inst, cmd in matching(d, pkgmgr.is_pip, final_only=True):
        args = pkgmgr.pip_args(cmd)
        if pkgmgr.subcommand(cmd) != "install" or "--no-cache-dir" in args:
            continue
        if _stage_env(d, inst, "PIP_NO_CACHE_DIR") or _has_cache_mount(inst, "/root/.cache") \
                or _removes(d.script(inst), "/root/.cache"):
            continue
        yield d.violation(inst, "pip install without --no-cache-dir")


def _cleans(script: Script, name: str) -> bool:
    fam = pkgmgr.family(name)
    for c in script.commands:
        sub = pkgmgr.subcommand(c) if pkgmgr.is_manager(c) else ""
        if c.name == name and ((fam == "rpm" and sub == "clean") or
                               (name == "zypper" and sub in ("clean", "cc"))):
            return True
    paths = ("/var/cache/zypp",) if name == "zypper" else ("/var/cache/yum", "/var/cache/dnf",
                                                          "/var/cache/tdnf")
    return _removes(script, *paths)


def _clean_rule(d: D, names: set[str], subs: set[str]) -> Iterator[Violation]:
    for inst, cmd in matching(d, lambda c: c.name in names, final_only=True):
        if pkgmgr.subcommand(cmd) in subs and not _cleans(d.script(inst), cmd.name) and \
                not _has_cache_mount(inst, "/var/cache"):
            yield d.violation(inst, f"{cmd.name} {pkgmgr.subcommand(cmd)} without "
                              f"{cmd.name} clean in the same RUN")


@rule(
    id="LSH-DF-063",
    title="yum/dnf cache not cleaned",
    severity=Severity.LOW,
    aliases=("hadolint:DL3032", "hadolint:DL3040"),
    remediation="End the RUN with yum clean all / dnf clean all.",
    references=(HADOLINT + "DL3032", HADOLINT + "DL3040"),
    examples=(
        Example("FROM rockylinux:9\nRUN dnf install -y httpd-2.4.57\n", True),
        Example("FROM rockylinux:9\nRUN dnf install -y httpd-2.4.57 && dnf clean all\n", False),
    ),
)
def rpm_clean(d: D) -> Iterator[Violation]:
    """Repository metadata and packages stay in the final image."""
    yield from _clean_rule(d, set(pkgmgr.RPM_MANAGERS),
                           {"install", "groupinstall", "localinstall", "reinstall", "update",
                            "upgrade"})


@rule(
    id="LSH-DF-064",
    title="zypper cache not cleaned",
    severity=Severity.LOW,
    aliases=("hadolint:DL3036",),
    remediation="End the RUN with zypper clean.",
    references=(HADOLINT + "DL3036",),
    examples=(
        Example("FROM opensuse/leap:15.6\nRUN zypper install -y curl=8.6.0\n", True),
        Example("FROM opensuse/leap:15.6\nRUN zypper install -y curl=8.6.0 && zypper clean\n",
                False),
    ),
)
def zypper_clean(d: D) -> Iterator[Violation]:
    """Repository metadata and packages stay in the final image."""
    yield from _clean_rule(d, {"zypper"}, {"install", "in", "update", "up", "patch",
                                           "dist-upgrade", "dup"})


@rule(
    id="LSH-DF-065",
    title="yarn cache not cleaned",
    severity=Severity.LOW,
    aliases=("hadolint:DL3060",),
    remediation="End the RUN with yarn cache clean.",
    references=(HADOLINT + "DL3060",),
    examples=(
        Example("FROM node:20\nRUN yarn install --frozen-lockfile\n", True),
        Example("FROM node:20\nRUN yarn install --frozen-lockfile && yarn cache clean\n", False),
    ),
)
def yarn_clean(d: D) -> Iterator[Violation]:
    """yarn's package cache stays in the final image."""
    for inst, cmd in matching(d, named("yarn"), final_only=True):
        if pkgmgr.subcommand(cmd) not in ("install", "add", "") or any(
                a in ("-v", "--version", "-h", "--help") for a in cmd.args):
            continue
        script = d.script(inst)
        if any(c.name == "yarn" and c.args[:2] == ("cache", "clean") for c in script.commands):
            continue
        if _has_cache_mount(inst, "/usr/local/share/.cache/yarn", "/root/.cache/yarn",
                            "/root/.yarn"):
            continue
        yield d.violation(inst, "yarn install without yarn cache clean")


RULES = (apt_lists, apk_cache, pip_cache, rpm_clean, zypper_clean, yarn_clean)
