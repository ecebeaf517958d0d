"""Port range algebra and policy port resolution (numbers, names, ranges)."""

from __future__ import annotations

from lashing.network.model import ContainerPort, PolicyPort
from lashing.network.ports import (
    ALL,
    ALL_PORTS,
    format_ranges,
    intersect,
    intersect_maps,
    merge,
    union_maps,
)


def test_merge_joins_overlapping_and_adjacent_ranges() -> None:
    assert merge([(80, 80), (81, 90), (443, 443), (85, 100), (1000, 2000)]) == (
        (80, 100), (443, 443), (1000, 2000))
    assert merge([]) == ()


def test_intersect() -> None:
    assert intersect(((1, 100), (200, 300)), ((50, 250),)) == ((50, 100), (200, 250))
    assert intersect(ALL_PORTS, ((8080, 8080),)) == ((8080, 8080),)
    assert intersect(((1, 10),), ((11, 20),)) == ()


def test_maps_union_and_intersection() -> None:
    a = {"TCP": ((80, 80),)}
    b = {"TCP": ((443, 443),), "UDP": ((53, 53),)}
    assert union_maps([a, b]) == {"TCP": ((80, 80), (443, 443)), "UDP": ((53, 53),)}
    assert union_maps([a, ALL]) is ALL
    assert union_maps([{p: ALL_PORTS} for p in ("TCP", "UDP", "SCTP")]) is ALL
    assert intersect_maps(a, b) == {}
    assert intersect_maps(ALL, b) == b
    assert intersect_maps(b, {"UDP": ALL_PORTS}) == {"UDP": ((53, 53),)}


def test_policy_port_resolution() -> None:
    pod = (ContainerPort("http", 8080, "TCP"), ContainerPort("dns", 53, "UDP"))
    assert PolicyPort("TCP", "http").resolve(pod) == ((8080, 8080),)
    assert PolicyPort("TCP", "dns").resolve(pod) == ()  # the name exists only for UDP
    assert PolicyPort("UDP", "dns").resolve(pod) == ((53, 53),)
    assert PolicyPort("TCP", 80).resolve(pod) == ((80, 80),)
    assert PolicyPort("TCP", 8000, 9000).resolve(()) == ((8000, 9000),)
    assert PolicyPort("SCTP").resolve(()) == ALL_PORTS
    assert str(PolicyPort("TCP", 8000, 9000)) == "TCP 8000-9000"


def test_format_ranges() -> None:
    assert format_ranges(((80, 80), (443, 443), (1000, 2000))) == "80,443,1000-2000"
    assert format_ranges(ALL_PORTS) == "1-65535"
