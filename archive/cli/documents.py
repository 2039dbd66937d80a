"""Commands that change a document: file, amend, attach and withdraw scans, void, sign and
refuse, off-site departure and return, submission, and the CSV import."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from archive import commands, queries
from archive.bootstrap import Archive
from archive.cli._shared import (
    JsonOpt,
    KindArg,
    NumberArg,
    StaffOpt,
    emit_json,
    fail,
    open_file,
    opened,
    read_json,
    unreadable,
)
from archive.errors import BadInput
from archive.kinds.registry import get_kind

app = typer.Typer()


def register(root: typer.Typer) -> None:
    root.add_typer(app)


def _done(as_json: bool, archive: Archive, kind: str, number: str, message: str) -> None:
    view = queries.show(archive, kind, number)
    if as_json:
        emit_json(view)
    else:
        where = f"{view['kind_label']} {view['number']}"
        typer.echo(f"{message}：{where}，第 {view['version']} 版，{view['status_label']}")


UnlinkedOpt = Annotated[
    str | None,
    typer.Option(
        "--unlinked-reason",
        help="Why a paper from before the system names no document the archive holds.",
    ),
]
FurtherOpt = Annotated[
    str | None,
    typer.Option("--further-reason", help="Why a work order gets a further warranty claim."),
]
FromOpt = Annotated[
    tuple[str, str] | None,
    typer.Option(
        "--from",
        help="KIND NUMBER of the paper this one is created from (work_order WO-0001): "
        "its shared fields are filled in, --data overrides them.",
    ),
]


def _payload(
    archive: Archive, kind: str, data: str | None, source: tuple[str, str] | None, as_json: bool
) -> dict[str, Any]:
    """The values to file: those prefilled from ``source``, then ``--data`` over them."""
    payload: dict[str, Any] = {}
    if source is not None:
        payload.update(commands.prefill(archive, kind, source[0], source[1]))
    if data is not None:
        payload.update(read_json(data, as_json))
    elif source is None:
        fail(
            BadInput(
                "no_data",
                "请用 --data 给出单据内容，或用 --from 种类 单号 从已有单据新建",
                "give --data, or --from KIND NUMBER",
            ),
            as_json,
        )
    return payload


@app.command("file")
def file_(
    kind: KindArg,
    staff: StaffOpt,
    data: Annotated[
        str | None, typer.Option("--data", help="JSON file with number and fields, or -.")
    ] = None,
    source: FromOpt = None,
    unlinked_reason: UnlinkedOpt = None,
    further_reason: FurtherOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """File a new document (or one created from another with --from KIND NUMBER)."""
    with opened(as_json) as archive:
        payload = _payload(archive, kind, data, source, as_json)
        doc = commands.file_document(
            archive,
            kind,
            payload,
            staff,
            unlinked_reason=unlinked_reason,
            further_reason=further_reason,
        )
        _done(as_json, archive, doc.kind, doc.number, "已存档")


@app.command()
def draft(
    kind: Annotated[str, typer.Argument(help="Document kind, or daily-report.")],
    source: FromOpt = None,
    day: Annotated[
        str | None, typer.Option("--day", help="Daily report: the day, YYYY-MM-DD.")
    ] = None,
    data: Annotated[
        str | None, typer.Option("--data", help="JSON file of values over the draft's, or -.")
    ] = None,
    file: Annotated[bool, typer.Option("--file", help="File the draft as it is printed.")] = False,
    staff: Annotated[
        str | None, typer.Option("--staff", envvar="ARCHIVE_STAFF", help="Who files (--file).")
    ] = None,
    unlinked_reason: UnlinkedOpt = None,
    further_reason: FurtherOpt = None,
) -> None:
    """Print a new document's values as JSON for review: a daily report drafted from the
    day's work orders (--day), or a paper prefilled from another (--from KIND NUMBER).
    With --file it is filed as printed."""
    code = kind.replace("-", "_")
    with opened(False) as archive:
        if code == "daily_report":
            payload = commands.draft_daily_report(archive, _day(day, archive))
            if data is not None:
                payload.update(read_json(data, False))
        elif source is None:
            raise BadInput(
                "no_source",
                "请用 --from 种类 单号 指明从哪张单据新建（日报用 --day）",
                "give --from KIND NUMBER (or --day for a daily report)",
            )
        else:
            payload = _payload(archive, code, data, source, False)
        emit_json(payload)
        if not file:
            return
        if not staff:
            raise BadInput("no_staff", "存档需要 --staff 用户名", "--file needs --staff")
        doc = commands.file_document(
            archive,
            code,
            payload,
            staff,
            unlinked_reason=unlinked_reason,
            further_reason=further_reason,
        )
        view = queries.show(archive, doc.kind, doc.number)
        typer.echo(
            f"已存档：{view['kind_label']} {view['number']}，{view['status_label']}", err=True
        )


def _day(raw: str | None, archive: Archive) -> date:
    return queries.today(archive) if raw is None else queries.parse_day(raw)


@app.command()
def amend(
    kind: KindArg,
    number: NumberArg,
    data: Annotated[str, typer.Option("--data", help="JSON file with the changed fields, or -.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the document is changed.")],
    expected_version: Annotated[
        int, typer.Option("--expected-version", help="The version you are changing.")
    ],
    staff: StaffOpt,
    unlinked_reason: UnlinkedOpt = None,
    further_reason: FurtherOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change fields of a document, with a reason; refused if it changed since you looked."""
    payload = read_json(data, as_json)
    with opened(as_json) as archive:
        commands.amend_document(
            archive,
            kind,
            number,
            payload,
            reason,
            expected_version,
            staff,
            unlinked_reason=unlinked_reason,
            further_reason=further_reason,
        )
        _done(as_json, archive, kind, number, "已修改")


