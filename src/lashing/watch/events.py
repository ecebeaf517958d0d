"""Engine events as the Docker Engine API's `GET /events` describes them, from
dockerd or `podman system service`.

    {"Type": "container", "Action": "start", "Actor": {"ID": "4f2a…",
     "Attributes": {"name": "web", "image": "nginx:1.27"}}, "time": 1700000000,
     "timeNano": 1700000000123456789}

Docker names exec events `exec_create: sh -c id` with an `execID` attribute;
Podman names them `exec` and gives no exec id. Docker's image pull event
carries the reference as the actor id; Podman's as the `name` attribute.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

CONTAINER_ACTIONS = frozenset({"create", "start"})
EXEC_ACTIONS = frozenset({"exec", "exec_create", "exec_start"})


class BadEvent(ValueError):
    """A line of the event stream that is not an event object."""


@dataclass(frozen=True)
class Event:
    type: str  # container, image, network, volume, system...
    action: str  # create, start, exec_create, pull... (without Docker's ": command")
    actor_id: str  # container id, image id or reference
    attributes: Mapping[str, str]
    time_nano: int  # nanoseconds since the epoch
    detail: str = ""  # what Docker puts after the colon of exec_create: / exec_start:

    @property
    def name(self) -> str:
        return self.attributes.get("name", "")

    @property
    def image(self) -> str:
        return self.attributes.get("image", "")

    @property
    def exec_id(self) -> str:
        return self.attributes.get("execID", "")

    @property
    def when(self) -> str:
        """The event time, RFC 3339 in UTC with nanoseconds."""
        return format_time(self.time_nano)

    @property
    def key(self) -> tuple[int, str, str, str, str]:
        """What identifies one event, to drop the ones a replay sends twice."""
        return (self.time_nano, self.type, self.action, self.actor_id, self.exec_id)

    def pulled_reference(self) -> str:
        """The image reference of an image pull event."""
        ref = self.actor_id if self.actor_id and not _is_digest_id(self.actor_id) else ""
        return ref or self.name


def _is_digest_id(text: str) -> bool:
    bare = text.removeprefix("sha256:")
    return len(bare) == 64 and all(c in "0123456789abcdef" for c in bare)


def format_time(time_nano: int) -> str:
    seconds, nanos = divmod(time_nano, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def since_param(time_nano: int) -> str:
    """The `since=` value for events at or after this instant (seconds.nanoseconds)."""
    seconds, nanos = divmod(time_nano, 1_000_000_000)
    return f"{seconds}.{nanos:09d}"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def parse_event(line: bytes) -> Event:
    """One line of the stream -> Event; BadEvent with a short reason otherwise."""
    try:
        doc: Any = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadEvent(f"not JSON ({exc.__class__.__name__}: {str(exc)[:80]})") from None
    if not isinstance(doc, dict):
        raise BadEvent(f"a JSON {type(doc).__name__}, not an event object")
    actor_raw = doc.get("Actor")
    actor: dict[str, Any] = actor_raw if isinstance(actor_raw, dict) else {}
    attrs = actor.get("Attributes")
    attrs_raw: dict[str, Any] = attrs if isinstance(attrs, dict) else {}
    attributes = {str(k): v for k, v in attrs_raw.items() if isinstance(v, str)}
    action_text = _text(doc.get("Action")) or _text(doc.get("status"))
    kind = _text(doc.get("Type")) or ("container" if doc.get("id") else "")
    if not action_text or not kind:
        raise BadEvent("no Type or Action")
    action, _, detail = action_text.partition(":")
    time_nano = doc.get("timeNano")
    if isinstance(time_nano, bool) or not isinstance(time_nano, int) or time_nano <= 0:
        seconds = doc.get("time")
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
            raise BadEvent("no time")
        time_nano = seconds * 1_000_000_000
    actor_id = _text(actor.get("ID")) or _text(doc.get("id"))
    return Event(kind, action.strip(), actor_id, attributes, time_nano, detail.strip())
