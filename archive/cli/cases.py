"""Reading commands of issue 12: a work order's case file, the vehicle card found by VIN, its
ending, plate or mobile, and customers (registered with the other reading commands by
``archive.cli.reading.register``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from archive.cli._shared import JsonOpt, NumberArg, emit_json, opened, read_models
from archive.cli.terminal import say
from archive.errors import NotFound
from archive.queries import customers as people
from archive.queries import parse_day, staff_names
from archive.queries.cases import case_file

app = typer.Typer()

VehicleKey = Annotated[
    str,
    typer.Argument(
        help="A VIN, its last 6 or 8 characters, a plate (京N8K2Q7 or N8K2Q7) or a mobile."
    ),
]


@app.command()
def case(work_order_no: NumberArg, as_json: JsonOpt = False) -> None:
    """A work order's case file (案卷): every document naming it, with status and flags, and
    the papers that can be created from it (archive file KIND --from work_order NO)."""
    with opened(as_json) as archive, read_models(archive) as models:
        today = archive.now().astimezone(archive.settings.tz).date()
        result = case_file(models, work_order_no, today)
        if as_json:
            emit_json(result)
            return
        order = result["work_order"]
        say(
            f"案卷 维修委托书 {order['number']}  {order['business_date']}"
            f"  [{order['status_label']}]"
        )
        for d in result["documents"]:
            flags = "、".join(d["flag_labels"])
            through = f"（经 {d['through'].split(':', 1)[1]}）" if d["through"] else ""
            void = "（已作废）" if d["voided"] else ""
            say(
                f"  {d['business_date'] or '—'}  {d['kind_label']} {d['number']}{through}{void}"
                f"  [{d['status_label']}]  {d['link_state_label']}"
                + (f"  标记：{flags}" if flags else "")
            )
        if not result["documents"]:
            say("  还没有关联的单据")
        for offer in result["create"]:
            say(
                f"  新建{offer['label']}：archive file {offer['kind']} --from work_order "
                f"{order['number']} --data 其余各栏.json"
            )


@app.command()
def vehicle(
    key: VehicleKey,
    include_voided: Annotated[bool, typer.Option("--include-voided")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The vehicle history card (车历卡); several cars match: they are listed to choose from."""
    with opened(as_json) as archive, read_models(archive) as models:
        names = staff_names(archive)
        matches = people.find_vehicles(models, key, names)
        if len(matches) > 1:
            if as_json:
                emit_json({"vehicles": matches})
                return
            say(f"“{key}”对应 {len(matches)} 辆车，请用完整 VIN 查看：")
            for v in matches:
                say(
                    f"  {v['vin']}  {v['plate'] or ''}  {v['model'] or ''}"
                    f"  {v['customer_name'] or ''}"
                )
            return
        if not matches and len(key.strip()) != 17:
            raise NotFound(
                "vehicle_not_found",
                f"没有“{key.strip()[:40]}”的记录；可输入完整 VIN、后 6 或 8 位、车牌号或客户手机",
                f"no vehicle matches {key!r}",
            )
        vin = matches[0]["vin"] if matches else key
        card = people.vehicle_card(models, vin, include_voided, names)
        if as_json:
            emit_json(card)
            return
        print_card(card)


def print_card(card: dict[str, Any]) -> None:
    v = card["vehicle"] or {}
    say(f"车历卡 VIN {card['vin']}  {v.get('plate') or ''}  {v.get('model') or ''}")
    if v:
        km = v.get("last_visit_mileage_km")
        say(
            f"  车主 {v.get('customer_name') or '—'} {v.get('customer_phone') or ''}"
            f"  进厂 {v.get('visits')} 次  最近 {v.get('last_visit_date') or '—'}"
            + (f"（{km} km）" if km is not None else "")
            + f"  服务顾问 {v.get('service_advisor_name') or '—'}"
        )
    for visit in card["visits"]:
        km = f"{visit['mileage_km']} km" if visit["mileage_km"] is not None else ""
        warn = "  ⚠ 里程比之前的记录少" if visit["mileage_drop"] else ""
        void = "（已作废）" if visit["voided"] else ""
        say(
            f"  {visit['business_date']}  {visit['kind_label']} {visit['number']}{void}"
            f"  {km}{warn}  {visit['summary'][:40]}"
        )


@app.command()
def customer(
    phone: Annotated[str, typer.Argument(help="The customer's 11-digit mobile.")],
    as_json: JsonOpt = False,
) -> None:
    """A customer: his cars, visits, last visit and mileage, and service advisor."""
    with opened(as_json) as archive, read_models(archive) as models:
        found = people.customer(models, phone, staff_names(archive))
        if as_json:
            emit_json(found)
            return
        km = found.get("last_visit_mileage_km")
        say(
            f"客户 {found.get('name') or '—'} {found['phone']}  进厂 {found['visits']} 次"
            f"  最近 {found.get('last_visit_date') or '—'}"
            + (f"（{km} km）" if km is not None else "")
            + f"  服务顾问 {found.get('service_advisor_name') or '—'}"
        )
        for v in found["vehicle_list"]:
            say(
                f"  {v['vin']}  {v.get('plate') or ''}  {v.get('model') or ''}"
                f"  进厂 {v['visits']} 次  最近 {v.get('last_visit_date') or '—'}"
            )


@app.command()
def customers(
    name: Annotated[str | None, typer.Option("--name", help="Part of the name.")] = None,
    advisor: Annotated[str | None, typer.Option("--advisor", help="Username.")] = None,
    before: Annotated[
        str | None, typer.Option("--last-visit-before", help="Not back since YYYY-MM-DD.")
    ] = None,
    page: Annotated[int, typer.Option("--page")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Customers, last visit first (by name, advisor, or not back since a day)."""
    with opened(as_json) as archive, read_models(archive) as models:
        day = parse_day(before, "last_visit_before") if before else None
        found = people.customers(
            models,
            name=name,
            advisor=advisor,
            last_visit_before=day,
            page=page,
            names=staff_names(archive),
        )
        if as_json:
            emit_json(found)
            return
        say(f"共 {found['total']} 位客户，第 {found['page']} 页")
        for c in found["customers"]:
            say(
                f"  {c.get('last_visit_date') or '—'}  {c.get('name') or '—'} {c['phone']}"
                f"  车辆 {c['vehicles']}  进厂 {c['visits']}  {c.get('service_advisor_name') or ''}"
            )
