"""The two event sources of the YAML reader give the same documents.

libyaml (PyYAML's C parser) is used when present and ruamel.yaml's pure
parser otherwise; values, lines and problems must not depend on which one
ran. Checked on every YAML file of the shared third-party data and on the
hostile inputs the reader refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml as pyyaml  # type: ignore[import-untyped,unused-ignore]

from lashing.manifests.yaml import YamlLimits, YMap, YSeq, load_all

DATA = Path("../shared/data")
CORPORA = ("k8s-examples", "compose-awesome", "netpol-nca", "netpol-analyzer", "kube-linter",
           "polaris", "kubesec", "checkov-kubernetes", "netpol-recipes-ahmetb")

needs_libyaml = pytest.mark.skipif(not getattr(pyyaml, "__with_libyaml__", False),
                                   reason="PyYAML was built without libyaml")


def _shape(value: Any) -> Any:
    """Values with their lines, for comparing two readings."""
    if isinstance(value, YMap):
        return ("map", value.line, [(k, value.key_lines.get(k), _shape(v))
                                    for k, v in value.items()])
    if isinstance(value, YSeq):
        return ("seq", value.line, value.item_lines, [_shape(v) for v in value])
    if isinstance(value, float) and value != value:
        return "nan"
    return (type(value).__name__, value)


def _files() -> list[Path]:
    found: list[Path] = []
    for corpus in CORPORA:
        found += sorted((DATA / corpus).rglob("*.yaml")) + sorted((DATA / corpus).rglob("*.yml"))
    return found


@needs_libyaml
def test_same_documents_from_both_parsers_on_real_files() -> None:
    files = _files()
    if not files:
        pytest.skip(f"{DATA} is absent (the shared third-party data is not beside the project)")
    compared = 0
    for path in files:
        data = path.read_bytes()
        try:
            fast = load_all(data, str(path), fast=True)
            pure = load_all(data, str(path), fast=False)
        except Exception as exc:  # both must refuse alike (size, encoding)
            with pytest.raises(type(exc)):
                load_all(data, str(path), fast=False)
            continue
        assert [_shape(d) for d in fast[0]] == [_shape(d) for d in pure[0]], path
        assert fast[1] == pure[1], path
        assert (fast[2] is None) == (pure[2] is None), (path, fast[2], pure[2])
        compared += 1
    assert compared > 500


SCALARS = """\
plain: text
quoted: "123"
int: 42
octal: 0o17
hex: 0x1f
float: 1.5
inf: .inf
null1: ~
null2:
yes11: yes
on11: on
bool: true
date: 2024-01-01
multi: |
  line one
  line two
folded: >
  a
  b
anchor: &x {a: 1}
ref: *x
merged:
  <<: *x
  b: 2
"""


@needs_libyaml
def test_scalars_resolve_alike() -> None:
    fast = load_all(SCALARS, "s.yaml", fast=True)
    pure = load_all(SCALARS, "s.yaml", fast=False)
    assert [_shape(d) for d in fast[0]] == [_shape(d) for d in pure[0]]
    doc = fast[0][0]
    assert doc["quoted"] == "123" and doc["int"] == 42 and doc["octal"] == 15
    assert doc["yes11"] == "yes" and doc["on11"] == "on"  # YAML 1.2: not booleans
    assert doc["null1"] is None and doc["merged"] == {"a": 1, "b": 2}


@pytest.mark.parametrize("fast", [pytest.param(True, marks=needs_libyaml), False])
def test_hostile_input_refused_by_both(fast: bool) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    _, _, error = load_all(bomb, "bomb.yaml", YamlLimits(max_expanded_nodes=1000), fast=fast)
    assert error is not None and "bomb" in error.message
    _, _, error = load_all("a: " + "[" * 5000 + "]" * 5000, "deep.yaml", YamlLimits(max_depth=10),
                           fast=fast)
    assert error is not None and "nest" in error.message and "deep.yaml:1" in error.message
    _, _, error = load_all("a: " + "[" * 50 + "]" * 50, "deep.yaml", YamlLimits(max_depth=10),
                           fast=fast)
    assert error is not None and "deeper than 10" in error.message
    _, _, error = load_all("a: [1, 2\nb: }\n", "broken.yaml", fast=fast)
    assert error is not None and error.message.startswith("broken.yaml:")
    _, _, error = load_all("a:\n\tb: 1\n", "tabs.yaml", fast=fast)
    assert error is not None and "tab" in error.message
