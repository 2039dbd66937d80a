"""核验装订文件: an auditor uploads a bundle PDF and sees whether it is what this archive signed.

The same check as ``archive verify-bundle`` (``archive.bundle.check``), made with this
archive's own public key, which the page also shows so that the auditor can take it away and
check bundles offline. An intact bundle is then compared with the archive as it is now: which of
its documents were amended, signed, voided... since. Checking changes nothing, so every
signed-in role may do it.
"""

from __future__ import annotations

import os
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Request, Response, UploadFile

from archive.bundle.bindings import BINDING_LABELS
from archive.bundle.check import check_bundle
from archive.integrity import load_verifier
from archive.integrity.key_label import KeyLabel, dealer_of
from archive.integrity.keys import VerifierKey
from archive.kinds.registry import get_kind
from archive.queries.documents import changes_since
from web.auth import PageUser, archive_of
from web.templating import render

router = APIRouter()

# A full binding of a busy month with every scan merged runs to a few hundred MB at most.
MAX_BUNDLE_BYTES = 512 * 1024 * 1024


@router.get("/verify-bundle")
def verify_page(request: Request, user: PageUser) -> Response:
    return _page(request, _key(request))


@router.post("/verify-bundle")
def verify_upload(
    request: Request,
    user: PageUser,
    bundle: Annotated[UploadFile | None, File()] = None,
) -> Response:
    key = _key(request)
    if bundle is None or not bundle.filename:
        return _page(request, key, error="请选择要核验的 PDF 文件。", status_code=422)
    size = bundle.file.seek(0, os.SEEK_END)
    if size > MAX_BUNDLE_BYTES:
        limit = MAX_BUNDLE_BYTES // (1024 * 1024)
        error = f"文件超过 {limit} MB，无法在网页上核验。"
        return _page(request, key, error=error, status_code=413)
    if not size:
        return _page(request, key, error="上传的文件是空的，请重新选择。", status_code=422)
    bundle.file.seek(0)
    # Read where the upload was spooled (a temporary file), not copied into memory.
    archive = archive_of(request)
    report = check_bundle(bundle.file, key)
    # Against this archive as it is now: what has happened to the bound documents since.
    later = []
    for ref in report.bound if report.intact else []:
        row = changes_since(archive, UUID(ref.id), ref.version, ref.content_hash)
        if row is not None:
            later.append({"ref": ref, "kind_label": get_kind(ref.kind).label} | row)
    return _page(request, key, report=report, filename=bundle.filename, later=later)


def _key(request: Request) -> VerifierKey | None:
    return load_verifier(archive_of(request).settings)


def _page(
    request: Request, key: VerifierKey | None, status_code: int = 200, **context: object
) -> Response:
    return render(
        request,
        "verify_bundle.html",
        {
            "report": None,
            "error": None,
            "filename": None,
            "public_key": key and key.text(),
            "key_label": key and KeyLabel.of(key.name, key.public_key),
            "dealer_of": dealer_of,
            "bindings": BINDING_LABELS,
            "later": [],
        }
        | context,
        status_code=status_code,
    )
