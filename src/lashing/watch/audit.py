"""Turning what the engine reports into runtime findings: one `RuntimeSubject`
per container, exec or pulled image, evaluated by the LSH-RUN rules, with the
`[watch]` exceptions applied. Each finding is emitted once per watch (a
container started twice with the same settings is reported once)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lashing.errors import LashingError
from lashing.host.engine import Container
from lashing.model import Severity, Suppression
from lashing.rules.framework import Rule, Violation
from lashing.rules.runtime import ExecSession, RuntimeSubject, Workload, scan_runtime
from lashing.source.reference import parse_reference
from lashing.trust.policy import ImagePolicy, Policy
from lashing.trust.signatures import SignatureOutcome
from lashing.watch.config import WatchConfig
from lashing.watch.output import Emitter

Verify = Callable[[str], SignatureOutcome]
Created = Callable[[str], "str | None"]


@dataclass
class Auditor:
    target: str  # the engine URL: every finding's target
    emit: Emitter
    config: WatchConfig = field(default_factory=WatchConfig)
    policy: Policy | None = None
    skip: Collection[str] = frozenset()
    shown: Collection[Severity] = ()  # empty: every severity
    verify: Verify | None = None  # --verify-images
    created: Created | None = None  # the image's creation time, for max_age_days
    today: date = field(default_factory=date.today)
    emitted: set[str] = field(default_factory=set)  # fingerprints
    checked_images: dict[str, tuple[ImagePolicy | None, str | None,
                                    SignatureOutcome | None]] = field(default_factory=dict)

    def _provenance(self, ref: str) -> tuple[ImagePolicy | None, str | None,
                                             SignatureOutcome | None]:
        """The policy, creation time and signature outcome for an image reference."""
        if self.policy is None or not ref:
            return None, None, None
        if ref in self.checked_images:
            return self.checked_images[ref]
        try:
            pol = self.policy.for_repository(parse_reference(ref).repository_name)
        except LashingError as exc:
            self.emit.note(f"image {ref!r}: not checked against the policy: {exc.message}")
            self.checked_images[ref] = (None, None, None)
            return None, None, None
        created = None
        if pol.max_age_days is not None and self.created is not None:
            created = self.created(ref)
        signature = None
        if self.verify is not None:
            try:
                signature = self.verify(ref)
            except LashingError as exc:
                self.emit.warn(f"image {ref}: signature not verified: {exc.message}")
        self.checked_images[ref] = (pol, created, signature)
        return pol, created, signature

    def _run(self, subject: RuntimeSubject, identity: str, container: str, image: str) -> int:
        def suppress(r: Rule[Any], v: Violation) -> Suppression | None:
            return self.config.suppression(r, container, image, self.today)

        findings, _ = scan_runtime(subject, self.target, identity, self.skip, suppress)
        n = 0
        for f in findings:
            if f.fingerprint in self.emitted or (self.shown and f.severity not in self.shown):
                continue
            self.emitted.add(f.fingerprint)
            self.emit.finding(f)
            n += 1
        return n

    def container(self, c: Container, event: str, when: str) -> int:
        """A container created, started, or running now: its settings and its image."""
        w = Workload(c)
        pol, created, signature = self._provenance(w.image)
        subject = RuntimeSubject(workload=w, image=w.image or None, policy=pol,
                                 created=created, signature=signature, event=event, when=when)
        return self._run(subject, c.id, w.name, w.image)

    def exec(self, c: Container, session: ExecSession, when: str) -> int:
        w = Workload(c)
        subject = RuntimeSubject(workload=w, exec_session=session, event="exec", when=when)
        return self._run(subject, c.id, w.name, w.image)

    def image(self, ref: str, when: str) -> int:
        """An image pulled: its reference against the policy."""
        pol, created, signature = self._provenance(ref)
        if pol is None:
            return 0
        subject = RuntimeSubject(image=ref, policy=pol, created=created, signature=signature,
                                 event="pull", when=when)
        return self._run(subject, ref, "", ref)
