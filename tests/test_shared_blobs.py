"""Scans shared between servers (issue 16, point 3): in PostgreSQL, or in a folder every server
mounts, chosen by setting; the same intake (20 MB limit, type by content) either way.

"Servers" are archives on one database with homes of their own (two machines).
"""

from __future__ import annotations

import hashlib
import io
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from archive import commands
from archive.blobs import BlobDamaged, BlobRejected, BlobStore, open_blob_store, scan_store
from archive.bootstrap import Archive, open_archive
from archive.config import Settings
from archive.queries.scans import served_scan
from tests.support import FakeClock, pdf_bytes, register_team, work_order

MB = 1024 * 1024


class Generated(io.RawIOBase):
    """A PDF of ``size`` bytes made up as it is read: the test itself holds no copy."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.head = b"%PDF-1.4\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        data = (self.head + b"0" * n)[:n]
        self.head = self.head[n:]
        buffer[:n] = data
        self.left -= n
        return n


def digest_of(size: int) -> str:
    digest = hashlib.sha256()
    stream = Generated(size)
    while chunk := stream.read(MB):
        digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture
def two(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Archive, Archive]]:
    first = open_archive(Settings(home=tmp_path / "a", database_url=postgres_url), FakeClock())
    register_team(first)
    second = open_archive(Settings(home=tmp_path / "b", database_url=postgres_url), FakeClock())
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def blob_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM archive_blobs").fetchone()[0]


# -- the setting -------------------------------------------------------------------------------


def test_the_setting_chooses_the_store(tmp_path: Path) -> None:
    home = str(tmp_path / "h")
    url = "postgresql://u@127.0.0.1/db"
    assert scan_store(Settings.from_env({"ARCHIVE_HOME": home})) == "files"
    assert scan_store(Settings.from_env({"ARCHIVE_HOME": home, "ARCHIVE_DATABASE_URL": url})) == (
        "database"
    )
    shared = {"ARCHIVE_HOME": home, "ARCHIVE_DATABASE_URL": url, "ARCHIVE_SCANS_DIR": "/mnt/x"}
    assert scan_store(Settings.from_env(shared)) == "files"
    for bad in (
        {"ARCHIVE_SCANS": "database"},  # no database
        {"ARCHIVE_SCANS": "s3"},
        {"ARCHIVE_SCANS": "database", "ARCHIVE_DATABASE_URL": url, "ARCHIVE_SCANS_DIR": "/m"},
    ):
        with pytest.raises(ValueError):
            scan_store(Settings.from_env({"ARCHIVE_HOME": home, **bad}))


# -- in the database ---------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_scan_attached_on_one_server_is_served_by_the_other(two: tuple[Archive, Archive]) -> None:
    first, second = two
    assert first.blobs.table is not None and second.blobs.table is not None
    commands.file_document(first, "work_order", work_order("WO-0001"), "admin")
    scan = pdf_bytes("WO-0001 signed")
    doc = commands.attach_scan(first, "work_order", "WO-0001", io.BytesIO(scan), "admin", "wo.pdf")
    sha = doc.scans[0].sha256
    assert not second.blobs.path_for(sha).exists()  # not on the second machine yet
    served = served_scan(second, sha, document=second.app.repository.get(doc.id))
    assert served.path.read_bytes() == scan and served.path.is_relative_to(second.layout.home)
    again = second.blobs.put_bytes(scan)  # the same bytes from the other server: kept once
    assert again.sha256 == sha and not again.is_new
    assert blob_rows(str(first.settings.database_url)) == 1


@pytest.mark.postgres
def test_a_20_mb_scan_is_streamed_not_held(two: tuple[Archive, Archive]) -> None:
    first, second = two
    size = first.blobs.max_bytes
    tracemalloc.start()
    try:
        stored = first.blobs.put_stream(Generated(size))
        path = second.blobs.local_path(stored.sha256)  # fetched from the database
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored.size == size and stored.sha256 == digest_of(size)
    assert path.stat().st_size == size
    assert peak < 5 * MB  # a chunk or two at a time, never the whole file


@pytest.mark.postgres
def test_the_database_store_refuses_what_the_file_store_refuses(
    two: tuple[Archive, Archive],
) -> None:
    first, _ = two
    url = str(first.settings.database_url)
    with pytest.raises(BlobRejected) as refused:
        first.blobs.put_stream(Generated(first.blobs.max_bytes + 1))
    assert refused.value.code == "too_large" and "20 MB" in refused.value.message_zh
    with pytest.raises(BlobRejected) as refused:
        first.blobs.put_bytes(b"GIF89a not a scan")
    assert refused.value.code == "unsupported_type"
    assert blob_rows(url) == 0
    assert not [p for p in first.blobs.root.rglob("*") if p.is_file()]


@pytest.mark.postgres
def test_two_servers_storing_the_same_scan_at_once(two: tuple[Archive, Archive]) -> None:
    first, second = two
    data = pdf_bytes("both at once") + b"0" * (3 * MB)
    start = threading.Barrier(2)
    results: list[object] = []

    def put(store: BlobStore) -> None:
        start.wait()
        try:
            results.append(store.put_bytes(data))
        except BaseException as error:
            results.append(error)

    threads = [threading.Thread(target=put, args=(a.blobs,)) for a in two]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(not isinstance(r, BaseException) for r in results), results
    assert sorted(r.is_new for r in results) == [False, True]  # type: ignore[attr-defined]
    assert blob_rows(str(first.settings.database_url)) == 1
    assert first.blobs.read(results[0].sha256) == second.blobs.read(results[0].sha256) == data  # type: ignore[attr-defined]


@pytest.mark.postgres
def test_bytes_altered_in_the_database_are_not_served(two: tuple[Archive, Archive]) -> None:
    first, second = two
    stored = first.blobs.put_bytes(pdf_bytes("original"))
    with psycopg.connect(str(first.settings.database_url), autocommit=True) as conn:
        conn.execute("UPDATE archive_blob_chunks SET data = %s", (pdf_bytes("forged"),))
    with pytest.raises(BlobDamaged):
        second.blobs.local_path(stored.sha256)
    assert not second.blobs.path_for(stored.sha256).exists()


# -- in a shared folder ------------------------------------------------------------------------


def test_a_shared_folder_holds_one_file_per_scan(tmp_path: Path) -> None:
    shared = tmp_path / "mnt" / "blobs"
    servers = [open_blob_store(Settings(home=tmp_path / name, scans_dir=shared)) for name in "ab"]
    assert all(s.table is None and s.root == shared for s in servers)
    data = pdf_bytes("shared") + b"1" * MB
    start = threading.Barrier(4)
    results = []

    def put(store: BlobStore) -> None:
        start.wait()
        results.append(store.put_bytes(data))

    threads = [threading.Thread(target=put, args=(servers[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len({r.sha256 for r in results}) == 1 and len(results) == 4
    files = [p for p in shared.rglob("*") if p.is_file()]
    assert files == [servers[1].path_for(results[0].sha256)]
    assert files[0].read_bytes() == data
    assert not (tmp_path / "a" / "blobs").exists()  # nothing in either home


@pytest.mark.postgres
def test_scans_kept_as_files_before_the_move_join_the_database(
    postgres_url: str, tmp_path: Path
) -> None:
    home = tmp_path / "old"
    before = open_blob_store(Settings(home=home))  # the home's files, as on SQLite
    kept = before.put_bytes(pdf_bytes("filed last year"))
    damaged = before.put_bytes(pdf_bytes("bit rot"))
    bad = before.path_for(damaged.sha256)
    bad.chmod(0o644)
    bad.write_bytes(pdf_bytes("rotted"))
    moved = open_blob_store(Settings(home=home, database_url=postgres_url))
    assert moved.table is not None and moved.table.has(kept.sha256)
    assert not moved.table.has(damaged.sha256)
    other = open_blob_store(Settings(home=tmp_path / "new", database_url=postgres_url))
    assert other.read(kept.sha256) == pdf_bytes("filed last year")
    assert not other.exists(damaged.sha256)
    assert blob_rows(postgres_url) == 1
    assert (home / ".blobs-in-database").is_file()  # the next opening walks nothing
