"""The fingerprint of a page: SHA-256 of everything that decides what the page shows.

Recorded for each page of a scan's derived PDF/A when it is made (``ScanRead``), and computed
again by ``verify-bundle`` on the pages of a bundle that name that scan as their source. A
page merged into a bundle keeps its objects (the merge copies them) but gains a page-number
stamp: its own drawing is wrapped as ``q … Q`` and followed by the stamp's stream, and its
resources gain the stamp's font. The fingerprint therefore covers the page's own content
streams (decoded, in order), its resources with every object they reach (images and fonts by
their raw stream bytes), and its other entries, leaving out only the stamp and what a merge
sets or drops (``/Parent``, ``/AF``, an upload's own ``/Annots``, which verify-bundle refuses
on any page). Any pixel, drawing or text the page's content shows changes it.

Objects are serialised by value, so the same page reads the same from two files whose object
numbers differ.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pypdf import PageObject
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
)

# The page-number stamp's font resource (archive/bundle/page_numbers.py adds it).
STAMP_FONT = "/ArchivePageNo"
# Entries of a page a merge into a bundle sets, changes or drops (an upload's own annotations:
# archive/bundle/merge.py); not part of what the page's content shows.
MERGE_KEYS = frozenset({"/Parent", "/AF", "/Contents", "/Resources", "/Annots"})
MAX_DEPTH = 40


class Unfingerprintable(ValueError):
    """A page whose objects nest too deep to be read (a file made to break the reader)."""


def page_fingerprint(page: PageObject, contents: list[Any] | None = None) -> str:
    """SHA-256 (hex) of what ``page`` shows; ``contents`` are its own content streams when
    the caller has separated them from a stamp (default: all of the page's)."""
    digest = hashlib.sha256()
    own = _own_streams(page) if contents is None else contents
    digest.update(b"contents:")
    for stream in own:
        data = stream.get_object().get_data()
        digest.update(b"%d:" % len(data) + data)
    rest = DictionaryObject({k: v for k, v in page.items() if k not in MERGE_KEYS})
    digest.update(b"page:" + _canon(rest, 0, ()))
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else DictionaryObject()
    kept = DictionaryObject(resources)
    fonts = resources.get("/Font")
    if fonts is not None:
        own_fonts = {k: v for k, v in fonts.get_object().items() if k != STAMP_FONT}
        if own_fonts:
            kept[NameObject("/Font")] = DictionaryObject(own_fonts)
        else:  # the stamp's font was the only one: the page had none of its own
            del kept[NameObject("/Font")]
    digest.update(b"resources:" + _canon(kept, 0, ()))
    return digest.hexdigest()


def _own_streams(page: PageObject) -> list[Any]:
    if "/Contents" not in page:
        return []
    contents = page.raw_get("/Contents").get_object()
    return list(contents) if isinstance(contents, ArrayObject) else [contents]


def _canon(obj: Any, depth: int, path: tuple[int, ...]) -> bytes:
    """A byte string naming ``obj`` by value; references are followed (a cycle is named)."""
    if depth > MAX_DEPTH:
        raise Unfingerprintable("objects nest too deep")
    if isinstance(obj, IndirectObject):
        if obj.idnum in path:
            return b"<cycle>"
        path = (*path, obj.idnum)
        obj = obj.get_object()
    if isinstance(obj, StreamObject):
        data = obj._data if isinstance(obj._data, bytes) else obj.get_data()
        header = DictionaryObject({k: v for k, v in obj.items() if k != "/Length"})
        return (
            b"stream" + _canon(header, depth + 1, path) + hashlib.sha256(data).hexdigest().encode()
        )
    if isinstance(obj, DictionaryObject):
        parts = [
            str(key).encode() + b"=" + _canon(obj.raw_get(key), depth + 1, path)
            for key in sorted(obj.keys())
            if key != "/Parent"
        ]
        return b"<<" + b" ".join(parts) + b">>"
    if isinstance(obj, ArrayObject):
        items = [_canon(item, depth + 1, path) for item in obj]
        return b"[" + b" ".join(items) + b"]"
    if obj is None:
        return b"null"
    return type(obj).__name__.encode() + b":" + repr(obj).encode()
