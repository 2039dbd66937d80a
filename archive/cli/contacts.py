"""``archive remind | greet | letters``: the desk's contacts with customers — a maintenance
reminder's outcome and a holiday greeting's result (recorded as events), and the month's
invitation and thank-you letters (one PDF, a letter a page)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from archive.cli._shared import JsonOpt, StaffOpt, emit_json, opened, read_models

NoteOpt = Annotated[str, typer.Option("--note", help="A note for the record (200 characters).")]


def register(root: typer.Typer) -> None:
    root.command()(remind)
    root.command()(greet)
    root.command()(letters)


def remind(
    vin: Annotated[str, typer.Argument(help="The car's VIN.")],
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome",
            help="called 已电话提醒 | letter_sent 已寄邀请信 | booked 已预约 | declined 客户谢绝.",
        ),
    ],
    staff: StaffOpt,
    note: NoteOpt = "",
    due: Annotated[
        str | None,
        typer.Option("--due", help="The due date the reminder is for (default: the car's own)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record how a periodic-maintenance reminder went (定期保养提醒结果)."""
    from archive import commands
    from archive.contacts.rules import OUTCOME_LABELS

    with opened(as_json) as archive:
        contact = commands.record_reminder(archive, vin, outcome, staff, note=note, due=due)
    latest = contact.outcomes[-1]
    if as_json:
        emit_json(
            {
                "vin": contact.subject,
                "due": contact.occasion,
                "outcome": latest["outcome"],
                "note": latest["note"],
                "times": len(contact.outcomes),
            }
        )
    else:
        typer.echo(
            f"已登记 {contact.subject}（保养到期 {contact.occasion}）："
            f"{OUTCOME_LABELS[str(latest['outcome'])]}"
        )


def greet(
    customer: Annotated[
        str | None, typer.Argument(help="The customer's mobile number (not with --all-pending).")
    ] = None,
    holiday: Annotated[
        str, typer.Option("--holiday", help="The holiday's code, e.g. 2027-spring.")
    ] = "",
    result: Annotated[
        str,
        typer.Option(
            "--result",
            help="sms 已发短信 | called 已电话问候 | no_answer 未接通 | declined 客户谢绝.",
        ),
    ] = "",
    staff: StaffOpt = "",
    note: NoteOpt = "",
    all_pending: Annotated[
        bool,
        typer.Option("--all-pending", help="Everyone on the holiday's list not greeted yet."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Record how a holiday greeting went (节日问候结果), for one customer or, with
    --all-pending, for everyone on the list without a result yet (a text sent to them all)."""
    from archive import commands
    from archive.contacts.rules import RESULT_LABELS
    from archive.errors import BadInput, FieldProblem

    with opened(as_json) as archive:
        if all_pending == bool(customer):
            zh = "请给出一个客户手机号，或用 --all-pending 登记全部未问候的客户（二者选一）"
            raise BadInput(
                "customer_or_all",
                zh,
                "give a customer or --all-pending",
                [FieldProblem("customer", zh, "give a customer or --all-pending")],
            )
        if all_pending:
            greeted = commands.record_pending_greetings(archive, holiday, result, staff, note=note)
        else:
            greeted = [
                commands.record_greeting(archive, str(customer), holiday, result, staff, note=note)
            ]
    latest = greeted[-1].outcomes[-1]
    if as_json:
        emit_json(
            {
                "holiday": greeted[-1].occasion,
                "result": latest["outcome"],
                "customers": [c.subject for c in greeted],
            }
        )
    else:
        label = RESULT_LABELS[str(latest["outcome"])]
        who = greeted[0].subject if len(greeted) == 1 else f"{len(greeted)} 位客户"
        typer.echo(f"已登记 {who}（{greeted[-1].occasion}）：{label}")


def letters(
    month: Annotated[str, typer.Option("--month", help="The month, YYYY-MM.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the PDF.")],
    as_json: JsonOpt = False,
) -> None:
    """定期保养邀请信 for the cars due in the month and 首保感谢信 for its first services: one
    PDF, a letter a page."""
    from archive.cli.reports import _write
    from archive.queries.documents import today
    from archive.reports.letters import letters_pdf
    from archive.reports.model import ReportSource
    from archive.reports.run import ask

    with opened(as_json) as archive:
        asked = ask("maintenance", {"month": month}, today(archive))
        with read_models(archive) as models:
            data, count = letters_pdf(ReportSource(archive, models), asked.period)
        _write(output, data)
    if as_json:
        emit_json({"month": asked.period.label, "letters": count, "output": str(output)})
    else:
        typer.echo(f"已生成 {asked.period.label} 邀请信和感谢信 {count} 封：{output}")
