"""The PostgreSQL recorder of the event store, whose tables are created once and safely.

Every process that opens the archive asks the library to create its table, index, composite
type and insert function. Run at the same moment (the web server's workers, a worker and a
command), PostgreSQL's catalogue refuses some of them: ``CREATE OR REPLACE FUNCTION`` from two
sessions fails with "tuple concurrently updated", ``CREATE TYPE`` with a duplicate key. Here
the statements run in one transaction while the session holds an advisory lock on the
table's name, so such processes take turns: the first creates, the others find it all there.
The lock ends with the session, also when a process dies holding it.

Selected by ``APPLICATION_RECORDER_TOPIC`` (see ``archive.config.postgres_env``); imported
only when PostgreSQL is configured (psycopg is not needed otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder


class LockedPostgresApplicationRecorder(PostgresApplicationRecorder):
    def create_table(self) -> None:
        key = f"create_table:{self.datastore.schema}.{self.events_table_name}"
        with self.datastore.get_connection() as conn:
            # A session lock, taken before the transaction begins: the transaction then sees
            # the catalogue as the previous holder left it (a lock taken inside it would leave
            # it reading a stale cache of the types).
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,), prepare=False)
            try:
                with conn.transaction():
                    self._create_under_lock(conn.cursor())
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,), prepare=False)
        self.datastore.register_type_adapters()

    def _create_under_lock(self, curs: Any) -> None:
        # No "IF NOT EXISTS" for types: under the lock, asking first is enough.
        curs.execute(
            "SELECT to_regtype(%s) IS NOT NULL AS present",
            (f"{self.datastore.schema}.{self.stored_event_type_name}",),
            prepare=False,
        )
        if not curs.fetchone()["present"]:
            for statement in self.sql_create_statements:
                if "CREATE TYPE" in statement.as_string():
                    curs.execute(statement, prepare=False)
        self._create_table(curs)


@contextmanager
def advisory_lock(recorder: Any, key: str) -> Iterator[None]:
    """Hold PostgreSQL's session advisory lock named ``key`` on one of the recorder's
    connections until the block ends: every server on the database takes turns (a file lock
    would serialise one machine's processes only). The lock ends with the session, so a
    process that dies holding it frees it."""
    with recorder.datastore.get_connection() as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,), prepare=False)
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,), prepare=False)
