"""Complaints (投诉): customers who call or come to the desk about a repair, each taken down on
a quick-handling form (快速处理表, ``source = complaint``) by the clerk or the service manager.

Most are closed within days and signed by the service manager; some are closed and wait for his
signature; a few are still being handled at the month's end, so the complaint report has open
ones to put first. Drawn from a random stream of their own (seeded by the month), so adding
them changes nothing else the demo plans.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from archive.demo import vocab
from archive.demo.desk import is_working
from archive.demo.ops import Operation
from archive.demo.paper import Paper
from archive.demo.paperwork import Paperwork
from archive.demo.visits import Visit

COMPLAINTS_PER_VISIT = 6 / 600
AT_LEAST = 3  # even a small demo month has an open one, a waiting one and a closed one


def complaint_operations(book: Paperwork, visits: list[Visit]) -> list[Operation]:
    """The month's complaint forms, as operations (the month's other papers are planned)."""
    desk = book.desk
    rng = random.Random(f"complaints {desk.first:%Y-%m}")
    settled = [v for v in visits if not v.void and v.settled is not None]
    count = min(len(settled), max(AT_LEAST, round(len(settled) * COMPLAINTS_PER_VISIT)))
    grounds = [c for c in vocab.COMPLAINTS if not c.return_repair]
    papers = []

    def later(moment: datetime, low: int, high: int) -> datetime:
        """Like ``Paperwork.later``, drawing from this stream, not the book's."""
        return desk.after(moment, rng.randint(low, high))

    for index, visit in enumerate(sorted(rng.sample(settled, count), key=lambda v: v.number)):
        assert visit.settled is not None
        day = min(visit.settled.date() + timedelta(days=rng.randint(1, 10)), desk.last)
        while not is_working(day):
            day -= timedelta(days=1)
        opened = desk.moment(rng, day, "09:00", "17:00")
        if opened < visit.settled:  # a complaint comes after the car left, never before
            opened = later(visit.settled, 30, 120)
        complaint = rng.choice(grounds)
        month = f"{opened:%y%m}"
        fields: dict[str, Any] = {
            "business_date": opened.date().isoformat(),
            "source": "complaint",
            # The complaint register's line: kept as written (a complaint is not a kind here).
            "source_no": f"TS{month}-{index + 1:03d}",
            "work_order_no": visit.number,
            "customer_name": visit.car.owner.name,
            "customer_phone": visit.car.owner.phone,
            "department_at_fault": complaint.department,
            "description": complaint.description,
            "action": complaint.action,
            "return_repair": False,
        }
        number = f"KS{month}-{book.sequences.next('KS' + month):03d}"
        filer = rng.choice((book.roster.desk_clerk, book.roster.manager)).username
        paper = Paper("quick_handling", number, fields, filer, later(opened, 5, 60))
        # The first is still being handled, the second waits for the manager; most close.
        stage = index if index < 2 else 2 + int(rng.random() < 0.15)
        if stage in (1, 2):
            closed = later(paper.filed_at, 120, 2400)
            closing = {
                "result": complaint.result,
                "customer_reaction": complaint.reaction,
                "closed_at": f"{closed:%Y-%m-%d %H:%M}",
            }
            paper.amend(later(closed, 5, 60), closing, "问题已处理，补充处理结果", filer)
            if stage == 2:
                signed = later(closed, 70, 600)
                paper.sign("service_manager", book.roster.manager.username, signed)
        papers.append(paper)
    # Planned with this stream too (a signature moved after an amendment draws a time).
    return [op for paper in papers for op in paper.operations(rng, desk)]
