"""What projections need to know about document kinds, supplied by the layer above.

Projections may import only ``events``; the kind registry lives in ``archive``. So a
projection is handed an object with this shape (``archive.kinds.catalog.RegistryCatalog``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class LinkField:
    """A field naming another document (``archive.kinds.links.Link`` as projections need it):
    its number is in ``field`` (or in each row's ``column`` of a line table), of one of
    ``target_kinds`` (the one ``kind_field`` chooses, when there is one)."""

    field: str
    target_kinds: tuple[str, ...]
    kind_field: str | None = None
    column: str | None = None


class KindCatalog(Protocol):
    def signers(self, kind: str) -> Sequence[str]:
        """Roles that must sign a document of this kind."""
        ...

    def text_fields(self, kind: str) -> Sequence[str]:
        """Codes of the fields whose text is searchable (text fields and line tables)."""
        ...

    def signer_fields(self, kind: str, role: str) -> Sequence[str]:
        """Codes of the fields naming who owes ``role``'s signature (empty: anyone in it)."""
        ...

    def staff_fields(self, kind: str) -> Sequence[str]:
        """Codes of the fields that name staff members."""
        ...

    def filing_grace_days(self, kind: str) -> int:
        """Days after the business date within which filing is on time."""
        ...

    def value_labels(self, kind: str, fields: Mapping[str, Any]) -> Sequence[str]:
        """The words people use for what the codes say: the kind's name and the Chinese
        label of every chosen value (``maintenance`` → 保养), line tables included."""
        ...

    def submit_days(self) -> Mapping[str, int]:
        """Kinds that must be submitted to the service centre → within how many days of
        their business date (as configured)."""
        ...

    def links(self, kind: str) -> Sequence[LinkField]:
        """The fields by which a document of this kind names other documents."""
        ...

    def kind_aliases(self) -> Mapping[str, str]:
        """Other names of kinds (e.g. the Chinese label) → kind code, for queries."""
        ...
