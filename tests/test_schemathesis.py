"""The API against its own OpenAPI schema, by schemathesis: requests generated from the schema
(and, in the negative phases, against it) go through the ASGI app as a real clerk-and-admin's
token on a small real archive. No answer may be a server error, and no request the schema
calls valid may be refused as invalid.

Which refusals a valid request may still get (``positive_data_acceptance``): 401 never (the
token is real), but
- 403: the permission table decides by the caller's roles and the document's kind (an admin
  who is a clerk may not seal, sign as a technician, or return from off-site service);
- 404: a generated kind, number, scan hash or username names nothing in this archive;
- 409: the state of a real document refuses the change (a stale version, a voided one);
- 422 only on the operations whose rules no JSON Schema can say (a VIN's check digit, a
  plate, a date that must exist, fields that depend on the kind); see ``BEYOND_THE_SCHEMA``.
Every other 422 means the schema says less than the server checks: say it in the schema
(``web.api.schema``).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck

from archive import commands
from archive.bootstrap import open_archive
from archive.config import Settings
from tests.support import FakeClock, register_team, work_order
from web.app import create_app

pytestmark = pytest.mark.slow

# Where a schema-valid request may still be invalid, and why no JSON Schema can say it.
BEYOND_THE_SCHEMA = {
    # A kind's fields and rules (a VIN's check digit, a plate, a date that exists), described
    # by /kinds/{kind}, not by this operation's schema:
    "POST /api/v1/documents/{kind}": "the kind's fields",
    "PATCH /api/v1/documents/{kind}/{number}": "the kind's fields",
    "POST /api/v1/imports/{kind}": "a CSV of the kind's fields",
    "POST /api/v1/documents/{kind}/{number}/scans": "the file's content (PDF, JPEG, PNG)",
    "POST /api/v1/documents/{kind}/{number}/signatures": "the customer's evidence",
    "POST /api/v1/offsite/{number}/departure": "kilometres and terminal of the order",
    "POST /api/v1/offsite/{number}/return": "kilometres against the departure",
    # Which kinds are created from which is the registry's links, not this operation's schema.
    "GET /api/v1/drafts/{kind}": "the registry's links (from=KIND:NUMBER)",
    # OpenAPI cannot say that two query parameters exclude each other.
    "GET /api/v1/documents/{kind}/{number}": "version or as_of, not both",
    # The query language (its grammar is in the description).
    "GET /api/v1/search": "the query language",
    # Staff rules that depend on each other: a clerk needs his 备案号, names are unique.
    "POST /api/v1/staff": "roles and registration number together",
    "PUT /api/v1/staff/{username}/roles": "roles and registration number together",
}
ALLOWED = ["2xx", "403", "404", "409"]


class WithoutLifespan:
    """The app as the other tests drive it (``tests.webclient``): its lifespan would close the
    read models when schemathesis's client that loads the schema ends, before any call."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            stage = (await receive())["type"].rsplit(".", 1)[-1]  # startup, then shutdown
            await send({"type": f"lifespan.{stage}.complete"})
            if stage == "shutdown":
                return


def _served() -> tuple[Any, str, Path]:
    """The app on a small real archive (the team and one work order), and a real token of an
    admin who is also the registered clerk. Made when the module is collected: schemathesis
    needs the schema to generate the tests (its lazy loader fails under pytest 9)."""
    home = Path(tempfile.mkdtemp(prefix="schemathesis-"))
    # Collected is not run (`-m "not slow"`): the module fixture below may never close it.
    atexit.register(shutil.rmtree, home, True)
    # Tantivy: Hypothesis seeds Python's global `random` alike before every example, and Whoosh
    # names its new segments from it, so the second example's commit collides with the first.
    archive = open_archive(Settings(home=home, search_engine="tantivy"), clock=FakeClock())
    register_team(archive)
    commands.file_document(archive, "work_order", work_order(), "admin")
    token = commands.issue_token(archive, "admin", "schemathesis", "admin")[1]
    return create_app(archive, follow_log=False), token, home


APP, TOKEN, HOME = _served()


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    APP.state.read_models.close()
    APP.state.archive.close()
    shutil.rmtree(HOME, ignore_errors=True)


CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {"positive_data_acceptance": {"expected-statuses": ALLOWED}},
        "operations": [
            {
                "include-name": sorted(BEYOND_THE_SCHEMA),
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ALLOWED, "422"]}},
            }
        ],
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", WithoutLifespan(APP), config=CONFIG)


@schema.parametrize()
@hypothesis.settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same examples on every run: a failure here is a failure in CI
)
def test_api_answers_no_server_error_and_takes_what_its_schema_calls_valid(case: Any) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"},
        checks=[
            schemathesis.checks.not_a_server_error,
            schemathesis.checks.positive_data_acceptance,
        ],
    )
