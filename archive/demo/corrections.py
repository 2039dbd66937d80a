"""Corrections: amendments that fix a mistake found after filing (抄错里程, 客户电话有误 ...).

For a wrong value, the paper is filed with the mistake and the amendment restores the truth,
so the current state of the archive is right and its history shows the slip. Most corrected
papers are signed again afterwards (the amendment made the earlier signatures stale).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from archive.demo import vocab
from archive.demo.paper import Paper
from archive.demo.paperwork import Paperwork, misdial
from archive.demo.visits import Visit

# Cycled through, so that even a small month gets a variety. "phone" corrections of work
# orders come from callbacks that reached a wrong number (see Paperwork.add_callbacks).
ORDER = (
    "mileage",
    "phone",
    "fault",
    "claim_part",
    "diagnostic",
    "mileage",
    "plate",
    "registration",
    "phone",
    "fault",
    "claim_fault",
    "mileage",
    "claim_part",
    "phone",
    "diagnostic",
    "mileage",
    "fault",
    "claim_part",
    "phone",
    "mileage",
)


def correction_kinds(count: int) -> list[str]:
    return [ORDER[i % len(ORDER)] for i in range(count)]


class Corrector:
    def __init__(self, book: Paperwork, visits: list[Visit], resign_share: float) -> None:
        self.book = book
        self.rng = book.rng
        self.resign_share = resign_share
        self.visits = {v.number: v for v in visits}
        seen: dict[str, int] = {}
        for visit in visits:
            if not visit.void:
                seen[visit.car.vin] = seen.get(visit.car.vin, 0) + 1
        # A typo in the mileage of a car seen twice would look like an odometer anomaly; so
        # would one of a car seen in an earlier month.
        before = {v.car.vin for v in visits if not v.void and v.car.last_seen is not None}
        self.seen_once = {vin for vin, count in seen.items() if count == 1 and vin not in before}
        self.pools: dict[str, list[Paper]] = {}

    def apply(self, kinds: list[str]) -> int:
        fixers: dict[str, Callable[[], bool]] = {
            "mileage": self.mileage,
            "fault": self.fault,
            "plate": self.plate,
            "claim_part": self.claim_part,
            "claim_fault": self.claim_fault,
            "diagnostic": self.diagnostic,
            "registration": self.registration,
        }
        return sum(1 for kind in kinds if kind in fixers and fixers[kind]())

    # -- choosing and amending ----------------------------------------------------------------

    def _pick(self, pool: str, candidates: Callable[[], list[Paper]]) -> Paper | None:
        """A random paper of ``pool`` not voided nor corrected yet.

        Each pool is listed and shuffled once, then drawn from, so that a month of 10,000
        work orders is not scanned again for every correction.
        """
        if pool not in self.pools:
            papers = candidates()
            self.rng.shuffle(papers)
            self.pools[pool] = papers
        papers = self.pools[pool]
        while papers:
            paper = papers.pop()
            if not paper.voided and not paper.amended:
                return paper
        return None

    def _work_orders(self, *types: str, seen_once: bool = False) -> list[Paper]:
        result = []
        for number, paper in self.book.work_orders.items():
            visit = self.visits[number]
            if visit.repair_type in types and (not seen_once or visit.car.vin in self.seen_once):
                result.append(paper)
        return result

    def _of_kind(self, kind: str) -> list[Paper]:
        return [p for p in self.book.papers if p.kind == kind]

    def _amend(self, paper: Paper, changes: dict[str, Any], reason: str) -> None:
        """Found and fixed within a day or two; for a claim, before it is submitted."""
        at = self.book.desk.after(paper.filed_at, self.rng.randint(30, 1200))
        submitted = paper.first("submit")
        if submitted is not None and at >= submitted.at - timedelta(minutes=10):
            halfway = paper.filed_at + (submitted.at - paper.filed_at) / 2
            at = min(self.book.desk.clamp(halfway), submitted.at - timedelta(minutes=3))
        resign = self.rng.random() < self.resign_share
        paper.amend(at, changes, reason, paper.filer, resign=resign)

    # -- the corrections ------------------------------------------------------------------------

    def mileage(self) -> bool:
        paper = self._pick(
            "mileage",
            lambda: self._work_orders("maintenance", "repair", "accident", seen_once=True),
        )
        if paper is None:
            return False
        true = str(paper.fields["mileage_km"])
        paper.fields["mileage_km"] = mistyped_number(self.rng, true)
        self._amend(paper, {"mileage_km": true}, f"抄错里程，按仪表照片更正为 {true} km")
        return True

    def fault(self) -> bool:
        paper = self._pick("fault", lambda: self._work_orders("repair", "warranty", "accident"))
        if paper is None:
            return False
        more = self.rng.choice(vocab.FAULT_SUPPLEMENTS)
        changes = {"fault_description": f"{paper.fields['fault_description']}。{more}"}
        self._amend(paper, changes, "补充故障描述")
        return True

    def plate(self) -> bool:
        paper = self._pick(
            "plate", lambda: self._work_orders("maintenance", "repair", seen_once=True)
        )
        if paper is None:
            return False
        true = paper.fields["plate"]
        paper.fields["plate"] = mistyped_plate(self.rng, true)
        self._amend(paper, {"plate": true}, "车牌号录入错误")
        return True

    def claim_part(self) -> bool:
        paper = self._pick(
            "claim_part",
            lambda: [
                p
                for p in self._of_kind("warranty_claim")
                if any(line["damaged_part_returned"] for line in p.fields["parts"])
            ],
        )
        if paper is None:
            return False
        true = paper.fields["parts"]
        paper.fields["parts"] = [{**line, "damaged_part_returned": False} for line in true]
        self._amend(paper, {"parts": true}, "旧件已返回，更正旧件返回标记")
        return True

    def claim_fault(self) -> bool:
        paper = self._pick("claim", lambda: self._of_kind("warranty_claim"))
        if paper is None:
            return False
        more = self.rng.choice(vocab.FAULT_SUPPLEMENTS)
        changes = {"fault_description": f"{paper.fields['fault_description']}。{more}"}
        self._amend(paper, changes, "补充故障描述（索赔员审核要求）")
        return True

    def diagnostic(self) -> bool:
        paper = self._pick(
            "diagnostic",
            lambda: [p for p in self.book.diagnostics.values() if "occurs_when" in p.fields],
        )
        if paper is None:
            return False
        more = self.rng.choice(vocab.FAULT_SUPPLEMENTS).removeprefix("另：")
        changes = {"customer_words": f"{paper.fields['customer_words']}客户补充：{more}"}
        self._amend(paper, changes, "补充客户描述")
        return True

    def registration(self) -> bool:
        paper = self._pick("registration", lambda: self._of_kind("warranty_registration"))
        if paper is None:
            return False
        true = paper.fields["customer_phone"]
        paper.fields["customer_phone"] = misdial(true)
        self._amend(paper, {"customer_phone": true}, "客户电话有误")
        return True


def mistyped_number(rng: random.Random, true: str) -> str:
    """A copying slip: the last digit left off, or two neighbouring digits swapped."""
    swaps = [i for i in range(len(true) - 1) if true[i] != true[i + 1] and (i or true[1] != "0")]
    if len(true) > 2 and (not swaps or rng.random() < 0.4):
        return true[:-1]
    i = rng.choice(swaps)
    return true[:i] + true[i + 1] + true[i] + true[i + 2 :]


MISREAD = dict(zip("0123456789", "8778165138", strict=True))


def mistyped_plate(rng: random.Random, true: str) -> str:
    """One digit of the plate misread (3 for 8, 1 for 7 ...)."""
    digits = [i for i in range(2, len(true)) if true[i].isdigit()]
    i = rng.choice(digits)
    return true[:i] + MISREAD[true[i]] + true[i + 1 :]
