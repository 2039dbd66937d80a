"""``archive checkpoints export``, ``archive witness keygen`` and ``cosign``: checkpoints
kept outside the archive, cosigned by a second key kept away from it
(c2sp.org/tlog-cosignature).

``keygen`` and ``cosign`` open no archive: they run on the witness's own machine (the
service centre's, or an offline laptop) with nothing but the installed software, the witness
key and the checkpoint file brought to it. ``archive verify --witness FILE --witness-key
VKEY`` checks the result on the archive's side.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from archive.cli._shared import JsonOpt, emit_json, fail, opened, unreadable
from archive.errors import BadInput, Conflict

T = TypeVar("T")

if TYPE_CHECKING:
    from archive.integrity import VerifyReport
    from archive.integrity.cosignature import WitnessSigner, WitnessVerifier
    from archive.integrity.keys import VerifierKey
    from archive.integrity.notes import Checkpoint

app = typer.Typer(help="见证人副签检查点 / a witness cosigns checkpoints.", no_args_is_help=True)


def export(
    folder: Annotated[
        Path | None, typer.Argument(help="Copy every signed checkpoint into this folder.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Write the newest checkpoint here (name it *.checkpoint, or *.request with "
            "--since: a folder given to verify --witness is searched for those).",
        ),
    ] = None,
    since: Annotated[
        Path | None,
        typer.Option(
            "--since",
            help="With -o: the checkpoint the witness cosigned last; writes a tlog-witness "
            "request with the consistency proof from it.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Export signed checkpoints for safekeeping outside the archive (导出检查点): every one
    into FOLDER (those already there are kept), or the newest to -o FILE, to be cosigned
    (with --since, as a request carrying the proof the witness checks)."""
    from archive.integrity import load_verifier
    from archive.integrity.witness import (
        export_to_folder,
        latest_checkpoint,
        witness_request,
        write_once,
    )

    if (folder is None) == (output is None) or (since is not None and output is None):
        fail(
            BadInput(
                "export_target",
                "请给出一个文件夹，或用 -o 给出一个文件（二者选一；--since 只配 -o）",
                "give either a folder or -o FILE (--since goes with -o)",
            ),
            as_json,
        )
    with opened(as_json) as archive:
        key = load_verifier(archive.settings)
        try:
            if output is not None and since is not None:
                request = witness_request(archive, key, since.read_bytes())
                write_once(output, request.encode())
                written = [output]
            elif output is not None:
                newest = latest_checkpoint(archive.settings, key)
                write_once(output, newest.note)
                written = [output]
            else:
                assert folder is not None
                written = export_to_folder(archive.settings, key, folder)
        except OSError as error:
            fail(unreadable(error), as_json)
    if as_json:
        emit_json({"written": [str(p) for p in written]})
        return
    typer.echo(f"已导出 {len(written)} 个检查点 / exported {len(written)} checkpoints")
    for path in written:
        typer.echo(f"  {path}")


@app.command("keygen")
def keygen(
    name: Annotated[
        str, typer.Argument(help="The witness's name, e.g. service-centre.example/witness.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the private key.")],
    as_json: JsonOpt = False,
) -> None:
    """Make a witness key named NAME (生成见证人密钥): the private key in the -o file (mode
    0600), the public key beside it (.key replaced by .vkey, else .vkey added), to give to the
    archive's auditors."""
    from archive.integrity.cosignature import WitnessSigner
    from archive.integrity.files import durable_draft

    try:
        signer = WitnessSigner.generate(name)
    except ValueError:
        fail(
            BadInput(
                "bad_witness_name",
                "见证人名称不能为空，也不能含空格或“+”（例如 service-centre.example/witness）",
                "a witness name is not empty and holds no space and no '+'",
            ),
            as_json,
        )
    public = output.with_suffix(".vkey") if output.suffix == ".key" else Path(f"{output}.vkey")
    for path in (output, public):
        if path.exists():
            fail(
                Conflict(
                    "key_exists", f"{path} 已存在，不会覆盖", f"{path} exists; not overwritten"
                ),
                as_json,
            )
    vkey = signer.verifier().text()
    try:
        for path, text, mode in ((output, signer.text(), 0o600), (public, vkey, 0o644)):
            with durable_draft(path.parent, path.name, text + "\n", mode) as draft:
                os.link(draft, path)
    except OSError as error:
        fail(unreadable(error), as_json)
    if as_json:
        emit_json({"private_key_file": str(output), "public_key_file": str(public), "vkey": vkey})
        return
    typer.echo(
        f"见证人私钥已写入 {output}（请离线保管，不要放在档案服务器上）\n"
        f"公钥 {public}：交给审计，核验时用 --witness-key\n{vkey}"
    )


