"""``archive staff``: register staff, list them, change roles, deactivate, passwords and
personal API tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from archive import commands
from archive.cli._shared import JsonOpt, StaffOpt, emit_json, opened
from archive.kinds.roles import ROLE_LABELS

app = typer.Typer(help="员工：登记、列表、角色、停用、恢复 / staff.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="staff")


@app.command("add")
def staff_add(
    username: Annotated[str, typer.Argument(help="Login name: letters, digits, dots.")],
    name: Annotated[str, typer.Option("--name", help="Full name, e.g. 王丽.")],
    role: Annotated[
        list[str], typer.Option("--role", help=f"Repeatable: {', '.join(ROLE_LABELS)}.")
    ],
    staff: Annotated[
        str | None,
        typer.Option(
            "--staff",
            envvar="ARCHIVE_STAFF",
            help="Admin doing this; the very first admin registers himself.",
        ),
    ] = None,
    registration_no: Annotated[
        str | None, typer.Option("--registration-no", help="备案号 (clerks).")
    ] = None,
    phone: Annotated[str | None, typer.Option("--phone")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a staff member (the first one must be an admin)."""
    with opened(as_json) as archive:
        person = commands.register_staff(
            archive,
            username=username,
            name=name,
            roles=role,
            actor=staff or username,
            registration_no=registration_no,
            phone=phone,
        )
        info = archive.staff.get(person.username)
        if as_json:
            emit_json(info.as_dict())
        else:
            typer.echo(f"已登记：{person.name}（{person.username}）")


@app.command("list")
def staff_list(as_json: JsonOpt = False) -> None:
    """List every staff member."""
    with opened(as_json) as archive:
        people = sorted(archive.staff.refresh().values(), key=lambda p: p.username)
        if as_json:
            emit_json([p.as_dict() for p in people])
            return
        for p in people:
            roles = "、".join(ROLE_LABELS.get(r, r) for r in p.roles)
            state = "" if p.active else "（已停用）"
            reg = f" 备案号 {p.registration_no}" if p.registration_no else ""
            typer.echo(f"{p.username:<12} {p.name}  {roles}{reg}{state}")


@app.command("roles")
def staff_roles(
    username: Annotated[str, typer.Argument()],
    role: Annotated[list[str], typer.Option("--role", help="The full new set of roles.")],
    staff: StaffOpt,
    registration_no: Annotated[str | None, typer.Option("--registration-no")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace a staff member's roles (and registration number)."""
    with opened(as_json) as archive:
        commands.change_roles(archive, username, role, staff, registration_no)
        info = archive.staff.get(username)
        if as_json:
            emit_json(info.as_dict())
        else:
            typer.echo(f"已更新：{info.name}（{info.username}）")


@app.command("deactivate")
def staff_deactivate(
    username: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")],
    staff: StaffOpt,
    as_json: JsonOpt = False,
) -> None:
    """Deactivate a staff member: he can no longer log in, file or sign."""
    _set_active(commands.deactivate_staff, "已停用", username, reason, staff, as_json)


@app.command("reactivate")
def staff_reactivate(
    username: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")],
    staff: StaffOpt,
    as_json: JsonOpt = False,
) -> None:
    """Reactivate a deactivated staff member: he may log in, file and sign again."""
    _set_active(commands.reactivate_staff, "已恢复", username, reason, staff, as_json)


def _set_active(
    change: Callable[..., None],
    done: str,
    username: str,
    reason: str,
    staff: str | None,
    as_json: bool,
) -> None:
    with opened(as_json) as archive:
        change(archive, username, reason, staff)
        info = archive.staff.get(username)
        if as_json:
            emit_json(info.as_dict())
        else:
            typer.echo(f"{done}：{info.name}（{info.username}）")


@app.command("password")
def staff_password(
    username: Annotated[str, typer.Argument()],
    staff: Annotated[
        str | None, typer.Option("--staff", envvar="ARCHIVE_STAFF", help="Who sets it.")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option("--password", envvar="ARCHIVE_NEW_PASSWORD", help="Else asked for."),
    ] = None,
    old_password: Annotated[
        str | None,
        typer.Option(
            "--old-password",
            envvar="ARCHIVE_OLD_PASSWORD",
            help="Your current one, when you change your own; else asked for.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Set a login password (your own, giving the current one; or anyone's as an admin).
    Every web session of that person ends."""
    from archive.commands.staff import needs_old_password

    actor = staff or username
    with opened(as_json) as archive:
        old = old_password
        if old is None and needs_old_password(archive, username, actor):
            old = typer.prompt("原密码 / current password", hide_input=True)
        secret = password or typer.prompt(
            "新密码 / new password", hide_input=True, confirmation_prompt=True
        )
        commands.set_password(archive, username, secret, actor, old)
        if as_json:
            emit_json({"username": username, "password_set": True})
        else:
            typer.echo(f"已设置 {username} 的密码")


@app.command("token")
def staff_token(
    username: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Option("--label", help="What the token is for, e.g. DMS.")],
    staff: Annotated[str | None, typer.Option("--staff", envvar="ARCHIVE_STAFF")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue a personal API token; it is shown once and only its hash is kept."""
    with opened(as_json) as archive:
        _, token = commands.issue_token(archive, username, label, staff or username)
        if as_json:
            emit_json({"username": username, "token": token})
        else:
            typer.echo("令牌只显示这一次，请妥善保存 / shown once, keep it safe:")
            typer.echo(token)


@app.command("revoke-token")
def staff_revoke_token(
    username: Annotated[str, typer.Argument()],
    token_id: Annotated[str, typer.Argument(help="The id part of the token.")],
    staff: Annotated[str | None, typer.Option("--staff", envvar="ARCHIVE_STAFF")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a personal API token."""
    with opened(as_json) as archive:
        commands.revoke_token(archive, username, token_id, staff or username)
        if as_json:
            emit_json({"username": username, "revoked": token_id})
        else:
            typer.echo(f"已吊销 {username} 的令牌 {token_id}")
