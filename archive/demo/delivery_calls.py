"""The callback 7 days after a new car's delivery (交车后 7 天回访), naming its warranty
registration (``registration_no``) instead of a work order."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from archive.demo import vocab
from archive.demo.desk import is_working
from archive.demo.paperwork import Paperwork


def add_delivery_callbacks(book: Paperwork) -> None:
    """Call each new owner on the 7th day after delivery (the day before if the desk is
    closed then: the call is due within the 7 days)."""
    rng, desk = book.rng, book.desk
    for registration, car in book.deliveries:
        delivered = date.fromisoformat(registration.fields["delivery_date"])
        day = delivered + timedelta(days=7)
        while not is_working(day):
            day -= timedelta(days=1)
        if rng.random() < 0.5:
            called = desk.moment(rng, day, "10:00", "12:00")
        else:
            called = desk.moment(rng, day, "15:00", "18:00")
        reached = rng.random() < 0.9
        fields: dict[str, Any] = {
            "business_date": day.isoformat(),
            "registration_no": registration.number,
            "customer_name": car.owner.name,
            "customer_phone": car.owner.phone,
            "called_at": f"{called:%Y-%m-%d %H:%M}",
            "outcome": "reached" if reached else "no_answer",
        }
        if reached:
            fields["score_overall"] = rng.choices((3, 4, 5), (5, 30, 65))[0]
            fields["customer_words"] = rng.choice(vocab.DELIVERY_WORDS)
            fields["problem"] = False
        month = f"{called:%y%m}"
        number = f"HF{month}-{book.sequences.next('HF' + month):04d}"
        clerk = book.roster.desk_clerk.username
        paper = book.new_paper("callback", number, fields, clerk, book.later(called, 2, 40))
        paper.sign("clerk", clerk, book.later(paper.filed_at, 1, 30))
