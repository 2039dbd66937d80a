"""Where the event store and the ledger (its witness) disagree, event by event.

Events are matched by who they belong to, (originator id, version), which the store's primary
key makes unique, so that a deletion, an insertion or a swap reads as what it is rather than as
every later position changing:

- ``changed``: same event at the same position, different stored bytes;
- ``deleted``: the ledger witnessed it, the store no longer has it;
- ``inserted``: the store has it at a position the ledger had already passed, and the ledger
  never saw it (events after the ledger's position are merely not witnessed yet);
- ``moved``: the store has it at another position than the one the ledger witnessed.

Each difference has the position where the log first differs because of it (for a moved event,
where it used to be), and they come sorted by that position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from archive.integrity.store import StoredEntry
from projections.ledger import LedgerEntry

# At the same position, a change, deletion or insertion explains more than a move does.
_RANK = {"changed": 0, "deleted": 0, "inserted": 0, "moved": 1}


@dataclass(frozen=True)
class Difference:
    code: str
    position: int
    originator_id: str
    version: int
    topic: str
    in_store: bool
    moved_to: int | None = None


def compare(
    witnessed: Sequence[LedgerEntry], stored: Sequence[StoredEntry], ledger_position: int
) -> list[Difference]:
    by_owner = {(s.originator_id, s.version): s for s in stored}
    seen = set()
    found: list[Difference] = []
    for w in witnessed:
        owner = (w.originator_id, w.version)
        seen.add(owner)
        s = by_owner.get(owner)
        if s is None:
            found.append(Difference("deleted", w.notification_id, *owner, w.topic, False))
        elif s.notification_id != w.notification_id:
            found.append(
                Difference("moved", w.notification_id, *owner, s.topic, True, s.notification_id)
            )
        elif s.leaf_hash != w.leaf_hash:
            found.append(Difference("changed", w.notification_id, *owner, s.topic, True))
    for s in stored:
        if s.notification_id <= ledger_position and (s.originator_id, s.version) not in seen:
            found.append(
                Difference("inserted", s.notification_id, s.originator_id, s.version, s.topic, True)
            )
    return sorted(found, key=lambda d: (d.position, _RANK[d.code]))
