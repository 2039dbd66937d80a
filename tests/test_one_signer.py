"""One signer: servers sharing one PostgreSQL sign checkpoints one at a time, keep them in the
database, and never sign two different trees of the same size (issue 16, point 4).

Two "servers" here are two archives on one database with two homes (two machines), each with
a copy of the one checkpoint key, signing in two threads over their own connections.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.config import Settings
from archive.integrity import list_checkpoints, make_checkpoint, verify
from archive.integrity.checkpoints import CheckpointRefused
from archive.integrity.keys import ensure_key, load_signer
from archive.integrity.notes import CheckpointBody, sign_checkpoint
from archive.locks import one_at_a_time
from projections.merkle import MerkleTree
from tests.support import FakeClock, register_team, work_order

pytestmark = pytest.mark.postgres


@pytest.fixture
def servers(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Archive, Archive]]:
    """Two archives on one database, the second home holding a copy of the first's key."""
    first = open_archive(Settings(home=tmp_path / "a", database_url=postgres_url), FakeClock())
    register_team(first)
    ensure_key(first.settings)
    shutil.copytree(first.layout.keys, tmp_path / "b" / "keys")
    second = open_archive(Settings(home=tmp_path / "b", database_url=postgres_url), FakeClock())
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def roots_by_size(url: str) -> dict[int, set[str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT size, root FROM archive_checkpoints").fetchall()
    found: dict[int, set[str]] = {}
    for size, root in rows:
        found.setdefault(size, set()).add(root)
    return found


def test_two_servers_signing_at_once_agree(servers: tuple[Archive, Archive]) -> None:
    first, second = servers
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def sign(archive: Archive, prefix: str) -> None:
        try:
            start.wait()
            for n in range(4):
                number = f"WO-{prefix}{n:03d}"
                commands.file_document(archive, "work_order", work_order(number), "admin")
                make_checkpoint(archive)
        except BaseException as error:  # reported by the test thread
            errors.append(error)

    threads = [threading.Thread(target=sign, args=(a, p)) for a, p in ((first, "1"), (second, "2"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    url = first.settings.database_url
    assert url is not None
    by_size = roots_by_size(url)
    assert sum(len(roots) for roots in by_size.values()) >= 2
    assert all(len(roots) == 1 for roots in by_size.values())
    # Both servers list the same checkpoints, from the table: no files in either home.
    names = [c.name for c in list_checkpoints(first.settings)]
    assert names == [c.name for c in list_checkpoints(second.settings)]
    assert len(names) == 8 and not first.layout.checkpoints.exists()
    for archive in (first, second):
        report = verify(archive)
        assert report.intact, report.findings
        assert all(c.signature_valid and c.matches_store for c in report.checkpoints)


def test_the_lock_holds_across_connections(servers: tuple[Archive, Archive]) -> None:
    first, second = servers
    taken = threading.Event()
    released_at: list[float] = []

    def hold() -> None:
        with one_at_a_time(first.settings, "checkpoints"):
            taken.set()
            time.sleep(0.5)
            released_at.append(time.monotonic())

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    with one_at_a_time(second.settings, "checkpoints", second.app.recorder):
        entered = time.monotonic()
    holder.join()
    assert entered >= released_at[0]


def test_a_server_with_a_key_of_its_own_is_refused(
    servers: tuple[Archive, Archive], tmp_path: Path
) -> None:
    first, _ = servers
    made = make_checkpoint(first)
    url = first.settings.database_url
    stranger = open_archive(Settings(home=tmp_path / "c", database_url=url), FakeClock())
    try:
        with pytest.raises(CheckpointRefused) as refused:
            make_checkpoint(stranger)  # makes its own key: another chain of checkpoints
        assert refused.value.code == "foreign_checkpoint_key"
        assert "keys/" in refused.value.message_zh and made.name in refused.value.message_zh
    finally:
        stranger.close()
    assert [c.name for c in list_checkpoints(first.settings)] == [made.name]


def test_checkpoint_files_kept_before_the_move_are_seen_by_every_server(
    servers: tuple[Archive, Archive],
) -> None:
    """A home that signed checkpoints as files before its archive moved to PostgreSQL: the
    files join the table the first time they are listed, and the chain goes on from them."""
    first, second = servers
    signer = load_signer(first.settings)
    with first.ledger() as ledger:
        tree = MerkleTree(ledger.leaf_hashes())
    note = sign_checkpoint(CheckpointBody(signer.name, tree.size, tree.root()), signer)
    name = f"{tree.size:012d}-20261101T000000Z.checkpoint"
    first.layout.checkpoints.mkdir()
    (first.layout.checkpoints / name).write_text(note)
    (first.layout.checkpoints / "000000000001-20261101T000000Z.checkpoint").write_text("junk")
    listed = list_checkpoints(second.settings)  # the other server: not yet adopted
    assert listed == []
    assert [c.name for c in list_checkpoints(first.settings) if c.parsed] == [name]
    commands.file_document(second, "work_order", work_order("WO-0009"), "admin")
    made = make_checkpoint(second)
    assert [c.name for c in list_checkpoints(second.settings)] == [name, made.name]
    report = verify(second)
    assert report.intact and all(
        c.consistent_with_previous is not False for c in report.checkpoints
    )
