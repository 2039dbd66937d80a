"""What every command needs: the acting person, the validation context, loading, saving.

Only the modules of this package call ``app.save``; everything else in the project reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from archive.bootstrap import Archive, opening
from archive.errors import Conflict, FieldProblem, Forbidden, NotFound, ValidationFailed
from archive.kinds.catalog import RegistryCatalog
from archive.kinds.fieldtypes import Context, StaffInfo
from archive.kinds.registry import Kind, get_kind
from archive.kinds.text import check_text
from events.document import Document
from projections.runner import catch_up
from projections.worklists import Worklists

MAX_REASON = 500
# Said with every refusal of a link: paper from before the system may be filed unlinked.
UNLINKED_HINT = "；系统启用前的纸质单据请填写未关联原因"


# -- helpers shared by the commands --------------------------------------------------------


def validation_context(archive: Archive) -> Context:
    return Context(tz=archive.settings.tz, staff=archive.staff.refresh())


def actor_and_context(archive: Archive, username: str) -> tuple[StaffInfo, Context]:
    """The actor, checked, and the context to validate his input in (one directory read)."""
    ctx = validation_context(archive)
    return require_actor(archive, username, ctx), ctx


def require_actor(archive: Archive, username: str, ctx: Context | None = None) -> StaffInfo:
    """The active staff member doing this; anyone else is refused."""
    staff = ctx.staff if ctx is not None else archive.staff.refresh()
    person = staff.get(username)
    if person is None:
        raise Forbidden(
            "unknown_actor", f"没有用户名为“{username}”的员工", f"no staff member {username!r}"
        )
    if not person.active:
        raise Forbidden(
            "inactive_actor",
            f"{person.name}（{person.username}）已停用，不能操作",
            f"{person.username} is deactivated",
        )
    return person


def require_reason(reason: str | None, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed([FieldProblem(field, "请填写原因", "a reason is required")])
    if len(text) > MAX_REASON:
        raise ValidationFailed(
            [FieldProblem(field, f"原因不能超过 {MAX_REASON} 字", "the reason is too long")]
        )
    return check_text(text, field, "原因", multiline=True)


def load_document(archive: Archive, kind_code: str, number: str) -> tuple[Kind, Document]:
    kind = get_kind(kind_code)
    try:
        doc: Document = archive.app.repository.get(Document.create_id(kind.code, number))
    except AggregateNotFoundError:
        raise NotFound(
            "document_not_found",
            f"没有{kind.label} {number}",
            f"no {kind.code} numbered {number!r}",
        ) from None
    return kind, doc


def load_target(archive: Archive, kind_code: str, number: str) -> Document | None:
    try:
        return archive.app.repository.get(Document.create_id(kind_code, number))
    except AggregateNotFoundError:
        return None


@contextmanager
def caught_up_worklists(archive: Archive) -> Iterator[Worklists]:
    """The worklists read model alone, caught up with the log (so it holds every document
    saved before this call), closed after use."""
    with opening(archive.layout):
        worklists = Worklists(
            archive.read_models_location, archive.app, RegistryCatalog(), archive.settings.tz
        )
    try:
        catch_up(worklists, archive.log())
        yield worklists
    finally:
        worklists.close()


def save(archive: Archive, *aggregates: Any) -> None:
    try:
        archive.app.save(*aggregates)
    except IntegrityError:
        raise Conflict(
            "concurrent_change",
            "此单据刚被别人修改过，请刷新后重试",
            "someone else changed this record at the same moment; reload and retry",
        ) from None


def apply_change(archive: Archive, aggregate: Any, change: Callable[[], None]) -> Any:
    """Run an aggregate method, then save what it changed."""
    change()  # a RuleError it raises is a Conflict, refused as it is
    save(archive, aggregate)
    return aggregate
