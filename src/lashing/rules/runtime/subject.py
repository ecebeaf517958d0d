"""What the runtime rules (LSH-RUN) look at: one thing that happened on a
running engine, described once.

- a container that was created or started (or is running, for `--once`):
  its `GET /containers/{id}/json` document as a `Workload`;
- an exec into a running container: an `ExecSession` (from
  `GET /exec/{id}/json`, or only the event when the engine said no more);
- an image reference that was pulled or that a container uses, with the
  provenance policy that applies to it.

Each part is optional; a rule whose part is absent is not applicable.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lashing.host.engine import Container
from lashing.model import Location
from lashing.rules.framework import Example, NotApplicable, Violation
from lashing.rules.trust import TrustSubject
from lashing.source.reference import parse_reference
from lashing.trust.policy import ImagePolicy, policy_from_mapping
from lashing.trust.signatures import SignatureOutcome, SignatureStatus

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "fish", "csh", "tcsh",
                    "busybox", "pwsh", "powershell"})


@dataclass(frozen=True)
class Workload:
    """One container's settings, mapped from the engine's inspect document."""

    container: Container

    @property
    def id(self) -> str:
        return self.container.id

    @property
    def name(self) -> str:
        return self.container.name or self.container.short_id

    @property
    def image(self) -> str:
        """The reference the container was created from (as the user named it)."""
        image = str(self.container.config.get("Image") or "")
        return image or str(self.container.inspect.get("ImageName") or "")

    @property
    def security_opts(self) -> list[str]:
        opts = self.container.host_config.get("SecurityOpt") or []
        return [str(o).replace("=", ":", 1).lower() for o in opts] if isinstance(opts, list) \
            else []

    @property
    def apparmor_profile(self) -> str:
        return str(self.container.inspect.get("AppArmorProfile") or "")

    def mode(self, field_name: str) -> str:
        return str(self.container.host_config.get(field_name) or "")


@dataclass(frozen=True)
class ExecSession:
    """A process started in a running container with `exec`."""

    id: str = ""
    command: tuple[str, ...] = ()
    user: str = ""  # "" means the container's user
    tty: bool = False
    stdin: bool = False
    privileged: bool = False
    known: bool = True  # False: the engine did not say which command ran

    @property
    def program(self) -> str:
        return posixpath.basename(self.command[0]) if self.command else ""

    @property
    def shell(self) -> bool:
        return self.program in SHELLS or any(
            posixpath.basename(a) in SHELLS for a in self.command[:2] if self.program == "env")

    @property
    def interactive(self) -> bool:
        return self.tty or self.stdin

    def describe(self, container_user: str) -> str:
        user = self.user or container_user or "root"
        command = " ".join(self.command) if self.command else "?"
        if len(command) > 200:
            command = command[:200] + "..."
        return (f"exec {command!r} as user {user}, TTY {'asked' if self.tty else 'not asked'}, "
                f"stdin {'attached' if self.stdin else 'not attached'}")

    @classmethod
    def from_inspect(cls, doc: Mapping[str, Any]) -> ExecSession:
        """From `GET /exec/{id}/json` (Docker and Podman answer the same shape)."""
        pc = doc.get("ProcessConfig")
        pc = pc if isinstance(pc, Mapping) else {}
        args = pc.get("arguments")
        command = (str(pc.get("entrypoint") or ""),
                   *(str(a) for a in (args if isinstance(args, list) else [])))
        return cls(id=str(doc.get("ID") or ""), command=tuple(c for c in command if c),
                   user=str(pc.get("user") or ""), tty=pc.get("tty") is True,
                   stdin=doc.get("OpenStdin") is True, privileged=pc.get("privileged") is True)


@dataclass(frozen=True)
class RuntimeSubject:
    workload: Workload | None = None
    exec_session: ExecSession | None = None
    image: str | None = None  # the reference checked against the policy
    policy: ImagePolicy | None = None  # None: no provenance policy given
    created: str | None = None  # the image configuration's `created`, when known
    signature: SignatureOutcome | None = None  # None: signatures were not checked
    event: str = "running"  # create, start, exec, pull; "running" for a snapshot
    when: str = ""  # the event time (RFC 3339), or when the snapshot was taken
    notes: tuple[str, ...] = field(default=())

    def need_workload(self) -> Workload:
        if self.workload is None:
            raise NotApplicable("no container in this event")
        return self.workload

    def need_exec(self) -> ExecSession:
        if self.exec_session is None:
            raise NotApplicable("no exec in this event")
        return self.exec_session

    def trust(self) -> TrustSubject:
        """The provenance rules' subject for this image reference."""
        if not self.image:
            raise NotApplicable("no image reference in this event")
        if self.policy is None:
            raise NotApplicable("no provenance policy (--policy, or [policy] in --config)")
        return TrustSubject(reference=self.image, policy=self.policy, signature=self.signature,
                            created=self.created, location=self.location())

    def resource(self) -> str:
        if self.workload is not None:
            return f"container/{self.workload.name}/{self.workload.container.short_id}"
        return f"image/{self.image or '?'}"

    def location(self) -> Location:
        return Location(resource=self.resource())

    def prefix(self) -> str:
        """Who, what image, when: the start of every message."""
        when = f"{self.event} at {self.when}" if self.when else self.event
        if self.workload is not None:
            w = self.workload
            image = w.image or self.image or "?"
            return f"container {w.name} ({w.container.short_id}, image {image}, {when})"
        return f"image {self.image or '?'} ({when})"

    def violation(self, message: str, key: str = "") -> Violation:
        identity = self.workload.id if self.workload is not None else (self.image or "")
        return Violation(f"{self.prefix()}: {message}", self.location(),
                         f"{identity}#{key}" if key else identity)


def load_example(example: Example) -> RuntimeSubject:
    """Examples are dicts: an inspect document (it has "HostConfig"), or
    {"exec": {...exec inspect...}} / {"exec": None} for an exec the engine did
    not describe, or {"image": REF, "policy": {[policy] keys}, "signature": STATUS}."""
    data = example.data
    if not isinstance(data, Mapping):
        raise TypeError(f"a runtime example is a dict, not {type(data).__name__}")
    if "HostConfig" in data:
        return RuntimeSubject(workload=Workload(Container.from_inspect(data)),
                              when="2026-01-01T00:00:00.000000000Z", event="start")
    if "exec" in data:
        doc = data["exec"]
        session = ExecSession.from_inspect(doc) if isinstance(doc, Mapping) \
            else ExecSession(known=False)
        container = Container.from_inspect({"Id": "4f2a" + "0" * 60, "Name": "/web",
                                            "Config": {"Image": "registry.lan/app:1.2"}})
        return RuntimeSubject(workload=Workload(container), exec_session=session, event="exec")
    ref = str(data["image"])
    policy = policy_from_mapping(data.get("policy", {}), Path("example.toml"))
    parse_reference(ref)
    signature = None
    if "signature" in data:
        signature = SignatureOutcome(SignatureStatus(data["signature"]), "sha256:" + "a" * 64,
                                     detail="example")
    return RuntimeSubject(image=ref, policy=policy.for_reference(ref), signature=signature,
                          created=data.get("created"), event="pull")
