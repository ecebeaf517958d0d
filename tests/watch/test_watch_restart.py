"""The engine restarts under a running watch: events that happened while it
was down are replayed (since=) and reported; when the engine cannot replay
them (its event log is gone) the gap is reported and the containers started
meanwhile are audited from their current state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from watch.watchengine import Engine, WatchProcess

ARGS = ("--privileged", "--network", "none")


def on(name: str, rule_id: str) -> Callable[[dict[str, Any]], bool]:
    def pred(f: dict[str, Any]) -> bool:
        return bool(f["rule_id"] == rule_id
                    and f["location"]["resource"].startswith(f"container/{name}/"))
    return pred


def test_restart_replays_and_reports_gaps(
        engine: Engine, watch_factory: Callable[..., WatchProcess]) -> None:
    w = watch_factory("--docker-host", engine.url, "--max-retries", "30")
    engine.run("before", *ARGS)
    w.wait_finding(on("before", "LSH-RUN-001"))

    # down: the podman CLI still runs containers, its events go to the event log
    engine.stop_service()
    w.wait_err(lambda line: line.startswith("warning: lost the event stream"))
    during_id = engine.run("during", *ARGS)
    engine.start_service()
    w.wait_err(lambda line: line.startswith("note: reconnected to"))
    replayed = w.wait_finding(on("during", "LSH-RUN-001"))
    assert f"container during ({during_id[:12]}" in replayed["message"]
    assert ", create at " in replayed["message"]  # from the replayed event itself
    assert not any("gap:" in line for line in w.err_lines)

    # down again, and the event log lost: nothing to replay
    engine.stop_service()
    w.wait_err(lambda line: line.startswith("warning: lost the event stream"), count=2)
    lost_id = engine.run("lost", *ARGS)
    log = engine.dir / "tmp" / "events" / "events.log"
    assert log.exists()
    log.write_text("")
    engine.start_service()
    gap = w.wait_err(lambda line: line.startswith("warning: gap: the engine did not replay"))
    assert "lost" in gap
    audited = w.wait_finding(on("lost", "LSH-RUN-001"))
    assert f"container lost ({lost_id[:12]}" in audited["message"]
    assert "running (not replayed) at" in audited["message"]

    # the watch goes on after all that
    engine.run("after", *ARGS)
    w.wait_finding(on("after", "LSH-RUN-001"))
    assert w.stop() == 0
    before = [f for f in w.findings() if on("before", "LSH-RUN-001")(f)]
    assert len(before) == 1  # the replay did not report it twice
