"""Wiring the projections to this archive: where each keeps its data, and one runner for all."""

from __future__ import annotations

from archive.bootstrap import Archive
from archive.catalog import RegistryCatalog
from archive.integrity.paths import open_ledger
from archive.month_volumes import open_month_volumes
from projections.runner import ProjectionRunner
from projections.search.projection import SearchProjection
from projections.search.whoosh_backend import WhooshBackend
from projections.vehicles import VehicleHistory
from projections.worklists import Worklists


class ReadModels:
    """The projections of one archive, opened lazily, with the runner that feeds them."""

    def __init__(self, archive: Archive) -> None:
        home = archive.settings.home
        self.search = SearchProjection(
            WhooshBackend(home / "search" / "whoosh"),
            archive.app,
            RegistryCatalog(),
            archive.settings.tz,
        )
        self.vehicles = VehicleHistory(home / "projections.db")
        self.worklists = Worklists(home / "projections.db", archive.app, RegistryCatalog())
        self.months = open_month_volumes(archive)
        self.ledger = open_ledger(archive)  # its own file: the integrity witness
        self.runner = ProjectionRunner(
            archive.app, [self.search, self.vehicles, self.worklists, self.months, self.ledger]
        )

    def close(self) -> None:
        self.runner.close()


def open_read_models(archive: Archive) -> ReadModels:
    return ReadModels(archive)
