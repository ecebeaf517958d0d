"""Helpers shared by subcommands: option parsing, output writing."""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from pathlib import Path
from typing import IO

from lashing.errors import InputError

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2,
          "mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "t": 1000**4,
          "tb": 1000**4, "tib": 1024**4}


def parse_size(text: str, what: str = "size") -> int:
    """`500MB`, `5GiB`, `1024` -> bytes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).lower() not in _UNITS:
        raise InputError(f"{what} {text!r}: expected a size such as 500MB or 10GiB")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def add_format(parser: argparse.ArgumentParser, choices: tuple[str, ...], default: str) -> None:
    parser.set_defaults(format_choices=choices, format_default=default)


def output_format(args: argparse.Namespace) -> str:
    fmt = (args.format or args.format_default).lower()
    if fmt not in args.format_choices:
        raise InputError(f"--format {fmt!r}: this command writes "
                         + ", ".join(args.format_choices))
    return str(fmt)


def write_output(text: str, output: str | None, stdout: IO[str]) -> None:
    """Write to --output atomically (all or nothing), or to stdout."""
    if not output or output == "-":
        stdout.write(text)
        stdout.flush()
        return
    dest = Path(output)
    if dest.is_char_device() or str(dest) == os.devnull:
        with dest.open("w", encoding="utf-8") as f:
            f.write(text)
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=".lashing-", dir=dest.parent or Path())
        with open(fd, "w", encoding="utf-8") as f:
            f.write(text)
        Path(tmp).replace(dest)
    except FileNotFoundError:
        raise InputError(f"--output {output}: the directory does not exist") from None
    except OSError as exc:
        raise InputError(f"--output {output}: cannot write ({exc.strerror})") from None
