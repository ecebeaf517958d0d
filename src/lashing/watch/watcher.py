"""The watch loop: follow the engine's events, audit what they name, and
survive the engine going away.

- Events are read with a short poll, so a stop request (SIGINT/SIGTERM) or a
  pending gap check is noticed within half a second.
- A line that is not an event is a warning on stderr; the watch goes on.
- When the connection breaks, the watch reconnects with exponential backoff
  (0.5 s doubling up to 10 s) and asks for events `since` the last one it saw
  (to the nanosecond), so nothing the engine can replay is lost; events seen
  twice are dropped.
- An engine that cannot replay (dockerd keeps no events across a restart;
  a lost event log) leaves a gap: containers that started while the watch
  was disconnected, and whose events did not come back within a few seconds
  of reconnecting, are reported as a gap on stderr and audited from their
  current state.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from lashing.errors import EnvironmentFailure, LashingError
from lashing.rules.runtime import ExecSession
from lashing.watch.audit import Auditor
from lashing.watch.client import WatchClient
from lashing.watch.events import (
    CONTAINER_ACTIONS,
    EXEC_ACTIONS,
    BadEvent,
    Event,
    format_time,
    parse_event,
    since_param,
)
from lashing.watch.output import Emitter
from lashing.watch.stream import MAX_LINE_BYTES, EventStream, StreamClosed

POLL = 0.5
REPLAY_GRACE = 3.0  # seconds after a reconnect for replayed events to arrive
SEEN = 4096  # event keys remembered to drop duplicates of a replay


@dataclass
class WatchSettings:
    max_retries: int = 10  # consecutive failed reconnects before giving up (exit 3)
    backoff_first: float = 0.5
    backoff_max: float = 10.0
    max_line: int = MAX_LINE_BYTES


@dataclass
class _Gap:
    start_nano: int  # the last event seen before the connection broke
    end_nano: int  # when the watch was connected again
    deadline: float  # monotonic time to decide
    pending: dict[str, str] = field(default_factory=dict)  # container id -> name


def now_nano() -> int:
    return time.time_ns()


def parse_rfc3339_nano(text: str) -> int | None:
    """`2026-11-26T14:31:01.426309242Z` -> nanoseconds since the epoch."""
    text = text.strip()
    if not text or text.startswith("0001-"):
        return None
    main, _, rest = text.partition(".")
    frac = ""
    zone = "Z"
    if rest:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        frac, zone = rest[:digits], rest[digits:] or "Z"
    else:
        for sep in ("Z", "+", "-"):
            at = main.rfind(sep, 19 if sep != "Z" else 0)
            if at >= 19:
                main, zone = main[:at], main[at:]
                break
    try:
        base = datetime.fromisoformat(main + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None
    return int(base.timestamp()) * 1_000_000_000 + int((frac + "000000000")[:9])


class Watcher:
    def __init__(self, connect: Callable[[], WatchClient], auditor: Auditor, emit: Emitter,
                 settings: WatchSettings, stop: Callable[[], bool]) -> None:
        self.connect = connect
        self.auditor = auditor
        self.emit = emit
        self.settings = settings
        self.stop = stop
        self.last_nano = now_nano()  # events from the moment the watch starts
        self._seen: deque[tuple[int, str, str, str, str]] = deque(maxlen=SEEN)
        self._seen_set: set[tuple[int, str, str, str, str]] = set()
        self._execs: set[str] = set()  # exec ids already audited
        self.events = 0
        self.gap: _Gap | None = None

    # -- the loop ---------------------------------------------------------------

    def run(self) -> None:
        """Until `stop()`; EnvironmentFailure after too many failed reconnects."""
        failures = 0
        disconnected_at: int | None = None
        while not self.stop():
            client: WatchClient | None = None
            try:
                client = self.connect()
                stream = client.events(since_param(self.last_nano), self.settings.max_line)
            except (EnvironmentFailure, OSError) as exc:
                if client is not None:
                    client.close()
                if isinstance(exc, OSError):
                    exc = EnvironmentFailure(f"container engine at {client.url if client else '?'}"
                                             f" is unreachable: {exc}")
                failures += 1
                if disconnected_at is None:
                    raise exc from None  # the first connection: the usual exit 3
                if failures > self.settings.max_retries:
                    raise EnvironmentFailure(
                        f"{exc.message}; gave up after {self.settings.max_retries} "
                        "reconnect attempts", "raise --max-retries to wait longer") from None
                self._sleep(min(self.settings.backoff_first * 2 ** (failures - 1),
                                self.settings.backoff_max))
                continue
            failures = 0
            try:
                with stream:
                    if disconnected_at is not None:
                        self.emit.note(f"reconnected to {client.url} ({client.engine}); "
                                       f"replaying events since {format_time(self.last_nano)}")
                        self._start_gap_check(client)
                    self._follow(client, stream)
            except (StreamClosed, OSError, EnvironmentFailure) as exc:
                reason = exc.message if isinstance(exc, EnvironmentFailure) else str(exc)
                self.emit.warn(f"lost the event stream of {client.url}: {reason}; "
                               "reconnecting")
                disconnected_at = now_nano()
            finally:
                client.close()

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stop() and time.monotonic() < end:
            time.sleep(min(0.1, end - time.monotonic()))

    def _follow(self, client: WatchClient, stream: EventStream) -> None:
        while not self.stop():
            for line in stream.poll(POLL):
                if line.oversized:
                    self.emit.warn(f"event stream: dropped a line over {self.settings.max_line}"
                                   f" bytes (starts {line.data[:60]!r})")
                    continue
                if not line.data.strip():
                    continue
                try:
                    event = parse_event(line.data)
                except BadEvent as exc:
                    self.emit.warn(f"event stream: skipped a malformed event: {exc}: "
                                   f"{line.data[:80]!r}")
                    continue
                self._handle(client, event)
            self._check_gap(client)

    # -- events -------------------------------------------------------------------

    def _handle(self, client: WatchClient, event: Event) -> None:
        if event.key in self._seen_set:
            return
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(event.key)
        self._seen_set.add(event.key)
        self.last_nano = max(self.last_nano, event.time_nano)
        self.events += 1
        if self.gap is not None and event.type == "container" \
                and event.action in CONTAINER_ACTIONS:
            self.gap.pending.pop(event.actor_id, None)
        try:
            if event.type == "container" and event.action in CONTAINER_ACTIONS:
                self._container(client, event)
            elif event.type == "container" and event.action in EXEC_ACTIONS:
                self._exec(client, event)
            elif event.type == "image" and event.action == "pull":
                ref = event.pulled_reference()
                if ref:
                    self.auditor.image(ref, event.when)
        except EnvironmentFailure:
            raise StreamClosed("the engine stopped answering") from None
        except LashingError as exc:
            self.emit.warn(f"{event.type} {event.action} {event.actor_id[:12]}: {exc.message}")

    def _gone(self, event: Event, what: str) -> None:
        name = event.name or event.actor_id[:12]
        self.emit.note(f"container {name} ({event.actor_id[:12]}) is gone; its {what} at "
                       f"{event.when} could not be inspected")

    def _container(self, client: WatchClient, event: Event) -> None:
        c = client.container(event.actor_id)
        if c is None:
            self._gone(event, event.action)
            return
        self.auditor.container(c, event.action, event.when)

    def _exec(self, client: WatchClient, event: Event) -> None:
        if event.exec_id and event.exec_id in self._execs:
            return  # Docker: exec_create, then exec_start of the same session
        c = client.container(event.actor_id)
        if c is None:
            self._gone(event, "exec")
            return
        ids = [event.exec_id] if event.exec_id else [
            str(i) for i in (c.inspect.get("ExecIDs") or []) if str(i) not in self._execs]
        sessions = []
        for exec_id in ids:
            doc = client.exec_session(exec_id)
            self._execs.add(exec_id)
            if doc is not None:
                sessions.append(ExecSession.from_inspect(doc))
        if not sessions and event.detail:  # Docker names the command in the action
            sessions.append(ExecSession(id=event.exec_id, command=tuple(event.detail.split())))
        for session in sessions or [ExecSession(known=False)]:
            self.auditor.exec(c, session, event.when)

    # -- gaps ---------------------------------------------------------------------

    def _start_gap_check(self, client: WatchClient) -> None:
        end = now_nano()
        gap = _Gap(self.last_nano, end, time.monotonic() + REPLAY_GRACE)
        for c in client.running():
            started = parse_rfc3339_nano(str(c.state.get("StartedAt") or ""))
            if started is not None and started > self.last_nano:
                gap.pending[c.id] = c.name or c.short_id
        self.gap = gap

    def _check_gap(self, client: WatchClient) -> None:
        gap = self.gap
        if gap is None or time.monotonic() < gap.deadline:
            return
        self.gap = None
        if not gap.pending:
            return
        names = ", ".join(sorted(gap.pending.values()))
        self.emit.warn(f"gap: the engine did not replay its events from "
                       f"{format_time(gap.start_nano)} to {format_time(gap.end_nano)}; "
                       f"container(s) started meanwhile are audited from their current "
                       f"state: {names}")
        for cid in sorted(gap.pending, key=lambda i: gap.pending[i]):
            c = client.container(cid)
            if c is not None:
                self.auditor.container(c, "running (not replayed)", format_time(now_nano()))
