"""Progress reporting. Library code takes a Progress; only the CLI decides
whether it draws (stderr is a terminal and --no-progress was not given)."""

from __future__ import annotations

from types import TracebackType
from typing import IO, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as RichProgress


class Task(Protocol):
    def advance(self, amount: int) -> None: ...
    def finish(self) -> None: ...


class Progress(Protocol):
    def task(self, description: str, total: int | None) -> Task: ...


class _NullTask:
    def advance(self, amount: int) -> None:
        pass

    def finish(self) -> None:
        pass


class NullProgress:
    """Draws nothing."""

    def task(self, description: str, total: int | None) -> Task:
        return _NullTask()


class _RichTask:
    def __init__(self, bar: RichProgress, task_id: TaskID) -> None:
        self._bar = bar
        self._id = task_id

    def advance(self, amount: int) -> None:
        self._bar.advance(self._id, amount)

    def finish(self) -> None:
        task = self._bar.tasks[self._id]
        if task.total is None:
            self._bar.update(self._id, total=task.completed)
        else:
            self._bar.update(self._id, completed=task.total)


class TerminalProgress:
    """A rich progress bar of bytes per layer, on the given stream."""

    def __init__(self, stream: IO[str]) -> None:
        # rich is imported only when a bar is drawn: it is slow to import.
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=True,
        )

    def __enter__(self) -> TerminalProgress:
        self._bar.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def task(self, description: str, total: int | None) -> Task:
        return _RichTask(self._bar, self._bar.add_task(description, total=total))
