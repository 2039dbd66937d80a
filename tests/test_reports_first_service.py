"""首保登记表 (issue 13, report 7): the register of a demo month and the year by month, every
figure and row checked against the first-service vouchers the event log holds; its PDF page
drawn to a PNG for a person to look at."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive.bootstrap import Archive, ReadModels, open_archive
from archive.config import Settings
from archive.demo import DemoSpec, generate, load
from archive.reports.model import Report, ReportSource
from archive.reports.pdf import report_pdf
from archive.reports.periods import parse_period
from archive.reports.run import report_spec
from tests import report_log

SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Archive, ReadModels]]:
    archive = open_archive(Settings(home=tmp_path_factory.mktemp("first") / "home"))
    load(archive, generate(DemoSpec(month="2026-11", months=2, work_orders=50)))
    with archive.read_models() as models:
        models.runner.wait_for(timeout=120)
        yield archive, models
    archive.close()


def register(archive: Archive, models: ReadModels, kind: str, text: str) -> Report:
    spec = report_spec("first-service")
    return spec.build(ReportSource(archive, models), parse_period(kind, text))


def expected_rows(archive: Archive, month: str) -> list[dict[str, Any]]:
    """The register's rows from the event log: each live voucher, its work order's model."""
    names = {p.username: p.name for p in archive.staff.refresh().values()}
    orders = {d.number: d for d in report_log.documents(archive, "work_order")}
    rows = []
    for v in report_log.documents(archive, "first_service_voucher"):
        if v.fields["business_date"].isoformat()[:7] != month:
            continue
        f = v.fields
        order = orders.get(f.get("work_order_no"))
        rows.append(
            {
                "date": f["business_date"].isoformat(),
                "number": v.number,
                "vin": f["vin"],
                "plate": f.get("plate"),
                "model": order.fields.get("model") if order else None,
                "customer": f.get("customer_name"),
                "mileage_km": f.get("mileage_km"),
                "work_order_no": f.get("work_order_no"),
                "advisor": names.get(f.get("service_advisor")),
            }
        )
    return sorted(rows, key=lambda r: (r["date"], r["number"]))


def test_the_month_register_is_the_logs_vouchers(demo: tuple[Archive, ReadModels]) -> None:
    archive, models = demo
    for month in ("2026-10", "2026-11"):
        report = register(archive, models, "month", month)
        expected = expected_rows(archive, month)
        assert expected, f"the demo files first-service vouchers in {month}"
        rows = [{k: v for k, v in r.items() if k != "index"} for r in report.tables[0].rows]
        assert rows == expected
        models_count = Counter(r["model"] for r in expected)
        assert {f.key: f.value for f in report.figures} == {
            "vouchers": len(expected),
            "models": len(models_count),
        }
        by_model = {r["model"]: r["count"] for r in report.tables[1].rows}
        assert by_model == dict(models_count)
        assert report.tables[1].total == {"model": "合计", "count": len(expected)}


def test_the_year_counts_vouchers_by_month(demo: tuple[Archive, ReadModels]) -> None:
    archive, models = demo
    report = register(archive, models, "year", "2026")
    by_month = Counter(
        v.fields["business_date"].month
        for v in report_log.documents(archive, "first_service_voucher")
        if v.fields["business_date"].year == 2026
    )
    expected = [by_month.get(m, 0) for m in range(1, 13)]
    (chart,) = report.charts
    assert list(chart.series[0].values) == expected and chart.categories[9] == "10月"
    assert [r["count"] for r in report.tables[0].rows] == expected
    assert {f.key: f.value for f in report.figures}["vouchers"] == sum(expected)


def test_the_register_as_a_pdf_page(demo: tuple[Archive, ReadModels], tmp_path: Path) -> None:
    archive, models = demo
    report = register(archive, models, "month", "2026-11")
    pdf = tmp_path / "first-service.pdf"
    pdf.write_bytes(report_pdf(report, archive))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    first = report.tables[0].rows[0]
    for shown in ("首保登记表", "2026年11月", first["number"], first["vin"], "按车型"):
        assert shown in text, shown
    SHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
         str(SHOTS / "report-first-service-pdf")],
        check=True,
    )  # fmt: skip
    assert (SHOTS / "report-first-service-pdf.png").stat().st_size > 10_000
