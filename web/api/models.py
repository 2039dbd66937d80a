"""The JSON bodies the API accepts.

They only shape the request: what a value must be (a VIN, a known role, a non-empty reason)
is decided by the write path, which reports it per field in Chinese and English; the schema
says those rules too (``web.api.schema``). Unknown keys are refused, so a misspelt key is an
error rather than silently ignored.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from web.api.schema import (
    MAYBE_BLANK_LINE,
    ONE_LINE,
    REASON,
    ROLE,
    SHA256,
    STAFF_ROLE,
    USERNAME,
    says,
)

# A version number as the stores hold it: 2^63 and more overflow SQLite's INTEGER (a server
# error, not an answer); no document comes near 2^31 versions.
MAX_VERSION = 2**31 - 1


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Amendment(Body):
    changes: dict[str, Any] = Field(description="Only the fields that change; null clears one.")
    reason: str = Field(
        description="Why the document changes (shown in its history).", **says(**REASON)
    )
    expected_version: int = Field(
        ge=1, le=MAX_VERSION, description="The version you saw; a newer one refuses (409)."
    )
    unlinked_reason: str | None = Field(
        None, description="Why a changed link cannot be checked.", **says(**REASON)
    )
    further_reason: str | None = Field(
        None, description="Why a work order gets a further claim.", **says(**REASON)
    )


class Reason(Body):
    reason: str = Field(description="Why (shown in the history).", **says(**REASON))


class SignatureRequest(Body):
    role: str = Field(
        description="The role signed in; staff sign in a role they hold.", **says(**ROLE)
    )
    customer_name: str | None = Field(
        None,
        description="customer: who signed (blank: the customer on the document; 40 characters "
        "are kept).",
        **says(**MAYBE_BLANK_LINE),
    )
    image_sha256: str | None = Field(
        None,
        description="customer: SHA-256 of the signed slip's scan on this document.",
        **says(**SHA256),
    )
    on_behalf_of: str | None = Field(
        None,
        description="Sign for this person the form names in the role (username or name).",
        **says(**ONE_LINE),
    )
    on_behalf_reason: str | None = Field(
        None,
        description="Why you sign on his behalf (required with on_behalf_of).",
        **says(**REASON),
    )


class RefusalRequest(Body):
    role: str = Field(
        description="The role refused; staff refuse in a role they hold.", **says(**ROLE)
    )
    reason: str = Field(description="Why the signature is refused.", **says(**REASON))


class SubmissionRequest(Body):
    claim_no: str = Field(
        description="The manufacturer's claim number (厂家索赔号).",
        **says(**ONE_LINE, maxLength=40),
    )


Kilometres = int | str | None


class DepartureRequest(Body):
    handheld_terminal_id: str | None = Field(
        None, description="The handheld terminal taken (default: the one on the order)."
    )
    odometer_out: Kilometres = None


class ReturnRequest(Body):
    mileage_claimed: Kilometres = Field(description="Kilometres the technician claims.")
    mileage_verified: Kilometres = Field(description="Kilometres the clerk verified.")
    odometer_in: Kilometres = None


class NewStaff(Body):
    username: str = Field(description="Letters, digits and dots.", **says(**USERNAME))
    name: str = Field(description="The full name, as signed.", **says(**ONE_LINE))
    roles: list[str] = Field(**says(items=STAFF_ROLE, minItems=1))
    registration_no: str | None = Field(None, description="备案号 (clerks).")
    phone: str | None = None


class RolesChange(Body):
    roles: list[str] = Field(
        description="The full new set of roles.", **says(items=STAFF_ROLE, minItems=1)
    )
    registration_no: str | None = None
