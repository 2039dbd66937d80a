"""Commands that read: the kinds, a document now or as it was, its history, search, a
person's worklist and the permission table (the case file, vehicles and customers are in
``archive.cli.cases``)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Annotated, Any

import typer

from archive import queries
from archive.cli._shared import JsonOpt, KindArg, NumberArg, emit_json, fail, opened, read_models
from archive.cli.terminal import say
from archive.errors import ArchiveError, BadInput
from archive.kinds.display import line_rows, value_text
from archive.kinds.fieldtypes import Lines
from archive.kinds.registry import KINDS, get_kind
from archive.kinds.roles import ROLE_LABELS
from archive.queries import worklists
from archive.reports.due import with_due_reports
from archive.staff.permissions import permission_table

app = typer.Typer()


def register(root: typer.Typer) -> None:
    from archive.cli import cases  # the case file, vehicles and customers (imports ``say``)

    root.add_typer(app)
    root.add_typer(cases.app)


@app.command()
def kinds(
    kind: Annotated[str | None, typer.Argument(help="One kind to describe.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the document kinds and their fields (the registry)."""
    try:
        chosen = [get_kind(kind)] if kind else list(KINDS.values())
    except ArchiveError as error:  # an unknown kind
        fail(error, as_json)
    if as_json:
        emit_json([k.describe() for k in chosen])
        return
    for k in chosen:
        signers = "、".join(ROLE_LABELS[r] for r in k.signers)
        typer.echo(f"{k.code}  {k.label}  （签字：{signers}）")
        if kind:
            for f in k.fields:
                mark = "*" if f.required else " "
                typer.echo(f"  {mark} {f.code:<26} {f.label}  [{f.type.kind}]")


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
    with opened(as_json) as archive, read_models(archive) as models:
        instant = queries.parse_instant(as_of) if as_of else None
        view = queries.show(archive, kind, number, version=version, as_of=instant, models=models)
        if as_json:
            emit_json(view)
        else:
            print_document(view, queries.staff_names(archive))


