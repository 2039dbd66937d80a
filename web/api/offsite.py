"""The off-site service (外出服务): the technicians leave only after the clerk has signed that
they took the handheld terminal, and come back with claimed and verified kilometres."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from archive import commands
from web.api.deps import ArchiveDep
from web.api.documents import view
from web.api.models import DepartureRequest, ReturnRequest
from web.api.routing import ApiRoute
from web.auth import ApiUser

router = APIRouter(route_class=ApiRoute, tags=["off-site 外出服务"])


@router.post(
    "/offsite/{number}/departure",
    summary="外出出发 / the technicians leave (after the clerk signed)",
)
def depart(
    number: str, body: DepartureRequest, user: ApiUser, archive: ArchiveDep
) -> dict[str, Any]:
    doc = commands.depart(
        archive, number, user.username, body.handheld_terminal_id, body.odometer_out
    )
    return view(archive, doc)


@router.post(
    "/offsite/{number}/return",
    summary="外出返回 / back, with claimed and verified kilometres",
)
def return_trip(
    number: str, body: ReturnRequest, user: ApiUser, archive: ArchiveDep
) -> dict[str, Any]:
    doc = commands.return_trip(
        archive,
        number,
        user.username,
        body.mileage_claimed,
        body.mileage_verified,
        body.odometer_in,
    )
    return view(archive, doc)
