"""A DMS export (CSV, UTF-8 or GBK) filed in one go: every row, or none if any row is bad."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from archive import commands
from archive.commands.imports import read_rows
from archive.errors import BadInput
from archive.kinds.registry import get_kind
from web.api.deps import ArchiveDep
from web.api.routing import ApiRoute
from web.api.schema import KindCode
from web.auth import ApiUser

router = APIRouter(route_class=ApiRoute, tags=["documents 单据"])

CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.post(
    "/imports/{kind}",
    status_code=201,
    summary="导入 / file every row of a CSV (all rows or none)",
    description="The body is the CSV itself: a header row of field codes or their Chinese "
    "labels, then one document per row. Problems come back with their line numbers.",
    openapi_extra=CSV_BODY,
)
async def import_csv(
    kind: KindCode, request: Request, user: ApiUser, archive: ArchiveDep
) -> dict[str, Any]:
    spec = get_kind(kind)
    limit = archive.settings.max_scan_bytes
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise BadInput(
                "too_large",
                f"文件超过 {limit // (1024 * 1024)} MB 的上限",
                f"the file exceeds the {limit} byte limit",
            )
    docs = await run_in_threadpool(
        commands.file_batch, archive, spec.code, read_rows(spec, bytes(data)), user.username
    )
    return {"filed": len(docs), "numbers": [d.number for d in docs]}
