"""Where `lashing watch` writes: one line per finding as it happens (JSON, the
finding shape of the JSON report, or a human table line) on stdout or
appended to `--output FILE`; warnings and notes on stderr."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lashing.errors import InputError
from lashing.model import Finding, Severity
from lashing.report import json as json_report


def json_line(f: Finding) -> str:
    return json.dumps(json_report.finding(f), ensure_ascii=False)


def table_line(f: Finding) -> str:
    line = f"{f.severity.value:<8} {f.rule_id}  {f.message}"
    if f.suppression is not None:
        line += f"  [suppressed: {f.suppression.reason}]"
    return line


def open_output(path: str) -> IO[str]:
    """`--output FILE`, opened for appending."""
    try:
        return Path(path).open("a", encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"--output {path}: the directory does not exist") from None
    except OSError as exc:
        raise InputError(f"--output {path}: cannot write ({exc.strerror})") from None


@dataclass
class Emitter:
    fmt: str  # json or table
    out: IO[str]
    err: IO[str]
    quiet: bool = False
    count: int = 0
    worst: Severity | None = None  # of the findings not suppressed
    warnings: int = 0

    def finding(self, f: Finding) -> None:
        self.count += 1
        if f.suppression is None and (self.worst is None or f.severity.rank > self.worst.rank):
            self.worst = f.severity
        self.out.write((json_line(f) if self.fmt == "json" else table_line(f)) + "\n")
        self.out.flush()

    def warn(self, text: str) -> None:
        self.warnings += 1
        self.err.write(f"warning: {text}\n")
        self.err.flush()

    def note(self, text: str) -> None:
        if not self.quiet:
            self.err.write(f"note: {text}\n")
            self.err.flush()
