"""The shell reader finds every command, wherever it hides."""

from __future__ import annotations

import pytest

from lashing.rules.shell import parse


def names(script: str) -> list[str]:
    return [c.name for c in parse(script).commands]


@pytest.mark.parametrize(("script", "expected"), [
    ("a && b || c; d | e & f", ["a", "b", "c", "d", "e", "f"]),
    ("sudo -u app apt-get install x", ["apt-get"]),
    ("env -i FOO=1 nohup time pip install x", ["pip"]),
    ("sh -c 'apt-get update && apk add x'", ["sh", "apt-get", "apk"]),
    ("bash -ec \"curl -k https://x\"", ["bash", "curl"]),
    ("echo $(curl -k x) `wget y`", ["echo", "curl", "wget"]),
    ("if [ -f x ]; then rm x; else touch x; fi", ["[", "rm", "touch"]),
    ("for f in a b; do chmod 777 $f; done", ["chmod"]),
    ("case \"$a\" in amd64) A=1;; arm64|aarch64) wget x ;; *) exit 1;; esac; ls",
     ["", "wget", "exit", "ls"]),
    ("cat <<EOF > /x\napt-get install nope\nEOF\necho done", ["cat", "echo"]),
    ("x=1 y='2 3' make", ["make"]),
    ("command -v apt-get", ["command"]),
    ("xargs -r apk add --no-cache", ["apk"]),
])
def test_commands(script: str, expected: list[str]) -> None:
    assert names(script) == expected


def test_assignments_and_quotes() -> None:
    cmd = parse("A=1 B=\"x y\" C='z' run 'a b' \"c\\\"d\" e\\ f").commands[0]
    assert cmd.assignments == (("A", "1"), ("B", "x y"), ("C", "z"))
    assert cmd.effective == ("run", "a b", 'c"d', "e f")


def test_unterminated_quote_is_read_leniently() -> None:
    cmd = parse("LOL='123\\'' NODE_TLS_REJECT_UNAUTHORIZED='0' python x.py").commands[0]
    assert ("NODE_TLS_REJECT_UNAUTHORIZED", "0") in cmd.assignments


def test_pipelines_and_pipefail() -> None:
    script = parse("curl x | tar xz; set -o pipefail; wget y | sh")
    pipes = [[c.name for c in p] for p in script.pipelines]
    assert pipes == [["curl", "tar"], ["set"], ["wget", "sh"]]
    first, last = script.pipelines[0][0], script.pipelines[2][0]
    assert not script.pipefail_before(first.order)
    assert script.pipefail_before(last.order)


def test_never_fails_on_garbage() -> None:
    for text in ("'", '"', "$(", "`", "((", "<<", ")", "${", "a && && b", "\\"):
        parse(text)
