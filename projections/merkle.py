"""RFC 6962 Merkle tree hashing, inclusion and consistency proofs, and their verification.

Hashing is RFC 6962 §2.1: a leaf is ``SHA-256(0x00 ‖ data)``, an interior node
``SHA-256(0x01 ‖ left ‖ right)``, the empty tree ``SHA-256()``, and a tree of ``n`` leaves splits
at the largest power of two smaller than ``n``. Proofs are built as in §2.1.1 (audit paths) and
§2.1.2 (consistency proofs) and checked with the algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2,
so that any other RFC 6962 implementation agrees with the archive's roots and proofs.

:class:`MerkleTree` keeps every complete, aligned subtree hash, so the root at *any* earlier size
and every proof cost O(log n) after one O(n) build: ``archive verify`` checks many checkpoints of
one large tree. Nothing here knows about events; leaves are whatever bytes the caller hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 ‖ data)``."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 ‖ left ‖ right)``."""
    return _sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n`` >= 2): where RFC 6962 splits."""
    if n < 2:
        raise ValueError(f"a tree of {n} leaves does not split")
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """A tree over given leaf hashes, answering for its full size or any smaller one.

    ``levels[k][i]`` is the hash of the complete subtree over leaves ``[i·2^k, (i+1)·2^k)``. Every
    subtree RFC 6962 names (for roots and proofs) is either one of these or splits into them.
    """

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        level = list(leaf_hashes)
        self.levels: list[list[bytes]] = [level]
        while len(level) > 1:
            # node_hash, inlined: a 100,000-event archive builds 100,000 nodes on every verify
            level = [
                _sha256(b"\x01" + level[i] + level[i + 1]).digest()
                for i in range(0, len(level) - 1, 2)
            ]
            self.levels.append(level)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def leaf(self, index: int) -> bytes:
        return self.levels[0][index]

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default: all of them)."""
        size = self._size(size)
        return self._subtree(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of the first ``size`` leaves, leaf first
        (RFC 6962 §2.1.1 ``PATH``)."""
        size = self._size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size}")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = split_point(end - start)
            if index < start + k:
                path.append(self._subtree(start + k, end))
                end = start + k
            else:
                path.append(self._subtree(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, size: int | None = None) -> list[bytes]:
        """Proof that the tree of ``old_size`` leaves is a prefix of the tree of ``size``
        (RFC 6962 §2.1.2 ``PROOF``). Empty when ``old_size`` is 0 or equals ``size``."""
        size = self._size(size)
        if not 0 <= old_size <= size:
            raise ValueError(f"no consistency proof from {old_size} to {size}")
        if old_size in (0, size):
            return []
        proof: list[bytes] = []
        start, end, whole = 0, size, True  # ``whole``: the old tree is this subtree's prefix
        m = old_size
        while m != end - start:
            k = split_point(end - start)
            if m <= k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                m -= k
                start += k
                whole = False
        if not whole:
            proof.append(self._subtree(start, end))
        proof.reverse()
        return proof

    def _size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
        return size

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH of leaves ``[start, end)``; ``start`` is a multiple of a power of two >= the width,
        as in every subtree the RFC's recursion visits."""
        width = end - start
        if width & (width - 1) == 0:
            height = width.bit_length() - 1
            return self.levels[height][start >> height]
        k = split_point(width)
        return node_hash(self._subtree(start, start + k), self._subtree(start + k, end))


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show leaf hash ``leaf`` at ``index`` under ``root``?"""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, size: int, old_root: bytes, root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show the tree ``old_root`` of ``old_size`` leaves to be
    a prefix of the tree ``root`` of ``size`` leaves?

    Equal sizes need equal roots and an empty proof; every tree extends the empty tree.
    """
    if not 0 <= old_size <= size:
        return False
    if old_size == size:
        return not proof and old_root == root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a subtree
        path.insert(0, old_root)
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == root and sn == 0
