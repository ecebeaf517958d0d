"""Dockerfile rules about what RUN instructions do (the shell commands inside)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lashing.model import FindingKind, Severity
from lashing.rules import pkgmgr
from lashing.rules.dockerfile.subject import DockerfileSubject as D
from lashing.rules.framework import Example, Violation, rule
from lashing.rules.shell import SHELLS, Command

HADOLINT = "https://github.com/hadolint/hadolint/wiki/"
CHECKOV = "https://www.checkov.io/5.Policy%20Index/dockerfile.html"
DOWNLOADERS = {"curl", "wget", "fetch"}
INTERPRETERS = SHELLS | {"python", "python3", "perl", "ruby", "node", "php"}


@rule(
    id="LSH-DF-030",
    title="sudo used in RUN",
    severity=Severity.MEDIUM,
    nist=("4.1.2",),
    aliases=("hadolint:DL3004", "checkov:CKV2_DOCKER_1"),
    remediation="RUN already runs as the current USER; switch with USER root / USER app "
    "around the commands that need root, or use gosu/su-exec in entrypoints.",
    references=(HADOLINT + "DL3004", CHECKOV),
    examples=(
        Example("FROM debian:12\nRUN sudo apt-get install -y git\n", True),
        Example("FROM debian:12\nRUN apt-get update && sudo -u app make\n", True),
        Example("FROM debian:12\nRUN apt-get install -y sudoku sudo\n", False),
    ),
)
def sudo(d: D) -> Iterator[Violation]:
    """sudo in an image means a privileged path is left in place and behaves
    unpredictably without a TTY."""
    for inst, cmd in d.commands():
        if "sudo" in cmd.wrappers or (cmd.argv and cmd.argv[0].endswith("sudo")):
            yield d.violation(inst, f"RUN uses sudo: {cmd.text()[:60]}")


@rule(
    id="LSH-DF-031",
    title="cd used instead of WORKDIR",
    severity=Severity.LOW,
    aliases=("hadolint:DL3003",),
    remediation="Use WORKDIR to change directory for later instructions.",
    references=(HADOLINT + "DL3003",),
    examples=(
        Example("FROM alpine:3.20\nRUN cd /src && make\n", True),
        Example("FROM alpine:3.20\nWORKDIR /src\nRUN make\n", False),
    ),
)
def cd_instead_of_workdir(d: D) -> Iterator[Violation]:
    """cd lasts for one RUN only; WORKDIR is explicit and inherited."""
    for inst, cmd in d.commands("cd"):
        if cmd.depth == 0:
            yield d.violation(inst, f"RUN uses cd {' '.join(cmd.args)}".rstrip())


@rule(
    id="LSH-DF-032",
    title="Downloaded script piped into an interpreter",
    severity=Severity.MEDIUM,
    nist=("4.1.5",),
    remediation="Download to a file, verify its checksum or signature, then run it.",
    references=("https://www.idontplaydarts.com/2016/04/detecting-curl-pipe-bash-server-side/",),
    examples=(
        Example("FROM alpine:3.20\nRUN curl -fsSL https://get.example.com | sh\n", True),
        Example("FROM alpine:3.20\nRUN wget -qO- https://x.example/i.sh | bash -s --\n", True),
        Example('FROM alpine:3.20\nRUN sh -c "$(curl -fsSL https://x.example/i.sh)"\n', True,
                "command substitution"),
        Example("FROM alpine:3.20\nRUN curl -fsSLo i.sh https://x.example/i.sh "
                "&& echo \"abc  i.sh\" | sha256sum -c && sh i.sh\n", False),
    ),
)
def pipe_to_shell(d: D) -> Iterator[Violation]:
    """Whatever the server (or anyone in between) sends is executed unverified."""
    for inst, script in d.runs():
        hit = None
        for pipeline in script.pipelines:
            names = [c.name for c in pipeline]
            for k, name in enumerate(names):
                if k and name in INTERPRETERS and any(n in DOWNLOADERS for n in names[:k]):
                    hit = f"{names[0]} ... | {name}"
        for cmd in script.commands:
            if cmd.name in INTERPRETERS and any(
                    re.search(r"\$\(\s*(?:curl|wget)\b|`\s*(?:curl|wget)\b", a)
                    for a in cmd.args):
                hit = f"{cmd.name} runs the output of a download"
        if hit:
            yield d.violation(inst, f"a download is executed without verification ({hit})")


def _world_writable(mode: str) -> bool:
    if re.fullmatch(r"[0-7]{3,4}", mode):
        sticky = len(mode) == 4 and int(mode[0]) & 1
        return bool(int(mode[-1]) & 2) and not sticky
    for clause in mode.split(","):
        m = re.fullmatch(r"([ugoa]*)([-+=])([rwxXst]*)", clause)
        if m and m.group(2) in "+=" and "w" in m.group(3) and \
                ("o" in m.group(1) or "a" in m.group(1)) and "t" not in m.group(3):
            return True
    return False


@rule(
    id="LSH-DF-033",
    title="chmod makes files world-writable",
    severity=Severity.MEDIUM,
    nist=("4.1.2",),
    remediation="Grant write access to the owning user or group only (e.g. 755/644, "
    "g+w with a dedicated group).",
    references=("https://cwe.mitre.org/data/definitions/732.html",),
    examples=(
        Example("FROM alpine:3.20\nRUN chmod -R 777 /app\n", True),
        Example("FROM alpine:3.20\nRUN chmod o+w /data\n", True, "symbolic"),
        Example("FROM alpine:3.20\nRUN chmod 755 /app && chmod 1777 /scratch\n", False),
    ),
)
def chmod_world_writable(d: D) -> Iterator[Violation]:
    """Any process in the container, under any user, can then replace the files."""
    for inst, cmd in d.commands("chmod"):
        modes = [a for a in cmd.args if not a.startswith("-") or re.fullmatch(r"-[rwxXst]+", a)]
        if modes and _world_writable(modes[0]):
            yield d.violation(inst, f"chmod {modes[0]} {' '.join(modes[1:])[:40]}".rstrip())


def _pipefail_shell(shell: tuple[str, ...]) -> bool:
    return any(a == "pipefail" and k and shell[k - 1].startswith("-") and "o" in shell[k - 1]
               for k, a in enumerate(shell))


@rule(
    id="LSH-DF-034",
    title="Pipe in RUN without pipefail",
    severity=Severity.LOW,
    aliases=("hadolint:DL4006",),
    remediation='Add SHELL ["/bin/bash", "-o", "pipefail", "-c"] before the RUN, or start '
    "the command with set -o pipefail.",
    references=(HADOLINT + "DL4006",),
    examples=(
        Example("FROM alpine:3.20\nRUN wget -O - https://x.example | tar xz\n", True),
        Example('FROM debian:12\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\n'
                "RUN wget -O - https://x.example | tar xz\n", False),
        Example("FROM debian:12\nRUN set -eux -o pipefail; wget -O - https://x | tar xz\n",
                False, "set -o pipefail"),
    ),
)
def pipefail(d: D) -> Iterator[Violation]:
    """Without pipefail a failed download piped into tar still 'succeeds', so the build
    goes on with missing or partial files."""
    for inst, script in d.runs():
        if inst.exec_form is not None or _pipefail_shell(d.shell_of(inst)):
            continue
        for pipeline in script.pipelines:
            if len(pipeline) > 1 and not script.pipefail_before(pipeline[0].order):
                yield d.violation(inst, "a pipe without set -o pipefail hides failures of "
                                  f"{pipeline[0].name or 'the first command'}")
                break


@rule(
    id="LSH-DF-035",
    title="/bin/sh replaced instead of using SHELL",
    severity=Severity.LOW,
    aliases=("hadolint:DL4005",),
    remediation='Use SHELL ["/bin/bash", "-c"] to change the shell of RUN.',
    references=(HADOLINT + "DL4005",),
    examples=(
        Example("FROM debian:12\nRUN ln -sf /bin/bash /bin/sh\n", True),
        Example('FROM debian:12\nSHELL ["/bin/bash", "-c"]\n', False),
    ),
)
def relink_sh(d: D) -> Iterator[Violation]:
    """Replacing /bin/sh changes every script in the image, not just the build."""
    for inst, cmd in d.commands("ln"):
        if cmd.args and cmd.args[-1] == "/bin/sh":
            yield d.violation(inst, "ln replaces /bin/sh")


POINTLESS = {"ssh", "vim", "shutdown", "service", "ps", "free", "top", "kill", "mount",
             "ifconfig", "systemctl", "nano", "reboot"}


@rule(
    id="LSH-DF-036",
    title="Interactive or system command in RUN",
    severity=Severity.LOW,
    aliases=("hadolint:DL3001",),
    remediation="Do not start services or run interactive tools while building; the "
    "container's process is started by CMD/ENTRYPOINT.",
    references=(HADOLINT + "DL3001",),
    examples=(
        Example("FROM debian:12\nRUN service nginx start\n", True),
        Example("FROM debian:12\nRUN nginx -t\n", False),
    ),
)
def pointless_command(d: D) -> Iterator[Violation]:
    """Services started in RUN are gone when the layer is committed."""
    for inst, cmd in d.commands(*POINTLESS):
        yield d.violation(inst, f"RUN runs {cmd.name}, which does nothing useful in a build")


@rule(
    id="LSH-DF-037",
    title="Both wget and curl used",
    severity=Severity.LOW,
    aliases=("hadolint:DL4001",),
    remediation="Use one download tool throughout the image.",
    references=(HADOLINT + "DL4001",),
    examples=(
        Example("FROM debian:12\nRUN curl -fsSLO https://a.example/x\n"
                "RUN wget https://b.example/y\n", True),
        Example("FROM debian:12\nRUN curl -fsSLO https://a.example/x\n", False),
    ),
)
def wget_and_curl(d: D) -> Iterator[Violation]:
    """Two tools doing one job add packages (and their vulnerabilities) for nothing."""
    for stage in d.dockerfile.stages:
        seen: dict[str, int] = {}
        for inst, cmd in d.commands("curl", "wget", stages=[stage]):
            seen.setdefault(cmd.name, inst.line)
            if len(seen) == 2:
                yield d.violation(inst, "the stage uses both curl (line "
                                  f"{seen['curl']}) and wget (line {seen['wget']})")
                break


@rule(
    id="LSH-DF-038",
    title="useradd with a high UID without -l",
    severity=Severity.LOW,
    aliases=("hadolint:DL3046",),
    remediation="Add -l (--no-log-init) to useradd when the UID is large.",
    references=(HADOLINT + "DL3046",),
    examples=(
        Example("FROM debian:12\nRUN useradd -u 123456 app\n", True),
        Example("FROM debian:12\nRUN useradd -l -u 123456 app && useradd -u 1000 b\n", False),
    ),
)
def useradd_high_uid(d: D) -> Iterator[Violation]:
    """useradd writes a sparse lastlog entry sized by the UID: a huge layer."""
    for inst, cmd in d.commands("useradd"):
        args = list(cmd.args)
        if pkgmgr.has_flag(args, "l", ("--no-log-init",)):
            continue
        uid = pkgmgr.option_value(args, ("-u", "--uid"))
        if uid and uid.isdigit() and len(uid) > 5:
            yield d.violation(inst, f"useradd -u {uid} without -l")


def _curl_insecure(args: tuple[str, ...]) -> bool:
    with_value = set("oHudXAeTxwmCrFbcEKQtyYzPU")
    for a in args:
        if a in ("--insecure", "--proxy-insecure", "--doh-insecure"):
            return True
        if a.startswith("-") and not a.startswith("--"):
            for ch in a[1:]:
                if ch == "k":
                    return True
                if ch in with_value:
                    break
    return False


def _npm_strict_ssl_off(cmd: Command) -> bool:
    args = [a for a in cmd.args if not a.startswith("-")]
    if any(re.fullmatch(r"--strict-ssl=(false|0|no)", a) for a in cmd.args):
        return True
    if args[:2] in (["config", "set"], ["c", "set"]):
        rest = args[2:]
    elif args[:1] == ["set"]:
        rest = args[1:]
    else:
        return False
    joined = "=".join(rest[:2]) if rest and "=" not in rest[0] else (rest[0] if rest else "")
    return bool(re.fullmatch(r"strict-ssl=(false|0|no)", joined, re.I))


def tls_disabled(cmd: Command) -> str | None:
    """Why `cmd` disables TLS certificate validation, or None."""
    name, args = cmd.name, cmd.args
    if name == "curl" and _curl_insecure(args):
        return "curl -k/--insecure"
    if name == "wget" and "--no-check-certificate" in args:
        return "wget --no-check-certificate"
    if name in ("npm", "yarn", "pnpm") and _npm_strict_ssl_off(cmd):
        return f"{name} strict-ssl false"
    if name in pkgmgr.RPM_MANAGERS | {"yum-config-manager", "dnf-config-manager"} and any(
            re.fullmatch(r"--setopt=(?:[^=]*\.)?sslverify=(?:0|false|no)", a, re.I)
            for a in args):
        return f"{name} sslverify=0"
    if pkgmgr.is_pip(cmd) and any(a == "--trusted-host" or a.startswith("--trusted-host=")
                                  for a in args):
        return "pip --trusted-host"
    if name == "git" and any(re.fullmatch(r"http\.sslverify=(false|0|no)", a, re.I) or
                             a.lower() == "http.sslverify" for a in args):
        return "git http.sslVerify false"
    return None


@rule(
    id="LSH-DF-039",
    title="Certificate validation disabled in a download or package command",
    severity=Severity.HIGH,
    nist=("4.1.5",),
    aliases=("checkov:CKV2_DOCKER_2", "checkov:CKV2_DOCKER_3", "checkov:CKV2_DOCKER_4",
             "checkov:CKV2_DOCKER_13", "checkov:CKV2_DOCKER_15"),
    remediation="Remove -k/--insecure, --no-check-certificate, strict-ssl false, "
    "sslverify=0, --trusted-host; add the CA certificate you need to the image instead.",
    references=(CHECKOV,),
    examples=(
        Example("FROM alpine:3.20\nRUN curl -Lkv https://example.com\n", True),
        Example("FROM alpine:3.20\nRUN wget --no-check-certificate https://example.com\n",
                True),
        Example("FROM node:20\nRUN npm config set strict-ssl false\n", True),
        Example("FROM fedora:40\nRUN dnf config-manager --save --setopt=sslverify=0\n", True),
        Example("FROM alpine:3.20\nRUN curl -fsSL https://example.com | grep -k x\n"
                "RUN npm config set strict-ssl true\n", False),
    ),
)
def tls_disabled_command(d: D) -> Iterator[Violation]:
    """Without validation, whoever sits on the network path chooses what gets installed."""
    for inst, cmd in d.commands():
        why = tls_disabled(cmd)
        if why:
            yield d.violation(inst, f"{why} disables certificate validation")


@rule(
    id="LSH-DF-040",
    title="Package signature verification disabled",
    severity=Severity.HIGH,
    nist=("4.1.5",),
    aliases=("checkov:CKV2_DOCKER_7", "checkov:CKV2_DOCKER_8", "checkov:CKV2_DOCKER_9",
             "checkov:CKV2_DOCKER_10", "checkov:CKV2_DOCKER_11", "cis-docker-1.6:4.11"),
    remediation="Remove --allow-untrusted, --allow-unauthenticated, --force-yes, "
    "--nogpgcheck; import the repository's signing key instead.",
    references=(CHECKOV,),
    examples=(
        Example("FROM alpine:3.20\nRUN apk add --allow-untrusted python3\n", True),
        Example("FROM debian:12\nRUN apt-get --force-yes install python3\n", True),
        Example("FROM fedora:40\nRUN dnf --nogpgcheck -y install python3\n", True),
        Example('FROM debian:12\nRUN apt-get install -y python3 | grep "--force-yes"\n', False),
    ),
)
def unsigned_packages(d: D) -> Iterator[Violation]:
    """Unsigned packages can be replaced by anyone who controls a mirror or the network."""
    for inst, cmd in d.commands():
        why = pkgmgr.unsigned(cmd)
        if why:
            yield d.violation(inst, f"{cmd.name} {why} installs unverified packages")


@rule(
    id="LSH-DF-041",
    title="Password set in the Dockerfile",
    severity=Severity.MEDIUM,
    kind=FindingKind.SECRET,
    nist=("4.1.4",),
    aliases=("checkov:CKV2_DOCKER_17",),
    remediation="Do not set passwords at build time: they end up in the image's history "
    "and /etc/shadow. Use key-based access, or set credentials at run time.",
    references=(CHECKOV,),
    examples=(
        Example("FROM ubuntu:24.04\nRUN echo 'root:root' | chpasswd\n", True),
        Example("FROM ubuntu:24.04\nRUN useradd -p $(openssl passwd x) app\n", True),
        Example("FROM ubuntu:24.04\nRUN chgrp root /etc/passwd\n", False),
    ),
)
def sets_password(d: D) -> Iterator[Violation]:
    """The password is readable in the image history and crackable from /etc/shadow."""
    for inst, cmd in d.commands("chpasswd", "useradd", "usermod", "passwd"):
        if cmd.name == "chpasswd" or (cmd.name in ("useradd", "usermod") and pkgmgr.option_value(
                list(cmd.args), ("-p", "--password"))) or (
                cmd.name == "passwd" and "--stdin" in cmd.args):
            yield d.violation(inst, f"{cmd.name} sets a password at build time")


@rule(
    id="LSH-DF-042",
    title="Package index update alone in a RUN",
    severity=Severity.LOW,
    nist=("4.1.1",),
    aliases=("checkov:CKV_DOCKER_5", "cis-docker-1.6:4.7"),
    remediation="Update and install in the same RUN: "
    "RUN apt-get update && apt-get install -y ... .",
    references=("https://docs.docker.com/build/building/best-practices/#apt-get",),
    examples=(
        Example("FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n", True),
        Example("FROM alpine:3.20\nRUN apk update\n", True),
        Example("FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"
                "RUN apk --update add x\n", False),
    ),
)
def update_alone(d: D) -> Iterator[Violation]:
    """A cached update layer makes later installs use stale indexes: old, vulnerable
    package versions."""
    for inst, script in d.runs():
        cmds = [c for c in script.commands if pkgmgr.is_manager(c)]
        if any(pkgmgr.is_update(c) for c in cmds) and not any(pkgmgr.is_install(c)
                                                            for c in cmds):
            yield d.violation(inst, "the package index is updated without installing in the "
                              "same RUN")


@rule(
    id="LSH-DF-043",
    title="dist-upgrade in a Dockerfile",
    severity=Severity.LOW,
    aliases=("hadolint:DL3035",),
    remediation="Rebuild on a newer base image instead of upgrading the distribution "
    "inside the build; plain `apt-get upgrade` of security fixes is fine.",
    references=(HADOLINT + "DL3035",),
    examples=(
        Example("FROM debian:12\nRUN apt-get update && apt-get dist-upgrade -y\n", True),
        Example("FROM opensuse/leap:15\nRUN zypper dup -y\n", True),
        Example("FROM debian:12\nRUN apt-get update && apt-get upgrade -y\n", False),
    ),
)
def dist_upgrade(d: D) -> Iterator[Violation]:
    """A distribution upgrade silently changes the base image's release."""
    for inst, cmd in d.commands():
        if pkgmgr.is_dist_upgrade(cmd):
            yield d.violation(inst, f"{cmd.name} {pkgmgr.subcommand(cmd)} changes the "
                              "distribution release")


RULES = (sudo, cd_instead_of_workdir, pipe_to_shell, chmod_world_writable, pipefail,
         relink_sh, pointless_command, wget_and_curl, useradd_high_uid, tls_disabled_command,
         unsigned_packages, sets_password, update_alone, dist_upgrade)
