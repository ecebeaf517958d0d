"""What Dockerfile rules receive: the parsed file, the rule config, and helpers
that every rule shares (shell scripts of RUN, the shell in effect, locations)."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

from lashing.model import Location
from lashing.rules import shell
from lashing.rules.dockerfile.parser import Dockerfile, Instruction, Stage
from lashing.rules.framework import NotApplicable, RuleConfig, Violation

DEFAULT_SHELL = ("/bin/sh", "-c")


@dataclass(frozen=True)
class Configured:
    """An example Dockerfile evaluated with a non-default RuleConfig."""

    text: str
    config: RuleConfig

    def __str__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.config.__dict__.items()
                             if v != getattr(RuleConfig(), k))
        return f"# rule config: {settings}\n{self.text}"


@dataclass(frozen=True)
class DockerfileSubject:
    dockerfile: Dockerfile
    config: RuleConfig = field(default_factory=RuleConfig)
    _scripts: dict[int, shell.Script] = field(default_factory=dict, compare=False, repr=False)

    @property
    def path(self) -> str:
        return self.dockerfile.path

    # -- instructions ------------------------------------------------------
    def all(self, *keywords: str) -> Iterator[Instruction]:
        """Instructions with these keywords, in order (all when none given)."""
        for inst in self.dockerfile.instructions:
            if not keywords or inst.keyword in keywords:
                yield inst

    def in_stage(self, stage: Stage, *keywords: str) -> list[Instruction]:
        return [i for i in stage.instructions if not keywords or i.keyword in keywords]

    # -- shell -------------------------------------------------------------
    def shell_of(self, inst: Instruction) -> tuple[str, ...]:
        """The SHELL in effect for `inst` (inherited from parent stages)."""
        if inst.stage < 0:
            return DEFAULT_SHELL
        stages = self.dockerfile.chain(self.dockerfile.stages[inst.stage])
        for k, stage in enumerate(stages):
            for other in reversed(stage.instructions):
                if k == 0 and other.line >= inst.line:
                    continue
                if other.keyword == "SHELL" and other.exec_form:
                    return other.exec_form
        return DEFAULT_SHELL

    def is_posix(self, inst: Instruction) -> bool:
        if inst.exec_form is not None:
            return True
        sh = self.shell_of(inst)
        name = posixpath.basename(sh[0].replace("\\", "/")).lower() if sh else ""
        return name.removesuffix(".exe") in shell.SHELLS

    def script(self, inst: Instruction) -> shell.Script:
        """The commands a RUN instruction runs (empty for non-POSIX shells)."""
        key = id(inst)
        cached = self._scripts.get(key)
        if cached is not None:
            return cached
        if not self.is_posix(inst):
            result = shell.parse()
        elif inst.exec_form is not None:
            result = shell.parse(shlex.join(inst.exec_form)) if inst.exec_form else shell.parse()
        else:
            result = shell.parse(inst.rest, *_shell_heredocs(inst))
        self._scripts[key] = result
        return result

    def runs(self, stages: list[Stage] | None = None) -> Iterator[tuple[Instruction,
                                                                        shell.Script]]:
        """Every RUN with its script, optionally only in `stages`."""
        wanted = None if stages is None else {s.index for s in stages}
        for inst in self.dockerfile.instructions:
            if inst.keyword == "RUN" and (wanted is None or inst.stage in wanted):
                yield inst, self.script(inst)

    def commands(self, *names: str, stages: list[Stage] | None = None,
                 ) -> Iterator[tuple[Instruction, shell.Command]]:
        for inst, script in self.runs(stages):
            for cmd in script.commands:
                if not names or cmd.name in names:
                    yield inst, cmd

    def require_commands(self, *names: str) -> None:
        """Raise NotApplicable when no RUN uses any of `names`."""
        if not any(True for _ in self.commands(*names)):
            raise NotApplicable(f"no RUN uses {', '.join(names)}")

    # -- results -----------------------------------------------------------
    def location(self, inst: Instruction) -> Location:
        return Location(path=self.path, line=inst.line)

    def violation(self, inst: Instruction, message: str) -> Violation:
        return Violation(message, self.location(inst), f"{self.path}:{inst.line}")

    def file_violation(self, message: str, line: int | None = None) -> Violation:
        return Violation(message, Location(path=self.path, line=line),
                         f"{self.path}:{line or 0}")


def _shell_heredocs(inst: Instruction) -> list[str]:
    """Bodies of the here-documents that a shell runs (RUN <<EOF, RUN bash <<EOF)."""
    bodies = []
    for h in inst.heredocs:
        m = re.search(r"<<-?[\"']?" + re.escape(h.delimiter), inst.rest)
        before = inst.rest[:m.start()].split() if m else []
        runner = posixpath.basename(before[-1]) if before else ""
        first = h.body.split("\n", 1)[0]
        if first.startswith("#!"):
            interpreter = first[2:].split()
            words = [posixpath.basename(w) for w in interpreter[:2]]
            if not any(w in shell.SHELLS for w in words):
                continue
        if not before or runner in shell.SHELLS:
            bodies.append(h.body)
    return bodies
