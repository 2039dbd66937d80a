"""The ``archive`` command: everything the web does, for scripts and operators.

Human output is Chinese; ``--json`` prints JSON with English keys for scripts. Exit codes:
0 done, 1 refused (not found, conflict, forbidden), 2 bad input (each field named).
"""

from __future__ import annotations

import html
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from archive import commands, queries
from archive.bootstrap import Archive, open_archive
from archive.cli_integrity import register as register_integrity
from archive.cli_months import register as register_months
from archive.display import line_rows, value_text
from archive.errors import ArchiveError
from archive.kinds.fieldtypes import Lines
from archive.kinds.registry import KINDS, UnknownKind, get_kind
from archive.kinds.roles import ROLE_LABELS
from archive.kinds.validation import ValidationFailed

app = typer.Typer(
    help="经销商售后档案系统 / dealership after-sales archive.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
staff_app = typer.Typer(help="员工：登记、列表、角色、停用 / staff.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")

StaffOpt = Annotated[
    str,
    typer.Option(
        "--staff",
        envvar="ARCHIVE_STAFF",
        help="Username of the person doing this (or set ARCHIVE_STAFF).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
KindArg = Annotated[str, typer.Argument(help=f"Document kind: {', '.join(KINDS)}.")]
NumberArg = Annotated[str, typer.Argument(help="Document number.")]


def main() -> None:
    app()


# -- output and errors ---------------------------------------------------------------------


def _emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _fail(error: Exception, as_json: bool) -> NoReturn:
    if isinstance(error, ValidationFailed):
        payload: dict[str, Any] = {
            "error": "invalid",
            "problems": [p.as_dict() for p in error.problems],
        }
        lines = ["输入有误 / invalid input:"] + [
            f"  {p.field}: {p.message_zh} / {p.message_en}" for p in error.problems
        ]
        code = 2
    elif isinstance(error, commands.ImportFailed):
        payload = {
            **error.as_dict(),
            "problems": [
                {
                    "line": p.line,
                    "field": p.field,
                    "message_zh": p.message_zh,
                    "message_en": p.message_en,
                }
                for p in error.problems
            ],
        }
        lines = [f"{error.message_zh} / {error.message_en}"] + [
            f"  第 {p.line} 行 line {p.line} {p.field}: {p.message_zh} / {p.message_en}"
            for p in error.problems
        ]
        code = error.exit_code
    elif isinstance(error, ArchiveError):
        payload = error.as_dict()
        lines = [f"{error.message_zh} / {error.message_en}"]
        code = error.exit_code
    elif isinstance(error, UnknownKind):
        payload = {"error": "unknown_kind", "message_zh": error.message_zh}
        lines = [f"{error.message_zh} / {error.message_en}"]
        code = 2
    else:
        raise error
    if as_json:
        _emit_json(payload)
    else:
        typer.echo("\n".join(lines), err=True)
    raise typer.Exit(code)


@contextmanager
def _open_file(path: Path, as_json: bool) -> Iterator[Any]:
    try:
        stream = path.open("rb")
    except OSError as error:
        _fail(commands.BadInput("unreadable", f"读不到文件：{error}", str(error)), as_json)
    with stream:
        yield stream


@contextmanager
def _archive(as_json: bool = False) -> Iterator[Archive]:
    """Open the archive, turn known errors into messages and exit codes, always close."""
    archive = open_archive()
    try:
        yield archive
    except (ArchiveError, ValidationFailed, UnknownKind) as error:
        _fail(error, as_json)
    finally:
        archive.close()


def _read_json(path: str, as_json: bool) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as error:
        _fail(commands.BadInput("unreadable", f"读不到文件：{error}", str(error)), as_json)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        _fail(
            commands.BadInput(
                "bad_json",
                f"不是有效的 JSON（第 {error.lineno} 行第 {error.colno} 列）",
                f"not valid JSON: {error}",
            ),
            as_json,
        )
    if not isinstance(data, dict):
        _fail(commands.BadInput("bad_json", "JSON 应为一个对象", "JSON must be an object"), as_json)
    return data


def _parse_instant(text: str, as_json: bool) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        _fail(
            commands.BadInput(
                "bad_time",
                f"“{text}”不是有效时间，请写成 2026-11-03T14:30",
                f"{text!r} is not an ISO date-time",
            ),
            as_json,
        )
    return moment  # without a zone, queries.get_document reads it as local time


# -- human rendering -----------------------------------------------------------------------


def _print_document(view: dict[str, Any], names: dict[str, str]) -> None:
    kind = get_kind(view["kind"])
    typer.echo(
        f"{view['kind_label']} {view['number']}  [{view['status_label']}]  第 {view['version']} 版"
    )
    typer.echo(
        f"  存档：{view['filed_by_name']} {view['filed_at']}；最后变更 {view['modified_at']}"
    )
    for spec in kind.fields:
        value = view["fields"].get(spec.code)
        if value is None:
            continue
        if isinstance(spec.type, Lines):
            typer.echo(f"  {spec.label}：")
            for row in line_rows(spec, value, names):
                typer.echo("      " + " | ".join(row))
        else:
            typer.echo(f"  {spec.label}：{value_text(spec.type, value, names)}")
    signed = [s for s in view["signatures"] if s["current"]]
    for s in signed:
        typer.echo(f"  ✔ {s['role_label']}：{s['signer_name']} {s['signed_at']}")
    for role in view["missing_roles"]:
        typer.echo(f"  ✘ {ROLE_LABELS.get(role, role)}：未签")
    for scan in view["scans"]:
        state = f"已撤回（{scan['withdrawn_reason']}）" if scan["withdrawn"] else ""
        typer.echo(
            f"  扫描件 {scan['sha256'][:12]} {scan['media_type']} {scan['size']} 字节 "
            f"{scan['filename']} {state}"
        )
    if view["voided"]:
        typer.echo(f"  已作废：{view['voided']['reason']}（{view['voided']['at']}）")
    if view["submission"]:
        sub = view["submission"]
        typer.echo(f"  已上报服务中心：索赔号 {sub['claim_no']}（{sub['at']}）")
    typer.echo(f"  内容摘要 SHA-256：{view['content_hash']}")


def _print_history(kind_code: str, entries: list[dict[str, Any]], names: dict[str, str]) -> None:
    kind = get_kind(kind_code)
    for e in entries:
        typer.echo(f"第 {e['version']} 版  {e['at']}  {e['event_label']}  {e['actor_name']}")
        if e.get("reason"):
            typer.echo(f"    原因：{e['reason']}")
        if e["event"] == "Amended":
            for c in e["changes"]:
                spec = kind.field(c["field"])
                before, after = (
                    value_text(spec.type, v, names) if spec else str(v)
                    for v in (c["before"], c["after"])
                )
                typer.echo(f"    {c['label']}：{before} → {after}")
        detail = e.get("detail") or {}
        if e["event"] == "Signed":
            signed = detail["content_hash"][:12]
            typer.echo(f"    {detail['role_label']} {detail['signer']}（签署内容 {signed}）")
        elif "sha256" in detail:
            typer.echo(f"    扫描件 {detail['sha256'][:12]}")
        elif "claim_no" in detail:
            typer.echo(f"    索赔号 {detail['claim_no']}")


def _done(as_json: bool, archive: Archive, kind: str, number: str, message: str) -> None:
    view = queries.show(archive, kind, number)
    if as_json:
        _emit_json(view)
    else:
        where = f"{view['kind_label']} {view['number']}"
        typer.echo(f"{message}：{where}，第 {view['version']} 版，{view['status_label']}")


# -- commands ------------------------------------------------------------------------------


@app.command()
def init(as_json: JsonOpt = False) -> None:
    """Create the archive (database tables, blob folder, signing key) if it does not exist."""
    from archive.integrity import ensure_key

    with _archive(as_json) as archive:
        key = ensure_key(archive.settings)
        info = {
            "home": str(archive.settings.home),
            "backend": archive.settings.backend,
            "events": archive.app.head(),
            "key": key.name,
        }
        if as_json:
            _emit_json(info)
        else:
            typer.echo(f"档案库：{info['home']}（{info['backend']}），共 {info['events']} 个事件")
            typer.echo(f"签名密钥：{key.name}")


@app.command("is-empty")
def is_empty() -> None:
    """Exit 0 if the archive holds no events yet, 1 otherwise (for setup scripts)."""
    with _archive() as archive:
        empty = archive.app.head() == 0
    raise typer.Exit(0 if empty else 1)


@app.command()
def kinds(
    kind: Annotated[str | None, typer.Argument(help="One kind to describe.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the document kinds and their fields (the registry)."""
    try:
        chosen = [get_kind(kind)] if kind else list(KINDS.values())
    except UnknownKind as error:
        _fail(error, as_json)
    if as_json:
        _emit_json([k.describe() for k in chosen])
        return
    for k in chosen:
        signers = "、".join(ROLE_LABELS[r] for r in k.signers)
        typer.echo(f"{k.code}  {k.label}  （签字：{signers}）")
        if kind:
            for f in k.fields:
                mark = "*" if f.required else " "
                typer.echo(f"  {mark} {f.code:<26} {f.label}  [{f.type.kind}]")


@app.command("file")
def file_(
    kind: KindArg,
    data: Annotated[str, typer.Option("--data", help="JSON file with number and fields, or -.")],
    staff: StaffOpt,
    as_json: JsonOpt = False,
) -> None:
    """File a new document."""
    payload = _read_json(data, as_json)
    with _archive(as_json) as archive:
        doc = commands.file_document(archive, kind, payload, staff)
        _done(as_json, archive, doc.kind, doc.number, "已存档")


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
    as_json: JsonOpt = False,
) -> None:
    """Change fields of a document, with a reason; refused if it changed since you looked."""
    payload = _read_json(data, as_json)
    with _archive(as_json) as archive:
        commands.amend_document(archive, kind, number, payload, reason, expected_version, staff)
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
    with _archive(as_json) as archive, _open_file(path, as_json) as stream:
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
    with _archive(as_json) as archive:
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
    with _archive(as_json) as archive:
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
    as_json: JsonOpt = False,
) -> None:
    """Sign the current version of a document in one of your roles (or record the
    customer's signature with --as customer and --image or --scan)."""
    with _archive(as_json) as archive:
        if image is not None:
            with _open_file(image, as_json) as stream:
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
    with _archive(as_json) as archive:
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
    with _archive(as_json) as archive:
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
    with _archive(as_json) as archive:
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
    with _archive(as_json) as archive:
        commands.submit_claim(archive, kind, number, claim_no, staff)
        _done(as_json, archive, kind, number, "已上报")


@app.command()
def show(
    kind: KindArg,
    number: NumberArg,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="ISO time: the document as it was then.")
    ] = None,
    version: Annotated[int | None, typer.Option("--version", help="An earlier version.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a document now, at an earlier version, or as it was at a time."""
    with _archive(as_json) as archive:
        instant = _parse_instant(as_of, as_json) if as_of else None
        view = queries.show(archive, kind, number, version=version, as_of=instant)
        if as_json:
            _emit_json(view)
        else:
            _print_document(view, queries.staff_names(archive))


@app.command()
def history(kind: KindArg, number: NumberArg, as_json: JsonOpt = False) -> None:
    """Every change of a document: who, when, what from what to what, why."""
    with _archive(as_json) as archive:
        entries = queries.history(archive, kind, number)
        if as_json:
            _emit_json(entries)
        else:
            _print_history(kind, entries, queries.staff_names(archive))


@app.command("import")
def import_(
    kind: KindArg,
    path: Annotated[Path, typer.Argument(help="CSV exported by the DMS (UTF-8 or GBK).")],
    staff: StaffOpt,
    as_json: JsonOpt = False,
) -> None:
    """File every row of a CSV in one go; a bad row files none of them."""
    from archive.importer import read_rows

    with _archive(as_json) as archive:
        try:
            data = path.read_bytes()
        except OSError as error:
            _fail(commands.BadInput("unreadable", f"读不到文件：{error}", str(error)), as_json)
        docs = commands.file_batch(archive, kind, read_rows(get_kind(kind), data), staff)
        if as_json:
            _emit_json({"filed": len(docs), "numbers": [d.number for d in docs]})
        else:
            typer.echo(f"已导入 {len(docs)} 份{get_kind(kind).label}")


@app.command()
def demo(
    month: Annotated[
        str | None, typer.Option("--month", help="YYYY-MM; default: last complete month.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 4,
    work_orders: Annotated[int, typer.Option("--work-orders")] = 600,
    as_json: JsonOpt = False,
) -> None:
    """Load a realistic, deterministic month of paperwork into an empty archive."""
    from archive import demo as demo_module

    with _archive(as_json) as archive:
        if archive.app.head() != 0:
            _fail(
                commands.Conflict(
                    "not_empty",
                    "档案库不是空的；演示数据只能装入空库（换一个 ARCHIVE_HOME）",
                    "the archive is not empty; load the demo into an empty ARCHIVE_HOME",
                ),
                as_json,
            )
        chosen = month or demo_module.last_complete_month(archive.now(), archive.settings.tz)
        spec = demo_module.DemoSpec(month=chosen, seed=seed, work_orders=work_orders)
        plan = demo_module.generate(spec)
        summary = demo_module.load(archive, plan, progress=_progress_bar(as_json))
        demo_module.set_demo_passwords(archive, plan.staff)
        if not as_json:
            typer.echo(summary.describe())
            typer.echo(
                f"演示账号：用户名见 archive staff list（如 admin 信息员、ma.zhiqiang 服务经理），"
                f"密码都是 {demo_module.DEMO_PASSWORD}"
            )
            typer.echo("正在建立检索索引…", err=True)
        with _read_models(archive) as models:
            models.runner.catch_up()  # so the first page and search need not wait
        if as_json:
            _emit_json(summary.as_dict())


def _progress_bar(quiet: bool) -> Callable[[int, int], None] | None:
    if quiet or not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        width = 40
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return report


# -- read models ---------------------------------------------------------------------------


@contextmanager
def _read_models(archive: Archive) -> Iterator[Any]:
    from archive.read_models import open_read_models

    models = open_read_models(archive)
    try:
        yield models
    finally:
        models.close()


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words and filters, e.g. '刹车 kind:work_order'.")],
    limit: Annotated[int, typer.Option("--limit", help="Hits per page.")] = 20,
    page: Annotated[int, typer.Option("--page")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Search documents. Filters: kind: vin: plate: phone: staff: signer: status: month:
    date:A..B flag: history:yes sort:date; a leading - negates."""
    from projections.search.query import QueryError

    with _archive(as_json) as archive, _read_models(archive) as models:
        if not models.runner.wait_for(timeout=120):
            typer.echo("索引仍在更新，结果可能不完整 / index still catching up", err=True)
        try:
            result = models.search.search(query, page=page, page_size=max(1, min(limit, 200)))
        except QueryError as error:
            _fail(commands.BadInput("bad_query", error.message_zh, error.message_en), as_json)
        if as_json:
            _emit_json(result.as_dict())
            return
        typer.echo(f"共 {result.total} 条，第 {result.page}/{result.pages} 页")
        for hit in result.hits:
            label = get_kind(hit.kind).label
            where = "" if hit.entry == "current" else f"（历史：第 {hit.version} 版）"
            snippet = re.sub(r"<[^>]+>", "", html.unescape(hit.snippet)).replace("\n", " ")
            typer.echo(f"{hit.business_date}  {label} {hit.number}{where}  {snippet[:60]}")


@app.command()
def vehicle(
    vin: Annotated[str, typer.Argument(help="The full 17-character VIN.")],
    include_voided: Annotated[bool, typer.Option("--include-voided")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The vehicle history card (车历卡): everything recorded for one VIN, by date."""
    with _archive(as_json) as archive, _read_models(archive) as models:
        models.runner.wait_for(timeout=120)
        visits = models.vehicles.card(vin.strip().upper(), include_voided=include_voided)
        if not visits:
            _fail(
                commands.NotFound("vehicle_not_found", f"没有 VIN {vin} 的记录", "no records"),
                as_json,
            )
        if as_json:
            _emit_json({"vin": vin.upper(), "visits": [v.as_dict() for v in visits]})
            return
        typer.echo(f"车历卡 VIN {vin.upper()}")
        for v in visits:
            km = f"{v.mileage_km} km" if v.mileage_km is not None else ""
            warn = "  ⚠ 里程比之前的记录少" if v.mileage_drop else ""
            void = "（已作废）" if v.voided else ""
            label = get_kind(v.kind).label
            typer.echo(f"{v.business_date}  {label} {v.number}{void}  {km}{warn}  {v.summary[:40]}")


@app.command()
def rebuild(
    name: Annotated[str | None, typer.Argument(help="One projection (default: all).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Throw projections away and rebuild them from the event log (the integrity ledger
    only when named: `archive rebuild ledger`)."""
    with _archive(as_json) as archive, _read_models(archive) as models:
        if name and name not in models.runner.projections:
            names = ", ".join(models.runner.projections)
            _fail(
                commands.BadInput("unknown_projection", f"没有投影“{name}”：{names}", names),
                as_json,
            )
        started = time.perf_counter()
        applied = models.runner.rebuild(name)
        seconds = time.perf_counter() - started
        if as_json:
            _emit_json({"rebuilt": name or "all", "events": applied, "seconds": round(seconds, 2)})
        else:
            typer.echo(f"已重建 {name or '全部投影'}：{applied} 个事件，{seconds:.1f} 秒")


@app.command()
def status(as_json: JsonOpt = False) -> None:
    """Each projection's position, the log's head and the lag."""
    with _archive(as_json) as archive, _read_models(archive) as models:
        rows = [s.as_dict() for s in models.runner.status()]
        if as_json:
            _emit_json(rows)
            return
        for row in rows:
            typer.echo(
                f"{row['name']:<10} 位置 {row['position']:>8}  日志末尾 {row['head']:>8}  "
                f"落后 {row['lag']}"
            )


@app.command()
def todo(
    staff: Annotated[
        str | None,
        typer.Option("--staff", envvar="ARCHIVE_STAFF", help="Whose list (username or name)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """What waits for a person: signatures, claims due, callbacks, off-site services out."""
    from archive import worklists

    if not staff:
        _fail(commands.BadInput("no_staff", "请用 --staff 指定员工", "give --staff"), as_json)
    with _archive(as_json) as archive, _read_models(archive) as models:
        models.runner.wait_for(timeout=120)
        directory = archive.staff.refresh()
        person = worklists.find_person(directory, staff)
        today = archive.now().astimezone(archive.settings.tz).date()
        names = {u: p.name for u, p in directory.items()}
        result = worklists.worklist(models.worklists, archive.settings, person, names, today)
        if as_json:
            _emit_json(result)
        else:
            _print_worklist(result)


def _print_worklist(result: dict[str, Any]) -> None:
    def line(entry: dict[str, Any], extra: str = "") -> str:
        return f"    {entry['business_date']}  {entry['kind_label']} {entry['number']}  {extra}"

    typer.echo(f"{result['name']} 的待办（{result['today']}）")
    waiting = result["waiting_for_my_signature"]
    typer.echo(f"  等我签字：{len(waiting)} 份")
    for e in waiting[:50]:
        typer.echo(line(e, e["role_label"]))
    for group in result.get("missing_signatures", []):
        typer.echo(f"  缺签 · {group['owner_label']}：{len(group['documents'])} 份")
        for e in group["documents"][:10]:
            typer.echo(line(e, e["role_label"]))
    claims = result.get("warranty_claims")
    if claims:
        typer.echo(f"  三包索赔单 已逾期 {len(claims['overdue'])}，待上报 {len(claims['due'])}")
        for e in claims["overdue"]:
            typer.echo(line(e, f"截止 {e['due']}（已逾期）"))
        for e in claims["due"]:
            typer.echo(line(e, f"截止 {e['due']}（还剩 {e['days_left']} 天）"))
    callbacks = result.get("callbacks")
    if callbacks:
        typer.echo(
            f"  今日应回访 {len(callbacks['due_today'])}，回访逾期 {len(callbacks['overdue'])}"
        )
        for e in callbacks["due_today"]:
            typer.echo(line(e, e.get("customer") or ""))
    for e in result.get("offsite_out", []):
        typer.echo(line(e, f"外出未归（{e['departed_at'][:16]} 出发）"))
    for e in result.get("filed_late", []):
        typer.echo(line(e, f"应于 {e['due']} 前存档，实际 {e['filed']}"))
    for e in result.get("refused_signatures", []):
        typer.echo(line(e, f"{e['refused_by']} 拒签（{e['role_label']}）：{e['reason']}"))
    for e in result.get("return_repairs", []):
        typer.echo(line(e, "返修"))
    for e in result.get("mileage_differences", []):
        typer.echo(line(e, f"外出里程申报与核实相差 {e['difference_km']} km"))


@app.command()
def permissions(as_json: JsonOpt = False) -> None:
    """The permission table by role, as the write path enforces it."""
    from archive.permissions import permission_table

    rows = permission_table()
    if as_json:
        _emit_json(rows)
        return
    for row in rows:
        roles = "、".join(ROLE_LABELS.get(r, r) for r in row["roles"])
        kind = get_kind(row["kind"]).label if row["kind"] else ""
        extra = "（信息员须已备案）" if row["registered_clerk"] else ""
        typer.echo(f"{row['label']}{kind}：{roles}{extra}")


@app.command()
def worker(
    interval: Annotated[float, typer.Option("--interval", help="Seconds between polls.")] = 0.5,
) -> None:
    """Keep the projections up to date in this process until interrupted."""
    with _archive() as archive, _read_models(archive) as models:
        typer.echo("投影更新进程已启动（Ctrl-C 结束）/ worker started", err=True)
        models.runner.start(interval)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            typer.echo("已停止 / stopped", err=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
) -> None:
    """Serve the web front end."""
    import uvicorn

    # Named, not imported: the web layer sits above this one and is loaded only to serve it.
    uvicorn.run("web.app:create_app", factory=True, host=host, port=port, log_level="info")


# -- staff ---------------------------------------------------------------------------------


@staff_app.command("add")
def staff_add(
    username: Annotated[str, typer.Argument(help="Login name: letters, digits, dots.")],
    name: Annotated[str, typer.Option("--name", help="Full name, e.g. 王丽.")],
    role: Annotated[
        list[str], typer.Option("--role", help=f"Repeatable: {', '.join(ROLE_LABELS)}.")
    ],
    staff: Annotated[
        str | None,
        typer.Option(
            "--staff",
            envvar="ARCHIVE_STAFF",
            help="Admin doing this; the very first admin registers himself.",
        ),
    ] = None,
    registration_no: Annotated[
        str | None, typer.Option("--registration-no", help="备案号 (clerks).")
    ] = None,
    phone: Annotated[str | None, typer.Option("--phone")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a staff member (the first one must be an admin)."""
    with _archive(as_json) as archive:
        person = commands.register_staff(
            archive,
            username=username,
            name=name,
            roles=role,
            actor=staff or username,
            registration_no=registration_no,
            phone=phone,
        )
        info = archive.staff.get(person.username)
        if as_json:
            _emit_json(info.as_dict())
        else:
            typer.echo(f"已登记：{person.name}（{person.username}）")


@staff_app.command("list")
def staff_list(as_json: JsonOpt = False) -> None:
    """List every staff member."""
    with _archive(as_json) as archive:
        people = sorted(archive.staff.refresh().values(), key=lambda p: p.username)
        if as_json:
            _emit_json([p.as_dict() for p in people])
            return
        for p in people:
            roles = "、".join(ROLE_LABELS.get(r, r) for r in p.roles)
            state = "" if p.active else "（已停用）"
            reg = f" 备案号 {p.registration_no}" if p.registration_no else ""
            typer.echo(f"{p.username:<12} {p.name}  {roles}{reg}{state}")


@staff_app.command("roles")
def staff_roles(
    username: Annotated[str, typer.Argument()],
    role: Annotated[list[str], typer.Option("--role", help="The full new set of roles.")],
    staff: StaffOpt,
    registration_no: Annotated[str | None, typer.Option("--registration-no")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace a staff member's roles (and registration number)."""
    with _archive(as_json) as archive:
        commands.change_roles(archive, username, role, staff, registration_no)
        info = archive.staff.get(username)
        if as_json:
            _emit_json(info.as_dict())
        else:
            typer.echo(f"已更新：{info.name}（{info.username}）")


@staff_app.command("deactivate")
def staff_deactivate(
    username: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")],
    staff: StaffOpt,
    as_json: JsonOpt = False,
) -> None:
    """Deactivate a staff member: he can no longer log in, file or sign."""
    with _archive(as_json) as archive:
        commands.deactivate_staff(archive, username, reason, staff)
        info = archive.staff.get(username)
        if as_json:
            _emit_json(info.as_dict())
        else:
            typer.echo(f"已停用：{info.name}（{info.username}）")


@staff_app.command("password")
def staff_password(
    username: Annotated[str, typer.Argument()],
    staff: Annotated[
        str | None, typer.Option("--staff", envvar="ARCHIVE_STAFF", help="Who sets it.")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option("--password", envvar="ARCHIVE_NEW_PASSWORD", help="Else asked for."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Set a login password (your own, or anyone's as an admin)."""
    secret = password or typer.prompt(
        "新密码 / new password", hide_input=True, confirmation_prompt=True
    )
    with _archive(as_json) as archive:
        commands.set_password(archive, username, secret, staff or username)
        if as_json:
            _emit_json({"username": username, "password_set": True})
        else:
            typer.echo(f"已设置 {username} 的密码")


@staff_app.command("token")
def staff_token(
    username: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Option("--label", help="What the token is for, e.g. DMS.")],
    staff: Annotated[str | None, typer.Option("--staff", envvar="ARCHIVE_STAFF")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue a personal API token; it is shown once and only its hash is kept."""
    with _archive(as_json) as archive:
        _, token = commands.issue_token(archive, username, label, staff or username)
        if as_json:
            _emit_json({"username": username, "token": token})
        else:
            typer.echo("令牌只显示这一次，请妥善保存 / shown once, keep it safe:")
            typer.echo(token)


@staff_app.command("revoke-token")
def staff_revoke_token(
    username: Annotated[str, typer.Argument()],
    token_id: Annotated[str, typer.Argument(help="The id part of the token.")],
    staff: Annotated[str | None, typer.Option("--staff", envvar="ARCHIVE_STAFF")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a personal API token."""
    with _archive(as_json) as archive:
        commands.revoke_token(archive, username, token_id, staff or username)
        if as_json:
            _emit_json({"username": username, "revoked": token_id})
        else:
            typer.echo(f"已吊销 {username} 的令牌 {token_id}")


register_integrity(app)
register_months(app)


if __name__ == "__main__":
    main()
