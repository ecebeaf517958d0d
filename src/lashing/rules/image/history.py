"""Image rules over the build history (`created_by` of each history entry):
what RUN did, build arguments, ENV values that were later overwritten."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from lashing.model import FindingKind, Severity
from lashing.rules import pkgmgr, sensitive, shell
from lashing.rules.framework import Example, NotApplicable, Violation, rule
from lashing.rules.image.subject import ImageSpec
from lashing.rules.image.subject import ImageSubject as I

DOCKLE = "https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md"
_SHELL_PREFIX = re.compile(r"(?:/bin/(?:ba)?sh|/usr/bin/(?:ba)?sh|sh)\s+-c\s+")


@dataclass(frozen=True)
class Step:
    """One history entry, read back as the instruction that made it."""

    index: int
    keyword: str  # RUN, ENV, ADD, COPY, ...
    text: str  # the instruction's arguments, or the RUN script
    build_args: tuple[tuple[str, str], ...] = ()


def read_step(index: int, created_by: str) -> Step:
    t = created_by.strip()
    t = re.sub(r"\s*# buildkit\Z", "", t)
    keyword = ""
    if t.startswith("RUN "):
        keyword, t = "RUN", t[4:].lstrip()
    args: list[tuple[str, str]] = []
    m = re.match(r"\|(\d+)\s+", t)
    if m:
        t = t[m.end():]
        for _ in range(int(m.group(1))):
            word, _, t = t.partition(" ")
            name, _, value = word.partition("=")
            args.append((name, value))
        keyword = "RUN"
    sm = _SHELL_PREFIX.match(t)
    if sm:
        t = t[sm.end():]
        if t.startswith("#(nop)"):
            t = t[len("#(nop)"):].strip()
            keyword = ""
        else:
            keyword = "RUN"
    if not keyword:
        keyword, _, t = t.partition(" ")
        keyword = keyword.upper()
    return Step(index, keyword, t.strip(), tuple(args))


def steps(s: I) -> list[Step]:
    if not s.image_config.history:
        raise NotApplicable("the image has no history")
    return [read_step(k, h.created_by) for k, h in enumerate(s.image_config.history)]


def runs(s: I) -> Iterator[tuple[Step, shell.Script]]:
    for step in steps(s):
        if step.keyword == "RUN":
            yield step, shell.parse(step.text)


_SECRET_OPTIONS = ("--password", "--passwd", "--token", "--api-key", "--secret")


def _script_secrets(script: shell.Script) -> list[str]:
    found = []
    for c in script.commands:
        pairs = list(c.assignments)
        if c.name in ("export", "declare"):
            pairs += [tuple(a.split("=", 1)) for a in c.args if "=" in a]  # type: ignore[misc]
        for name, value in pairs:
            if sensitive.is_sensitive_name(name) and not sensitive.is_placeholder(value):
                found.append(f"{name}={sensitive.redact(value)}")
        args = list(c.args)
        for k, a in enumerate(args):
            opt, eq, value = a.partition("=")
            if opt in _SECRET_OPTIONS:
                value = value if eq else (args[k + 1] if k + 1 < len(args) else "")
                if value and not sensitive.is_placeholder(value) and value != "-":
                    found.append(f"{c.name} {opt} {sensitive.redact(value)}")
            if c.name == "curl" and a in ("-u", "--user") and k + 1 < len(args) \
                    and ":" in args[k + 1]:
                found.append(f"curl {a} user:{sensitive.redact(args[k + 1])}")
    return found


@rule(
    id="LSH-IMG-006",
    title="Credential in the image history",
    severity=Severity.HIGH,
    kind=FindingKind.SECRET,
    nist=("4.1.4",),
    aliases=("cis-docker-1.6:4.10",),
    remediation="Rotate the credential. Pass build secrets with RUN --mount=type=secret; "
    "build arguments and overwritten ENV values stay readable in the history.",
    references=("https://docs.docker.com/build/building/secrets/",),
    examples=(
        Example(ImageSpec(history=("RUN |1 NPM_TOKEN=abcd1234 /bin/sh -c npm ci # buildkit",)),
                True, "build argument"),
        Example(ImageSpec(history=("/bin/sh -c #(nop)  ENV DB_PASSWORD=hunter2",
                                   "/bin/sh -c #(nop)  ENV DB_PASSWORD=")), True,
                "overwritten ENV"),
        Example(ImageSpec(history=("/bin/sh -c mysql --password=s3cret -e 'select 1'",)), True,
                "command option"),
        Example(ImageSpec(history=("/bin/sh -c apk add --no-cache curl",
                                   "/bin/sh -c #(nop)  ENV PATH=/usr/local/bin")), False),
    ),
)
def history_secret(s: I) -> Iterator[Violation]:
    """The history is part of the image: anyone who pulls it can read every entry."""
    final_env = dict(e.partition("=")[::2] for e in s.image_config.env)
    for step in steps(s):
        found = [f"build argument {n}={sensitive.redact(v)}" for n, v in step.build_args
                 if (sensitive.is_sensitive_name(n) and not sensitive.is_placeholder(v))
                 or sensitive.secret_kind(v)]
        if step.keyword == "ENV":
            ws = step.text.split()
            pairs = [w.partition("=")[::2] for w in ws] if ws and "=" in ws[0] else \
                [(ws[0], " ".join(ws[1:]))] if ws else []
            for name, value in pairs:
                value = value.strip("\"'")
                if sensitive.is_sensitive_name(name) and not sensitive.is_placeholder(value) \
                        and final_env.get(name) != value:
                    found.append(f"ENV {name}={sensitive.redact(value)} (later overwritten)")
        elif step.keyword == "RUN":
            found += _script_secrets(shell.parse(step.text))
        kind = sensitive.secret_kind(step.text)
        if kind:
            found.append(f"text that looks like a {kind}")
        if found:
            yield s.history_violation(step.index, "history entry holds " + "; ".join(found))


@rule(
    id="LSH-IMG-007",
    title="Remote file added with ADD",
    severity=Severity.MEDIUM,
    nist=("4.1.5",),
    aliases=("dockle:CIS-DI-0009", "cis-docker-1.6:4.9"),
    description="ADD fetched a URL while building, with no integrity check recorded. (Dockle "
    "flags every ADD; base images are built with `ADD file:... in /`, so only remote "
    "sources are reported here.)",
    remediation="Download with a checksum check (or ADD --checksum=sha256:...), or COPY "
    "files from the build context.",
    references=(DOCKLE + "#cis-di-0009",),
    examples=(
        Example(ImageSpec(history=("ADD https://example.com/tool.tgz /opt/ # buildkit",)),
                True),
        Example(ImageSpec(history=("/bin/sh -c #(nop) ADD file:0a1b2c in / ",
                                   "COPY app /app # buildkit")), False),
    ),
)
def add_remote(s: I) -> Iterator[Violation]:
    """Whatever the server returned at build time is in the image, unverified."""
    for step in steps(s):
        if step.keyword == "ADD" and re.search(r"\b(?:https?|ftp)://", step.text) and \
                "--checksum" not in step.text:
            url = re.search(r"(?:https?|ftp)://\S+", step.text)
            yield s.history_violation(step.index,
                                      f"ADD {url.group(0) if url else 'a URL'}")


@rule(
    id="LSH-IMG-011",
    title="sudo used while building",
    severity=Severity.MEDIUM,
    aliases=("dockle:DKL-DI-0001",),
    remediation="Build steps run as the current USER; switch users with USER instead.",
    references=(DOCKLE + "#dkl-di-0001",),
    examples=(
        Example(ImageSpec(history=("/bin/sh -c sudo apt-get install -y git",)), True),
        Example(ImageSpec(history=("/bin/sh -c apt-get install -y sudo",)), False),
    ),
)
def history_sudo(s: I) -> Iterator[Violation]:
    """sudo in a build means a privileged escalation path left in the image."""
    for step, script in runs(s):
        if any("sudo" in c.wrappers or c.name == "sudo" for c in script.commands):
            yield s.history_violation(step.index, "RUN used sudo")


@rule(
    id="LSH-IMG-012",
    title="Package index updated alone while building",
    severity=Severity.LOW,
    nist=("4.1.1",),
    aliases=("dockle:CIS-DI-0007", "cis-docker-1.6:4.7"),
    remediation="Update and install in the same RUN.",
    references=(DOCKLE + "#cis-di-0007",),
    examples=(
        Example(ImageSpec(history=("/bin/sh -c apt-get update",)), True),
        Example(ImageSpec(history=("/bin/sh -c apt-get update && apt-get install -y x",)),
                False),
    ),
)
def history_update_alone(s: I) -> Iterator[Violation]:
    """A cached update layer makes later installs use stale package indexes."""
    for step, script in runs(s):
        cmds = [c for c in script.commands if pkgmgr.is_manager(c)]
        if any(pkgmgr.is_update(c) for c in cmds) and not any(pkgmgr.is_install(c)
                                                            for c in cmds):
            yield s.history_violation(step.index, "package index updated without installing")


@rule(
    id="LSH-IMG-013",
    title="Distribution upgraded while building",
    severity=Severity.LOW,
    aliases=("dockle:DKL-DI-0003",),
    remediation="Rebuild on a newer base image instead of dist-upgrade.",
    references=(DOCKLE + "#dkl-di-0003",),
    examples=(
        Example(ImageSpec(history=("/bin/sh -c apt-get dist-upgrade -y",)), True),
        Example(ImageSpec(history=("/bin/sh -c apt-get upgrade -y",)), False),
    ),
)
def history_dist_upgrade(s: I) -> Iterator[Violation]:
    """A distribution upgrade silently changes the base image's release."""
    for step, script in runs(s):
        if any(pkgmgr.is_dist_upgrade(c) for c in script.commands):
            yield s.history_violation(step.index, "RUN upgraded the distribution")


RULES = (history_secret, add_remote, history_sudo, history_update_alone, history_dist_upgrade)
