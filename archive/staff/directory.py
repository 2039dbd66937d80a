"""Who is on staff right now, kept current by reading only the staff events added since."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from archive.kinds.fieldtypes import StaffInfo
from events.application import ArchiveApplication
from events.staff import Staff
from projections.runner import LogReader

STAFF_TOPICS = tuple(
    get_topic(cls)
    for cls in (
        Staff.Registered,
        Staff.RolesChanged,
        Staff.Deactivated,
        Staff.Reactivated,
        Staff.PasswordSet,
    )
)


BATCH = 500


class StaffDirectory:
    """A cache of every staff member, refreshed from the log on each use (cheap: a range scan)."""

    def __init__(self, app: ArchiveApplication) -> None:
        self._app = app
        self._log = LogReader(app)
        self._by_username: dict[str, StaffInfo] = {}
        self._position = 0
        self._lock = threading.Lock()

    def refresh(self) -> dict[str, StaffInfo]:
        """Everyone ever registered, by username, as of the log's end."""
        with self._lock:
            self._catch_up()
            return dict(self._by_username)

    def get(self, username: str) -> StaffInfo | None:
        with self._lock:
            self._catch_up()
            return self._by_username.get(username)

    def _catch_up(self) -> None:
        if self._position == 0:
            self._load_all()
        # Read every notification since the last refresh (usually a handful) and keep the
        # staff ones: one cheap query per command, however long the log has grown.
        while True:
            batch = self._log.read(self._position, BATCH)
            if not batch:
                return
            self._take(n for n in batch if n.topic in STAFF_TOPICS)
            self._position = batch[-1].id
            if len(batch) < BATCH:
                return

    def _load_all(self) -> None:
        """First use in a process: let the database pick the staff events out of the log."""
        head = self._log.head()
        position = 0
        while position < head:
            batch = self._log.read(position, BATCH, topics=STAFF_TOPICS, stop=head)
            self._take(batch)
            position = batch[-1].id if len(batch) == BATCH else head
        self._position = head

    def _take(self, notifications: Iterable[Notification]) -> None:
        """Bring the staff members these events belong to up to date."""
        for staff_id in {UUID(str(n.originator_id)) for n in notifications}:
            staff: Staff = self._app.repository.get(staff_id)
            self._by_username[staff.username] = info_of(staff)


def info_of(staff: Staff) -> StaffInfo:
    return StaffInfo(
        username=staff.username,
        name=staff.name,
        roles=tuple(staff.roles),
        active=staff.active,
        registration_no=staff.registration_no,
    )
