"""What a printed page must show, cell by cell, in the order the page draws it.

Made from the same print models the pages were rendered from (``archive.bundle.layout`` for a
form, ``archive.bundle.bindings.fee_summary`` for the fee summary), walking them as the
templates do (``templates/print/document.html``, ``fees.html``): every field label and value,
every line-table cell, the 办理记录, the signature table (role, signer, time, content hash),
the attachments and the 变更记录. A change to a template's text must be made here too; the
untouched-bundle tests fail until it is.

Painting order differs from the HTML's in one place: a float (the status stamp) is drawn before
the page's in-flow text (CSS 2.1 appendix E), so the stamp comes first. A table broken across
pages repeats its head on the next page: its cells carry that head (``repeat``) for the
comparison to allow it there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SIGNATURE_HEAD = ("角色", "签字人", "签字时间", "所签内容摘要", "手写签名")
ATTACHMENT_HEAD = ("说明", "文件", "类型", "SHA-256", "上传", "位置")
HISTORY_HEAD = ("版本", "时间", "事项", "经办人", "原因与变更内容")
FEE_HEAD = ("序号", "索赔单号", "维修日期", "维修委托书号", "VIN（车架号）", "厂家索赔号")
UNSUBMITTED_TITLE = "未上报，不计入服务费用"


@dataclass(frozen=True)
class Cell:
    """One cell's text as printed, and what a finding calls it (Chinese)."""

    label: str
    text: str
    repeat: tuple[Cell, ...] = ()  # the head its table repeats on a new page


def _head(table: str, labels: tuple[str, ...] | list[str]) -> tuple[Cell, ...]:
    return tuple(Cell(f"{table}表头·{label}", label) for label in labels)


def _table(
    title: str | None, head: tuple[Cell, ...], rows: list[list[Cell]], empty: str | None = None
) -> list[Cell]:
    cells = [Cell(f"{title}标题", title)] if title else []
    cells += head
    for row in rows:
        cells += [Cell(c.label, c.text, head) for c in row]
    if not rows and empty is not None:
        cells.append(Cell(f"{title}（无）", empty, head))
    return cells


def form_cells(model: dict[str, Any]) -> list[Cell]:
    """A form's cells (its pages' header and page numbers apart), from its print model."""
    cells = [
        Cell("状态", model["status_label"]),
        Cell("标题", model["kind_label"]),
        Cell(f"{model['number_label']}栏", f"{model['number_label']}："),
        Cell(model["number_label"], model["number"]),
        Cell("版本与内容摘要", f"第 {model['version']} 版　内容摘要 {model['content_hash'][:12]}"),
    ]
    voided = model.get("voided")
    if voided:
        cells.append(
            Cell("作废说明", f"已作废：{voided['reason']}（{voided['by']}，{voided['at']}）")
        )
    for row in model["grid"]:
        for label, text in row["cells"]:
            cells += [Cell(f"{label}栏", label), Cell(label, text)]
    for table in model["tables"]:
        title = table["label"]
        head = _head(title, ["序号", *(c["label"] for c in table["columns"])])
        rows = [
            [Cell(f"{title}第 {i} 行·序号", str(i))]
            + [
                Cell(f"{title}第 {i} 行·{column['label']}", text)
                for column, text in zip(table["columns"], row, strict=True)
            ]
            for i, row in enumerate(table["rows"], start=1)
        ]
        cells += _table(title, head, rows, "（无）")
    if model["events"]:
        cells.append(Cell("办理记录标题", "办理记录"))
        for label, text in model["events"]:
            cells += [Cell(f"办理记录·{label}栏", label), Cell(f"办理记录·{label}", text)]
    cells += _table("签字", _head("签字", SIGNATURE_HEAD), _signature_rows(model["signatures"]))
    if model["attachments"]:
        rows = [
            [
                Cell(f"附件第 {i} 行·{label}", text)
                for label, text in zip(
                    ATTACHMENT_HEAD,
                    (a["label"], a["filename"], a["media"], a["sha"][:12], f"{a['by']} {a['at']}"),
                    strict=False,
                )
            ]
            + [Cell(f"附件第 {i} 行·位置", a.get("where", ""))]
            for i, a in enumerate(model["attachments"], start=1)
        ]
        cells += _table("附件（扫描件）", _head("附件", ATTACHMENT_HEAD), rows)
    if model["history"]:
        cells += _table("变更记录", _head("变更记录", HISTORY_HEAD), _history_rows(model))
    return cells


