"""The desk's contacts with customers: a maintenance reminder's outcome and a holiday
greeting's result, recorded through ``archive.commands``; the month's invitation and
thank-you letters as one PDF."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import Field

from archive import commands
from archive.reports.letters import letters_headers, month_letters
from web.api.deps import ArchiveDep, ReadModelsDep
from web.api.models import Body
from web.api.routing import ApiRoute
from web.auth import ApiUser

router = APIRouter(route_class=ApiRoute, tags=["contacts 客户联系"])

MonthPath = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]


class ReminderOutcome(Body):
    vin: str = Field(max_length=17)
    outcome: str = Field(max_length=20, description="called | letter_sent | booked | declined")
    note: str = Field("", max_length=200)
    due: str | None = Field(
        None, max_length=10, description="YYYY-MM-DD the reminder is for; the car's own if null."
    )


class GreetingResult(Body):
    customer: str = Field(max_length=20, description="The customer's mobile number.")
    holiday: str = Field(max_length=40, description="The holiday's code, e.g. 2027-spring.")
    result: str = Field(max_length=20, description="sms | called | no_answer | declined")
    note: str = Field("", max_length=200)


def _contact(contact: Any) -> dict[str, Any]:
    return {
        "purpose": contact.purpose,
        "subject": contact.subject,
        "occasion": contact.occasion,
        "outcomes": [{**o, "at": o["at"].isoformat()} for o in contact.outcomes],
    }


@router.post("/reminders", summary="登记保养提醒结果 / record a maintenance reminder's outcome")
def record_reminder(body: ReminderOutcome, user: ApiUser, archive: ArchiveDep) -> dict[str, Any]:
    contact = commands.record_reminder(
        archive, body.vin, body.outcome, user.username, note=body.note, due=body.due
    )
    return _contact(contact)


@router.post("/greetings", summary="登记节日问候结果 / record a holiday greeting's result")
def record_greeting(body: GreetingResult, user: ApiUser, archive: ArchiveDep) -> dict[str, Any]:
    contact = commands.record_greeting(
        archive, body.customer, body.holiday, body.result, user.username, note=body.note
    )
    return _contact(contact)


@router.get(
    "/letters/{month}",
    summary="定期保养邀请信和首保感谢信（PDF）/ the month's letters",
    response_class=Response,
)
def letters(
    month: MonthPath, user: ApiUser, archive: ArchiveDep, models: ReadModelsDep
) -> Response:
    data, _ = month_letters(archive, models, month)
    return Response(data, headers=letters_headers(month))
