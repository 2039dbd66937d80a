"""Loading a demo plan into an archive, through ``archive.commands`` and nothing else.

Each operation runs at its simulated moment: while loading, ``archive.clock`` is replaced by
one that returns the current operation's time, and put back afterwards whatever happens.
"""

from __future__ import annotations

import io
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from archive import commands
from archive.bootstrap import Archive
from archive.demo.fees import ReceiveInvoice, RequestInvoice, apply_fee_operation
from archive.demo.media import scan_pdf, signature_png
from archive.demo.ops import (
    AmendDocument,
    AttachScan,
    Depart,
    FileDocument,
    FileDraftedReport,
    Operation,
    ReturnTrip,
    SignDocument,
    SubmitClaim,
    VoidDocument,
)
from archive.demo.people import StaffMember
from archive.demo.plan import DemoPlan
from archive.kinds.registry import get_kind

Progress = Callable[[int, int], None]


@dataclass
class DemoSummary:
    month: str = ""  # the last month planned
    months: int = 1
    seed: int = 0
    documents: dict[str, int] = field(default_factory=dict)  # filed, per kind
    staff: int = 0
    signatures: int = 0
    customer_signatures: int = 0  # of the signatures, the customers' (each with an image)
    amendments: int = 0
    voids: int = 0
    scans: int = 0
    submissions: int = 0
    operations: int = 0
    seconds: float = 0.0

    @property
    def total_documents(self) -> int:
        return sum(self.documents.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "months": self.months,
            "seed": self.seed,
            "documents": dict(self.documents),
            "total_documents": self.total_documents,
            "staff": self.staff,
            "signatures": self.signatures,
            "customer_signatures": self.customer_signatures,
            "amendments": self.amendments,
            "voids": self.voids,
            "scans": self.scans,
            "submissions": self.submissions,
            "operations": self.operations,
            "seconds": round(self.seconds, 2),
        }

    def describe(self) -> str:
        """A few lines for people, in Chinese."""
        kinds = "、".join(f"{get_kind(k).label} {n}" for k, n in self.documents.items())
        span = self.month if self.months == 1 else f"截至 {self.month} 的 {self.months} 个月"
        lines = [
            f"已装入 {span} 的演示数据（种子 {self.seed}）：",
            f"  单据 {self.total_documents} 份：{kinds}",
            f"  员工 {self.staff} 人；签字 {self.signatures} 次"
            f"（其中客户 {self.customer_signatures} 次）",
            f"  修改 {self.amendments}，作废 {self.voids}，扫描件 {self.scans}，"
            f"上报 {self.submissions}",
            f"  用时 {self.seconds:.1f} 秒（{self.operations} 步操作）",
        ]
        return "\n".join(lines)


def register_staff(archive: Archive, staff: Sequence[StaffMember]) -> int:
    """Register whoever of ``staff`` is not registered yet; the first one registers himself.

    Uses the archive's clock as it is. Returns how many were registered.
    """
    known = archive.staff.refresh()
    admin = staff[0].username
    added = 0
    for person in staff:
        if person.username in known:
            continue
        commands.register_staff(
            archive,
            username=person.username,
            name=person.name,
            roles=person.roles,
            actor=admin,
            registration_no=person.registration_no,
            phone=person.phone,
        )
        added += 1
    return added


# Every demo account logs in with this; a real archive sets passwords person by person.
DEMO_PASSWORD = "demo-2026"


def set_demo_passwords(
    archive: Archive, staff: Sequence[StaffMember], password: str = DEMO_PASSWORD
) -> None:
    """Give every demo account the demo password, so a newcomer can log in as anyone."""
    admin = staff[0].username
    for person in staff:
        commands.set_password(archive, person.username, password, admin)


