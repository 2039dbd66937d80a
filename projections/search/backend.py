"""The seam between the search projection and an engine: entries in, hits out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from projections.search.keys import digits, normalize_plate, plate_tail
from projections.search.query import AnyOf, Node, Query, Term

# The analysed fields a free word is looked for in (each word in any of them).
TEXT_FIELDS = ("text", "customer", "labels")
# Fields that hold exact keys only; the query language's filters name them.
FILTER_FIELDS = frozenset({"kind", "status", "month", "flags", "entry", "doc_voided"})
SHORTEST_PREFIX = 2
# What an index's entries mean (2: no history entry for the content version in force; 3: the
# flags of issue 12, late submission, links, signing on behalf). An index built for another
# format is built again from the log when opened.
ENTRY_FORMAT = 3


def day_number(value: Any) -> int:
    """A day as the sortable ``yyyymmdd`` integer the index stores and date ranges compare
    (0 for no date)."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.year * 10000 + value.month * 100 + value.day
    return 0


@dataclass
class IndexEntry:
    """What the index knows of one document (``entry="current"``) or one earlier content
    version of it (``entry="history"``)."""

    key: str  # unique: the document id, or "<id>@<version>" for a history entry
    entry: str
    doc_id: str
    kind: str
    number: str
    version: int
    text: str
    business_date: int  # day_number(): yyyymmdd, sortable
    month: str
    status: str
    flags: list[str] = field(default_factory=list)
    vin: str = ""
    plate: str = ""
    customer: str = ""
    phone: str = ""
    staff: list[str] = field(default_factory=list)
    signers: list[str] = field(default_factory=list)
    filed_at: int = 0  # epoch seconds
    signed_at: int = 0
    # Set on every entry of a voided document, history included: found only when asked for.
    doc_voided: bool = False
    labels: str = ""  # the kind's name and the Chinese labels of chosen values


def prefixes(value: str) -> list[str]:
    return [value[:n] for n in range(SHORTEST_PREFIX, len(value) + 1)]


def lookup_keys(e: IndexEntry) -> dict[str, list[str]]:
    """The exact keys an entry is found by, the same in every engine: its number and number
    prefixes, VIN and its last 6 and 8, plate (with and without the province) and plate
    prefixes, phone and its last 4."""
    number = e.number.lower()
    keys: dict[str, list[str]] = {"number_key": [number], "number_prefix": prefixes(number)}
    if e.vin:
        keys.update(vin=[e.vin], vin6=[e.vin[-6:]], vin8=[e.vin[-8:]])
    if e.plate:
        plate = normalize_plate(e.plate)
        tail = plate_tail(plate)
        keys.update(
            plate=[e.plate],
            plate_tail=[tail],
            plate_prefix=sorted(set(prefixes(plate)) | set(prefixes(tail))),
        )
    if e.phone:
        keys.update(phone=[e.phone], phone4=[e.phone[-4:]])
    return keys


# A filter of the query language as the (field, value) pairs any of which it accepts.
FilterKey = tuple[tuple[str, str], ...]


def entries_searched(history: bool) -> FilterKey:
    """Which entries a query searches: the current ones, or with ``history:yes`` also those of
    every replaced content version (the current entry holds the latest content)."""
    if history:
        return (("entry", "current"), ("entry", "history"))
    return (("entry", "current"),)


def filter_key(node: Node) -> FilterKey | None:
    """A filter on a field of exact values (a kind, a status, ...), or None for anything else."""
    if isinstance(node, Term) and node.field in FILTER_FIELDS:
        return ((node.field, node.value),)
    if isinstance(node, AnyOf) and all(
        isinstance(n, Term) and n.field in FILTER_FIELDS for n in node.parts
    ):
        return tuple(sorted((n.field, n.value) for n in node.parts))  # type: ignore[union-attr]
    return None


def word_lookups(words: str) -> list[tuple[str, str]]:
    """The exact keys a typed word may be (a number or its beginning, a username, a VIN or
    its end, a plate or its beginning, a phone or its last 4), as (field, value) pairs."""
    upper = words.upper()
    plate = normalize_plate(words)
    found = [
        ("number_prefix", words.lower()),
        ("staff", words.lower()),
        ("vin", upper),
        ("vin6", upper),
        ("vin8", upper),
        ("plate", plate),
        ("plate_tail", plate),
        ("plate_prefix", plate),
    ]
    number = digits(words)
    if number and len(number) in (4, 11):
        found.append(("phone4" if len(number) == 4 else "phone", number))
    return found


@dataclass(frozen=True)
class Hit:
    doc_id: str
    kind: str
    number: str
    version: int
    entry: str
    business_date: str
    status: str
    flags: tuple[str, ...]
    score: float
    snippet: str  # HTML with <b class="match"> around matches; the rest escaped

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "flags": list(self.flags)}


@dataclass(frozen=True)
class SearchResult:
    total: int
    page: int
    page_size: int
    hits: tuple[Hit, ...]
    # More hits than the engine counts (PostgreSQL stops counting at its cap): ``total`` is
    # the cap, and the pages reach no further.
    total_capped: bool = False

    @property
    def pages(self) -> int:
        return max((self.total + self.page_size - 1) // self.page_size, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "total_capped": self.total_capped,
            "page": self.page,
            "page_size": self.page_size,
            "pages": self.pages,
            "hits": [h.as_dict() for h in self.hits],
        }


class IndexWriter(ABC):
    """One atomic write: entries replaced or removed, and the log position, committed together."""

    position: int

    @abstractmethod
    def put(self, entry: IndexEntry) -> None: ...

    @abstractmethod
    def put_staff(self, username: str, name: str) -> None: ...


class SearchBackend(ABC):
    @abstractmethod
    def position(self) -> int: ...

    @abstractmethod
    def writer(self) -> AbstractContextManager[IndexWriter]:
        """Exclusive; commits on normal exit, discards on exception.

        Raises ``projections.runner.ProjectionBusy`` when another process is writing."""

    @abstractmethod
    def staff_names(self) -> dict[str, str]: ...

    @abstractmethod
    def search(self, query: Query, page: int = 1, page_size: int = 20) -> SearchResult: ...

    @abstractmethod
    def entries(self) -> Iterator[dict[str, Any]]:
        """Every stored entry (for comparing a rebuilt index with an incremental one)."""

    @abstractmethod
    def clear(self) -> None: ...

    @abstractmethod
    def replace_all(
        self, entries: Iterable[IndexEntry], staff: Mapping[str, str], position: int
    ) -> None:
        """A fresh index of exactly these entries and staff names at ``position``, built apart
        and put in place at once: searches meanwhile see the old index, never a partial one.

        Raises ``projections.runner.ProjectionBusy`` when another process is writing."""

    def close(self) -> None:  # noqa: B027 - optional hook
        pass