@app.command("cosign")
def cosign_command(
    checkpoint: Annotated[
        Path, typer.Argument(help="The exported checkpoint, or a request from export --since.")
    ],
    key: Annotated[Path, typer.Option("--key", help="The witness's private key file.")],
    log_key: Annotated[
        str,
        typer.Option(
            "--log-key",
            help="The archive's public key (checkpoint.vkey or its text), required: cosign "
            "only what it signed.",
        ),
    ],
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="The witness's record of this archive (the last checkpoint it cosigned): "
            "cosign only a checkpoint proved consistent with it, then update it.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Write the cosigned note here (default: in place; keep the suffix "
            ".checkpoint or .request for verify --witness DIR).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Cosign a checkpoint with the witness key (见证人副签): adds one cosignature/v1 line
    with the time now; an earlier cosignature of the same key is replaced. The C2SP
    tlog-witness checks first: signed by the archive (--log-key), and with --state consistent
    with the checkpoint this witness cosigned last (without it, a fork is not noticed)."""
    from archive.integrity.cosignature import cosign
    from archive.integrity.notes import BadNote

    signer, data, known = _read_inputs(key, checkpoint, state, as_json)
    parsed = _checked(data, log_key, state is not None, known, as_json)
    if state is None:
        typer.echo(
            "注意：未给出 --state（见证记录），未核对与此前副签的检查点是否一致，分叉的历史也会"
            "被副签 / warning: no --state, so consistency with earlier checkpoints is not "
            "checked (a forked history would be cosigned too)",
            err=True,
        )
    try:
        cosigned = cosign(parsed.note.render(), signer, datetime.now(UTC))
    except BadNote as error:  # already 100 signatures: no room for one more
        fail(BadInput("bad_checkpoint", f"无法副签：{error}", str(error)), as_json)
    if state is not None:
        _replace(state, cosigned, as_json)  # the witness's record first, as the spec asks
    target = output or checkpoint
    _replace(target, cosigned, as_json)
    body = parsed.body
    if as_json:
        emit_json({"file": str(target), "origin": body.origin, "size": body.size})
        return
    typer.echo(
        f"已副签 {target}：{body.size} 个事件（见证人 {signer.name}）\n"
        f"cosigned {target}: {body.size} events, witness {signer.name}"
    )


def _read_inputs(
    key: Path, checkpoint: Path, state: Path | None, as_json: bool
) -> tuple[WitnessSigner, bytes, Checkpoint | None]:
    """The witness key, the file to cosign, and the witness's record (None the first time)."""
    from archive.integrity.cosignature import WitnessSigner
    from archive.integrity.notes import parse_checkpoint

    try:
        signer = WitnessSigner.parse(key.read_text(encoding="utf-8"))
        data = checkpoint.read_bytes()
        known = parse_checkpoint(state.read_bytes()) if state and state.exists() else None
    except (OSError, UnicodeDecodeError, ValueError) as error:  # BadNote is a ValueError
        fail(
            BadInput(
                "bad_witness_input",
                f"读不到见证人私钥、检查点或见证记录：{error}",
                f"cannot read the witness key, the checkpoint or the witness state: {error}",
            ),
            as_json,
        )
    return signer, data, known


def _checked(
    data: bytes, log_key: str, stateful: bool, known: Checkpoint | None, as_json: bool
) -> Checkpoint:
    """The checkpoint in ``data``, after the checks a witness makes before cosigning."""
    from archive.integrity.cosigner import (
        AddCheckpoint,
        WitnessRefusal,
        check_request,
        is_request,
        parse_request,
    )
    from archive.integrity.notes import BadNote, parse_checkpoint

    try:
        request = parse_request(data) if is_request(data) else None
        parsed = parse_checkpoint(request.note if request else data)
        verifier = _log_verifier(log_key, as_json)
        if not stateful:  # only the archive's signature can be checked
            return check_request(AddCheckpoint(0, [], parsed.note.render()), verifier, None)
        if request is None:
            if known is not None and known.body.size != parsed.body.size:
                raise WitnessRefusal(
                    "proof_needed",
                    f"见证人上次副签的是 {known.body.size} 个事件，需要一致性证明：请在档案室用 "
                    "archive checkpoints export -o 文件 --since 上次副签的检查点 导出",
                    "a consistency proof is needed: export with --since the last cosigned one",
                )
            old = known.body.size if known is not None else 0
            request = AddCheckpoint(old, [], parsed.note.render())
        return check_request(request, verifier, known)
    except BadNote as error:
        fail(
            BadInput(
                "bad_checkpoint",
                f"不是格式正确的检查点或副签请求：{error}",
                f"not a well-formed checkpoint or cosigning request: {error}",
            ),
            as_json,
        )
    except WitnessRefusal as refusal:
        fail(Conflict(refusal.code, refusal.message_zh, refusal.message_en), as_json)


def _replace(target: Path, text: str, as_json: bool) -> None:
    """Write ``target`` whole or not at all."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        fail(unreadable(error), as_json)


def _log_verifier(text: str, as_json: bool) -> VerifierKey:
    from archive.integrity.keys import VerifierKey

    return _public_key(
        VerifierKey.parse,
        text,
        as_json,
        "bad_key",
        "--log-key 不是有效的档案库公钥",
        "--log-key is not the archive's public key",
    )


def witnessed_lines(report: VerifyReport) -> list[str]:
    lines = []
    for check in report.witnessed:
        if check.error is not None:  # its finding says why; it has no size to show
            lines.append(f"外部检查点 / witnessed {check.file}: 无法读取 / unreadable")
            continue
        cosigned = "，".join(
            f"{c.name} {c.time:%Y-%m-%d %H:%M} UTC{'' if c.valid else ' 无效/INVALID'}"
            for c in check.cosignatures
        )
        state = {True: "一致 / consistent", False: "不一致 / INCONSISTENT"}.get(
            check.consistent, "未核对 / not checked"
        )
        lines.append(
            f"外部检查点 / witnessed {check.file}: {check.size} 个事件 events, {state}"
            + (f"；副签 / cosigned: {cosigned}" if cosigned else "")
        )
    return lines


def unchecked_cosignatures(report: VerifyReport, witnesses: list[WitnessVerifier]) -> list[str]:
    """Without --witness-key a witnessed file's cosignatures are not looked at: say so, lest
    "consistent" be read as "cosigned"."""
    if not report.witnessed or witnesses:
        return []
    return [
        "注意：未给出 --witness-key，只核对了档案库签名和一致性，未核对见证人副签 / "
        "note: no --witness-key given: the archive's signature and consistency were checked, "
        "cosignatures were not"
    ]


def witness_key(text: str, as_json: bool) -> WitnessVerifier:
    """``--witness-key``: a file holding a witness's public key, else the key's text."""
    from archive.integrity.cosignature import WitnessVerifier

    return _public_key(
        WitnessVerifier.parse,
        text,
        as_json,
        "bad_witness_key",
        "--witness-key 不是有效的见证人公钥（应为 .vkey 文件或其内容）",
        "--witness-key is not a witness public key (a .vkey file or its text)",
    )


def _public_key(
    parse: Callable[[str], T], text: str, as_json: bool, code: str, zh: str, en: str
) -> T:
    """A public key from the file named ``text``, else from ``text`` itself."""
    path = Path(text)
    try:
        return parse(path.read_text(encoding="utf-8") if path.is_file() else text)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        fail(BadInput(code, f"{zh}：{error}", f"{en}: {error}"), as_json)