@app.command()
def attach(
    kind: KindArg,
    number: NumberArg,
    path: Annotated[Path, typer.Argument(help="PDF, JPEG or PNG scan.")],
    staff: StaffOpt,
    label: Annotated[str, typer.Option("--label", help="What the scan shows.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Attach a scan (PDF, JPEG or PNG) to a document."""
    with opened(as_json) as archive, open_file(path, as_json) as stream:
        commands.attach_scan(archive, kind, number, stream, staff, path.name, label)
        _done(as_json, archive, kind, number, "已附扫描件")


@app.command("withdraw-scan")
def withdraw_scan(
    kind: KindArg,
    number: NumberArg,
    sha256: Annotated[str, typer.Argument(help="SHA-256 of the scan (at least 8 characters).")],
    reason: Annotated[str, typer.Option("--reason")],
    staff: StaffOpt,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw a scan (it stays in history and on disk)."""
    with opened(as_json) as archive:
        commands.withdraw_scan(archive, kind, number, sha256, reason, staff)
        _done(as_json, archive, kind, number, "已撤回扫描件")


@app.command()
def void(
    kind: KindArg,
    number: NumberArg,
    reason: Annotated[str, typer.Option("--reason")],
    staff: StaffOpt,
    as_json: JsonOpt = False,
) -> None:
    """Void a document, with a reason (it stays in the archive, marked voided)."""
    with opened(as_json) as archive:
        commands.void_document(archive, kind, number, reason, staff)
        _done(as_json, archive, kind, number, "已作废")


@app.command()
def sign(
    kind: KindArg,
    number: NumberArg,
    role: Annotated[str, typer.Option("--as", help="The role you sign in.")],
    staff: StaffOpt,
    image: Annotated[
        Path | None, typer.Option("--image", help="Customer: PNG of the drawn signature.")
    ] = None,
    scan: Annotated[
        str | None, typer.Option("--scan", help="Customer: SHA-256 of the signed-slip scan.")
    ] = None,
    customer_name: Annotated[str | None, typer.Option("--customer-name")] = None,
    on_behalf_of: Annotated[
        str | None,
        typer.Option("--on-behalf-of", help="Sign for the person the form names (USER)."),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why you sign on his behalf.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Sign the current version of a document in one of your roles (or for the person the
    form names, with --on-behalf-of and --reason; or record the customer's signature with
    --as customer and --image or --scan)."""
    with opened(as_json) as archive:
        if on_behalf_of is not None:
            commands.sign_document(
                archive, kind, number, role, staff, on_behalf_of=on_behalf_of,
                on_behalf_reason=reason,
            )  # fmt: skip
            _done(as_json, archive, kind, number, "已代签")
            return
        if image is not None:
            with open_file(image, as_json) as stream:
                commands.sign_document(
                    archive,
                    kind,
                    number,
                    role,
                    staff,
                    customer_name=customer_name,
                    signature_image=stream,
                )
        else:
            commands.sign_document(
                archive, kind, number, role, staff, customer_name=customer_name, image_sha256=scan
            )
        _done(as_json, archive, kind, number, "已签字")


@app.command()
def refuse(
    kind: KindArg,
    number: NumberArg,
    role: Annotated[str, typer.Option("--as", help="The role you refuse to sign in.")],
    reason: Annotated[str, typer.Option("--reason")],
    staff: StaffOpt,
    as_json: JsonOpt = False,
) -> None:
    """Refuse to sign, saying why (the service manager sees it)."""
    with opened(as_json) as archive:
        commands.refuse_signature(archive, kind, number, role, reason, staff)
        _done(as_json, archive, kind, number, "已拒签")


@app.command()
def depart(
    number: Annotated[str, typer.Argument(help="Off-site service order number (服务令号).")],
    staff: StaffOpt,
    terminal: Annotated[
        str | None, typer.Option("--terminal", help="Handheld terminal id taken.")
    ] = None,
    odometer_out: Annotated[str | None, typer.Option("--odometer-out")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Mark an off-site service as departed (the clerk must have signed it first)."""
    with opened(as_json) as archive:
        commands.depart(archive, number, staff, terminal, odometer_out)
        _done(as_json, archive, "offsite_service", number, "已出发")


@app.command("return")
def return_(
    number: Annotated[str, typer.Argument(help="Off-site service order number (服务令号).")],
    claimed: Annotated[str, typer.Option("--claimed", help="Kilometres the technician claims.")],
    verified: Annotated[str, typer.Option("--verified", help="Kilometres the clerk verified.")],
    staff: StaffOpt,
    odometer_in: Annotated[str | None, typer.Option("--odometer-in")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record an off-site service's return with claimed and verified mileage."""
    with opened(as_json) as archive:
        doc = commands.return_trip(archive, number, staff, claimed, verified, odometer_in)
        _done(as_json, archive, "offsite_service", number, "已返回")
        if doc.mileage_difference and not as_json:
            typer.echo(f"⚠ 申报与核实里程相差 {doc.mileage_difference} km", err=True)


@app.command()
def submit(
    kind: KindArg,
    number: NumberArg,
    claim_no: Annotated[str, typer.Option("--claim-no", help="Manufacturer claim number.")],
    staff: StaffOpt,
    as_json: JsonOpt = False,
) -> None:
    """Record that a warranty claim was submitted to the service centre."""
    with opened(as_json) as archive:
        commands.submit_claim(archive, kind, number, claim_no, staff)
        _done(as_json, archive, kind, number, "已上报")


@app.command("import")
def import_(
    kind: KindArg,
    path: Annotated[Path, typer.Argument(help="CSV exported by the DMS (UTF-8 or GBK).")],
    staff: StaffOpt,
    as_json: JsonOpt = False,
) -> None:
    """File every row of a CSV in one go; a bad row files none of them."""
    from archive.commands.imports import read_rows

    with opened(as_json) as archive:
        try:
            data = path.read_bytes()
        except OSError as error:
            fail(unreadable(error), as_json)
        docs = commands.file_batch(archive, kind, read_rows(get_kind(kind), data), staff)
        if as_json:
            emit_json({"filed": len(docs), "numbers": [d.number for d in docs]})
        else:
            typer.echo(f"已导入 {len(docs)} 份{get_kind(kind).label}")
