"""The dashboard (with each of its lists in full, paged) and search (the vehicle history card
and customers are in ``web.pages.customers``)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from archive.errors import ArchiveError
from archive.kinds.registry import KINDS, get_kind
from archive.queries.documents import STATUS_LABELS
from archive.queries.fee_invoices import months_without_invoice
from archive.queries.search import FLAG_LABELS, INCOMPLETE_ZH, index_behind
from archive.queries.worklists import section_entries, worklist
from archive.reports.due import report_links, with_due_reports
from web.auth import PageUser, archive_of
from web.errors import page_message
from web.pages.common import models_of
from web.templating import render

router = APIRouter()

SHOWN = 15  # entries of each list on the dashboard; "还有 N 份" links to the rest
PAGE_SIZE = 100  # entries on a page of a full list


def _todo(request: Request, user: PageUser) -> dict[str, Any]:
    archive = archive_of(request)
    models = models_of(request)
    models.runner.wait_for(timeout=2)
    today = archive.now().astimezone(archive.settings.tz).date()
    people = archive.staff.refresh()
    names = {u: p.name for u, p in people.items()}
    inactive = {u for u, p in people.items() if not p.active}
    todo = worklist(models.worklists, archive.settings, user, names, today, inactive)
    return with_due_reports(todo, today)  # a clerk's reports due today


@router.get("/")
def dashboard(request: Request, user: PageUser) -> Response:
    todo = _todo(request, user)
    today = date.fromisoformat(todo["today"])
    fees = "service_manager" in user.roles  # months whose service-fee invoice has not come in
    extra = {
        "reports": report_links(today),
        "uninvoiced": months_without_invoice(models_of(request).fees, today) if fees else None,
    }
    return render(
        request, "dashboard.html", {"todo": todo, "kinds": KINDS, "shown": SHOWN, **extra}
    )


@router.get("/todo/{section}")
def worklist_page(
    request: Request, section: str, user: PageUser, owner: str = "", page: int = 1
) -> Response:
    """One list of the dashboard in full, ``PAGE_SIZE`` entries a page (for ``missing``,
    optionally only what one owner owes: ``owner`` is a group's key, see ``owner_key``, so
    ``*clerk`` is "anyone holding the clerk role" and an empty ``owner`` is no filter)."""
    todo = _todo(request, user)
    label, entries = section_entries(todo, section)
    owner_label, owner_inactive = "", False
    if section == "missing" and owner:
        entries = [e for e in entries if e["key"] == owner]
        owner_label = entries[0]["owner_label"] if entries else owner
        owner_inactive = bool(entries) and entries[0]["inactive"]
    pages = max((len(entries) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(page, 1), pages)
    first = (page - 1) * PAGE_SIZE
    query = {"owner": owner} if owner_label else {}
    return render(
        request,
        "worklist.html",
        {
            "section": section,
            "label": label,
            "owner_label": owner_label,
            "owner_inactive": owner_inactive,
            "total": len(entries),
            "entries": entries[first : first + PAGE_SIZE],
            "first": first,
            "page": page,
            "pages": pages,
            "today": todo["today"],
            "page_url": lambda n: f"/todo/{section}?" + urlencode({**query, "page": n}),
        },
    )


def compose_query(params: dict[str, str]) -> str:
    """The query language from the search form's box and filter chips."""
    parts = [params.get("q", "").strip()]
    for key in ("kind", "status", "month"):
        if params.get(key):
            parts.append(f"{key}:{params[key]}")
    start, end = params.get("from", ""), params.get("to", "")
    if start or end:
        parts.append(f"date:{start}..{end}")
    for flag in FLAG_LABELS:
        if params.get(f"flag_{flag}"):
            parts.append(f"flag:{flag}")
    if params.get("history"):
        parts.append("history:yes")
    if params.get("sort") == "date":
        parts.append("sort:date")
    return " ".join(p for p in parts if p)


@router.get("/search")
def search(request: Request, user: PageUser) -> Response:
    params = dict(request.query_params)
    query = compose_query(params)
    models = models_of(request)
    models.runner.wait_for(timeout=2)
    try:
        page = max(int(params.get("page") or 1), 1)
    except ValueError:
        page = 1
    result, error = None, None
    if query:
        try:
            result = models.search.search(query, page=page, page_size=20)
        except ArchiveError as problem:  # a query that cannot be read
            error = page_message(problem)
    paging = {k: v for k, v in params.items() if k != "page"}
    return render(
        request,
        "search.html",
        {
            "params": params,
            "query": query,
            "result": result,
            "error": error,
            "incomplete": INCOMPLETE_ZH if query and index_behind(models) else None,
            "kinds": KINDS,
            "get_kind": get_kind,
            "statuses": STATUS_LABELS,
            "flags": FLAG_LABELS,
            "page_url": lambda n: "/search?" + urlencode({**paging, "page": n}),
        },
        status_code=400 if error else 200,
    )
