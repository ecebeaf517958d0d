"""`lashing network diff`: port arithmetic, saved reports, the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lashing.errors import InputError
from lashing.model import Connection, Endpoint, EndpointKind
from lashing.network.diff import (
    diff_connections,
    looks_like_report,
    read_report_connections,
    subtract,
)

from cli_helpers import run

A = Endpoint(EndpointKind.WORKLOAD, "p", "a", "Service")
B = Endpoint(EndpointKind.WORKLOAD, "p", "b", "Service")
OLD = "services:\n  a: {image: x}\n  b: {image: y, ports: ['80:80']}\n"
NEW = ("services:\n  a: {image: x, networks: [n]}\n  b: {image: y, ports: ['80:80', '443:443']}\n"
       "networks:\n  n: {}\n")


@pytest.mark.parametrize(("a", "b", "out"), [
    (((1, 65535),), ((80, 80),), ((1, 79), (81, 65535))),
    (((80, 90),), ((70, 85), (88, 88)), ((86, 87), (89, 90))),
    (((80, 80),), ((80, 80),), ()),
    (((80, 80), (443, 443)), (), ((80, 80), (443, 443))),
    ((), ((1, 10),), ()),
])
def test_subtract(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...],
                  out: tuple[tuple[int, int], ...]) -> None:
    assert subtract(a, b) == out


def test_diff_is_per_port() -> None:
    old = [Connection(A, B, "TCP", ((80, 80),)), Connection(B, A, "UDP", ((53, 53),))]
    new = [Connection(A, B, "TCP", ((80, 80), (443, 443)))]
    d = diff_connections(old, new)
    assert d.added == (Connection(A, B, "TCP", ((443, 443),)),)
    assert d.removed == (Connection(B, A, "UDP", ((53, 53),)),)
    assert diff_connections(new, new).added == ()


def test_read_report_round_trip_and_refusals() -> None:
    assert looks_like_report(b'  {\n  "schema_version": 1, "tool": {}')
    assert not looks_like_report(b"services:\n")
    item: dict[str, Any] = {
        "source": {"kind": "workload", "namespace": "p", "name": "a", "workload_kind": "Service"},
        "destination": {"kind": "external", "cidr": "0.0.0.0/0"}, "protocol": "TCP",
        "ports": "80,443,1000-2000"}
    doc = {"schema_version": 1, "connections": [item]}
    got = read_report_connections(json.dumps(doc).encode(), "r.json")
    assert got == [Connection(A, Endpoint(EndpointKind.EXTERNAL, cidr="0.0.0.0/0"), "TCP",
                              ((80, 80), (443, 443), (1000, 2000)))]
    bad_cases = [
        b"{not json", b"[]", b'{"schema_version": 2, "connections": []}',
        b'{"schema_version": 1}',
        b'{"schema_version": 1, "connections": [{"source": {"kind": "martian"}}]}',
        json.dumps({**doc, "connections": [{**item, "ports": "0-70000"}]})
        .encode(),
        json.dumps({**doc, "connections": [{**item, "protocol": "ICMP"}]})
        .encode(),
        b'{"schema_version": 1, "connections": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
    ]
    for data in bad_cases:
        with pytest.raises(InputError) as exc:
            read_report_connections(data, "r.json")
        assert exc.value.message.startswith("r.json: "), exc.value.message
        assert "\n" not in exc.value.message


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_diff_command(tmp_path: Path) -> None:
    old = _write(tmp_path / "old" / "p" / "compose.yaml", OLD)
    new = _write(tmp_path / "new" / "p" / "compose.yaml", NEW)
    r = run("network", "diff", str(old), str(new))
    assert r.code == 0, r.err
    # 443 is published (from the host and from outside); a moved to its own network, so a
    # and b no longer reach each other (TCP, UDP, SCTP both ways)
    assert "connections added: 2, removed: 6" in r.out
    assert "+ host -> p/b  TCP:443" in r.out and "+ any address 0.0.0.0/0 -> p/b  TCP:443" in r.out
    assert "- p/a -> p/b  TCP:1-65535" in r.out
    r = run("network", "diff", str(new), str(old), "--format", "json")
    doc = r.json()
    assert r.code == 0 and len(doc["removed"]) == 2 and len(doc["added"]) == 6
    assert {c["ports"] for c in doc["removed"]} == {"443"}
    assert run("network", "diff", str(old), str(new), "--fail-on-new").code == 1
    assert run("network", "diff", str(old), str(old), "--fail-on-new").code == 0


def test_diff_against_a_saved_report(tmp_path: Path) -> None:
    old = _write(tmp_path / "p" / "compose.yaml", OLD)
    saved = tmp_path / "before.json"
    assert run("network", str(old), "-f", "json", "-o", str(saved)).code == 0
    new = _write(tmp_path / "n" / "p" / "compose.yaml", NEW)
    r = run("network", "diff", str(saved), str(new), "-f", "json")
    assert r.code == 0, r.err
    assert [c["ports"] for c in r.json()["added"]] == ["443", "443"]
    assert len(r.json()["removed"]) == 6
    same = run("network", "diff", str(saved), str(old), "-f", "json")
    assert same.json()["added"] == [] and same.json()["removed"] == []


def test_diff_errors(tmp_path: Path) -> None:
    old = _write(tmp_path / "p" / "compose.yaml", OLD)
    r = run("network", "diff", str(old))
    assert r.code == 2 and "exactly two" in r.err
    r = run("network", "diff", str(old), str(tmp_path / "missing"))
    assert r.code == 2 and "no such file" in r.err
    bad = _write(tmp_path / "bad.json", '{"schema_version": 1, "connections": "x"}')
    r = run("network", "diff", str(bad), str(old))
    assert r.code == 2 and r.err.startswith(f"error: {bad}: ")
    r = run("network", "diff", str(old), str(old), "--format", "html")
    assert r.code == 2
