"""The content-addressed blob store (archive/blobs.py), on a real directory under tmp_path."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from archive.blobs import BlobRejected, BlobStore, display_filename, sniff_media_type

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64

LIMIT = 256 * 1024


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs", max_bytes=LIMIT)


def stored_files(store: BlobStore) -> list[Path]:
    return sorted(p for p in store.root.rglob("*") if p.is_file())


def temp_files(store: BlobStore) -> list[Path]:
    tmp = store.root / "tmp"
    return sorted(tmp.iterdir()) if tmp.exists() else []


class EndlessPdf:
    """A PDF header followed by ``total`` zero bytes, produced on demand; counts what is read."""

    def __init__(self, total: int) -> None:
        self.remaining = total
        self.consumed = 0
        self.head = b"%PDF-1.7\n"

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            raise AssertionError("the store must read in chunks, not all at once")
        data = self.head[:n]
        self.head = self.head[len(data) :]
        extra = min(n - len(data), self.remaining)
        self.remaining -= extra
        data += b"\x00" * extra
        self.consumed += len(data)
        return data


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png")],
)
def test_accepted_by_magic_bytes(store: BlobStore, data: bytes, media_type: str) -> None:
    blob = store.put_bytes(data)
    assert blob.media_type == media_type
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert blob.size == len(data)
    assert blob.is_new
    assert store.read(blob.sha256) == data
    with store.open(blob.sha256) as f:
        assert f.read() == data
    assert store.exists(blob.sha256)


@pytest.mark.parametrize(
    "data",
    [
        b"plain text pretending to be a scan",
        b"GIF89a" + b"\x00" * 32,
        b"PK\x03\x04" + b"\x00" * 32,  # a zip / docx
        b"\x89PNG",  # a truncated PNG signature
        b" %PDF-1.4",  # the magic must be at the very start
        "委托书".encode(),
    ],
)
def test_other_types_refused(store: BlobStore, data: bytes) -> None:
    with pytest.raises(BlobRejected) as caught:
        store.put_bytes(data)
    assert caught.value.code == "unsupported_type"
    assert caught.value.message_zh and caught.value.message_en
    assert stored_files(store) == []


def test_text_file_named_pdf_refused(store: BlobStore, tmp_path: Path) -> None:
    fake = tmp_path / "维修委托书.pdf"
    fake.write_text("这不是 PDF，只是改了扩展名", encoding="utf-8")
    with fake.open("rb") as stream, pytest.raises(BlobRejected) as caught:
        store.put_stream(stream)
    assert caught.value.code == "unsupported_type"
    assert stored_files(store) == []


def test_empty_file_refused(store: BlobStore) -> None:
    with pytest.raises(BlobRejected) as caught:
        store.put_bytes(b"")
    assert caught.value.code == "empty"
    assert stored_files(store) == []


def test_sniff_media_type() -> None:
    assert sniff_media_type(PDF[:16]) == "application/pdf"
    assert sniff_media_type(JPEG[:16]) == "image/jpeg"
    assert sniff_media_type(PNG[:16]) == "image/png"
    assert sniff_media_type(b"") is None
    assert sniff_media_type(b"%PD") is None


def test_same_bytes_stored_once(store: BlobStore) -> None:
    first = store.put_bytes(PDF)
    second = store.put_bytes(PDF)
    assert first.is_new and not second.is_new
    assert second.sha256 == first.sha256 and second.size == first.size
    assert stored_files(store) == [store.path_for(first.sha256)]
    other = store.put_bytes(PNG)
    assert other.is_new
    assert len(stored_files(store)) == 2


def test_stored_file_lives_under_its_hash(store: BlobStore) -> None:
    blob = store.put_bytes(JPEG)
    path = store.path_for(blob.sha256)
    assert path.is_file()
    assert path.name == blob.sha256
    assert path.resolve().is_relative_to(store.root.resolve())
    assert hashlib.sha256(path.read_bytes()).hexdigest() == blob.sha256


def test_stored_files_are_read_only(store: BlobStore) -> None:
    blob = store.put_bytes(PDF)
    mode = stat.S_IMODE(store.path_for(blob.sha256).stat().st_mode)
    assert mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0
    assert mode & stat.S_IRUSR


def test_size_limit_cuts_off_an_over_size_stream(store: BlobStore) -> None:
    stream = EndlessPdf(total=100 * LIMIT)
    with pytest.raises(BlobRejected) as caught:
        store.put_stream(stream)  # type: ignore[arg-type]
    assert caught.value.code == "too_large"
    # Reading stopped soon after the limit instead of running through the 25 MB stream.
    assert LIMIT < stream.consumed <= LIMIT + 2 * 64 * 1024
    assert stream.remaining > 90 * LIMIT
    assert temp_files(store) == []
    assert stored_files(store) == []


def test_size_limit_boundary(store: BlobStore) -> None:
    exact = PDF + b"\x00" * (1000 - len(PDF))
    assert store.put_bytes(exact, max_bytes=1000).size == 1000
    with pytest.raises(BlobRejected) as caught:
        store.put_bytes(exact + b"\x00", max_bytes=1000)
    assert caught.value.code == "too_large"
    assert temp_files(store) == []
    assert len(stored_files(store)) == 1


def test_store_default_limit_applies(tmp_path: Path) -> None:
    small = BlobStore(tmp_path / "small", max_bytes=100)
    with pytest.raises(BlobRejected):
        small.put_bytes(PDF + b"\x00" * 100)
    assert small.put_bytes(PDF).size == len(PDF)


def test_rejected_type_leaves_no_temp_file(store: BlobStore) -> None:
    with pytest.raises(BlobRejected):
        store.put_bytes(b"not a scan")
    with pytest.raises(BlobRejected):
        store.put_bytes(b"")
    assert temp_files(store) == []


def test_successful_store_leaves_no_temp_file(store: BlobStore) -> None:
    store.put_bytes(PDF)
    store.put_bytes(PDF)
    assert temp_files(store) == []


@pytest.mark.parametrize(
    "name",
    [
        "../etc/passwd",
        "../../" + "a" * 58,
        "a" * 63,
        "a" * 65,
        "A" * 64,  # upper-case hex is not what the store writes
        "g" * 64,
        "",
        "/" + "a" * 63,
        "a" * 32 + "/" + "a" * 31,
    ],
)
def test_path_for_refuses_anything_but_64_hex(store: BlobStore, name: str) -> None:
    with pytest.raises(ValueError):
        store.path_for(name)
    assert store.exists(name) is False


def test_path_for_refuses_a_trailing_newline(store: BlobStore) -> None:
    with pytest.raises(ValueError):
        store.path_for("a" * 64 + "\n")


def test_exists_is_false_for_a_hash_never_stored(store: BlobStore) -> None:
    assert not store.exists(hashlib.sha256(b"never").hexdigest())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("委托书.pdf", "委托书.pdf"),
        ("C:\\Users\\王\\Desktop\\委托书.pdf", "委托书.pdf"),
        ("/home/clerk/scans/2026-11/scan 01.jpg", "scan 01.jpg"),
        ("../../etc/passwd", "passwd"),
        ("scan\x00\r\n.pdf", "scan.pdf"),
        ("a/b\\c.png", "c.png"),
        (None, ""),
        ("", ""),
    ],
)
def test_display_filename(raw: str | None, expected: str) -> None:
    assert display_filename(raw) == expected


def test_display_filename_is_bounded() -> None:
    name = display_filename("长" * 300 + ".pdf")
    assert len(name) == 120
    assert "/" not in display_filename("x/" * 100)
