"""The customer reports' forms: a maintenance reminder's outcome and a holiday greeting's
result (recorded through ``archive.commands``; a refusal is shown by the app's guards and
changes nothing), and the month's invitation and thank-you letters as one PDF."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from archive import commands
from archive.reports.letters import letters_headers, month_letters
from web.auth import PageUser, archive_of
from web.pages.common import fresh, models_of

router = APIRouter()


def _back(report: str, month: str, done: str) -> Response:
    query = urlencode({"month": month, "done": done})
    return RedirectResponse(f"/reports/{report}?{query}", status_code=303)


@router.post("/contacts/reminders")
def record_reminder(
    request: Request,
    user: PageUser,
    reminder: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
) -> Response:
    # The list's row: the car and the due date it is listed under ("VIN|YYYY-MM-DD").
    vin, _, due = reminder.partition("|")
    commands.record_reminder(
        archive_of(request), vin, outcome, user.username, note=note, due=due or None
    )
    fresh(request)
    return _back("maintenance", month, "reminder")


@router.post("/contacts/greetings")
def record_greeting(
    request: Request,
    user: PageUser,
    customer: Annotated[str, Form()] = "",
    holiday: Annotated[str, Form()] = "",
    result: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
) -> Response:
    commands.record_greeting(
        archive_of(request), customer, holiday, result, user.username, note=note
    )
    fresh(request)
    return _back("greetings", month, "greeting")


@router.post("/contacts/greetings/pending")
def record_pending_greetings(
    request: Request,
    user: PageUser,
    holiday: Annotated[str, Form()] = "",
    result: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
) -> Response:
    commands.record_pending_greetings(
        archive_of(request), holiday, result, user.username, note=note
    )
    fresh(request)
    return _back("greetings", month, "greeting")


@router.get("/letters/{month}.pdf")
def letters(request: Request, month: str, user: PageUser) -> Response:
    data, _ = month_letters(archive_of(request), models_of(request), month)
    return Response(data, headers=letters_headers(month))
