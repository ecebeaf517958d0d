"""ipBlock peers and the address space they split.

Pod IPs are not known from manifests, so an ipBlock only ever matches
addresses outside the cluster. The external address space (all of IPv4,
and all of IPv6 when some policy names an IPv6 block) is cut at every
boundary any ipBlock or `except` uses; each piece (`AddressBlock`) is
treated alike by every policy, and adjacent pieces with the same verdict
are joined again into the fewest CIDRs (`to_cidrs`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["AddressBlock", "CidrError", "IPBlock", "Network", "atomic_blocks", "parse_address",
           "parse_ip_block", "to_cidrs"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_MAX = {4: 2**32 - 1, 6: 2**128 - 1}


class CidrError(ValueError):
    """An ipBlock Kubernetes would reject; the message says why."""


@dataclass(frozen=True, order=True)
class AddressBlock:
    """A contiguous range of addresses no policy tells apart."""

    version: int
    first: int
    last: int

    def within(self, net: Network) -> bool:
        return (net.version == self.version and int(net.network_address) <= self.first
                and self.last <= int(net.broadcast_address))

    def cidrs(self) -> list[str]:
        return to_cidrs(self.version, self.first, self.last)


@dataclass(frozen=True)
class IPBlock:
    cidr: Network
    excepts: tuple[Network, ...] = ()

    def covers(self, block: AddressBlock) -> bool:
        """Whether every address of an atomic block is in this ipBlock."""
        return block.within(self.cidr) and not any(block.within(e) for e in self.excepts)

    def networks(self) -> tuple[Network, ...]:
        return (self.cidr, *self.excepts)

    def __str__(self) -> str:
        text = f"ipBlock {self.cidr}"
        if self.excepts:
            text += " except " + ",".join(str(e) for e in self.excepts)
        return text


def _network(text: Any, where: str) -> Network:
    if not isinstance(text, str) or "/" not in text:
        raise CidrError(f"{where}: {text!r} is not a CIDR (address/prefix)")
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise CidrError(f"{where}: {text!r} is not a valid CIDR") from None


def parse_ip_block(data: Any, where: str) -> IPBlock:
    if not isinstance(data, Mapping):
        raise CidrError(f"{where} must be a mapping")
    cidr = _network(data.get("cidr"), f"{where}.cidr")
    raw = data.get("except") or []
    if not isinstance(raw, list):
        raise CidrError(f"{where}.except must be a list")
    excepts: list[Network] = []
    for i, item in enumerate(raw):
        net = _network(item, f"{where}.except[{i}]")
        if (net.version != cidr.version or not net.subnet_of(cidr)  # type: ignore[arg-type]
                or net.prefixlen <= cidr.prefixlen):
            raise CidrError(f"{where}.except[{i}]: {net} is not strictly inside {cidr}")
        excepts.append(net)
    return IPBlock(cidr, tuple(excepts))


def parse_address(text: str) -> Network | None:
    """An IP address or CIDR given by a user, or None when it is neither."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def atomic_blocks(networks: Iterable[Network]) -> list[AddressBlock]:
    """The external address space cut at every boundary of `networks`."""
    cuts: dict[int, set[int]] = {4: {0}, 6: set()}
    for net in networks:
        cuts[net.version].add(int(net.network_address))
        cuts[net.version].add(int(net.broadcast_address) + 1)
    if cuts[6]:
        cuts[6].add(0)
    blocks: list[AddressBlock] = []
    for version in (4, 6):
        points = sorted(p for p in cuts[version] if p <= _MAX[version])
        for i, start in enumerate(points):
            end = points[i + 1] - 1 if i + 1 < len(points) else _MAX[version]
            blocks.append(AddressBlock(version, start, end))
    return blocks


def to_cidrs(version: int, first: int, last: int) -> list[str]:
    cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    return [str(n) for n in ipaddress.summarize_address_range(cls(first), cls(last))]
