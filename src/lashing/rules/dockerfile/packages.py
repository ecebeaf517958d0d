"""Dockerfile rules about package installation: pinned versions, prompts, options."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from lashing.model import Severity
from lashing.rules import pkgmgr
from lashing.rules.dockerfile.parser import Instruction
from lashing.rules.dockerfile.subject import DockerfileSubject as D
from lashing.rules.framework import Example, NotApplicable, Violation, rule
from lashing.rules.shell import Command

HADOLINT = "https://github.com/hadolint/hadolint/wiki/"
PIN = "Pin versions so rebuilds are reproducible and reviewed: "


def matching(d: D, match: Callable[[Command], bool], final_only: bool = False,
              ) -> list[tuple[Instruction, Command]]:
    stages = d.dockerfile.final_chain() if final_only else None
    found = [(i, c) for i, c in d.commands(stages=stages) if match(c)]
    if not found:
        raise NotApplicable("no RUN uses this package manager" + (
            " in the final stage" if final_only else ""))
    return found


def _unpinned(d: D, match: Callable[[Command], bool], subs: set[str],
              pinned: Callable[[str], bool], tool: str) -> Iterator[Violation]:
    for inst, cmd in matching(d, match):
        if pkgmgr.simulates(cmd):
            continue
        sub, opts, _ = pkgmgr.split_args(cmd)
        if sub == "global" and cmd.name == "yarn":
            sub = (pkgmgr.packages(cmd) or [""])[0]
            pkgs = pkgmgr.packages(cmd)[1:]
        else:
            pkgs = pkgmgr.packages(cmd)
        if sub not in subs:
            continue
        if tool == "gem" and pkgmgr.option_value(opts, ("-v", "--version")):
            continue
        bad = [p for p in pkgs if not pinned(p)]
        if bad:
            yield d.violation(inst, f"{cmd.name} installs {', '.join(bad[:5])}"
                              f"{' ...' if len(bad) > 5 else ''} without a version")


def named(*names: str) -> Callable[[Command], bool]:
    return lambda c: c.name in names


@rule(
    id="LSH-DF-050",
    title="apt-get install without pinned versions",
    severity=Severity.LOW,
    nist=("4.1.1",),
    aliases=("hadolint:DL3008",),
    remediation=PIN + "apt-get install -y curl=8.5.0-2.",
    references=(HADOLINT + "DL3008",),
    examples=(
        Example("FROM debian:12\nRUN apt-get update && apt-get install -y curl\n", True),
        Example("FROM debian:12\nRUN apt-get update && apt-get install -y curl=7.88.1-10\n",
                False),
    ),
)
def apt_unpinned(d: D) -> Iterator[Violation]:
    """Unpinned packages change under you between builds."""
    yield from _unpinned(d, named("apt-get", "apt"), {"install"},
                         lambda p: "=" in p or p.endswith(".deb") or "/" in p, "apt-get")


@rule(
    id="LSH-DF-051",
    title="apt-get install without --no-install-recommends",
    severity=Severity.LOW,
    aliases=("hadolint:DL3015",),
    remediation="apt-get install -y --no-install-recommends ...",
    references=(HADOLINT + "DL3015",),
    examples=(
        Example("FROM debian:12\nRUN apt-get install -y curl\n", True),
        Example("FROM debian:12\nRUN apt-get install -y --no-install-recommends curl\n", False),
    ),
)
def apt_recommends(d: D) -> Iterator[Violation]:
    """Recommended packages add attack surface and vulnerabilities nobody asked for."""
    for inst, cmd in matching(d, named("apt-get", "apt")):
        if pkgmgr.subcommand(cmd) != "install" or pkgmgr.simulates(cmd):
            continue
        if "--no-install-recommends" in cmd.args or any(
                re.search(r"(?i)APT::Install-Recommends=(false|0|no)", a) for a in cmd.args):
            continue
        yield d.violation(inst, "apt-get install without --no-install-recommends")


@rule(
    id="LSH-DF-053",
    title="apt used instead of apt-get",
    severity=Severity.LOW,
    aliases=("hadolint:DL3027", "checkov:CKV_DOCKER_9"),
    remediation="Use apt-get or apt-cache; apt's interface is for people, not scripts.",
    references=(HADOLINT + "DL3027",),
    examples=(
        Example("FROM debian:12\nRUN apt install -y curl\n", True),
        Example("FROM debian:12\nRUN apt-get install -y curl\n", False),
    ),
)
def apt_not_apt_get(d: D) -> Iterator[Violation]:
    """apt has no stable command-line interface and warns when scripted."""
    for inst, _cmd in matching(d, named("apt")):
        yield d.violation(inst, "RUN uses apt")


def _assumes_yes(cmd: Command) -> bool:
    args = cmd.args
    fam = pkgmgr.family(cmd.name)
    if fam == "apt":
        q = sum(a.count("q") for a in args if a.startswith("-") and not a.startswith("--"))
        return pkgmgr.has_flag(args, "y", ("--yes", "--assume-yes")) or q >= 2 or \
            any(a in ("-q=2", "--quiet=2") or re.search(r"(?i)Assume-Yes=(true|1|yes)", a)
                for a in args)
    if fam == "rpm":
        return pkgmgr.has_flag(args, "y", ("--assumeyes",))
    if cmd.name == "zypper":
        return pkgmgr.has_flag(args, "n", ("--non-interactive", "--no-confirm")) or \
            pkgmgr.has_flag(args, "y", ())
    return True


_PROMPTING = {
    "apt": {"install", "upgrade", "dist-upgrade", "full-upgrade", "remove", "purge",
            "autoremove"},
    "rpm": {"install", "groupinstall", "localinstall", "reinstall", "update", "upgrade",
            "remove", "erase", "downgrade", "autoremove"},
    "zypper": {"install", "in", "remove", "rm", "update", "up", "patch", "dist-upgrade",
               "dup", "source-install", "si"},
}


@rule(
    id="LSH-DF-054",
    title="Package manager may prompt: -y missing",
    severity=Severity.LOW,
    aliases=("hadolint:DL3014", "hadolint:DL3030", "hadolint:DL3038", "hadolint:DL3034"),
    remediation="Pass -y (apt-get, yum, dnf) or -n / --non-interactive (zypper).",
    references=(HADOLINT + "DL3014", HADOLINT + "DL3030", HADOLINT + "DL3034"),
    examples=(
        Example("FROM debian:12\nRUN apt-get install curl\n", True),
        Example("FROM fedora:40\nRUN dnf install httpd\n", True),
        Example("FROM debian:12\nRUN apt-get install -qqy curl && yum install -y x "
                "&& zypper -n in y\n", False),
    ),
)
def assume_yes(d: D) -> Iterator[Violation]:
    """A prompt in a non-interactive build aborts it or, worse, answers the default."""
    for inst, cmd in matching(d, lambda c: c.name in pkgmgr.APT | {"yum", "dnf", "tdnf",
                                                                      "zypper"}):
        sub = pkgmgr.subcommand(cmd)
        if sub in _PROMPTING.get(pkgmgr.family(cmd.name), set()) and not _assumes_yes(cmd) \
                and not pkgmgr.simulates(cmd):
            yield d.violation(inst, f"{cmd.name} {sub} without -y")


@rule(
    id="LSH-DF-055",
    title="apk add without pinned versions",
    severity=Severity.LOW,
    nist=("4.1.1",),
    aliases=("hadolint:DL3018",),
    remediation=PIN + "apk add --no-cache curl=8.9.1-r0.",
    references=(HADOLINT + "DL3018",),
    examples=(
        Example("FROM alpine:3.20\nRUN apk add --no-cache curl\n", True),
        Example("FROM alpine:3.20\nRUN apk add --no-cache --virtual .deps curl=8.9.1-r0\n",
                False),
    ),
)
def apk_unpinned(d: D) -> Iterator[Violation]:
    """Unpinned packages change under you between builds."""
    yield from _unpinned(d, named("apk"), {"add"},
                         lambda p: bool(re.search(r"[=<>~]", p)) or p.endswith(".apk"), "apk")


def _pip_pinned(p: str) -> bool:
    return bool(re.search(r"==|>=|<=|~=|!=|[<>@]", p)) or "/" in p or p.startswith(".") or \
        p.endswith((".whl", ".tar.gz", ".zip")) or p.startswith(("git+", "http"))


@rule(
    id="LSH-DF-057",
    title="pip install without pinned versions",
    severity=Severity.LOW,
    nist=("4.1.1",),
    aliases=("hadolint:DL3013",),
    remediation=PIN + "pip install requests==2.32.3, or pip install -r requirements.txt "
    "with hashes.",
    references=(HADOLINT + "DL3013",),
    examples=(
        Example("FROM python:3.12\nRUN pip install --no-cache-dir requests\n", True),
        Example("FROM python:3.12\nRUN python3 -m pip install flask\n", True, "python -m pip"),
        Example("FROM python:3.12\nRUN pip install --no-cache-dir requests==2.32.3 "
                "&& pip install -r req.txt && pip install .\n", False),
    ),
)
def pip_unpinned(d: D) -> Iterator[Violation]:
    """Unpinned packages change under you between builds and invite typosquats."""
    yield from _unpinned(d, pkgmgr.is_pip, {"install"}, _pip_pinned, "pip")


def _npm_pinned(p: str) -> bool:
    return "@" in p.lstrip("@") or p.startswith((".", "/", "git", "http", "file:")) or \
        p.endswith((".tgz", ".tar.gz"))


@rule(
    id="LSH-DF-059",
    title="npm or yarn installs packages without versions",
    severity=Severity.LOW,
    nist=("4.1.1",),
    aliases=("hadolint:DL3016",),
    remediation=PIN + "npm install express@4.21.1; better, npm ci with a lockfile.",
    references=(HADOLINT + "DL3016",),
    examples=(
        Example("FROM node:20\nRUN npm install -g typescript\n", True),
        Example("FROM node:20\nRUN yarn global add @angular/cli\n", True, "yarn"),
        Example("FROM node:20\nRUN npm ci && npm install -g typescript@5.6.3 "
                "@angular/cli@18.2.0 && npm install\n", False),
    ),
)
def npm_unpinned(d: D) -> Iterator[Violation]:
    """Unpinned packages change under you between builds and invite typosquats."""
    yield from _unpinned(d, named("npm", "yarn", "pnpm"), {"install", "i", "add"},
                         _npm_pinned, "npm")


@rule(
    id="LSH-DF-060",
    title="gem install without versions",
    severity=Severity.LOW,
    nist=("4.1.1",),
    aliases=("hadolint:DL3028",),
    remediation=PIN + "gem install rails:7.2.1 or gem install rails -v 7.2.1.",
    references=(HADOLINT + "DL3028",),
    examples=(
        Example("FROM ruby:3.3\nRUN gem install bundler\n", True),
        Example("FROM ruby:3.3\nRUN gem install bundler:2.5.22 && gem install rake -v 13.2\n",
                False),
    ),
)
def gem_unpinned(d: D) -> Iterator[Violation]:
    """Unpinned packages change under you between builds."""
    yield from _unpinned(d, named("gem"), {"install", "i"}, lambda p: ":" in p, "gem")


def _rpm_pinned(p: str) -> bool:
    return bool(re.search(r"-\d", p)) or p.endswith(".rpm") or ":" in p or "=" in p or \
        p.startswith(("@", "/"))


@rule(
    id="LSH-DF-061",
    title="yum/dnf install without versions",
    severity=Severity.LOW,
    nist=("4.1.1",),
    aliases=("hadolint:DL3033", "hadolint:DL3041"),
    remediation=PIN + "dnf install -y httpd-2.4.62.",
    references=(HADOLINT + "DL3033", HADOLINT + "DL3041"),
    examples=(
        Example("FROM rockylinux:9\nRUN dnf install -y httpd\n", True),
        Example("FROM rockylinux:9\nRUN yum install -y httpd-2.4.57 @development\n", False),
    ),
)
def rpm_unpinned(d: D) -> Iterator[Violation]:
    """Unpinned packages change under you between builds."""
    yield from _unpinned(d, lambda c: c.name in pkgmgr.RPM_MANAGERS, {"install"},
                         _rpm_pinned, "yum/dnf")


@rule(
    id="LSH-DF-062",
    title="zypper install without versions",
    severity=Severity.LOW,
    nist=("4.1.1",),
    aliases=("hadolint:DL3037",),
    remediation=PIN + "zypper install -y curl=8.6.0.",
    references=(HADOLINT + "DL3037",),
    examples=(
        Example("FROM opensuse/leap:15.6\nRUN zypper install -y curl\n", True),
        Example("FROM opensuse/leap:15.6\nRUN zypper install -y curl=8.6.0 'git>=2.40'\n",
                False),
    ),
)
def zypper_unpinned(d: D) -> Iterator[Violation]:
    """Unpinned packages change under you between builds."""
    yield from _unpinned(d, named("zypper"), {"install", "in"},
                         lambda p: bool(re.search(r"[=<>]", p)) or p.endswith(".rpm"), "zypper")


@rule(
    id="LSH-DF-066",
    title="go install without a version",
    severity=Severity.LOW,
    nist=("4.1.1",),
    aliases=("hadolint:DL3062",),
    remediation=PIN + "go install example.com/tool@v1.2.3.",
    references=(HADOLINT + "DL3062",),
    examples=(
        Example("FROM golang:1.22\nRUN go install example.com/tool@latest\n", True),
        Example("FROM golang:1.22\nRUN go install example.com/tool@v1.2.3 && go install "
                "./...\n", False),
    ),
)
def go_unpinned(d: D) -> Iterator[Violation]:
    """@latest (or no version) resolves to whatever was tagged last."""
    yield from _unpinned(
        d, named("go"), {"install"},
        lambda p: p.startswith(".") or ("@" in p and not p.endswith(("@latest", "@master",
                                                                    "@main"))), "go")


RULES = (apt_unpinned, apt_recommends, apt_not_apt_get, assume_yes, apk_unpinned, pip_unpinned,
         npm_unpinned, gem_unpinned, rpm_unpinned, zypper_unpinned, go_unpinned)
