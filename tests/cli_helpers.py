"""Run the CLI in-process and capture what it prints."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from lashing.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run(*argv: str, stdin: bytes | None = None) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err, io.BytesIO(stdin) if stdin is not None else None)
    return Result(code, out.getvalue(), err.getvalue())
