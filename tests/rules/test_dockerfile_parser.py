"""The Dockerfile parser: BuildKit's reading of the format, with line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from lashing.errors import InputError
from lashing.rules.dockerfile import parse
from lashing.rules.dockerfile.parser import expand, key_values, words

OFFICIAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "dockerfiles-official"


def test_lines_continuations_and_comments() -> None:
    df = parse("Dockerfile", "# comment\nFROM alpine:3.20 AS base\n\nRUN apk add \\\n"
                             "# inner comment\n    curl \\\n\n    git\nUSER app\n")
    run = df.instructions[1]
    assert (run.keyword, run.line, run.end_line) == ("RUN", 4, 8)
    assert run.rest.split() == ["apk", "add", "curl", "git"]
    assert df.instructions[2].line == 9
    assert df.stages[0].name == "base"


def test_escape_directive() -> None:
    df = parse("Dockerfile", "# escape=`\nFROM mcr.microsoft.com/windows:ltsc2022\n"
                             "RUN dir C:\\ `\n  && echo hi\n")
    assert df.escape == "`"
    assert df.instructions[1].rest == "dir C:\\   && echo hi"


def test_heredocs() -> None:
    df = parse("Dockerfile", "FROM alpine:3.20\nRUN <<EOF\napk add curl\nEOF\n"
                             "COPY <<-'END' /etc/x\n\tkey=value\n\tEND\nUSER app\n")
    run, copy, user = df.instructions[1:]
    assert run.heredocs[0].body == "apk add curl\n" and run.end_line == 4
    assert copy.heredocs[0].body == "key=value\n" and copy.heredocs[0].quoted
    assert user.line == 8


def test_exec_form_and_flags() -> None:
    df = parse("Dockerfile", 'FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n'
                             'RUN --mount=type=cache,target=/root/.cache go build\n'
                             'COPY --from=build --chown=1:1 /out /app\nCMD ["/app", "-v"]\n')
    assert df.stages[0].platform == "$BUILDPLATFORM"
    assert df.instructions[1].flag("mount") == "type=cache,target=/root/.cache"
    assert df.instructions[2].flag("from") == "build"
    assert df.instructions[3].exec_form == ("/app", "-v")


def test_arg_expansion_in_from_and_stage_parents() -> None:
    df = parse("Dockerfile", "ARG BASE=debian\nARG TAG\nFROM ${BASE}:${TAG:-12} AS one\n"
                             "FROM one\nFROM $UNKNOWN\n")
    assert [s.resolved for s in df.stages] == ["debian:12", "one", None]
    assert df.stages[1].parent == 0
    assert df.global_args == (("BASE", "debian"), ("TAG", None))


def test_words_and_key_values() -> None:
    assert words('a "b c" d\\ e \'f g\'') == ["a", "b c", "d e", "f g"]
    df = parse("Dockerfile", 'FROM x:1\nENV A=1 B="two words"\nENV LEGACY value with spaces\n'
                             'LABEL "k"="v" unterminated="x\n')
    assert key_values(df.instructions[1]) == [("A", "1"), ("B", "two words")]
    assert key_values(df.instructions[2]) == [("LEGACY", "value with spaces")]
    assert key_values(df.instructions[3])[0] == ("k", "v")
    assert expand("${A:+set}-${B:-def}", {"A": "1"}) == ("set-def", True)


def test_pragmas_attach_to_next_instruction() -> None:
    df = parse("Dockerfile", "FROM x:1\n# lashing:ignore=LSH-DF-030,LSH-DF-031 vendor needs it\n"
                             "# more words\nRUN sudo cd /\n# lashing:ignore=LSH-DF-001\n\nRUN ls\n")
    run = df.instructions[1]
    assert run.ignores[0].ids == ("LSH-DF-030", "LSH-DF-031")
    assert run.ignores[0].reason == "vendor needs it"
    orphan = df.pragmas[-1]
    assert orphan.target_line is None and orphan.reason == ""


@pytest.mark.parametrize(("text", "where"), [
    ("FROM x:1\nRUN <<EOF\necho never closed\n", "Dockerfile:2"),
    ("# only a comment\n", "Dockerfile:1"),
    ("FROM\n", "Dockerfile:1"),
    ("FROM x\x00\n", "Dockerfile"),
    ("# escape=x\nFROM x\n", "Dockerfile:1"),
])
def test_errors_name_file_and_line(text: str, where: str) -> None:
    with pytest.raises(InputError) as info:
        parse("Dockerfile", text)
    assert info.value.message.startswith(where)


def test_official_dockerfiles_parse() -> None:
    if not OFFICIAL.is_dir():
        pytest.skip(f"{OFFICIAL} is absent (../shared/data)")
    files = sorted(p for p in OFFICIAL.rglob("Dockerfile*") if p.is_file())
    assert files
    for path in files:
        df = parse(str(path), path.read_text(encoding="utf-8"))
        assert df.stages, path
        assert all(i.known for i in df.instructions), path