def _signature_rows(signatures: list[dict[str, Any]]) -> list[list[Cell]]:
    rows = []
    for i, s in enumerate(signatures, start=1):
        where = f"签字第 {i} 行（{s['role']}）"
        hash_text = s["hash"] + (f" {s['note']}" if s["note"] else "")
        rows.append(
            [
                Cell(f"{where}·角色", s["role"]),
                Cell(f"{where}·签字人", s["name"]),
                Cell(f"{where}·签字时间", s["at"]),
                Cell(f"{where}·所签内容摘要", hash_text),
                Cell(f"{where}·手写签名", "" if s["image"] else s["evidence"]),
            ]
        )
    return rows


def _history_rows(model: dict[str, Any]) -> list[list[Cell]]:
    rows = []
    for h in model["history"]:
        where = f"变更记录第 {h['version']} 版"
        changes = f"原因：{h['reason']}" if h["reason"] else ""
        changes += "".join(f"{c['label']}：{c['before']} → {c['after']}" for c in h["changes"])
        rows.append(
            [
                Cell(f"{where}·版本", str(h["version"])),
                Cell(f"{where}·时间", h["at"]),
                Cell(f"{where}·事项", h["label"]),
                Cell(f"{where}·经办人", h["actor"]),
                Cell(f"{where}·原因与变更内容", changes),
            ]
        )
    return rows


def scan_page_cells(model: dict[str, Any], scan: dict[str, Any]) -> list[Cell]:
    """The page a scan that is not a PDF gets: its caption, and a notice if unreadable."""
    where = f"扫描件 {scan['position']}"
    cells = [
        Cell(
            f"{where}标题",
            f"{model['kind_label']} {model['number']} · {where}：{scan['label']} "
            f"{scan['filename']} · {scan['sha'][:12]}",
        )
    ]
    if scan["placement"] != "image":
        cells.append(
            Cell(
                f"{where}说明",
                "该 PDF 扫描件无法读取，未能并入本卷；"
                f"原件按 SHA-256 {scan['sha']} 保存在档案库中。",
            )
        )
    return cells


def fee_cells(heading: str, fees: dict[str, Any]) -> list[Cell]:
    """The return binding's fee summary: the submitted claims that the fees count, then the
    claims not submitted, listed apart and not counted."""
    cells = [
        Cell("服务费用汇总标题", "服务费用汇总"),
        Cell(
            "服务费用合计说明",
            f"{heading}：三包索赔单 {fees['count']} 份，服务费用合计 {fees['total']} 元。",
        ),
    ]
    head = _head("服务费用汇总", [*FEE_HEAD, "服务费用（元）"])
    rows = [_fee_row(i, r, r["fee"]) for i, r in enumerate(fees["rows"], start=1)]
    rows.append(
        [Cell("合计行", f"合计（{fees['count']} 份）"), Cell("服务费用合计", fees["total"])]
    )
    cells += _table(None, head, rows)
    unsubmitted = fees.get("unsubmitted") or []
    if unsubmitted:
        head = _head(UNSUBMITTED_TITLE, [*FEE_HEAD[:-1], "服务费用（元，不计入）"])
        rows = [_fee_row(i, r, r["fee"], short=True) for i, r in enumerate(unsubmitted, start=1)]
        cells += _table(UNSUBMITTED_TITLE, head, rows)
    return cells


def _fee_row(i: int, row: dict[str, Any], fee: str, short: bool = False) -> list[Cell]:
    where = f"{'未上报' if short else '服务费用'}第 {i} 行"
    texts = (str(i), row["number"], row["date"], row["work_order_no"], row["vin"])
    labels = FEE_HEAD[:5]
    if not short:
        texts, labels = (*texts, row["claim_no"]), FEE_HEAD
    cells = [Cell(f"{where}·{label}", text) for label, text in zip(labels, texts, strict=True)]
    return [*cells, Cell(f"{where}·服务费用", fee)]
