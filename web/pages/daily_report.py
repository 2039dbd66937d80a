"""起草日报: the system drafts a day's report from that day's work orders (lines, count,
revenue; ``commands.draft_daily_report``), the clerk reviews it on the filing form and files
it; the service manager signs it as any document. Filing checks every line and total again."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response

from archive import commands, queries
from archive.errors import NotFound
from archive.kinds.registry import REPAIR_TYPES, get_kind
from archive.staff.permissions import FILE, require
from web.auth import PageUser, archive_of
from web.pages.common import models_of
from web.pages.filing import document_url, form_page

router = APIRouter()

REPAIR_LABELS = dict(REPAIR_TYPES)


def draft_summary(day: date, draft: dict[str, Any]) -> dict[str, Any]:
    """What the clerk reviews before filing: the lines with their types' labels, the count,
    the revenue and the orders by type."""
    lines = [
        {**line, "repair_label": REPAIR_LABELS.get(line.get("repair_type", ""), "未填")}
        for line in draft["lines"]
    ]
    by_type = Counter(line["repair_label"] for line in lines)
    return {
        "day": day.isoformat(),
        "lines": lines,
        "count": draft["work_order_count"],
        "revenue": draft["revenue"],
        "by_type": sorted(by_type.items(), key=lambda item: -item[1]),
    }


@router.get("/daily-report")
def draft_page(request: Request, user: PageUser, day: str = "") -> Response:
    archive = archive_of(request)
    kind = get_kind("daily_report")
    require(user, FILE, kind)
    chosen = queries.parse_day(day) if day.strip() else queries.today(archive)
    models_of(request).runner.wait_for(timeout=2)
    draft = commands.draft_daily_report(archive, chosen)
    summary = draft_summary(chosen, draft)
    try:
        queries.get_document(archive, kind.code, draft["number"])
        summary["existing"] = document_url(kind.code, draft["number"])
    except NotFound:
        pass
    return form_page(request, kind, draft, {}, 200, draft=summary)
