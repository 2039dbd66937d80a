"""The month-volumes projection wired to this archive: its file and its view of the registry."""

from __future__ import annotations

from archive.bootstrap import Archive
from archive.catalog import RegistryCatalog
from archive.kinds.registry import get_kind
from projections.months import MonthVolumes


class RegistryClosingCatalog(RegistryCatalog):
    """The kind registry as ``projections.closing.ClosingCatalog``."""

    def scan_required(self, kind: str) -> bool:
        return get_kind(kind).scan_required

    def submittable(self, kind: str) -> bool:
        return get_kind(kind).submittable


def open_month_volumes(archive: Archive) -> MonthVolumes:
    """The projection alone (sealing needs it without opening the other read models)."""
    return MonthVolumes(archive.settings.home / "projections.db", RegistryClosingCatalog())
