"""Who is on staff right now, kept current by reading only the staff events added since."""

from __future__ import annotations

import threading
from uuid import UUID

from eventsourcing.utils import get_topic

from archive.kinds.fieldtypes import StaffInfo
from events.application import ArchiveApplication
from events.staff import Staff

STAFF_TOPICS = tuple(
    get_topic(cls)
    for cls in (Staff.Registered, Staff.RolesChanged, Staff.Deactivated, Staff.PasswordSet)
)


class StaffDirectory:
    """A cache of every staff member, refreshed from the log on each use (cheap: a range scan)."""

    def __init__(self, app: ArchiveApplication) -> None:
        self._app = app
        self._by_username: dict[str, StaffInfo] = {}
        self._position = 0
        self._lock = threading.Lock()

    def refresh(self) -> dict[str, StaffInfo]:
        with self._lock:
            if self._position == 0:
                self._load_all()
            # Read every notification since the last refresh (usually a handful) and keep the
            # staff ones: one cheap query per command, however long the log has grown.
            while True:
                batch = self._app.recorder.select_notifications(
                    start=self._position, limit=500, inclusive_of_start=False
                )
                if not batch:
                    break
                changed = {UUID(str(n.originator_id)) for n in batch if n.topic in STAFF_TOPICS}
                for staff_id in changed:
                    staff: Staff = self._app.repository.get(staff_id)
                    self._by_username[staff.username] = info_of(staff)
                self._position = batch[-1].id
                if len(batch) < 500:
                    break
            return dict(self._by_username)

    def _load_all(self) -> None:
        """First use in a process: let the database pick the staff events out of the log."""
        head = self._app.recorder.max_notification_id() or 0
        position = 0
        while position < head:
            batch = self._app.recorder.select_notifications(
                start=position, limit=500, stop=head, topics=STAFF_TOPICS, inclusive_of_start=False
            )
            for staff_id in {UUID(str(n.originator_id)) for n in batch}:
                staff: Staff = self._app.repository.get(staff_id)
                self._by_username[staff.username] = info_of(staff)
            position = batch[-1].id if len(batch) == 500 else head
        self._position = head

    def get(self, username: str) -> StaffInfo | None:
        return self.refresh().get(username)


def info_of(staff: Staff) -> StaffInfo:
    return StaffInfo(
        username=staff.username,
        name=staff.name,
        roles=tuple(staff.roles),
        active=staff.active,
        registration_no=staff.registration_no,
    )
