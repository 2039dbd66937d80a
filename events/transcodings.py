"""JSON transcodings for values the stock eventsourcing transcoder does not know."""

from __future__ import annotations

from datetime import date

from eventsourcing.persistence import JSONTranscoder, Transcoding


class DateAsISO(Transcoding):
    """``datetime.date`` as ``YYYY-MM-DD`` (``datetime`` has its own transcoding)."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def register_archive_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