def load(
    archive: Archive,
    plan: DemoPlan,
    progress: Progress | None = None,
    password: str | None = None,
) -> DemoSummary:
    """Apply ``plan`` to ``archive`` (meant to be empty) and count what was done.

    ``progress`` is called with (done, total) about every 1% of the operations and at the end.
    ``password``: every account gets it when registered (so that no event is dated after the
    plan's clock). Any error of the write path propagates: a plan that does not load is a bug
    in the plan; :func:`archive.demo.fresh.load_all_or_nothing` then leaves the archive empty.
    """
    started = time.perf_counter()
    summary = DemoSummary(month=plan.spec.month, months=plan.spec.months, seed=plan.spec.seed)
    loader = _Loader(archive, summary)
    total = len(plan.operations)
    step = max(1, total // 100)
    saved_clock = archive.clock
    now = [plan.staff_registered_at]
    archive.clock = lambda: now[0]
    try:
        summary.staff = register_staff(archive, plan.staff)
        if password is not None:
            set_demo_passwords(archive, plan.staff, password)
        for done, op in enumerate(plan.operations, start=1):
            now[0] = op.at
            loader.apply(op)
            if progress is not None and (done % step == 0 or done == total):
                progress(done, total)
    finally:
        archive.clock = saved_clock
    summary.operations = total
    summary.seconds = time.perf_counter() - started
    return summary


class _Loader:
    def __init__(self, archive: Archive, summary: DemoSummary) -> None:
        self.archive = archive
        self.summary = summary
        self.versions: dict[tuple[str, str], int] = {}  # what the clerk saw last
        self.documents: Counter[str] = Counter()

    def apply(self, op: Operation) -> None:
        archive, summary = self.archive, self.summary
        if isinstance(op, RequestInvoice | ReceiveInvoice):  # not a document: no version kept
            apply_fee_operation(archive, op)
            return
        if isinstance(op, FileDraftedReport):
            doc = commands.file_document(archive, op.kind, drafted_report(archive, op), op.actor)
            self.documents[op.kind] += 1
            summary.documents = dict(self.documents)
        elif isinstance(op, FileDocument):
            doc = commands.file_document(
                archive, op.kind, op.data, op.actor, unlinked_reason=op.unlinked_reason
            )
            self.documents[op.kind] += 1
            summary.documents = dict(self.documents)
        elif isinstance(op, SignDocument):
            image = None
            if op.role == "customer":
                name = op.customer_name or "客户"
                image = io.BytesIO(signature_png(name, op.image_variant))
                summary.customer_signatures += 1
            doc = commands.sign_document(
                archive,
                op.kind,
                op.number,
                op.role,
                op.actor,
                customer_name=op.customer_name,
                signature_image=image,
                on_behalf_of=op.on_behalf_of,
                on_behalf_reason=op.on_behalf_reason,
            )
            summary.signatures += 1
        elif isinstance(op, Depart):
            doc = commands.depart(
                archive, op.number, op.actor, op.handheld_terminal_id, op.odometer_out
            )
        elif isinstance(op, ReturnTrip):
            doc = commands.return_trip(
                archive,
                op.number,
                op.actor,
                op.mileage_claimed,
                op.mileage_verified,
                odometer_in=op.odometer_in,
            )
        elif isinstance(op, AmendDocument):
            expected = self.versions[(op.kind, op.number)]
            doc = commands.amend_document(
                archive, op.kind, op.number, op.changes, op.reason, expected, op.actor
            )
            summary.amendments += 1
        elif isinstance(op, AttachScan):
            pdf = io.BytesIO(scan_pdf(list(op.text), subject=f"{op.kind} {op.number}"))
            doc = commands.attach_scan(
                archive, op.kind, op.number, pdf, op.actor, filename=op.filename, label=op.label
            )
            summary.scans += 1
        elif isinstance(op, VoidDocument):
            doc = commands.void_document(archive, op.kind, op.number, op.reason, op.actor)
            summary.voids += 1
        elif isinstance(op, SubmitClaim):
            doc = commands.submit_claim(archive, op.kind, op.number, op.claim_no, op.actor)
            summary.submissions += 1
        elif hasattr(op, "run"):  # the desk's calls to customers (archive/demo/contacts.py)
            op.run(archive)
            return
        else:
            raise TypeError(f"unknown demo operation {op!r}")
        self.versions[(op.kind, op.number)] = doc.version


def drafted_report(archive: Archive, op: FileDraftedReport) -> dict[str, Any]:
    """The daily report as the system drafts it from the day's work orders filed so far,
    the clerk's notes added; part ``op.part`` of ``op.parts`` when the day is split."""
    from archive.commands.daily_report import draft_daily_report

    draft = draft_daily_report(archive, date.fromisoformat(op.day))
    lines = draft["lines"]
    size = -(-len(lines) // op.parts) if lines else 0
    chunk = lines[(op.part - 1) * size : op.part * size]
    revenue = sum((Decimal(line["amount"]) for line in chunk), Decimal("0.00"))
    data: dict[str, Any] = {
        "number": op.number,
        "business_date": op.day,
        "lines": chunk,
        "work_order_count": len(chunk),
        "revenue": str(revenue),
    }
    if op.data.get("notes"):
        data["notes"] = op.data["notes"]
    return data
