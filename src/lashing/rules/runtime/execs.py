"""Exec rules (LSH-RUN-020..022): a process started with `exec` in a running
container. A shell or an interactive session in production is how intruders
and hurried operators change what runs, outside any build or review."""

from __future__ import annotations

from collections.abc import Iterator

from lashing.model import Severity
from lashing.rules.framework import Example, Rule, Violation, rule
from lashing.rules.host.spec import CIS
from lashing.rules.runtime.subject import RuntimeSubject
from lashing.rules.runtime.workload import cis

EXEC_DOCS = "https://docs.docker.com/reference/cli/docker/container/exec/"
TAG = ("exec",)


def _exec(command: list[str], tty: bool = False, stdin: bool = False, user: str = "",
          privileged: bool = False) -> dict[str, object]:
    return {"exec": {"ID": "e" * 64, "OpenStdin": stdin,
                     "ProcessConfig": {"entrypoint": command[0], "arguments": command[1:],
                                       "tty": tty, "user": user, "privileged": privileged}}}


def _user(s: RuntimeSubject) -> str:
    w = s.workload
    return str(w.container.config.get("User") or "") if w is not None else ""


@rule(
    id="LSH-RUN-020", title="Shell or interactive exec into a running container",
    severity=Severity.HIGH, nist=("4.4.5", "4.4.3"), tags=TAG, references=(EXEC_DOCS,),
    remediation="Do not change running containers by hand: rebuild and redeploy. If the "
    "exec was not yours, treat the container as compromised.",
    examples=(
        Example(_exec(["/bin/sh", "-c", "id"]), True, "shell"),
        Example(_exec(["cat", "/etc/passwd"], tty=True, stdin=True), True, "interactive"),
        Example(_exec(["/usr/bin/env", "bash"]), True, "env bash"),
        Example(_exec(["/app/healthz"]), False, "probe"),
    ),
)
def shell_exec(s: RuntimeSubject) -> Iterator[Violation]:
    """A shell, or a process with a terminal or stdin attached, started with exec."""
    e = s.need_exec()
    if not e.known:
        return
    why = [w for w, on in (("a shell", e.shell), ("interactive", e.interactive)) if on]
    if why:
        yield s.violation(f"{e.describe(_user(s))} ({', '.join(why)})", f"exec:{e.id}")


@rule(
    id="LSH-RUN-021", title="Privileged exec into a running container",
    severity=Severity.HIGH, nist=("4.4.3",), tags=TAG, references=(CIS, EXEC_DOCS),
    aliases=cis("5.23"),
    remediation="Never use docker exec --privileged: it gives the process every capability "
    "regardless of the container's settings.",
    examples=(Example(_exec(["/app/tool"], privileged=True), True),
              Example(_exec(["/app/tool"]), False)),
)
def privileged_exec(s: RuntimeSubject) -> Iterator[Violation]:
    """An exec with --privileged runs with all capabilities, outside the container's
    confinement."""
    e = s.need_exec()
    if e.known and e.privileged:
        yield s.violation(f"{e.describe(_user(s))} with --privileged", f"exec:{e.id}")


@rule(
    id="LSH-RUN-022", title="Exec into a running container (command not known)",
    severity=Severity.MEDIUM, nist=("4.4.5",), tags=TAG, references=(EXEC_DOCS,),
    remediation="Find out who ran the exec (engine and audit logs); rebuild and redeploy "
    "instead of changing running containers.",
    examples=(Example({"exec": None}, True), Example(_exec(["/app/healthz"]), False)),
)
def unknown_exec(s: RuntimeSubject) -> Iterator[Violation]:
    """The engine reported an exec but the session was gone before it could be
    inspected (Podman's events carry no exec id): what ran is not known."""
    e = s.need_exec()
    if not e.known:
        yield s.violation("an exec ran; it ended before the engine could say which command "
                          "(shell, user and TTY not known)", f"exec:?{s.when}")


RULES: tuple[Rule[RuntimeSubject], ...] = (shell_exec, privileged_exec, unknown_exec)
