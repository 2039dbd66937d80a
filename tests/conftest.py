# Shared pytest fixtures. The PostgreSQL fixtures come first; the other engineer adds
# the project's own fixtures below them.
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.pgcluster import PostgresCluster


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster, started only when a test asks for it."""
    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """The URL of a fresh, empty database that is dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = postgres_cluster.create_database(name)
    try:
        yield url
    finally:
        postgres_cluster.drop_database(name)


# -- the project's own fixtures --------------------------------------------------------------

from archive import commands  # noqa: E402
from archive.bootstrap import Archive, open_archive  # noqa: E402
from archive.config import Settings  # noqa: E402
from tests.support import PASSWORD, FakeClock, register_team  # noqa: E402
from tests.webclient import WebClient  # noqa: E402


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_settings(request: pytest.FixtureRequest, tmp_path) -> Settings:
    """Settings for a fresh archive on a real SQLite file, and again on PostgreSQL."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    return Settings(home=tmp_path / "home", database_url=url)


@pytest.fixture(scope="session", autouse=True)
def ocr_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Scans read by OCR once per test run and shared by content (``ARCHIVE_OCR_CACHE``,
    archive/scans/ocr.py): the demo months of many tests seal the same slips."""
    shared = tmp_path_factory.getbasetemp().parent / "ocr-cache"  # one for every xdist worker
    os.environ.setdefault("ARCHIVE_OCR_CACHE", str(shared))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def archive(store_settings: Settings, clock: FakeClock) -> Iterator[Archive]:
    """An empty archive on each store, its clock under the test's control."""
    opened = open_archive(store_settings, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def team(archive: Archive) -> Archive:
    """The archive with a small team registered (see ``tests.support.TEAM``)."""
    register_team(archive)
    return archive


@pytest.fixture
def web(team: Archive) -> Iterator[WebClient]:
    """A browser on the app over ``team``, where the people tests log in as have a password."""
    from web.app import create_app

    for username in ("admin", "clerk2", "wang", "li", "auditor"):
        commands.set_password(team, username, PASSWORD, "admin")
    client = WebClient(create_app(team, follow_log=False))
    try:
        yield client
    finally:
        client.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the combinations that do not exist rather than skip them: the postgres search
    engine keeps its index in the archive's own PostgreSQL, so it has no SQLite variant."""
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("store_settings") == "sqlite" and params.get("models") == "postgres":
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
