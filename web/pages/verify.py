"""核验装订文件: an auditor uploads a bundle PDF and sees whether it is what this archive signed.

The same check as ``archive verify-bundle`` (``archive.bundle.check``), made with this
archive's own public key, which the page also shows so that the auditor can take it away and
check bundles offline. An intact bundle is then compared with the archive as it is now: which of
its documents were amended, signed, voided... since. Checking changes nothing, so every
signed-in role may do it.

The check runs as a background job (``web.jobs``): a small file's report comes back at once, a
month's bundle leads to a page that shows how many pages have been read and then its report,
kept for the person who uploaded it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO, Annotated, Any
from uuid import UUID

from fastapi import APIRouter, File, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from archive.bootstrap import Archive
from archive.bundle.bindings import BINDING_LABELS
from archive.bundle.check import CHECK_STAGE_LABELS, check_bundle
from archive.errors import NotFound
from archive.integrity import load_verifier
from archive.integrity.key_label import KeyLabel, dealer_of
from archive.integrity.keys import VerifierKey
from archive.kinds.registry import get_kind
from archive.queries.documents import changes_since
from web.auth import PageUser, archive_of
from web.jobs import CheckJob, Progress
from web.pages.months import jobs_of
from web.templating import render

router = APIRouter()

# A full binding of a busy month with every scan merged runs to a few hundred MB at most.
MAX_BUNDLE_BYTES = 512 * 1024 * 1024
QUICK_SECONDS = 3.0  # a check done within this is answered at once, longer ones are followed


@router.get("/verify-bundle")
def verify_page(request: Request, user: PageUser, job: str = "") -> Response:
    """The upload form; with ``job``, that check's progress (polled) or its report."""
    key = _key(request)
    if not job:
        return _page(request, key)
    check = jobs_of(request).check_of(job, user.username)
    if check is None:
        raise NotFound("no_such_check", "没有这个核验任务（或已过期），请重新上传", "no such check")
    return _job_page(request, key, check)


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
    check = jobs_of(request).check(
        bundle.file, user.username, bundle.filename, _work(archive_of(request), key),
        CHECK_STAGE_LABELS,
    )  # fmt: skip
    # A single print is checked in a moment: its report comes at once. A month's bundle (a
    # 2,200-page one takes about a minute) goes to a page that shows how far the check is.
    if check.finished.wait(QUICK_SECONDS):
        return _job_page(request, key, check)
    return RedirectResponse(check.url, status_code=303)


def _work(archive: Archive, key: VerifierKey | None) -> Callable[[IO[bytes], Progress], dict]:
    def work(stream: IO[bytes], progress: Progress) -> dict[str, Any]:
        report = check_bundle(stream, key, progress)
        # Against this archive as it is now: what has happened to the bound documents since.
        later = []
        for ref in report.bound if report.intact else []:
            row = changes_since(archive, UUID(ref.id), ref.version, ref.content_hash)
            if row is not None:
                later.append({"ref": ref, "kind_label": get_kind(ref.kind).label} | row)
        return {"report": report, "later": later}

    return work


def _job_page(request: Request, key: VerifierKey | None, check: CheckJob) -> Response:
    if check.state == "running":
        return _page(request, key, job=check, filename=check.filename)
    if check.state == "failed" or check.result is None:
        return _page(request, key, error=check.error, status_code=500)
    return _page(request, key, filename=check.filename, **check.result)


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
            "job": None,
        }
        | context,
        status_code=status_code,
    )
