"""Fixtures of the `lashing watch` tests: a real engine per test module, and
`lashing watch` subprocesses stopped at the end of each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from watch.watchengine import Engine, WatchProcess, engine_service, start_watch


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    yield from engine_service()


@pytest.fixture
def watch_factory() -> Iterator[Callable[..., WatchProcess]]:
    started: list[WatchProcess] = []

    def factory(*args: str) -> WatchProcess:
        w = start_watch(*args)
        started.append(w)
        return w

    yield factory
    for w in started:
        w.stop()
