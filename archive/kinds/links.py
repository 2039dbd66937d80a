"""Links between kinds, declared as data: which field of a document names which other paper.

A :class:`Link` sits on the referring kind in the registry (a warranty claim's
``work_order_no`` names a work order). The write path (``archive.commands.links``) checks each
link when a document is filed or the link changes; this module holds the declaration and the
pure parts of the rules: comparing a document's values with its target's, and the values a new
document takes from the paper it is created from ("新建三包索赔单（从此委托书）").

Link states, recorded on ``Document.LinksRecorded``:

- ``ok``: the target exists and agrees;
- ``unlinked``: no target (paper from before the system), filed only with the person's reason;
- ``mileage_differs``: a claim's mileage is not its order's (flagged for the auditor, not
  refused: the odometer may have been misread on either paper);
- ``further``: a second claim on one work order, filed only with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from archive.errors import FieldProblem

OK = "ok"
UNLINKED = "unlinked"
MILEAGE_DIFFERS = "mileage_differs"
FURTHER = "further"
LINK_STATES = (OK, UNLINKED, MILEAGE_DIFFERS, FURTHER)


@dataclass(frozen=True)
class Link:
    """``field`` of the referring document holds the number of a document of one of
    ``target_kinds``.

    ``kind_field`` (quick handling's ``source``) picks the target kind from the document's
    own values; a value with no kind in ``target_kinds`` (a complaint: not a kind yet) is kept
    as text and not checked. ``required``: an empty field is refused unless the caller gives
    an unlinked reason; ``unless`` names another field that, when given, makes this one
    optional (a delivery callback names a warranty registration, not a work order).
    ``column``: the field is a line table and each row's ``column`` names a target (the daily
    report's lines). ``copies``: the fields a new document takes from its target when created
    from it.
    """

    field: str
    target_kinds: tuple[str, ...]
    required: bool = True
    unless: str | None = None
    kind_field: str | None = None
    same_vin: bool = True
    not_before_target: bool = True
    mileage: str | None = None  # "equal": differences are recorded as mileage_differs
    one_per_target: bool = False  # a further one needs a reason (warranty claims)
    column: str | None = None
    copies: tuple[str, ...] = ()
    # Fields that must hold the target's value when both papers have one (a quick-handling
    # form from a callback names the callback's work order, not another).
    agrees: tuple[str, ...] = ()

    def target_kinds_for(self, values: Mapping[str, Any]) -> tuple[str, ...]:
        """The kinds this link may name, given the document's values (``()``: unchecked)."""
        if self.kind_field is None:
            return self.target_kinds
        chosen = values.get(self.kind_field)
        return (chosen,) if chosen in self.target_kinds else ()

    def is_required(self, values: Mapping[str, Any]) -> bool:
        if not self.required:
            return False
        if self.kind_field is not None and not self.target_kinds_for(values):
            return False
        return not (self.unless and values.get(self.unless) not in (None, "", []))

    def watched_fields(self) -> set[str]:
        """Fields whose change makes the write path check this link again on an amendment."""
        watched = {self.field, "vin", "business_date", "mileage_km"}
        for extra in (self.kind_field, self.unless):
            if extra:
                watched.add(extra)
        return watched | set(self.agrees)

    def describe(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "target_kinds": list(self.target_kinds),
            "required": self.required,
            "unless": self.unless,
            "kind_field": self.kind_field,
            "column": self.column,
            "copies": list(self.copies),
        }


def link_record(
    link: Link,
    target_kind: str | None,
    target_number: str | None,
    state: str = OK,
    reason: str = "",
    detail: str = "",
) -> dict[str, Any]:
    """One entry of ``Document.LinksRecorded.links``."""
    assert state in LINK_STATES
    return {
        "field": link.field,
        "target_kind": target_kind,
        "target_number": target_number,
        "state": state,
        "reason": reason,
        "detail": detail,
    }


def compare_with_target(
    link: Link,
    values: Mapping[str, Any],
    target_label: str,
    target_number: str,
    target_fields: Mapping[str, Any],
    field_labels: Mapping[str, str] | None = None,
) -> tuple[list[FieldProblem], str]:
    """What is wrong between a document and the target it names, and the mileage detail
    (``""`` when they agree). VIN, date and ``agrees`` disagreements are refused; mileage is
    flagged. ``field_labels``: the Chinese labels of the ``agrees`` fields, for the message."""
    problems: list[FieldProblem] = []
    name = f"{target_label} {target_number}"
    vin, target_vin = values.get("vin"), target_fields.get("vin")
    if link.same_vin and vin and target_vin and vin != target_vin:
        problems.append(
            FieldProblem(
                "vin",
                f"VIN 与{name}的 VIN（{target_vin}）不一致，请核对车架号或单号",
                f"the VIN differs from {target_number}'s ({target_vin})",
            )
        )
    day, target_day = values.get("business_date"), target_fields.get("business_date")
    dated = isinstance(day, date) and isinstance(target_day, date)
    if link.not_before_target and dated and day < target_day:
        problems.append(
            FieldProblem(
                "business_date",
                f"日期 {day.isoformat()} 早于{name}的日期 {target_day.isoformat()}，"
                "请核对日期或单号",
                f"the date is before {target_number}'s ({target_day.isoformat()})",
            )
        )
    for code in link.agrees:
        mine, theirs = values.get(code), target_fields.get(code)
        if mine not in (None, "") and theirs not in (None, "") and mine != theirs:
            problems.append(
                FieldProblem(
                    code,
                    f"{(field_labels or {}).get(code, code)} {mine} 与{name}的"
                    f"（{theirs}）不一致，请核对单号",
                    f"{code} {mine} differs from {target_number}'s ({theirs})",
                )
            )
    detail = ""
    km, target_km = values.get("mileage_km"), target_fields.get("mileage_km")
    if link.mileage == "equal" and km is not None and target_km is not None and km != target_km:
        detail = f"{target_label}里程 {target_km} km，本单 {km} km"
    return problems, detail


def prefill_values(
    link: Link, source_kind: str, source_number: str, source_fields: Mapping[str, Any]
) -> dict[str, Any]:
    """The values a new document takes from ``source`` through ``link``, as a person would
    type them (dates as ``YYYY-MM-DD``, amounts as text): the source's number in the link
    field, the kind of source where the link has a kind field, and the fields it copies."""
    values: dict[str, Any] = {link.field: source_number}
    if link.kind_field is not None:
        values[link.kind_field] = source_kind
    for code in link.copies:
        value = source_fields.get(code)
        if value not in (None, "", []):
            values[code] = as_input(value)
    return values


def as_input(value: Any) -> Any:
    """A stored value as JSON input that parses back to it."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [as_input(v) for v in value]
    if isinstance(value, dict):
        return {k: as_input(v) for k, v in value.items()}
    return value
