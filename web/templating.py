"""Rendering pages: one Jinja2 environment, with what every page needs in its context."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from archive.kinds.roles import ROLE_LABELS
from archive.staff.permissions import CONTACT, INVOICE
from web.navigation import may_file, may_file_kind
from web.security import CSRF_FIELD, load_session, session_person, store_session

TEMPLATES = Jinja2Templates(directory=str(files("templates") / "pages"))
TEMPLATES.env.globals.update(
    role_labels=ROLE_LABELS, csrf_field=CSRF_FIELD, may_file=may_file, may_file_kind=may_file_kind
)
# Who is offered the contact forms: the roles the write path lets record them.
TEMPLATES.env.globals["contact_roles"] = list(CONTACT.roles)
TEMPLATES.env.globals["invoice_roles"] = list(INVOICE.roles)


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    session = load_session(request)
    archive = request.app.state.archive
    full = {
        "user": session_person(request),
        "csrf_token": session.csrf,
        "dealer": archive.settings.dealer_name,
        **context,
    }
    response = TEMPLATES.TemplateResponse(request, template, full, status_code=status_code)
    if session.changed:
        store_session(request, response, session)
    return response
