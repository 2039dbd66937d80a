"""``archive fee notice|request|receive``: the month's service-fee notice to the station head
(PDF), and its invoice asked for and received (recorded as events)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from archive.cli._shared import JsonOpt, StaffOpt, emit_json, opened, read_models

app = typer.Typer(help="服务费用：致站长的通知、发票申请与收票登记。", no_args_is_help=True)

FeeMonthOpt = Annotated[str, typer.Option("--month", help="The month, YYYY-MM.")]
AmountOpt = Annotated[str, typer.Option("--amount", help="Yuan, e.g. 1740.00.")]
ReasonOpt = Annotated[
    str | None, typer.Option("--reason", help="Why: corrects an earlier request or receipt.")
]


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="fee")


@app.command()
def notice(
    month: FeeMonthOpt,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the PDF.")],
    as_json: JsonOpt = False,
) -> None:
    """The notice to the station head: the month's submitted claims and service fee (figures
    and capitals), as a one-page PDF."""
    from archive.cli.reports import _write
    from archive.queries.documents import today
    from archive.reports.fee_notice import notice_pdf
    from archive.reports.model import ReportSource
    from archive.reports.run import ask

    with opened(as_json) as archive:
        asked = ask("service-fee", {"month": month}, today(archive))
        with read_models(archive) as models:
            data = notice_pdf(ReportSource(archive, models), asked.period)
        _write(output, data)
    if as_json:
        emit_json({"month": asked.period.label, "output": str(output)})
    else:
        typer.echo(f"已生成 {asked.period.label} 服务费用通知：{output}")


@app.command()
def request(
    month: FeeMonthOpt,
    amount: AmountOpt,
    staff: StaffOpt,
    note: Annotated[str, typer.Option("--note", help="A note for the record.")] = "",
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record that the station head was asked for the month's service-fee invoice."""
    from archive import commands

    with opened(as_json) as archive:
        fees = commands.request_invoice(archive, month, amount, staff, note=note, reason=reason)
    _done(as_json, fees, "已登记申请开票")


@app.command()
def receive(
    month: FeeMonthOpt,
    invoice_no: Annotated[str, typer.Option("--invoice-no", help="The invoice's number.")],
    amount: AmountOpt,
    staff: StaffOpt,
    received_on: Annotated[
        str | None, typer.Option("--received-on", help="The day it came, YYYY-MM-DD (today).")
    ] = None,
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the month's service-fee invoice as received (number and amount)."""
    from archive import commands

    with opened(as_json) as archive:
        fees = commands.receive_invoice(
            archive, month, invoice_no, amount, staff, received_on=received_on, reason=reason
        )
    _done(as_json, fees, "已登记收到发票")


def _done(as_json: bool, fees: object, what: str) -> None:
    from archive.queries.fee_invoices import invoice_dict

    data = invoice_dict(fees)
    if as_json:
        emit_json(data)
        return
    typer.echo(f"{data['month']} {what}")
    if data["requested_differs"]:
        typer.echo(
            f"注意：申请金额 {data['request']['amount']} 元与系统合计的服务费用"
            f" {data['request']['computed']} 元不同"
        )
    if data["received_differs"]:
        typer.echo(
            f"注意：发票金额 {data['receipt']['amount']} 元与申请金额"
            f" {data['request']['amount']} 元不同"
        )
