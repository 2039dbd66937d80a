"""What the page modules share: the read models of the app, staff choices,
and asking the permission table whether to offer a button (``web.navigation.can``)."""

from __future__ import annotations

from fastapi import Request

from archive.bootstrap import Archive, ReadModels
from web.navigation import can

__all__ = ["can", "fresh", "models_of", "staff_options"]


def models_of(request: Request) -> ReadModels:
    return request.app.state.read_models


def staff_options(archive: Archive) -> dict[str | None, list[tuple[str, str]]]:
    """Active staff by role (and all of them under ``None``), as (username, name) pairs."""
    people = sorted(
        (p for p in archive.staff.refresh().values() if p.active), key=lambda p: p.username
    )
    options: dict[str | None, list[tuple[str, str]]] = {None: []}
    for person in people:
        options[None].append((person.username, person.name))
        for role in person.roles:
            options.setdefault(role, []).append((person.username, person.name))
    return options


def fresh(request: Request) -> None:
    """Let the projections catch up with the write just made, so the next page shows it."""
    models_of(request).runner.wait_for(timeout=3)
