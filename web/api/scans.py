"""Scans: attach one (streamed from the upload into the blob store), withdraw one, read one.

A scan is read by its SHA-256 only if some document took it (``archive.queries.scans``).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse

from archive import commands
from archive.queries.scans import served_scan
from web.api.deps import ArchiveDep, ReadModelsDep
from web.api.documents import DOC, view
from web.api.models import Reason
from web.api.multipart import StreamedForm, body_puller
from web.api.routing import ApiRoute
from web.api.schema import KindCode
from web.auth import ApiUser
from web.scan_reading import after_upload

router = APIRouter(route_class=ApiRoute, tags=["scans 扫描件"])

Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256, lower-case hex")]
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "label": {"type": "string", "description": "what the scan shows"},
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            }
        },
    }
}


@router.post(
    DOC + "/scans",
    summary="附扫描件 / attach a scan (PDF, JPEG or PNG, judged by content)",
    description="multipart/form-data: the optional `label` first, then the `file`. The size "
    "limit and the type are checked while the file streams in.",
    openapi_extra=UPLOAD_BODY,
)
def attach(
    kind: KindCode, number: str, request: Request, user: ApiUser, archive: ArchiveDep
) -> dict[str, Any]:
    form = StreamedForm(body_puller(request), request.headers.get("content-type", ""))
    doc = commands.attach_scan(
        archive,
        kind,
        number,
        form.require_file("file"),
        user.username,
        form.filename,
        form.fields.get("label", ""),
    )
    return view(archive, after_upload(request.app.state, doc))


@router.post(DOC + "/scans/{sha256}/withdraw", summary="撤回扫描件 / withdraw a scan (kept)")
def withdraw(
    kind: KindCode, number: str, sha256: str, body: Reason, user: ApiUser, archive: ArchiveDep
) -> dict[str, Any]:
    doc = commands.withdraw_scan(archive, kind, number, sha256, body.reason, user.username)
    return view(archive, doc)


@router.get(
    "/scans/{sha256}",
    summary="读取扫描件 / the scan's file",
    response_class=FileResponse,
    responses={200: {"content": {t: {} for t in EXTENSIONS}}},
)
def download(sha256: Sha256, archive: ArchiveDep, models: ReadModelsDep) -> FileResponse:
    scan = served_scan(archive, sha256, index=models.scans)
    return FileResponse(
        scan.path,
        media_type=scan.media_type,
        headers={
            "Content-Disposition": _disposition(sha256, scan.media_type, scan.filename),
            "X-Content-Type-Options": "nosniff",
        },
    )


def _disposition(sha256: str, media_type: str, filename: str) -> str:
    """Always a download; the ASCII name is made from the hash, the original name (if any)
    is only ever percent-encoded, so no quote or line break of a user's reaches the header."""
    fallback = f"{sha256[:16]}.{EXTENSIONS.get(media_type, 'bin')}"
    header = f'attachment; filename="{fallback}"'
    return header + (f"; filename*=UTF-8''{quote(filename, safe='')}" if filename else "")
