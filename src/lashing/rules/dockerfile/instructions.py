"""Dockerfile rules about single instructions: USER, WORKDIR, EXPOSE, ADD, COPY,
CMD/ENTRYPOINT, HEALTHCHECK, ENV/ARG."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from lashing.model import FindingKind, Severity
from lashing.rules import sensitive
from lashing.rules.dockerfile.parser import Instruction, key_values, words
from lashing.rules.dockerfile.subject import DockerfileSubject as D
from lashing.rules.framework import Example, Violation, rule

HADOLINT = "https://github.com/hadolint/hadolint/wiki/"
DOCKER_REF = "https://docs.docker.com/reference/dockerfile/"
CIS = "https://www.cisecurity.org/benchmark/docker"

_ABSOLUTE = re.compile(r"""\A(?:/|\$|[A-Za-z]:[\\/]|\\\\)""")
ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tbz2", ".tar.xz", ".txz",
            ".tar.zst", ".tzst")
SENSITIVE_PORTS: dict[int, str] = {
    21: "FTP", 22: "SSH", 23: "Telnet", 2375: "the Docker API without TLS",
    2376: "the Docker API", 2379: "etcd", 3389: "RDP", 5900: "VNC", 10250: "the kubelet API",
}


def operands(d: D, inst: Instruction) -> list[str]:
    """The non-flag arguments of an instruction (exec or shell form)."""
    if inst.exec_form is not None:
        return list(inst.exec_form)
    return words(inst.rest, d.dockerfile.escape)


@rule(
    id="LSH-DF-011",
    title="WORKDIR is a relative path",
    severity=Severity.LOW,
    aliases=("hadolint:DL3000", "checkov:CKV_DOCKER_10"),
    remediation="Use an absolute path in WORKDIR.",
    references=(HADOLINT + "DL3000", DOCKER_REF + "#workdir"),
    examples=(
        Example("FROM alpine:3.20\nWORKDIR app\n", True),
        Example("FROM alpine:3.20\nWORKDIR /app\nWORKDIR $HOME/src\n", False),
    ),
)
def relative_workdir(d: D) -> Iterator[Violation]:
    """A relative WORKDIR depends on every earlier WORKDIR and on the base image."""
    for inst in d.all("WORKDIR"):
        path = (operands(d, inst) or [""])[0]
        if path and not _ABSOLUTE.match(path):
            yield d.violation(inst, f"WORKDIR {path} is relative")


@rule(
    id="LSH-DF-012",
    title="ADD used where COPY would do",
    severity=Severity.LOW,
    aliases=("hadolint:DL3020", "checkov:CKV_DOCKER_4", "cis-docker-1.6:4.9"),
    remediation="Use COPY for local files; download with curl/wget and verify a checksum, "
    "or use ADD --checksum=sha256:... for remote files. Keep ADD for local tar archives "
    "that should be extracted.",
    references=(HADOLINT + "DL3020", DOCKER_REF + "#add"),
    examples=(
        Example("FROM alpine:3.20\nADD app.py /app/\n", True, "local file"),
        Example("FROM alpine:3.20\nADD https://example.com/x.zip /x.zip\n", True, "URL"),
        Example("FROM alpine:3.20\nCOPY app.py /app/\nADD rootfs.tar.gz /\n", False),
        Example("FROM alpine:3.20\nADD --checksum=sha256:" + "0" * 64
                + " https://example.com/x.zip /x.zip\n", False, "verified download"),
    ),
)
def add_instead_of_copy(d: D) -> Iterator[Violation]:
    """ADD fetches URLs without verification and unpacks archives implicitly; COPY does
    exactly one predictable thing."""
    for inst in d.all("ADD"):
        if inst.heredocs:
            continue
        sources = operands(d, inst)[:-1]
        remote = [s for s in sources if re.match(r"(?:https?|ftp)://|git@", s)]
        local = [s for s in sources if s not in remote and not s.lower().endswith(ARCHIVES)]
        if remote and inst.flag("checksum") is None:
            yield d.violation(inst, f"ADD downloads {remote[0]} without a checksum")
        if local:
            yield d.violation(inst, f"ADD {' '.join(local)}: use COPY for local files")


@rule(
    id="LSH-DF-013",
    title="Sensitive port exposed",
    severity=Severity.MEDIUM,
    nist=("4.1.2", "4.4.2"),
    aliases=("checkov:CKV_DOCKER_1",),
    remediation="Do not expose remote-administration ports (SSH, Telnet, RDP, VNC, the "
    "Docker API); use `docker exec` / `kubectl exec` for access.",
    references=(DOCKER_REF + "#expose",),
    examples=(
        Example("FROM alpine:3.20\nEXPOSE 8080 22\n", True),
        Example("FROM alpine:3.20\nEXPOSE 2375/tcp\n", True, "docker API"),
        Example("FROM alpine:3.20\nEXPOSE 8080 443/tcp\n", False),
    ),
)
def sensitive_port(d: D) -> Iterator[Violation]:
    """A container offering remote administration is a server to harden, patch and
    monitor; an attacker's first target."""
    for inst in d.all("EXPOSE"):
        hits = []
        for spec in operands(d, inst):
            low, high = _port_range(spec)
            if low is None or high is None:
                continue
            hits += [f"{p} ({name})" for p, name in SENSITIVE_PORTS.items() if low <= p <= high]
        if hits:
            yield d.violation(inst, f"EXPOSE {', '.join(hits)}")


