"""Commands that set up and run the archive: init, the demo, the projections (status,
rebuild, the worker that follows the log) and the web server."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer

from archive.cli._shared import (
    JsonOpt,
    emit_json,
    fail,
    opened,
    progress_bar,
    read_models,
    still_working,
)
from archive.errors import ArchiveError, BadInput, Conflict

app = typer.Typer()


def register(root: typer.Typer) -> None:
    root.add_typer(app)


@app.command()
def init(as_json: JsonOpt = False) -> None:
    """Create the archive (database tables, blob folder, signing key and the web's session
    key) if it does not exist; then copy keys/ to every other server's home."""
    from archive.integrity import ensure_key
    from archive.staff.session_key import ensure_session_key

    with opened(as_json) as archive:
        key = ensure_key(archive.settings)
        # With the checkpoint key, so homes made by copying keys/ share it: a login form
        # fetched from one server is then accepted by another.
        ensure_session_key(archive.settings)
        info = {
            "home": str(archive.settings.home),
            "backend": archive.settings.backend,
            "events": archive.app.head(),
            "key": key.name,
        }
        if as_json:
            emit_json(info)
        else:
            typer.echo(f"档案库：{info['home']}（{info['backend']}），共 {info['events']} 个事件")
            from archive.integrity.key_label import KeyLabel

            typer.echo(f"签名密钥：{KeyLabel.of(key.name, key.public_key).text()}")


@app.command("is-empty")
def is_empty() -> None:
    """Exit 0 if the archive holds no events yet, 1 otherwise (for setup scripts)."""
    with opened() as archive:
        empty = archive.app.head() == 0
    raise typer.Exit(0 if empty else 1)


@app.command()
def demo(
    month: Annotated[
        str | None,
        typer.Option(
            "--month",
            help="YYYY-MM, the (last) month; default: the last complete month, or with "
            "--months the clock's month.",
        ),
    ] = None,
    months: Annotated[
        int | None,
        typer.Option("--months", help="How many consecutive months, ending with --month."),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(
            "--until",
            formats=["%Y-%m-%d"],
            help="The demo's clock: the end of this day "
            "(default: now). No event is dated after it.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 4,
    work_orders: Annotated[
        int, typer.Option("--work-orders", help="Work orders in a whole month.")
    ] = 600,
    as_json: JsonOpt = False,
) -> None:
    """Load a realistic, deterministic demo (one or more months) into an empty archive:
    all of it, or on failure nothing."""
    from archive import demo as demo_module
    from archive.config import Settings
    from archive.demo.fresh import load_all_or_nothing
    from archive.demo.span import demo_spec

    settings = Settings.from_env()
    with opened(as_json) as archive:
        if archive.app.head() != 0:
            fail(
                Conflict(
                    "not_empty",
                    "档案库不是空的；演示数据只能装入空库（换一个 ARCHIVE_HOME）",
                    "the archive is not empty; load the demo into an empty ARCHIVE_HOME",
                ),
                as_json,
            )
        spec = demo_spec(
            archive.now(),
            settings.tz,
            month=month,
            months=months,
            until=until.date() if until else None,
            seed=seed,
            work_orders=work_orders,
        )
    plan = demo_module.generate(spec)
    progress = _demo_progress(as_json)
    try:
        summary = load_all_or_nothing(
            settings,
            lambda staged: demo_module.load(
                staged, plan, progress=progress, password=demo_module.DEMO_PASSWORD
            ),
        )
    except ArchiveError as error:
        fail(error, as_json)
    if not as_json:
        typer.echo(summary.describe())
        typer.echo(
            f"演示账号：用户名见 archive staff list（如 admin 信息员、ma.zhiqiang 服务经理），"
            f"密码都是 {demo_module.DEMO_PASSWORD}"
        )
        typer.echo("正在建立检索索引…", err=True)
    with opened(as_json) as archive, read_models(archive, wait=False) as models:
        models.runner.catch_up()  # so the first page and search need not wait
    if as_json:
        emit_json(summary.as_dict())


@app.command()
def rebuild(
    name: Annotated[str | None, typer.Argument(help="One projection (default: all).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Throw projections away and rebuild them from the event log (the integrity ledger
    only when named: `archive rebuild ledger`)."""
    with opened(as_json) as archive, read_models(archive, wait=False) as models:
        if name and name not in models.runner.projections:
            names = ", ".join(models.runner.projections)
            fail(
                BadInput("unknown_projection", f"没有投影“{name}”：{names}", names),
                as_json,
            )
        started = time.perf_counter()
        with still_working(f"正在重建 {name or '全部投影'}", as_json):
            applied = models.runner.rebuild(name)
        seconds = time.perf_counter() - started
        if as_json:
            emit_json({"rebuilt": name or "all", "events": applied, "seconds": round(seconds, 2)})
        else:
            typer.echo(f"已重建 {name or '全部投影'}：{applied} 个事件，{seconds:.1f} 秒")


@app.command()
def status(as_json: JsonOpt = False) -> None:
    """Each projection's position, the log's head and the lag."""
    with opened(as_json) as archive, read_models(archive, wait=False) as models:
        rows = [s.as_dict() for s in models.runner.status()]
        if as_json:
            emit_json(rows)
            return
        for row in rows:
            typer.echo(
                f"{row['name']:<10} 位置 {row['position']:>8}  日志末尾 {row['head']:>8}  "
                f"落后 {row['lag']}"
            )


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            "--forwarded-allow-ips",
            envvar="ARCHIVE_FORWARDED_ALLOW_IPS",
            help="Comma-separated addresses of the TLS proxy in front of the archive: only "
            "from these are X-Forwarded-Proto/-For believed (so the session cookie is Secure "
            "behind HTTPS). '*' trusts any sender: only when nothing else can reach the port.",
        ),
    ] = "127.0.0.1",
    proxy_headers: Annotated[
        bool,
        typer.Option(
            "--proxy-headers/--no-proxy-headers",
            help="Read the scheme and client address from a trusted proxy's headers.",
        ),
    ] = True,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow/--no-follow",
            help="Keep the shared read models caught up in this process too (--no-follow: "
            "leave them to `archive worker`; default from ARCHIVE_FOLLOW_LOG).",
        ),
    ] = True,
) -> None:
    """Serve the web front end."""
    import os

    import uvicorn

    if not follow:
        os.environ["ARCHIVE_FOLLOW_LOG"] = "0"  # read by the app's settings as it starts

    uvicorn.Server(server_config(host, port, forwarded_allow_ips, proxy_headers)).run()


def server_config(
    host: str, port: int, forwarded_allow_ips: str, proxy_headers: bool = True
) -> Any:
    """uvicorn's configuration of the web server (a ``uvicorn.Config``)."""
    import uvicorn

    # Named, not imported: the web layer sits above this one and is loaded only to serve it.
    return uvicorn.Config(
        "web.app:create_server_app",
        factory=True,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
    )


def _demo_progress(quiet: bool) -> Callable[[int, int], None] | None:
    bar = progress_bar(quiet)
    return None if bar is None else (lambda done, total: bar("", done, total))
