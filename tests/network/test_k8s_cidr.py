"""ipBlocks and the external address pieces they distinguish."""

from __future__ import annotations

from typing import Any

import pytest

from lashing.network.cidr import AddressBlock, CidrError, atomic_blocks, parse_ip_block, to_cidrs


def test_blocks_are_cut_at_every_boundary() -> None:
    block = parse_ip_block({"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}, "ipBlock")
    pieces = atomic_blocks(block.networks())
    assert [c for p in pieces for c in p.cidrs()][:3] == ["0.0.0.0/5", "8.0.0.0/7", "10.0.0.0/16"]
    covered = [p for p in pieces if block.covers(p)]
    assert [c for p in covered for c in p.cidrs()] == [
        "10.0.0.0/16", "10.2.0.0/15", "10.4.0.0/14", "10.8.0.0/13", "10.16.0.0/12",
        "10.32.0.0/11", "10.64.0.0/10", "10.128.0.0/9"]
    assert sum(p.last - p.first + 1 for p in pieces) == 2**32


def test_without_blocks_the_space_is_one_piece_and_ipv6_appears_only_when_named() -> None:
    assert atomic_blocks([]) == [AddressBlock(4, 0, 2**32 - 1)]
    v6 = parse_ip_block({"cidr": "2001:db8::/32"}, "ipBlock")
    assert {p.version for p in atomic_blocks(v6.networks())} == {4, 6}


def test_to_cidrs_is_minimal() -> None:
    assert to_cidrs(4, 0, 2**32 - 1) == ["0.0.0.0/0"]
    assert to_cidrs(4, 167772160, 167772160 + 511) == ["10.0.0.0/23"]


@pytest.mark.parametrize(("data", "message"), [
    ({"cidr": "10.0.0.0/33"}, "not a valid CIDR"),
    ({"cidr": "banana/8"}, "not a valid CIDR"),
    ({"cidr": "10.0.0.1"}, "not a CIDR"),
    ({"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}, "not strictly inside"),
    ({"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]}, "not strictly inside"),
    ({"cidr": "10.0.0.0/8", "except": "10.1.0.0/16"}, "must be a list"),
    ("10.0.0.0/8", "must be a mapping"),
])
def test_invalid_blocks_are_refused(data: Any, message: str) -> None:
    with pytest.raises(CidrError, match=message):
        parse_ip_block(data, "ipBlock")