def _port_range(spec: str) -> tuple[int | None, int | None]:
    m = re.fullmatch(r"(\d+)(?:-(\d+))?(?:/\w+)?", spec.strip())
    if not m:
        return None, None
    return int(m.group(1)), int(m.group(2) or m.group(1))


@rule(
    id="LSH-DF-014",
    title="EXPOSE names an invalid port",
    severity=Severity.LOW,
    aliases=("hadolint:DL3011",),
    remediation="Ports are 0-65535 with an optional /tcp, /udp or /sctp.",
    references=(HADOLINT + "DL3011",),
    examples=(
        Example("FROM alpine:3.20\nEXPOSE 80000\n", True),
        Example("FROM alpine:3.20\nEXPOSE 80/tcp 53/udp 8000-8010 ${PORT}\n", False),
    ),
)
def invalid_port(d: D) -> Iterator[Violation]:
    """The builder or the runtime rejects it; the intended port is not published."""
    for inst in d.all("EXPOSE"):
        for spec in operands(d, inst):
            if "$" in spec:
                continue
            low, high = _port_range(spec)
            proto = spec.partition("/")[2].lower()
            if low is None or high is None or high > 65535 or low > high or \
                    proto not in ("", "tcp", "udp", "sctp"):
                yield d.violation(inst, f"EXPOSE {spec} is not a valid port")


@rule(
    id="LSH-DF-015",
    title="CMD, ENTRYPOINT or HEALTHCHECK repeated in one stage",
    severity=Severity.LOW,
    aliases=("hadolint:DL4003", "hadolint:DL4004", "hadolint:DL3012"),
    remediation="Keep one CMD, one ENTRYPOINT and one HEALTHCHECK per stage.",
    references=(HADOLINT + "DL4003", HADOLINT + "DL4004", HADOLINT + "DL3012"),
    examples=(
        Example("FROM alpine:3.20\nCMD [\"a\"]\nCMD [\"b\"]\n", True),
        Example("FROM alpine:3.20\nCMD [\"a\"]\nFROM alpine:3.20\nCMD [\"b\"]\n", False),
    ),
)
def repeated_instruction(d: D) -> Iterator[Violation]:
    """Only the last one takes effect; the others mislead readers and reviewers."""
    for stage in d.dockerfile.stages:
        for keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            found = d.in_stage(stage, keyword)
            for inst in found[:-1]:
                yield d.violation(inst, f"{keyword} is overridden by line {found[-1].line}")


@rule(
    id="LSH-DF-016",
    title="CMD or ENTRYPOINT in shell form",
    severity=Severity.LOW,
    aliases=("hadolint:DL3025",),
    remediation='Use the JSON form: CMD ["executable", "arg"], so the process gets '
    "signals directly instead of through /bin/sh.",
    references=(HADOLINT + "DL3025", DOCKER_REF + "#shell-and-exec-form"),
    examples=(
        Example("FROM alpine:3.20\nCMD nginx -g 'daemon off;'\n", True),
        Example('FROM alpine:3.20\nCMD ["nginx", "-g", "daemon off;"]\n', False),
    ),
)
def shell_form_cmd(d: D) -> Iterator[Violation]:
    """A shell-form command runs under sh, which does not forward SIGTERM: containers
    are killed instead of stopped."""
    for inst in d.all("CMD", "ENTRYPOINT"):
        if inst.exec_form is None and inst.rest:
            yield d.violation(inst, f"{inst.keyword} is in shell form")