@app.command()
def history(kind: KindArg, number: NumberArg, as_json: JsonOpt = False) -> None:
    """Every change of a document: who, when, what from what to what, why."""
    with opened(as_json) as archive:
        entries = queries.history(archive, kind, number)
        if as_json:
            emit_json(entries)
        else:
            print_history(kind, entries, queries.staff_names(archive))


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words and filters, e.g. '刹车 kind:work_order'.")],
    limit: Annotated[int, typer.Option("--limit", help="Hits per page.")] = 20,
    page: Annotated[int, typer.Option("--page")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Search documents. Filters: kind: vin: plate: phone: staff: signer: status: month:
    date:A..B flag: history:yes sort:date; a leading - negates."""
    with opened(as_json) as archive, read_models(archive) as models:
        result = models.search.search(query, page=page, page_size=max(1, min(limit, 200)))
        if as_json:
            emit_json(result.as_dict())
            return
        typer.echo(f"共 {result.total} 条，第 {result.page}/{result.pages} 页")
        for hit in result.hits:
            label = get_kind(hit.kind).label
            where = "" if hit.entry == "current" else f"（历史：第 {hit.version} 版）"
            snippet = re.sub(r"<[^>]+>", "", html.unescape(hit.snippet)).replace("\n", " ")
            say(f"{hit.business_date}  {label} {hit.number}{where}  {snippet[:60]}")


@app.command()
def todo(
    staff: Annotated[
        str | None,
        typer.Option("--staff", envvar="ARCHIVE_STAFF", help="Whose list (username or name)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """What waits for a person: signatures, claims due, callbacks, off-site services out."""
    if not staff:
        fail(BadInput("no_staff", "请用 --staff 指定员工", "give --staff"), as_json)
    with opened(as_json) as archive, read_models(archive) as models:
        directory = archive.staff.refresh()
        person = worklists.find_person(directory, staff)
        today = archive.now().astimezone(archive.settings.tz).date()
        names = {u: p.name for u, p in directory.items()}
        inactive = {u for u, p in directory.items() if not p.active}
        result = worklists.worklist(
            models.worklists, archive.settings, person, names, today, inactive
        )
        result = with_due_reports(result, today)  # a clerk's reports due today
        if as_json:
            emit_json(result)
        else:
            print_worklist(result)


# What each worklist entry says after its date and number, by section (the dashboard's notes).
NOTES: dict[str, Callable[[dict[str, Any]], str]] = {
    "waiting": lambda e: f"{e.get('customer') or ''} {e['role_label']}".strip(),
    "claims": lambda e: (
        f"截止 {e['due']}"
        + ("（已逾期）" if e["days_left"] < 0 else f"（还剩 {e['days_left']} 天）")
    ),
    "claims_late": lambda e: f"逾期上报（截止 {e['due']}）",
    "callbacks": lambda e: " ".join(
        [str(e[k]) for k in ("label", "customer", "phone", "plate") if e.get(k)]
        + [f"应于 {e['due']} 前回访"]
    ),
    "customer_problems": lambda e: " ".join(
        [e.get("customer") or "", e.get("phone") or ""]
        + [f"快速处理表 {qh}（未结案）" for qh in e.get("quick_handling", [])]
        + ([] if e.get("quick_handling") else ["尚无快速处理表"])
    ).strip(),
    "offsite": lambda e: f"外出未归（{e['departed_at'][:16]} 出发）",
    "missing": lambda e: (
        f"{e['owner_label']}"
        + ("（已停用，需另行处理）" if e.get("inactive") else "")
        + f" · {e['role_label']}"
    ),
    "filed_late": lambda e: f"应于 {e['due']} 前存档，实际 {e['filed']}",
    "refused": lambda e: f"{e['refused_by']} 拒签（{e['role_label']}）：{e['reason']}",
    "return_repairs": lambda e: "返修",
    "mileage": lambda e: f"外出里程申报与核实相差 {e['difference_km']} km",
}
assert set(NOTES) == set(worklists.SECTIONS), "every worklist section needs its note"


def print_worklist(result: dict[str, Any], shown: int = 50) -> None:
    """Every list of the worklist this person has, under its heading, as the dashboard."""
    say(f"{result['name']} 的待办（{result['today']}）")
    for due in result.get("due_reports", []):  # a clerk's reports due today
        command = f"archive report {due['name']} --{due['period_kind']} {due['period']}"
        say(f"  今天应交：{due['title']}（{due['period_title']}）  {command}")
    for section, (label, entries_of) in worklists.SECTIONS.items():
        try:
            entries = entries_of(result)
        except KeyError:  # a list this person's worklist does not have
            continue
        say(f"  {label}：{len(entries)} 份")
        for e in entries[:shown]:
            say(f"    {e['business_date']}  {e['kind_label']} {e['number']}  {NOTES[section](e)}")
        if len(entries) > shown:
            say(f"    ……还有 {len(entries) - shown} 份（--json 列出全部）")


@app.command()
def permissions(as_json: JsonOpt = False) -> None:
    """The permission table by role, as the write path enforces it."""
    rows = permission_table()
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        roles = "、".join(ROLE_LABELS.get(r, r) for r in row["roles"]) or row.get("note_zh", "")
        kind = get_kind(row["kind"]).label if row["kind"] else ""
        extra = "（信息员须已备案）" if row["registered_clerk"] else ""
        typer.echo(f"{row['label']}{kind}：{roles}{extra}")


# -- human rendering --------------------------------------------------------------------


def print_document(view: dict[str, Any], names: dict[str, str]) -> None:
    kind = get_kind(view["kind"])
    say(f"{view['kind_label']} {view['number']}  [{view['status_label']}]  第 {view['version']} 版")
    say(f"  存档：{view['filed_by_name']} {view['filed_at']}；最后变更 {view['modified_at']}")
    for spec in kind.fields:
        value = view["fields"].get(spec.code)
        if value is None:
            continue
        if isinstance(spec.type, Lines):
            say(f"  {spec.label}：")
            for row in line_rows(spec, value, names):
                say("      " + " | ".join(row))
        else:
            say(f"  {spec.label}：{value_text(spec.type, value, names)}")
    signed = [s for s in view["signatures"] if s["current"]]
    for s in signed:
        say(f"  ✔ {s['role_label']}：{s['signer_name']} {s['signed_at']}{on_behalf_text(s)}")
    for role in view["missing_roles"]:
        say(f"  ✘ {ROLE_LABELS.get(role, role)}：未签")
    for link in view["links"]:
        say(f"  关联 {link_text(kind, link)}")
    if view.get("flags"):
        say(f"  标记：{'、'.join(view['flag_labels'])}")
    for scan in view["scans"]:
        state = f"已撤回（{scan['withdrawn_reason']}）" if scan["withdrawn"] else ""
        say(
            f"  扫描件 {scan['sha256'][:12]} {scan['media_type']} {scan['size']} 字节 "
            f"{scan['filename']} {state}"
        )
    if view["voided"]:
        say(f"  已作废：{view['voided']['reason']}（{view['voided']['at']}）")
    if view["submission"]:
        sub = view["submission"]
        say(f"  已上报服务中心：索赔号 {sub['claim_no']}（{sub['at']}）")
    for line in trip_lines(view):
        say(f"  {line}")
    say(f"  内容摘要 SHA-256：{view['content_hash']}")


def print_history(kind_code: str, entries: list[dict[str, Any]], names: dict[str, str]) -> None:
    kind = get_kind(kind_code)
    for e in entries:
        say(f"第 {e['version']} 版  {e['at']}  {e['event_label']}  {e['actor_name']}")
        if e.get("reason"):
            say(f"    原因：{e['reason']}")
        if e["event"] == "Amended":
            for c in e["changes"]:
                say(f"    {c['label']}：{c['before_text']} → {c['after_text']}")
        detail = e.get("detail") or {}
        if e["event"] == "Signed":
            signed = detail["content_hash"][:12]
            signer = names.get(detail["signer"], detail["signer"])
            say(f"    {detail['role_label']} {signer}（签署内容 {signed}）{on_behalf_text(detail)}")
        elif e["event"] == "LinksRecorded":
            for link in detail["links"]:
                say(f"    {link_text(kind, link)}")
        elif "sha256" in detail:
            say(f"    扫描件 {detail['sha256'][:12]}")
        elif "claim_no" in detail:
            say(f"    索赔号 {detail['claim_no']}")
        elif e["event"] in ("Departed", "Returned"):
            key = "departure" if e["event"] == "Departed" else "return_trip"
            for line in trip_lines({key: detail}):
                say(f"    {line}")


def on_behalf_text(signature: dict[str, Any]) -> str:
    """代签: for whom the signer signed, and why ('' when the person the form names signed)."""
    if not signature.get("on_behalf_of"):
        return ""
    return f"（代 {signature['on_behalf_of_name']} 签：{signature['on_behalf_reason']}）"


def link_text(kind: Any, link: dict[str, Any]) -> str:
    """One link field's check: the paper it names, its state, why, and what differs."""
    spec = kind.field(link["field"])
    target = (
        f"{get_kind(link['target_kind']).label} {link['target_number']}"
        if link.get("target_kind") in KINDS and link.get("target_number")
        else "—"
    )
    text = f"{spec.label if spec else link['field']}：{target}  [{link['state_label']}]"
    if link.get("reason"):
        text += f" 原因：{link['reason']}"
    if link.get("detail"):
        text += f"（{link['detail']}）"
    return text


def trip_lines(view: dict[str, Any]) -> list[str]:
    """An off-site service's departure and return, as the document page words them."""
    lines = []
    if out := view.get("departure"):
        odometer = (
            "" if out.get("odometer_out") is None else f"，出发里程表 {out['odometer_out']} km"
        )
        when = f"{out['at']}，" if out.get("at") else ""
        lines.append(f"已出发：{when}手持机 {out['handheld_terminal_id']}{odometer}")
    if back := view.get("return_trip"):
        odometer = (
            "" if back.get("odometer_in") is None else f"，返回里程表 {back['odometer_in']} km"
        )
        when = f"{back['at']}，" if back.get("at") else ""
        line = (
            f"已返回：{when}申报 {back['mileage_claimed']} km，核实 {back['mileage_verified']} km"
        )
        difference = view.get("mileage_difference")
        lines.append(line + odometer + (f"（相差 {difference} km）" if difference else ""))
    return lines
