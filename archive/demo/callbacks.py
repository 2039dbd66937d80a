"""Callbacks (回访) after repairs, and the quick-handling forms (快速处理表) they lead to.

Most customers are called within 3 days of the repair, in the hours people answer (10-12,
15-18); some calls are late, some go unanswered and are tried again the next day, a few reach
a wrong number (the work order's number was mistyped and gets corrected), and some customers
have a problem: a quick-handling form, or a return repair (返修) for the service manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from archive.demo import vocab
from archive.demo.desk import is_working
from archive.demo.numbering import Sequences
from archive.demo.paperwork import Paperwork, misdial
from archive.demo.visits import Visit


@dataclass
class Call:
    visit: Visit
    called: datetime
    outcome: str
    phone: str
    late: bool = False
    complaint: vocab.Complaint | None = None
    returned: Visit | None = None  # the return repair this call led to
    number: str = ""
    form_number: str = ""  # its quick-handling form
    filed: datetime | None = None  # when its callback record was filed


class CallDesk:
    """Plans every call of the month and the papers they produce, into ``book``."""

    def __init__(self, book: Paperwork) -> None:
        self.book = book
        self.rng = book.rng
        self.desk = book.desk
        self.roster = book.roster
        self.rates = book.rates

    def add(self, visits: list[Visit], forms: int, phone_fixes: int) -> int:
        """Call back most customers; some calls find a problem, a few a wrong number.

        Returns how many work orders had their phone number corrected.
        """
        rng = self.rng
        done = [v for v in visits if not v.void]
        # The repair a return repair (返修) followed: its call is where the problem surfaced.
        returns = {v.previous: v for v in done if v.repair_type == "return_repair" and v.previous}
        called = [v for v in done if v in returns or rng.random() < self.rates.callbacks]
        ordinary = [v for v in called if v not in returns]
        fixable = [v for v in ordinary if v.repair_type in ("maintenance", "repair", "accident")]
        fixes = set(rng.sample(fixable, min(phone_fixes, len(fixable))))
        others = [v for v in ordinary if v not in fixes]
        unhappy = set(rng.sample(others, max(0, min(forms - len(returns), len(others)))))
        others = [v for v in others if v not in unhappy]
        late = set(rng.sample(others, min(len(others), round(len(called) * self.rates.late))))
        calls: list[Call] = []
        for visit in called:
            flags = (visit in fixes, visit in unhappy, visit in late)
            calls += self._calls_for(visit, returns.get(visit), *flags)
        calls.sort(key=lambda c: c.called)
        _number_calls(calls, self.book.sequences)
        for call in calls:
            self._callback(call)
            if call.late:
                self.book.late_callbacks.append(call.number)
        for call in calls:
            if call.form_number:
                self._quick_handling(call)
        return len(fixes)

    def _calls_for(
        self, visit: Visit, returned: Visit | None, fix: bool, unhappy: bool, late: bool
    ) -> list[Call]:
        rng = self.rng
        assert visit.settled is not None
        owner = visit.car.owner
        day = self._callback_day(visit.settled.date(), late)
        first = Call(visit, self._call_time(day), "reached", owner.phone, late=late)
        if returned is not None:
            first.complaint, first.returned = vocab.RETURN_COMPLAINT, returned
            if first.called >= returned.opened:  # the car came back before we called
                first.called = self.book.later(visit.settled, 30, 60)
            return [first]
        if unhappy:
            first.complaint = rng.choice(vocab.COMPLAINTS)
            return [first]
        if fix:  # the number on the work order is wrong; the clerk finds the right one
            wrong = misdial(owner.phone)
            wo = self.book.work_orders[visit.number]
            wo.fields["customer_phone"] = wrong
            first.phone, first.outcome = wrong, "wrong_number"
            fixed = self.book.later(first.called, 20, 240)
            wo.amend(
                fixed,
                {"customer_phone": owner.phone},
                "客户电话有误，已按销售档案更正",
                self.roster.desk_clerk.username,
                resign=rng.random() < self.rates.resign,
            )
            day = self.desk.next_day(fixed.date())
            return [first, Call(visit, self._call_time(day), "reached", owner.phone)]
        first.outcome = rng.choices(
            ("reached", "no_answer", "wrong_number", "refused"), (80, 13, 2, 5)
        )[0]
        if first.outcome == "no_answer" and rng.random() < 0.5:  # try again the next day
            day = self.desk.next_day(first.called.date())
            outcome = "reached" if rng.random() < 0.8 else "no_answer"
            return [first, Call(visit, self._call_time(day), outcome, owner.phone, late=late)]
        return [first]

    def _callback_day(self, settled: date, late: bool) -> date:
        """Within 3 days of the repair; a late call 4 to 7 days after. Never on a Sunday."""
        gaps = range(4, 8) if late else range(1, 4)
        days = [settled + timedelta(days=g) for g in gaps]
        return self.rng.choice([d for d in days if is_working(d)])

    def _call_time(self, day: date) -> datetime:
        """The best hours to reach people: 10:00-12:00 and 15:00-18:00."""
        if self.rng.random() < 0.5:
            return self.desk.moment(self.rng, day, "10:00", "12:00")
        return self.desk.moment(self.rng, day, "15:00", "18:00")

    def _callback(self, call: Call) -> None:
        rng = self.rng
        visit = call.visit
        fields: dict[str, Any] = {
            "business_date": call.called.date().isoformat(),
            "work_order_no": visit.number,
            "customer_name": visit.car.owner.name,
            "customer_phone": call.phone,
            "called_at": f"{call.called:%Y-%m-%d %H:%M}",
            "outcome": call.outcome,
        }
        if call.outcome == "reached":
            fields.update(self._questionnaire(call))
        elif call.outcome == "refused":
            fields["customer_words"] = rng.choice(vocab.CALLBACK_REFUSED)
        clerk = self.roster.desk_clerk if rng.random() < 0.8 else self.roster.registered_clerk
        # Filed once its work order is in the archive (the record names it).
        order = self.book.work_orders[visit.number]
        filed = self.book.later(max(call.called, order.filed_at), 2, 40)
        call.filed = filed
        paper = self.book.new_paper("callback", call.number, fields, clerk.username, filed)
        paper.sign("clerk", clerk.username, self.book.later(filed, 1, 30))

    def _questionnaire(self, call: Call) -> dict[str, Any]:
        rng = self.rng
        visit = call.visit
        if call.complaint is not None:
            scale, weights = (1, 2, 3, 4), (10, 35, 45, 10)
            if call.returned is not None:
                words = f"上次修的{visit.job.short}又出问题了，你们得给我好好看看。"
            else:
                words = call.complaint.words
        elif rng.random() < 0.15:
            scale, weights, words = (3, 4, 5), (30, 50, 20), rng.choice(vocab.CALLBACK_GRUMBLE)
        else:
            scale, weights, words = (3, 4, 5), (3, 22, 75), rng.choice(vocab.CALLBACK_PRAISE)

        def score() -> int:
            return rng.choices(scale, weights)[0]

        answers: dict[str, Any] = {
            code: score()
            for code in (
                "score_reception",
                "score_completion",
                "score_settlement",
                "score_price",
                "score_repair",
                "score_cleaning",
            )
        }
        if visit.repair_type == "accident":
            answers["score_paint"] = score()
        answers["score_overall"] = score()
        answers["advisor_explained"] = call.complaint is None or rng.random() < 0.5
        answers["customer_words"] = words
        answers["problem"] = call.complaint is not None
        if call.form_number:
            answers["quick_handling_no"] = call.form_number
        return answers

    def _quick_handling(self, call: Call) -> None:
        complaint = call.complaint
        assert complaint is not None
        visit = call.visit
        manager = self.roster.manager.username
        fields: dict[str, Any] = {
            "business_date": call.called.date().isoformat(),
            "source": "callback",
            "source_no": call.number,
            "work_order_no": visit.number,
            "customer_name": visit.car.owner.name,
            "customer_phone": visit.car.owner.phone,
            "department_at_fault": complaint.department,
            "description": complaint.description or f"客户反映{visit.job.short}问题维修后仍然存在",
            "action": complaint.action,
            "return_repair": complaint.return_repair,
        }
        closing = {"result": complaint.result, "customer_reaction": complaint.reaction}
        clerk = self.roster.desk_clerk.username
        if call.returned is not None:
            # Opened at the call; closed, and only then signed, once the return repair is done.
            assert call.returned.settled is not None
            paper = self.book.new_paper(
                "quick_handling",
                call.form_number,
                fields,
                clerk,
                self.book.later(max(call.called, call.filed or call.called), 30, 180),
            )
            closed = call.returned.settled
            closing["closed_at"] = f"{closed:%Y-%m-%d %H:%M}"
            completed = self.book.later(closed, 10, 120)
            paper.amend(completed, closing, "返修完成，补充处理结果", clerk)
            paper.sign("service_manager", manager, self.book.later(completed, 20, 600))
            return
        closed = self.book.later(max(call.called, call.filed or call.called), 30, 600)
        fields.update(closing, closed_at=f"{closed:%Y-%m-%d %H:%M}")
        paper = self.book.new_paper(
            "quick_handling", call.form_number, fields, clerk, self.book.later(closed, 5, 60)
        )
        paper.sign("service_manager", manager, self.book.later(paper.filed_at, 20, 600))


def _number_calls(calls: list[Call], sequences: Sequences) -> None:
    """Callbacks HF + yymm + sequence; quick-handling forms KS + yymm + sequence."""
    for call in calls:
        month = f"{call.called:%y%m}"
        call.number = f"HF{month}-{sequences.next('HF' + month):04d}"
        if call.complaint is not None:
            call.form_number = f"KS{month}-{sequences.next('KS' + month):03d}"
