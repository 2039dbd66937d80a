"""Recording the desk's contacts with customers: a maintenance reminder's outcome, a holiday
greeting's result (``events.contacts.CustomerContact``).

Each is checked before anything is saved: the person, the outcome, the note, and that the
vehicle or customer is one the archive knows (from the vehicle-history read model, caught up
with the log). A refusal leaves the archive as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from eventsourcing.application import AggregateNotFoundError

from archive.bootstrap import Archive, opening
from archive.commands.common import require_actor, save
from archive.contacts.rules import GREETING_RESULTS, REMINDER_OUTCOMES, due_days, due_of
from archive.contacts.settings import Holiday, report_settings
from archive.contacts.visits import add_months, vehicle_visits
from archive.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from archive.kinds.identifiers import normalize_phone
from archive.kinds.text import check_text
from archive.staff.permissions import CONTACT, require
from events.contacts import GREETING, REMINDER, CustomerContact
from projections.contacts import Contacts
from projections.runner import catch_up

MAX_NOTE = 200


def _choice(value: str, options: tuple[tuple[str, str], ...], field: str, what: str) -> str:
    text = (value or "").strip()
    for code, label in options:
        if text in (code, label):
            return code
    allowed = "、".join(f"{label}（{code}）" for code, label in options)
    raise ValidationFailed(
        [FieldProblem(field, f"“{text}”不是可选的{what}，可选：{allowed}", f"bad {field} {text!r}")]
    )


def _note(note: str | None) -> str:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise ValidationFailed(
            [FieldProblem("note", f"备注不能超过 {MAX_NOTE} 字", "the note is too long")]
        )
    return check_text(text, "note", "备注", multiline=True)


@contextmanager
def _contacts(archive: Archive) -> Iterator[Contacts]:
    """The contacts read model alone (its visits), caught up with the log, closed after use."""
    with opening(archive.layout):
        contacts = Contacts(archive.read_models_location)
    try:
        catch_up(contacts, archive.log())
        yield contacts
    finally:
        contacts.close()


def _load_or_open(
    archive: Archive, purpose: str, subject: str, occasion: str, actor: str
) -> CustomerContact:
    try:
        found: CustomerContact = archive.app.repository.get(
            CustomerContact.create_id(purpose, subject, occasion)
        )
        return found
    except AggregateNotFoundError:
        return CustomerContact.open(purpose, subject, occasion, actor, archive.now())


def record_reminder(
    archive: Archive,
    vin: str,
    outcome: str,
    actor: str,
    note: str | None = None,
    due: str | date | None = None,
) -> CustomerContact:
    """Record how a periodic-maintenance reminder went for ``vin``, due on ``due`` (default:
    when the car is due now, from all its visits)."""
    require(require_actor(archive, actor), CONTACT)
    code = _choice(outcome, REMINDER_OUTCOMES, "outcome", "提醒结果")
    text = _note(note)
    vin = (vin or "").strip().upper()
    due_day: date | None = None
    if due not in (None, ""):
        try:
            due_day = due if isinstance(due, date) else date.fromisoformat(str(due).strip())
        except ValueError:
            raise ValidationFailed(
                [FieldProblem("due", f"到期日“{due}”不对，请写成 2026-12-05 这样", "bad due date")]
            ) from None
    with _contacts(archive) as contacts:
        today = archive.now().astimezone(archive.settings.tz).date()
        visits = vehicle_visits(contacts, [vin], date.max).get(vin, []) if vin else []
    if not visits:
        raise NotFound(
            "vehicle_not_found",
            f"没有 VIN 为“{vin}”的到店记录：请核对车架号（17 位）",
            f"no visit of a vehicle {vin!r}",
        )
    settings = report_settings(archive.settings)
    if due_day is None:
        upto = [(d, km) for d, km, _ in visits if d <= today]
        found = due_of(upto or [(d, km) for d, km, _ in visits], settings)
        assert found is not None  # the car has a visit
        due_day = found.day
    else:
        _check_due(due_day, due_days([(d, km) for d, km, _ in visits], settings))
    contact = _load_or_open(archive, REMINDER, vin, due_day.isoformat(), actor)
    contact.record_reminder(code, text, actor, archive.now())
    save(archive, contact)
    return contact


def _check_due(due: date, known: list[date]) -> None:
    """Refuse a due date the maintenance rules never gave the car (a reminder against it would
    show on no list)."""
    if due in known:
        return
    shown = "、".join(d.isoformat() for d in known[-4:])
    raise ValidationFailed(
        [
            FieldProblem(
                "due",
                f"该车没有 {due.isoformat()} 到期的保养（按到店记录计算的到期日：{shown}）；"
                "请在定期保养一览表中选车，或不写到期日（用当前的到期日）",
                f"{due.isoformat()} is not a due date of this car (its due dates: {shown})",
            )
        ]
    )


def record_greeting(
    archive: Archive,
    customer: str,
    holiday: str,
    result: str,
    actor: str,
    note: str | None = None,
) -> CustomerContact:
    """Record how the greeting of ``customer`` (his mobile number) before ``holiday`` (its
    code in the calendar, e.g. ``2027-spring``) went."""
    require(require_actor(archive, actor), CONTACT)
    code = _choice(result, GREETING_RESULTS, "result", "问候结果")
    text = _note(note)
    found = _holiday(archive, holiday)
    key = normalize_phone(customer or "")
    with _contacts(archive) as contacts:
        known = contacts.query(
            "SELECT doc_id FROM contact_visits WHERE customer_key = ? AND voided = 0", (key,)
        )
    if not known:
        raise NotFound(
            "customer_not_found",
            f"没有手机号为“{customer}”、到过店的客户：请核对号码（11 位）",
            f"no customer {customer!r}",
        )
    contact = _load_or_open(archive, GREETING, key, found.code, actor)
    contact.record_greeting(code, text, actor, archive.now())
    save(archive, contact)
    return contact


def _holiday(archive: Archive, holiday: str) -> Holiday:
    calendar = report_settings(archive.settings)
    found = calendar.holiday((holiday or "").strip())
    if found is None:
        codes = "、".join(h.code for h in calendar.holidays[-6:])
        raise ValidationFailed(
            [
                FieldProblem(
                    "holiday",
                    f"节日表中没有“{holiday}”，请写节日代号，例如 {codes}",
                    f"no holiday {holiday!r} in the calendar",
                )
            ]
        )
    return found


def record_pending_greetings(
    archive: Archive, holiday: str, result: str, actor: str, note: str | None = None
) -> list[CustomerContact]:
    """Record one result for every customer on ``holiday``'s list not greeted yet (a text
    message sent to them all), in one save: all of them or, refused, none."""
    require(require_actor(archive, actor), CONTACT)
    code = _choice(result, GREETING_RESULTS, "result", "问候结果")
    text = _note(note)
    found = _holiday(archive, holiday)
    months = report_settings(archive.settings).greeting_months
    with _contacts(archive) as contacts:
        listed = contacts.query(
            "SELECT DISTINCT customer_key FROM contact_visits WHERE voided = 0"
            " AND customer_key IS NOT NULL AND business_date >= ? AND business_date < ?",
            (add_months(found.day, -months).isoformat(), found.day.isoformat()),
        )
        done = contacts.outcomes(GREETING, [found.code])
    pending = sorted({r["customer_key"] for r in listed} - {k for k, _ in done})
    if not pending:
        raise Conflict(
            "nothing_pending",
            f"{found.label}的问候名单上没有未问候的客户",
            f"everyone on the {found.code} list has a result",
        )
    at = archive.now()
    greeted = []
    for key in pending:
        contact = CustomerContact.open(GREETING, key, found.code, actor, at)
        contact.record_greeting(code, text, actor, at)
        greeted.append(contact)
    save(archive, *greeted)
    return greeted
