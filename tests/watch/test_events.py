"""Event lines in the two shapes engines send, and the times the watch
resumes from."""

from __future__ import annotations

import json

import pytest

from lashing.watch.events import BadEvent, format_time, parse_event, since_param
from lashing.watch.watcher import parse_rfc3339_nano

# The shapes of the Docker Engine API documentation (`GET /events`).
DOCKER_EXEC = {"status": "exec_create: /bin/sh -c id", "id": "c" * 64, "from": "nginx:1.27",
               "Type": "container", "Action": "exec_create: /bin/sh -c id",
               "Actor": {"ID": "c" * 64, "Attributes": {"execID": "e" * 64, "name": "web",
                                                         "image": "nginx:1.27"}},
               "scope": "local", "time": 1700000000, "timeNano": 1700000000123456789}
DOCKER_PULL = {"status": "pull", "id": "nginx:latest", "Type": "image", "Action": "pull",
               "Actor": {"ID": "nginx:latest", "Attributes": {"name": "nginx"}},
               "scope": "local", "time": 1700000001, "timeNano": 1700000001000000000}


def test_docker_exec_create() -> None:
    e = parse_event(json.dumps(DOCKER_EXEC).encode())
    assert (e.type, e.action, e.detail) == ("container", "exec_create", "/bin/sh -c id")
    assert e.exec_id == "e" * 64 and e.name == "web" and e.image == "nginx:1.27"
    assert e.when == "2023-11-14T22:13:20.123456789Z"


def test_pull_references() -> None:
    assert parse_event(json.dumps(DOCKER_PULL).encode()).pulled_reference() == "nginx:latest"
    podman = {"Type": "image", "Action": "pull", "time": 1700000001,
              "Actor": {"ID": "", "Attributes": {"name": "localhost/app:1"}}}
    assert parse_event(json.dumps(podman).encode()).pulled_reference() == "localhost/app:1"
    by_id = {**podman, "Actor": {"ID": "sha256:" + "a" * 64,
                                      "Attributes": {"name": "quay.io/x:1"}}}
    assert parse_event(json.dumps(by_id).encode()).pulled_reference() == "quay.io/x:1"


def test_seconds_only_time() -> None:
    doc = {k: v for k, v in DOCKER_PULL.items() if k != "timeNano"}
    assert parse_event(json.dumps(doc).encode()).time_nano == 1700000001 * 10**9


@pytest.mark.parametrize(("line", "why"), [
    (b"", "not JSON"), (b"\xff\xfe", "not JSON"), (b'"start"', "a JSON str"),
    (b'{"Type": "container", "Action": "start"}', "no time"),
    (b'{"Type": "container", "Action": "start", "time": true}', "no time"),
])
def test_bad_lines(line: bytes, why: str) -> None:
    with pytest.raises(BadEvent, match=why):
        parse_event(line)


def test_times_round_trip() -> None:
    t = 1795703461426309242
    assert format_time(t) == "2026-11-26T14:31:01.426309242Z"
    assert since_param(t) == "1795703461.426309242"
    assert parse_rfc3339_nano(format_time(t)) == t
    assert parse_rfc3339_nano("2026-11-26T14:31:01Z") == 1795703461 * 10**9
    assert parse_rfc3339_nano("2026-11-26T15:31:01.5+01:00") == 1795703461500000000
    assert parse_rfc3339_nano("0001-01-01T00:00:00Z") is None
    assert parse_rfc3339_nano("yesterday") is None
