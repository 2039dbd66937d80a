"""RFC 6962 Merkle trees: the published test vectors, and every proof of every small tree.

The published values (roots of sizes 0..8, some audit paths and consistency proofs) come from
the Certificate Transparency test data for the 8-leaf example. Beyond them, every size up to
40 is checked against a direct transcription of the RFC's recursive definitions, and every
proof is verified, then mangled and refused.
"""

from __future__ import annotations

import hashlib

import pytest

from projections.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    split_point,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
# (leaf index, tree size) -> audit path
INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
# (old size, new size) -> consistency proof
CONSISTENCY = {
    (1, 1): [],
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


# -- RFC 6962 §2.1, transcribed: the independent reference --------------------------------------


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return sha(b"")
    if n == 1:
        return sha(b"\x00" + d[0])
    k = largest_power_of_two_below(n)
    return sha(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def proof(m: int, d: list[bytes]) -> list[bytes]:
    return subproof(m, d, True)


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


# -- the published vectors ------------------------------------------------------------------------


def unhex(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


TREE = MerkleTree([leaf_hash(d) for d in LEAVES])


def test_hashing_is_rfc_6962s() -> None:
    assert EMPTY_ROOT.hex() == ROOTS[0]
    assert leaf_hash(b"").hex() == ROOTS[1]
    assert node_hash(leaf_hash(LEAVES[0]), leaf_hash(LEAVES[1])).hex() == ROOTS[2]


@pytest.mark.parametrize("size", range(9))
def test_roots_of_the_published_example(size: int) -> None:
    assert TREE.root(size).hex() == ROOTS[size]
    assert MerkleTree([leaf_hash(d) for d in LEAVES[:size]]).root().hex() == ROOTS[size]
    assert mth(LEAVES[:size]).hex() == ROOTS[size]  # the reference agrees with the vectors too


@pytest.mark.parametrize(("index", "size"), INCLUSION)
def test_published_audit_paths(index: int, size: int) -> None:
    expected = unhex(INCLUSION[index, size])
    assert TREE.inclusion_proof(index, size) == expected
    root = bytes.fromhex(ROOTS[size])
    assert verify_inclusion(index, size, leaf_hash(LEAVES[index]), expected, root)


@pytest.mark.parametrize(("old", "new"), CONSISTENCY)
def test_published_consistency_proofs(old: int, new: int) -> None:
    expected = unhex(CONSISTENCY[old, new])
    assert TREE.consistency_proof(old, new) == expected
    roots = bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new])
    assert verify_consistency(old, new, *roots, expected)


def test_every_pair_of_the_published_example() -> None:
    """Audit paths and consistency proofs for all m <= n <= 8, each verified and each mangled."""
    for n in range(1, 9):
        root = bytes.fromhex(ROOTS[n])
        for i in range(n):
            audit = TREE.inclusion_proof(i, n)
            assert audit == path(i, LEAVES[:n])
            assert_inclusion_holds_and_mangles_fail(i, n, TREE.leaf(i), audit, root)
        for m in range(1, n + 1):
            consistency = TREE.consistency_proof(m, n)
            assert consistency == (proof(m, LEAVES[:n]) if m < n else [])
            assert_consistency_holds_and_mangles_fail(
                m, n, bytes.fromhex(ROOTS[m]), root, consistency
            )


# -- brute force over small trees ---------------------------------------------------------------

MANY = [f"leaf {i}".encode() for i in range(40)]
BIG = MerkleTree([leaf_hash(d) for d in MANY])


@pytest.mark.parametrize("n", range(1, 41))
def test_every_tree_up_to_40_leaves(n: int) -> None:
    data = MANY[:n]
    tree = MerkleTree([leaf_hash(d) for d in data])
    root = mth(data)
    assert tree.root() == root == BIG.root(n)
    for i in range(n):
        audit = tree.inclusion_proof(i)
        assert audit == path(i, data) == BIG.inclusion_proof(i, n)
        assert_inclusion_holds_and_mangles_fail(i, n, tree.leaf(i), audit, root)
    for m in range(1, n + 1):
        consistency = tree.consistency_proof(m)
        assert consistency == (proof(m, data) if m < n else [])
        assert_consistency_holds_and_mangles_fail(m, n, mth(data[:m]), root, consistency)


def test_split_point_is_the_largest_power_of_two_below() -> None:
    assert [split_point(n) for n in range(2, 11)] == [1, 2, 2, 4, 4, 4, 4, 8, 8]
    assert split_point(2**40 + 1) == 2**40
    with pytest.raises(ValueError):
        split_point(1)


def test_empty_and_out_of_range() -> None:
    empty = MerkleTree([])
    assert empty.root() == EMPTY_ROOT and empty.consistency_proof(0) == []
    assert verify_consistency(0, 5, EMPTY_ROOT, BIG.root(5), [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, BIG.root(5), [BIG.root(5)])
    assert not verify_consistency(5, 4, BIG.root(5), BIG.root(4), [])
    assert not verify_inclusion(3, 3, BIG.leaf(3), [], BIG.root(3))
    for bad in (lambda: BIG.root(41), lambda: BIG.inclusion_proof(5, 5)):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(ValueError):
        BIG.consistency_proof(6, 5)


# -- helpers ------------------------------------------------------------------------------------


def flipped(value: bytes) -> bytes:
    return bytes([value[0] ^ 0x01]) + value[1:]


def assert_inclusion_holds_and_mangles_fail(
    index: int, size: int, leaf: bytes, audit: list[bytes], root: bytes
) -> None:
    assert verify_inclusion(index, size, leaf, audit, root)
    assert not verify_inclusion(index, size, flipped(leaf), audit, root)
    assert not verify_inclusion(index, size, leaf, audit, flipped(root))
    for k in range(len(audit)):
        mangled = [*audit[:k], flipped(audit[k]), *audit[k + 1 :]]
        assert not verify_inclusion(index, size, leaf, mangled, root)
    assert not verify_inclusion(index, size, leaf, [*audit, root], root)
    if audit:
        assert not verify_inclusion(index, size, leaf, audit[:-1], root)
    for other in {index - 1, index + 1, index ^ 2} - {index}:
        if 0 <= other < size:
            assert not verify_inclusion(other, size, leaf, audit, root)
    # A size whose audit path has another length is refused (a size with the same shape of
    # path is not: the root, signed with its size in a checkpoint, is what binds the size).
    for other_size in (size - 1, size + 1, size * 2):
        shape_differs = index < other_size <= BIG.size and len(
            BIG.inclusion_proof(index, other_size)
        ) != len(audit)
        if shape_differs:
            assert not verify_inclusion(index, other_size, leaf, audit, root)


def assert_consistency_holds_and_mangles_fail(
    old: int, new: int, old_root: bytes, root: bytes, consistency: list[bytes]
) -> None:
    assert verify_consistency(old, new, old_root, root, consistency)
    assert not verify_consistency(old, new, flipped(old_root), root, consistency)
    assert not verify_consistency(old, new, old_root, flipped(root), consistency)
    for k in range(len(consistency)):
        mangled = [*consistency[:k], flipped(consistency[k]), *consistency[k + 1 :]]
        assert not verify_consistency(old, new, old_root, root, mangled)
    assert not verify_consistency(old, new, old_root, root, [*consistency, root])
    if consistency:
        assert not verify_consistency(old, new, old_root, root, consistency[:-1])
    assert not verify_consistency(new, old, root, old_root, consistency) or old == new
    for other_old, other_new in ((old - 1, new), (old + 1, new), (old, new + 1), (old, new - 1)):
        shape_differs = 1 <= other_old <= other_new <= BIG.size and len(
            BIG.consistency_proof(other_old, other_new)
        ) != len(consistency)
        if shape_differs:
            assert not verify_consistency(other_old, other_new, old_root, root, consistency)
