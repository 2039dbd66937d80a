"""The seam between the search projection and an engine: entries in, hits out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from projections.search.query import Query


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

    @property
    def pages(self) -> int:
        return max((self.total + self.page_size - 1) // self.page_size, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
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

    def close(self) -> None:  # noqa: B027 - optional hook
        pass
