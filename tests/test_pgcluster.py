"""The throwaway PostgreSQL cluster serves a fresh database to a test."""

import psycopg
import pytest


@pytest.mark.postgres
def test_postgres_url_accepts_queries(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
