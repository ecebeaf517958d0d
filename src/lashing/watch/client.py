"""The engine API calls `lashing watch` makes, on top of the build-host
audit's `EngineClient` (version negotiation, `GET` with clear errors).

Adds what a watch needs: inspect calls that tell "gone" (404) from a
failure, the running-container list, exec sessions, image inspect, the
`/events` stream, and a probe that tells a socket that is not an engine from
an engine that is down.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from lashing.errors import EnvironmentFailure, InputError
from lashing.host.engine import Container, EngineClient, socket_path
from lashing.watch.stream import EventStream, NotAnEngine, StreamClosed

PROBE_TIMEOUT = 3.0


class WatchClient(EngineClient):
    """An `EngineClient` that also follows events."""

    def __init__(self, url: str, where: str = "--docker-host") -> None:
        self.path = socket_path(url, where)  # the event stream is read off a Unix socket
        super().__init__(url, where)
        self.api = ""
        self.engine = ""

    def negotiate(self) -> tuple[str, str]:
        """(engine, API version). A socket that answers, but not as an engine API, is
        an InputError (exit 2); an engine that is down or too old an EnvironmentFailure
        (exit 3)."""
        try:
            self.engine, self.api = self.version()
        except EnvironmentFailure as exc:
            reason = not_an_engine(self.path)
            if reason is not None:
                raise InputError(f"{self.where} {self.url} is not a Docker Engine API: "
                                 f"{reason}", "point --docker-host (or DOCKER_HOST) at "
                                 "dockerd's or podman system service's socket") from None
            raise exc from None
        return self.engine, self.api

    def lookup(self, path: str) -> Any | None:
        """GET a JSON document; None when the engine answers 404 (it is gone)."""
        try:
            response = self._client.get(path)
        except httpx.TransportError:
            return self.get(path)  # raises the client's own "unreachable" error
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            return self.get(path)  # the client's error for any other status
        try:
            return response.json()
        except ValueError:
            raise EnvironmentFailure(f"container engine at {self.url}: GET {path} did not "
                                     "answer JSON") from None

    def container(self, cid: str) -> Container | None:
        doc = self.lookup(f"/v{self.api}/containers/{cid}/json")
        return Container.from_inspect(doc) if isinstance(doc, Mapping) else None

    def running(self) -> list[Container]:
        """The containers running now, inspected (those gone meanwhile are left out)."""
        listing = self.get(f"/v{self.api}/containers/json")
        if not isinstance(listing, list):
            raise EnvironmentFailure(f"container engine at {self.url}: the container list "
                                     "is not an array")
        found = []
        for entry in listing:
            cid = str(entry.get("Id") or "") if isinstance(entry, Mapping) else ""
            c = self.container(cid) if cid else None
            if c is not None:
                found.append(c)
        return sorted(found, key=lambda c: (c.name, c.id))

    def exec_session(self, exec_id: str) -> Mapping[str, Any] | None:
        doc = self.lookup(f"/v{self.api}/exec/{exec_id}/json")
        return doc if isinstance(doc, Mapping) else None

    def image_created(self, reference: str) -> str | None:
        doc = self.lookup(f"/v{self.api}/images/{reference}/json")
        created = doc.get("Created") if isinstance(doc, Mapping) else None
        return created if isinstance(created, str) and created else None

    def events(self, since: str, max_line: int) -> EventStream:
        """Follow `GET /events` from `since` (seconds.nanoseconds since the epoch)."""
        filters = json.dumps({"type": ["container", "image"]})
        try:
            stream = EventStream(self.path, f"/v{self.api}/events",
                                 {"since": since, "filters": filters}, max_line=max_line)
        except NotAnEngine as exc:
            raise InputError(f"{self.where} {self.url}: GET /events: {exc}") from None
        if stream.status != 200:
            body = stream.read_all(PROBE_TIMEOUT, 300).decode("utf-8", "replace").strip()
            stream.close()
            raise EnvironmentFailure(f"container engine at {self.url}: GET /events answered "
                                     f"{stream.status}: {body}")
        return stream


def not_an_engine(path: str) -> str | None:
    """Why what answers on `path` is not an engine API; None when nothing answers, or
    when it answers `GET /version` as an engine does."""
    try:
        with EventStream(path, "/version", connect_timeout=PROBE_TIMEOUT) as probe:
            if probe.status != 200:
                return f"GET /version answered HTTP {probe.status}"
            body = probe.read_all(PROBE_TIMEOUT)
    except NotAnEngine as exc:
        return str(exc)
    except (OSError, StreamClosed):
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return "GET /version did not answer JSON"
    if not isinstance(doc, dict) or "ApiVersion" not in doc:
        return "GET /version names no ApiVersion"
    return None