@rule(
    id="LSH-DF-017",
    title="COPY of several sources to a destination without a trailing slash",
    severity=Severity.LOW,
    aliases=("hadolint:DL3021",),
    remediation="End the destination with / when copying more than one source.",
    references=(HADOLINT + "DL3021",),
    examples=(
        Example("FROM alpine:3.20\nCOPY a b /dest\n", True),
        Example("FROM alpine:3.20\nCOPY a b /dest/\n", False),
    ),
)
def copy_many_to_file(d: D) -> Iterator[Violation]:
    """The build fails: several files cannot be copied onto one file name."""
    for inst in d.all("COPY", "ADD"):
        args = operands(d, inst)
        if inst.heredocs or len(args) < 3:
            continue
        if not args[-1].endswith(("/", "\\")) and "$" not in args[-1]:
            yield d.violation(inst, f"{len(args) - 1} sources copied to {args[-1]}")


@rule(
    id="LSH-DF-018",
    title="ENV uses a variable defined in the same statement",
    severity=Severity.LOW,
    aliases=("hadolint:DL3044",),
    remediation="Define the variable in an earlier ENV statement.",
    references=(HADOLINT + "DL3044",),
    examples=(
        Example("FROM alpine:3.20\nENV A=1 B=$A\n", True),
        Example("FROM alpine:3.20\nENV A=1\nENV B=$A PATH=/x:$PATH\n", False),
    ),
)
def env_self_reference(d: D) -> Iterator[Violation]:
    """Within one ENV the reference sees the old value, not the one just set."""
    for inst in d.all("ENV"):
        pairs = key_values(inst, d.dockerfile.escape)
        for k, (_name, value) in enumerate(pairs):
            for earlier, _ in pairs[:k]:
                if re.search(r"\$\{?" + re.escape(earlier) + r"\b", value):
                    yield d.violation(inst, f"${earlier} is defined in the same ENV")


@rule(
    id="LSH-DF-019",
    title="COPY to a relative destination without WORKDIR",
    severity=Severity.LOW,
    aliases=("hadolint:DL3045",),
    remediation="Set WORKDIR first or copy to an absolute path.",
    references=(HADOLINT + "DL3045",),
    examples=(
        Example("FROM alpine:3.20\nCOPY app.py app/\n", True),
        Example("FROM alpine:3.20\nWORKDIR /srv\nCOPY app.py app/\n", False),
    ),
)
def copy_relative(d: D) -> Iterator[Violation]:
    """The files land wherever the base image's working directory happens to be."""
    for inst in d.all("COPY"):
        args = operands(d, inst)
        if inst.stage < 0 or len(args) < 2 or _ABSOLUTE.match(args[-1]):
            continue
        stage = d.dockerfile.stages[inst.stage]
        chain = d.dockerfile.chain(stage)
        if any(w.line < inst.line for s in chain for w in d.in_stage(s, "WORKDIR")):
            continue
        yield d.violation(inst, f"COPY to relative {args[-1]} with no WORKDIR set")


def _user_name(spec: str) -> str:
    return spec.split(":", 1)[0].strip().lower()


@rule(
    id="LSH-DF-020",
    title="Last USER is root",
    severity=Severity.HIGH,
    nist=("4.1.2", "4.4.3"),
    aliases=("hadolint:DL3002", "checkov:CKV_DOCKER_8", "cis-docker-1.6:4.1"),
    remediation="Switch to an unprivileged user at the end: USER 10001 (create it with "
    "useradd/adduser first).",
    references=(HADOLINT + "DL3002", CIS),
    examples=(
        Example("FROM alpine:3.20\nUSER root\n", True),
        Example("FROM alpine:3.20\nUSER 0:0\n", True, "uid 0"),
        Example("FROM alpine:3.20\nUSER root\nRUN apk add --no-cache curl\nUSER app\n", False),
    ),
)
def last_user_root(d: D) -> Iterator[Violation]:
    """A process running as root in a container is root on the host when it escapes."""
    users = [i for s in reversed(d.dockerfile.final_chain()) for i in d.in_stage(s, "USER")]
    if users:
        name = _user_name((operands(d, users[-1]) or [""])[0])
        if name in ("root", "0"):
            yield d.violation(users[-1], f"the image runs as {name}")


