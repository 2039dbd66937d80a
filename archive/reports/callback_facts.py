"""What the three callback reports (weekly callbacks, satisfaction, complaints) share: the
questionnaire's items and the choices' Chinese labels as the registry declares them, the
callbacks of a period with the person each one is about, and exact averages and rates.

A callback's person: a repair callback names a work order, whose service advisor (as the order
reads now, amendments included) served the customer; a delivery callback names a warranty
registration, whose sales consultant sold the car. A callback naming neither has no person.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from archive.kinds.fieldtypes import Choice
from archive.kinds.registry import get_kind
from archive.reports.model import Period, ReportSource
from projections.callbacks import SCORE_PREFIX, CallbackReports

REACHED = "reached"
CHUNK = 500  # numbers per IN (...) list
NO_PERSON = "未关联顾问"


def _choice_labels(kind: str, code: str) -> dict[str, str]:
    field_type = get_kind(kind).field_map[code].type
    assert isinstance(field_type, Choice)
    return dict(field_type.options)


def score_items() -> list[tuple[str, str]]:
    """The questionnaire's 1-5 items, (code, Chinese label), in the registry's order."""
    return [
        (f.code, f.label) for f in get_kind("callback").fields if f.code.startswith(SCORE_PREFIX)
    ]


OVERALL = "score_overall"  # the customer's overall satisfaction: its own figure, not a service item
EXPLAINED = "advisor_explained"  # the yes/no item, averaged as a yes-rate
EXPLAINED_LABEL = get_kind("callback").field_map[EXPLAINED].label
OUTCOME_LABELS = _choice_labels("callback", "outcome")
DEPARTMENT_LABELS = _choice_labels("quick_handling", "department_at_fault")
SOURCE_LABELS = _choice_labels("quick_handling", "source")

# A callback's person (the projection keeps it current): username and role.
WHO = "c.person AS who, c.person_role AS who_role"


def from_callbacks() -> str:
    """Live callbacks of business dates [?, ?)."""
    return (
        " FROM cb_callbacks c WHERE c.voided = 0 AND c.business_date >= ? AND c.business_date < ?"
    )


# The answers that count in averages (of live callbacks that reached the customer), added up
# by day, person and item, of business dates [?, ?). Select SUM(s.total), SUM(s.n).
FROM_SCORE_DAYS = " FROM cb_score_days s WHERE s.business_date >= ? AND s.business_date < ?"


def callbacks_model(source: ReportSource) -> CallbackReports:
    found: CallbackReports = source.models.callbacks
    return found


def period_bounds(period: Period) -> tuple[str, str]:
    return period.start.isoformat(), period.end.isoformat()


@dataclass(frozen=True)
class Person:
    """Whom a row of the satisfaction table is about."""

    username: str | None
    role: str

    def label(self, names: dict[str, str]) -> str:
        if self.username is None:
            return NO_PERSON
        name = names.get(self.username, self.username)
        return f"{name}（销售顾问）" if self.role == "sales_consultant" else name


def person_of(row: dict[str, Any]) -> Person:
    return Person(row.get("who") or None, row["who_role"])


def average(total: int, count: int) -> Decimal | None:
    """An exact average shown as it is stored: two decimals, halves rounded up."""
    if not count:
        return None
    return (Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def rate(part: int, whole: int) -> Decimal | None:
    """A fraction with 3 decimals (0.867: 86.7%), so every rendering shows the same figure."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.001"), ROUND_HALF_UP)


@dataclass
class Tally:
    """Counts and sums of the questionnaire for one group of callbacks."""

    made: int = 0
    reached: int = 0
    explained_yes: int = 0
    explained_answered: int = 0

    def __post_init__(self) -> None:
        self.sums: dict[str, int] = {}
        self.counts: dict[str, int] = {}

    def add_callbacks(self, outcome: str, explained: int | None, count: int) -> None:
        """``count`` callbacks of this outcome and yes/no answer (None: not answered)."""
        self.made += count
        if outcome != REACHED:
            return
        self.reached += count
        if explained is not None:
            self.explained_answered += count
            self.explained_yes += count * int(explained)

    def add_scores(self, item: str, total: int, count: int) -> None:
        self.sums[item] = self.sums.get(item, 0) + int(total)
        self.counts[item] = self.counts.get(item, 0) + int(count)

    def item_average(self, item: str) -> Decimal | None:
        return average(self.sums.get(item, 0), self.counts.get(item, 0))

    def service_items_average(self) -> Decimal | None:
        """Every answer to the service items (all but the overall score), each counted once."""
        items = [item for item in self.counts if item != OVERALL]
        return average(sum(self.sums[i] for i in items), sum(self.counts[i] for i in items))

    def explained_rate(self) -> Decimal | None:
        return rate(self.explained_yes, self.explained_answered)

    def reached_rate(self) -> Decimal | None:
        return rate(self.reached, self.made)


# Where a customer's problem stands, from the quick-handling forms that handle it: none yet; a
# form still open; closed but not yet signed by the service manager; closed and signed (only
# then is it off the worklists: archive.queries.worklists.problems_open).
STATE_LABELS = {
    "no_form": "未建快速处理表",
    "handling": "处理中",
    "awaiting_signature": "已关闭，待服务经理签字",
    "resolved": "已解决",
}
STATES = tuple(STATE_LABELS)  # open ones first


def form_state(form: dict[str, Any]) -> str:
    if not form["closed_at"]:
        return "handling"
    return "resolved" if form["manager_signed"] else "awaiting_signature"


def leading_form(forms: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The form that says where a problem stands: the furthest along, the latest of those."""
    if not forms:
        return None
    return max(forms, key=lambda f: (STATES.index(form_state(f)), f["business_date"], f["number"]))


def problem_state(forms: list[dict[str, Any]]) -> str:
    lead = leading_form(forms)
    return "no_form" if lead is None else form_state(lead)


def problems_in(source: ReportSource, period: Period) -> list[dict[str, Any]]:
    """The period's live callbacks where the customer had a problem, each with ``forms``: the
    live quick-handling forms naming it (``source_no``) or named by it (``quick_handling_no``)."""
    model = callbacks_model(source)
    problems = model.rows(
        "SELECT c.*, " + WHO + from_callbacks() + " AND c.problem = 1"
        " ORDER BY c.business_date, c.number",
        period_bounds(period),
    )
    # Looked up by the problems' numbers (a few hundred a year), in chunks of bound parameters.
    wanted: dict[str, dict[str, list[str]]] = {"source_no": {}, "number": {}}
    for p in problems:
        wanted["source_no"].setdefault(p["number"], []).append(p["number"])
        if p["quick_handling_no"]:
            wanted["number"].setdefault(p["quick_handling_no"], []).append(p["number"])
    links: dict[tuple[str, str], dict[str, Any]] = {}  # (callback, form) -> the form
    for column, owners in wanted.items():
        only = " AND source = 'callback'" if column == "source_no" else ""
        keys = list(owners)
        for at in range(0, len(keys), CHUNK):
            part = keys[at : at + CHUNK]
            for form in model.rows(
                f"SELECT * FROM cb_forms WHERE voided = 0{only}"
                f" AND {column} IN ({', '.join('?' * len(part))})",
                part,
            ):
                for callback in owners[form[column]]:
                    links[(callback, form["number"])] = form
    forms: dict[str, list[dict[str, Any]]] = {p["number"]: [] for p in problems}
    for (callback, _), form in sorted(
        links.items(), key=lambda link: (link[1]["business_date"], link[1]["number"])
    ):
        forms[callback].append(form)
    return [{**p, "forms": forms[p["number"]]} for p in problems]
