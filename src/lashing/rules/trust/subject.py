"""What the provenance rules look at: one image reference, the policy that
applies to it, and (when signatures were checked) the signature outcome."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lashing.model import Location
from lashing.rules.framework import Example
from lashing.source.reference import Reference, parse_reference
from lashing.trust.policy import ImagePolicy, policy_from_mapping
from lashing.trust.signatures import SignatureOutcome, SignatureStatus


@dataclass(frozen=True)
class TrustSubject:
    reference: str  # as the user or the manifest named it
    policy: ImagePolicy
    signature: SignatureOutcome | None = None  # None: signatures were not checked
    created: str | None = None  # the image configuration's `created`, if known
    now: datetime | None = None
    insecure_transport: bool = False  # the registry was spoken to over plain HTTP
    location: Location | None = None  # where the reference was found (a manifest line)

    @property
    def ref(self) -> Reference:
        return parse_reference(self.reference)

    def where(self) -> Location:
        return self.location if self.location is not None else Location(resource=self.reference)


_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_created(text: str) -> datetime | None:
    """An RFC 3339 time as image configs write it (up to nanoseconds); None if not one."""
    clean = _FRACTION.sub(r"\1", text.strip())
    try:
        when = datetime.fromisoformat(clean)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def load_example(example: Example) -> TrustSubject:
    """Example data: {"ref": ..., "policy": {[policy] keys}, "signature": status,
    "created": ..., "now": ..., "insecure": bool}."""
    data: dict[str, Any] = dict(example.data)  # type: ignore[call-overload]
    ref = str(data["ref"])
    policy = policy_from_mapping(data.get("policy", {}), Path("example.toml"))
    signature = None
    if "signature" in data:
        signature = SignatureOutcome(SignatureStatus(data["signature"]), "sha256:" + "a" * 64,
                                     detail=str(data.get("detail", "example")))
    now = datetime.fromisoformat(data["now"]) if "now" in data else None
    return TrustSubject(reference=ref, policy=policy.for_reference(ref), signature=signature,
                        created=data.get("created"), now=now,
                        insecure_transport=bool(data.get("insecure", False)))
