"""Registering staff, changing their roles, deactivating and reactivating them, passwords."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from archive.bootstrap import Archive
from archive.commands.common import apply_change, require_actor, require_reason
from archive.errors import Conflict, FieldProblem, Forbidden, NotFound, ValidationFailed
from archive.kinds.fieldtypes import StaffInfo
from archive.kinds.roles import STAFF_ROLES
from archive.kinds.text import check_text, text_problem
from archive.staff.credentials import TOKEN_PREFIX, hash_password, password_matches, token_digest
from archive.staff.permissions import MANAGE_STAFF, require
from archive.staff.sessions import session_store
from events.staff import Staff

# -- staff ---------------------------------------------------------------------------------


def _check_roles(roles: Iterable[str]) -> list[str]:
    result = []
    for role in roles:
        if role not in STAFF_ROLES:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "roles",
                        f"没有“{role}”这个角色，可选：{'、'.join(STAFF_ROLES)}",
                        f"unknown role {role!r}",
                    )
                ]
            )
        if role not in result:
            result.append(role)
    if not result:
        raise ValidationFailed([FieldProblem("roles", "至少一个角色", "at least one role")])
    return result


def _line_problems(**values: str | None) -> list[FieldProblem]:
    """Control and direction characters in a name, number or phone (archive/kinds/text.py)."""
    problems = []
    for field, value in values.items():
        found = text_problem(value or "")
        if found is not None:
            problems.append(FieldProblem(field, *found))
    return problems


def _require_admin(archive: Archive, actor: str) -> StaffInfo:
    person = require_actor(archive, actor)
    require(person, MANAGE_STAFF)
    return person


def register_staff(
    archive: Archive,
    *,
    username: str,
    name: str,
    roles: Iterable[str],
    actor: str,
    registration_no: str | None = None,
    phone: str | None = None,
) -> Staff:
    """Register a person. The very first person registers himself and must be an admin."""
    problems = []
    username = (username or "").strip()
    name = (name or "").strip()
    if not username or not username.isascii() or not username.replace(".", "").isalnum():
        problems.append(
            FieldProblem(
                "username", "用户名只能用字母、数字和点", "username: letters, digits and dots"
            )
        )
    if not name or len(name) > 40:
        problems.append(FieldProblem("name", "请填写姓名（40 字以内）", "name is required"))
    problems += _line_problems(name=name, registration_no=registration_no, phone=phone)
    if problems:
        raise ValidationFailed(problems)
    role_list = _check_roles(roles)
    directory = archive.staff.refresh()
    if directory:
        _require_admin(archive, actor)
    elif "admin" not in role_list or actor != username:
        raise Forbidden(
            "first_staff_admin",
            "第一位员工必须是管理员，并由本人登记",
            "the first staff member must be an admin registering himself",
        )
    if username in directory:
        raise Conflict(
            "duplicate_username", f"用户名“{username}”已被使用", f"{username!r} is taken"
        )
    staff = Staff.register(
        username=username,
        name=name,
        roles=role_list,
        registration_no=(registration_no or "").strip() or None,
        phone=(phone or "").strip() or None,
        actor=actor,
        at=archive.now(),
    )
    try:
        archive.app.save(staff)
    except IntegrityError:
        raise Conflict(
            "duplicate_username", f"用户名“{username}”已被使用", f"{username!r} is taken"
        ) from None
    return staff


def _load_staff(archive: Archive, username: str) -> Staff:
    try:
        return archive.app.repository.get(Staff.create_id(username))
    except AggregateNotFoundError:
        raise NotFound(
            "staff_not_found", f"没有员工“{username}”", f"no staff member {username!r}"
        ) from None


def _keep_an_admin(archive: Archive, username: str) -> None:
    """Refuse a change that would leave ``username`` no longer an active admin when he is the
    last one: nobody could then manage staff, and nothing but a new admin could repair it."""
    others = [
        p
        for p in archive.staff.refresh().values()
        if p.active and "admin" in p.roles and p.username != username
    ]
    if not others:
        raise Conflict(
            "last_admin",
            "这是最后一位在职的管理员：请先让另一位员工成为管理员，再停用他或取消他的管理员角色",
            f"{username} is the last active admin: make someone else an admin first",
        )


@contextmanager
def _one_admin_change_at_a_time(archive: Archive) -> Iterator[None]:
    """Two admins removing each other at the same moment would each see the other remain:
    changes that may remove an admin check and save one at a time, in every process."""
    with session_store(archive.settings) as store, store.exclusive():
        yield


def _end_sessions(archive: Archive, username: str) -> None:
    """Log ``username`` out everywhere (the web sessions live in the archive's database)."""
    with session_store(archive.settings) as sessions:
        sessions.end_all(username)


def change_roles(
    archive: Archive,
    username: str,
    roles: Iterable[str],
    actor: str,
    registration_no: str | None = None,
) -> Staff:
    _require_admin(archive, actor)
    role_list = _check_roles(roles)
    number = (registration_no or "").strip() or None
    if problems := _line_problems(registration_no=number):
        raise ValidationFailed(problems)
    with _one_admin_change_at_a_time(archive):
        _require_admin(archive, actor)  # again: he may have lost it while we waited
        staff = _load_staff(archive, username)
        if staff.active and "admin" in staff.roles and "admin" not in role_list:
            _keep_an_admin(archive, username)
        apply_change(
            archive, staff, lambda: staff.change_roles(role_list, number, actor, archive.now())
        )
    return staff


def deactivate_staff(archive: Archive, username: str, reason: str, actor: str) -> Staff:
    _require_admin(archive, actor)
    text = require_reason(reason)
    with _one_admin_change_at_a_time(archive):
        _require_admin(archive, actor)  # again: he may have lost it while we waited
        staff = _load_staff(archive, username)
        if staff.active and "admin" in staff.roles:
            _keep_an_admin(archive, username)
        apply_change(archive, staff, lambda: staff.deactivate(text, actor, archive.now()))
    _end_sessions(archive, username)
    return staff


def reactivate_staff(archive: Archive, username: str, reason: str, actor: str) -> Staff:
    """Bring a deactivated person back: he may log in (with his old password), file and
    sign again. His deactivation stays in his history."""
    _require_admin(archive, actor)
    text = require_reason(reason)
    staff = _load_staff(archive, username)
    apply_change(archive, staff, lambda: staff.reactivate(text, actor, archive.now()))
    return staff


# -- passwords and personal API tokens -----------------------------------------------------

MIN_PASSWORD = 8


def needs_old_password(archive: Archive, username: str, actor: str) -> bool:
    """Whether setting this password needs the current one: a person changing his own, once
    he has one (an admin resetting someone else's does not know it)."""
    return actor == username and _load_staff(archive, username).password_hash is not None


def set_password(
    archive: Archive, username: str, password: str, actor: str, old_password: str | None = None
) -> Staff:
    """Set a password (Argon2 hash): a person sets his own (giving the old one), an admin
    anyone's. Every session of that person ends: whoever knew the old password is out."""
    person = require_actor(archive, actor)
    if actor != username:
        require(person, MANAGE_STAFF)
    if len(password or "") < MIN_PASSWORD or password.strip() != password:
        raise ValidationFailed(
            [
                FieldProblem(
                    "password",
                    f"密码至少 {MIN_PASSWORD} 位，首尾不能有空格",
                    f"at least {MIN_PASSWORD} characters, no surrounding spaces",
                )
            ]
        )
    staff = _load_staff(archive, username)
    own = actor == username and staff.password_hash is not None
    if own and not password_matches(staff, old_password or ""):
        raise ValidationFailed(
            [FieldProblem("old_password", "原密码不对", "the current password is wrong or missing")]
        )
    digest = hash_password(password)
    apply_change(archive, staff, lambda: staff.set_password(digest, actor, archive.now()))
    _end_sessions(archive, username)
    return staff


def issue_token(archive: Archive, username: str, label: str, actor: str) -> tuple[Staff, str]:
    """A personal API token for an integration (e.g. the DMS). Returns it once; only its
    SHA-256 is stored, so a lost token is revoked and replaced, never recovered."""
    person = require_actor(archive, actor)
    if actor != username:
        require(person, MANAGE_STAFF)
    text = (label or "").strip()[:60]
    if not text:
        raise ValidationFailed([FieldProblem("label", "请写明令牌用途", "a label is required")])
    check_text(text, "label", "用途")
    staff = _load_staff(archive, username)
    token_id = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    at = archive.now()
    apply_change(
        archive,
        staff,
        lambda: staff.issue_token(token_id, token_digest(secret), text, actor, at),
    )
    return staff, f"{TOKEN_PREFIX}{username}_{token_id}_{secret}"


def revoke_token(archive: Archive, username: str, token_id: str, actor: str) -> Staff:
    person = require_actor(archive, actor)
    if actor != username:
        require(person, MANAGE_STAFF)
    staff = _load_staff(archive, username)
    apply_change(archive, staff, lambda: staff.revoke_token(token_id, actor, archive.now()))
    return staff
