"""Merkle tree hashes and inclusion proofs of an RFC 6962 / RFC 9162 log.

- A leaf's hash is SHA-256(0x00 || leaf bytes); an inner node's hash is
  SHA-256(0x01 || left || right). The domain-separation byte keeps a leaf
  from passing for a node.
- An inclusion proof of leaf `index` in a tree of `size` leaves is the list
  of sibling hashes from that leaf up to the root (the audit path). It is
  checked by RFC 9162 section 2.1.3.2: fold the path into the leaf hash,
  choosing the side of each sibling from the bits of the index and of the
  last index (`size - 1`), and compare with the claimed root. The path must
  have exactly the length the tree's shape implies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
MAX_PATH = 64  # a tree of at most 2**64 leaves


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion_proof(index: int, size: int, leaf: bytes,
                              path: Sequence[bytes]) -> bytes | None:
    """The root that the audit path `path` of leaf hash `leaf` at `index` in a
    tree of `size` leaves leads to; None when the path cannot be one for
    that position (too short, too long, or the index outside the tree)."""
    if not 0 <= index < size or len(path) > MAX_PATH:
        return None
    if len(leaf) != HASH_SIZE or any(len(p) != HASH_SIZE for p in path):
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None  # more hashes than the tree is high
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:  # a last, lone node: it rises unpaired
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes],
                     root: bytes) -> bool:
    """True when `path` proves leaf hash `leaf` sits at `index` of the tree of
    `size` leaves whose root is `root`."""
    return root_from_inclusion_proof(index, size, leaf, path) == root
