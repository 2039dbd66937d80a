"""The nine reports of the information desk, by name, in the order the index lists them.

Each module named here defines ``SPEC`` (:class:`archive.reports.model.ReportSpec`); it is
imported when first asked for, so one report's command does not load the others.
"""

from __future__ import annotations

import importlib

from archive.reports.model import ReportSpec

# name -> module under archive.reports
MODULES: dict[str, str] = {
    "daily": "daily",
    "weekly-callbacks": "weekly_callbacks",
    "satisfaction": "satisfaction",
    "complaints": "complaints",
    "churn": "churn",
    "maintenance": "maintenance",
    "first-service": "first_service",
    "service-fee": "service_fee",
    "greetings": "greetings",
}


def spec(name: str) -> ReportSpec:
    """The report called ``name``; ``KeyError`` for a name not in the catalog."""
    module = importlib.import_module(f"archive.reports.{MODULES[name]}")
    found: ReportSpec = module.SPEC
    return found


def specs() -> list[ReportSpec]:
    return [spec(name) for name in MODULES]
