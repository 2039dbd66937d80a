"""The kind registry as projections see it (they may not import ``archive`` themselves)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from archive.kinds.deadlines import SubmitWithin
from archive.kinds.fieldtypes import Choice, Lines, StaffList, StaffRef, Text
from archive.kinds.registry import KINDS, get_kind
from projections.catalog import LinkField

# Filing more than this many days after the business date is flagged as late.
DEFAULT_GRACE_DAYS = 3


class RegistryCatalog:
    def __init__(self, deadline_days: Mapping[str, int] | None = None) -> None:
        # The configured number of days of each deadline rule (``Settings.deadline_days``).
        self.deadline_days = dict(deadline_days or {})

    def signers(self, kind: str) -> Sequence[str]:
        return get_kind(kind).signers

    @cache  # noqa: B019 - one catalog per process, kinds never change at run time
    def text_fields(self, kind: str) -> Sequence[str]:
        # Descriptions first: the first lines of the text make the snippet of a hit.
        fields = [f for f in get_kind(kind).fields if isinstance(f.type, (Text, Lines))]
        fields.sort(key=lambda f: not (isinstance(f.type, Text) and f.type.multiline))
        return tuple(f.code for f in fields)

    @cache  # noqa: B019
    def staff_fields(self, kind: str) -> Sequence[str]:
        return tuple(
            f.code for f in get_kind(kind).fields if isinstance(f.type, (StaffRef, StaffList))
        )

    def signer_fields(self, kind: str, role: str) -> Sequence[str]:
        return get_kind(kind).signer_fields(role)

    def filing_grace_days(self, kind: str) -> int:
        return DEFAULT_GRACE_DAYS

    def value_labels(self, kind: str, fields: Mapping[str, Any]) -> Sequence[str]:
        spec = get_kind(kind)
        labels = [spec.label]
        for field in spec.fields:
            value = fields.get(field.code)
            if isinstance(field.type, Choice) and isinstance(value, str):
                labels.append(field.type.label_of(value))
            elif isinstance(field.type, Lines) and isinstance(value, list):
                choices = [c for c in field.type.columns if isinstance(c.type, Choice)]
                for row in value:
                    for column in choices:
                        cell = row.get(column.code) if isinstance(row, dict) else None
                        if isinstance(cell, str):
                            labels.append(column.type.label_of(cell))
        return list(dict.fromkeys(labels))

    def submit_days(self) -> Mapping[str, int]:
        return {
            kind.code: self.deadline_days.get(rule.setting, rule.days)
            for kind in KINDS.values()
            for rule in kind.deadlines
            if isinstance(rule, SubmitWithin)
        }

    @cache  # noqa: B019
    def links(self, kind: str) -> Sequence[LinkField]:
        return tuple(
            LinkField(link.field, link.target_kinds, link.kind_field, link.column)
            for link in get_kind(kind).links
        )

    def kind_aliases(self) -> Mapping[str, str]:
        aliases = {k.label: k.code for k in KINDS.values()}
        aliases.update({k.label_en: k.code for k in KINDS.values()})
        return aliases


class RegistryClosingCatalog(RegistryCatalog):
    """The kind registry as ``projections.closing.ClosingCatalog``."""

    def scan_required(self, kind: str) -> bool:
        return get_kind(kind).scan_required

    def submittable(self, kind: str) -> bool:
        return get_kind(kind).submittable