@rule(
    id="LSH-DF-021",
    title="No USER instruction: the image runs as root",
    severity=Severity.MEDIUM,
    nist=("4.1.2", "4.4.3"),
    aliases=("checkov:CKV_DOCKER_3", "cis-docker-1.6:4.1"),
    remediation="Create an unprivileged user and add USER to the final stage.",
    references=(CIS, DOCKER_REF + "#user"),
    examples=(
        Example("FROM alpine:3.20\nRUN echo hi\n", True),
        Example("FROM alpine:3.20 AS build\nUSER app\nFROM alpine:3.20\n", True,
                "only the build stage has USER"),
        Example("FROM alpine:3.20\nUSER 10001\n", False),
        Example("FROM gcr.io/distroless/static:nonroot\n", False, "non-root base"),
    ),
)
def no_user(d: D) -> Iterator[Violation]:
    """Without USER the container runs as the base image's user, usually root."""
    chain = d.dockerfile.final_chain()
    if not chain or any(d.in_stage(s, "USER") for s in chain):
        return
    base = chain[-1].resolved or ""
    if re.search(r"nonroot|rootless", base.rsplit("/", 1)[-1]):
        return
    yield d.violation(chain[0].instructions[0], "the final stage sets no USER")


@rule(
    id="LSH-DF-022",
    title="No HEALTHCHECK",
    severity=Severity.LOW,
    nist=("4.1.2",),
    aliases=("checkov:CKV_DOCKER_2", "hadolint:DL3057", "cis-docker-1.6:4.6"),
    remediation="Add HEALTHCHECK CMD ... that tests the service (or define probes in the "
    "orchestrator).",
    references=(CIS, DOCKER_REF + "#healthcheck"),
    examples=(
        Example("FROM alpine:3.20\nCMD [\"app\"]\n", True),
        Example("FROM alpine:3.20\nHEALTHCHECK NONE\n", True, "disabled"),
        Example("FROM alpine:3.20\nHEALTHCHECK CMD wget -q -O- http://localhost/ || exit 1\n",
                False),
    ),
)
def no_healthcheck(d: D) -> Iterator[Violation]:
    """Without a health check a hung or hijacked service keeps receiving traffic."""
    chain = d.dockerfile.final_chain()
    checks = [i for s in reversed(chain) for i in d.in_stage(s, "HEALTHCHECK")]
    if not chain:
        return
    if not checks:
        yield d.violation(chain[0].instructions[0], "the final stage has no HEALTHCHECK")
    elif checks[-1].rest.strip().upper() == "NONE":
        yield d.violation(checks[-1], "HEALTHCHECK NONE disables the health check")


@rule(
    id="LSH-DF-023",
    title="Credential in ENV, ARG or LABEL",
    severity=Severity.HIGH,
    kind=FindingKind.SECRET,
    nist=("4.1.4",),
    aliases=("hadolint:DL3064", "cis-docker-1.6:4.10"),
    remediation="Pass secrets at build time with RUN --mount=type=secret and at run time "
    "from the orchestrator's secret store; never in ENV, ARG or LABEL, which are stored "
    "in the image configuration and history.",
    references=(CIS, "https://docs.docker.com/build/building/secrets/"),
    examples=(
        Example("FROM alpine:3.20\nENV DB_PASSWORD=hunter2\n", True),
        Example("FROM alpine:3.20\nARG NPM_TOKEN\n", True, "build argument"),
        Example("FROM alpine:3.20\nENV AWS_ID=AKIA" "IOSFODNN7EXAMPLE\n", True, "value shape"),
        Example("FROM alpine:3.20\nENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\n"
                "ENV POSTGRES_PASSWORD_FILE=/run/secrets/pw\n", False),
    ),
)
def env_secret(d: D) -> Iterator[Violation]:
    """Values in ENV/ARG/LABEL are readable by anyone who can pull the image."""
    for inst in d.all("ENV", "ARG", "LABEL"):
        for name, value in key_values(inst, d.dockerfile.escape):
            kind = sensitive.secret_kind(value)
            if kind:
                yield d.violation(inst, f"{inst.keyword} {name}={sensitive.redact(value)} "
                                  f"looks like a {kind}")
            elif sensitive.is_sensitive_name(name):
                if inst.keyword == "ARG":
                    yield d.violation(inst, f"ARG {name}: build arguments are recorded in "
                                      "the image history")
                elif not sensitive.is_placeholder(value):
                    yield d.violation(inst, f"{inst.keyword} {name}="
                                      f"{sensitive.redact(value)} holds a credential")


TLS_ENV: dict[str, Callable[[str], bool]] = {
    "PYTHONHTTPSVERIFY": lambda v: v == "0",
    "NODE_TLS_REJECT_UNAUTHORIZED": lambda v: v == "0",
    "PIP_TRUSTED_HOST": lambda v: bool(v.strip()),
    "GIT_SSL_NO_VERIFY": lambda v: True,  # git disables verification for any value
    "NPM_CONFIG_STRICT_SSL": lambda v: v.lower() in ("false", "0", "no"),
    "YARN_STRICT_SSL": lambda v: v.lower() in ("false", "0", "no"),
}


def tls_env_hit(name: str, value: str) -> bool:
    # npm and yarn read their settings from the environment case-insensitively
    key = name.upper() if name.upper().startswith(("NPM_CONFIG_", "YARN_")) else name
    test = TLS_ENV.get(key)
    return test is not None and test(value)


@rule(
    id="LSH-DF-024",
    title="Certificate validation disabled through an environment variable",
    severity=Severity.HIGH,
    nist=("4.1.5",),
    aliases=("checkov:CKV2_DOCKER_5", "checkov:CKV2_DOCKER_6", "checkov:CKV2_DOCKER_12",
             "checkov:CKV2_DOCKER_14", "checkov:CKV2_DOCKER_16"),
    remediation="Remove PYTHONHTTPSVERIFY=0, NODE_TLS_REJECT_UNAUTHORIZED=0, "
    "PIP_TRUSTED_HOST, GIT_SSL_NO_VERIFY; install the CA certificate you need instead.",
    references=("https://peps.python.org/pep-0476/",
                "https://nodejs.org/api/cli.html#node_tls_reject_unauthorized"),
    examples=(
        Example("FROM python:3.12\nENV PYTHONHTTPSVERIFY=0\n", True),
        Example("FROM node:20\nRUN NODE_TLS_REJECT_UNAUTHORIZED=0 npm ci\n", True, "RUN"),
        Example("FROM python:3.12\nRUN export PIP_TRUSTED_HOST=pypi.org && pip install x\n",
                True, "export"),
        Example("FROM python:3.12\nENV PYTHONHTTPSVERIFY=1\nRUN echo PIP_TRUSTED_HOST\n",
                False),
    ),
)
def tls_env(d: D) -> Iterator[Violation]:
    """Disabling verification lets anyone on the network path substitute packages and
    code fetched during the build or at run time."""
    for inst in d.all("ENV", "ARG"):
        pairs = key_values(inst, d.dockerfile.escape)
        ws = words(inst.rest, d.dockerfile.escape)
        if inst.keyword == "ARG" and len(ws) == 2 and "=" not in ws[0] and "=" not in ws[1]:
            pairs.append((ws[0], ws[1]))  # the ENV-like `ARG NAME value` some files use
        for name, value in pairs:
            if tls_env_hit(name, value):
                yield d.violation(inst, f"{inst.keyword} {name}={value} disables certificate "
                                  "validation")
    for inst, cmd in d.commands():
        pairs = list(cmd.assignments)
        if cmd.name in ("export", "declare", "typeset"):
            pairs += [(a.split("=", 1)[0], a.split("=", 1)[1]) for a in cmd.args if "=" in a]
        for name, value in pairs:
            if tls_env_hit(name, value):
                yield d.violation(inst, f"{name}={value} disables certificate validation")


RULES = (relative_workdir, add_instead_of_copy, sensitive_port, invalid_port,
         repeated_instruction, shell_form_cmd, copy_many_to_file, env_self_reference,
         copy_relative, last_user_root, no_user, no_healthcheck, env_secret, tls_env)
