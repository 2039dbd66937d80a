"""``archive checkpoint``, ``checkpoints`` (and ``checkpoints export``), ``verify`` and
``verify-bundle``: tamper evidence. ``archive witness`` (:mod:`archive.cli.witness`) is added
here too.

Output as everywhere in the CLI: Chinese for people with the English beside it, ``--json`` for
scripts, exit 1 when something is refused. ``verify`` and ``verify-bundle`` exit 0 when
everything checks out and 1 when anything was tampered with; ``verify-bundle`` opens no
archive, only the PDF, and exits 3 when the file agrees with itself but no ``--key`` said whose
it is.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from archive.bundle.bindings import BINDING_LABELS
from archive.cli import witness
from archive.cli._shared import JsonOpt, emit_json, fail, opened, progress_bar, unreadable
from archive.errors import BadInput

# The integrity machinery (and the cryptography library) is imported by the commands that use
# it, so that the rest of the CLI starts without it.
if TYPE_CHECKING:
    from archive.bundle.check import BundleReport
    from archive.integrity import VerifyReport
    from archive.integrity.keys import VerifierKey

app = typer.Typer()
checkpoints_app = typer.Typer(
    help="List every checkpoint kept (检查点列表), oldest first, with its signature checked.",
    invoke_without_command=True,
)

# verify-bundle's exit code for a file that agrees with itself when no --key was given.
UNAUTHENTICATED = 3

# How many findings the human report lists (``--json`` has them all, up to the named limit).
SHOWN = 20

VERDICTS = {
    "store": (
        "事件库被改动过（见证账本与签名检查点一致）",
        "the event store was altered (the ledger agrees with the signed checkpoints)",
    ),
    "ledger": (
        "见证账本与事件库不符，但事件库与所有签名检查点一致：账本文件被改动或损坏",
        "the ledger file was altered or damaged; the store matches every signed checkpoint",
    ),
}


def _verdict(report: VerifyReport) -> tuple[str, str]:
    """When the checkpoints kept here cannot say which side to believe."""
    codes = {f.code for f in report.findings}
    if "witness_inconsistent" in codes or "witness_beyond_store" in codes:
        return (
            "事件库与外部保存的检查点不一致：历史被改写过",
            "the log contradicts a checkpoint kept outside the archive: history was rewritten",
        )
    if "seal_uncovered" in codes:
        return (
            "已封存的卷没有检查点覆盖：检查点可能被删除",
            "a sealed volume has no checkpoint over it: checkpoints may have been deleted",
        )
    return ("见下列问题", "see below")


def register(root: typer.Typer) -> None:
    root.add_typer(app)
    checkpoints_app.command("export")(witness.export)
    root.add_typer(checkpoints_app, name="checkpoints")
    root.add_typer(witness.app, name="witness")


@app.command("checkpoint")
def checkpoint(as_json: JsonOpt = False) -> None:
    """Sign a checkpoint of the ledger now (签发检查点): tree size and Merkle root."""
    from archive.integrity import load_verifier, make_checkpoint

    with opened(as_json) as archive:
        made = make_checkpoint(archive)
        info = made.as_dict(load_verifier(archive.settings))
    if as_json:
        emit_json(info)
        return
    typer.echo(
        f"已签发检查点 {info['file']}：{info['size']} 个事件，根哈希 {info['root']}\n"
        f"checkpoint signed: {info['size']} events, root {info['root']}"
    )


@checkpoints_app.callback()
def checkpoints(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List every checkpoint kept (检查点列表), oldest first, with its signature checked."""
    from archive.integrity import list_checkpoints, load_verifier

    if ctx.invoked_subcommand is not None:
        return

    with opened(as_json) as archive:
        key = load_verifier(archive.settings)
        rows = [c.as_dict(key) for c in list_checkpoints(archive.settings)]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        typer.echo("还没有检查点 / no checkpoints yet")
    for row in rows:
        if row["error"]:
            typer.echo(f"{row['file']}  无法读取 / unreadable: {row['error']}")
            continue
        valid = "签名有效 / valid" if row["signature_valid"] else "签名无效 / INVALID signature"
        typer.echo(f"{row['file']}  {row['size']:>9} 个事件 events  {row['root']}  {valid}")


WitnessOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--witness",
        help="A checkpoint file kept outside the archive, or a folder of them (each "
        "*.checkpoint and *.request file in it; repeat for more): the log must extend each.",
    ),
]
WitnessKeyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--witness-key",
        help="A witness's public key (a .vkey file or its text; repeat for more): every "
        "--witness file must carry its cosignature.",
    ),
]


@app.command("verify")
def verify_command(
    witnessed: WitnessOpt = None,
    witness_keys: WitnessKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute the Merkle tree from the event store and check every checkpoint (核验档案),
    each month seal's checkpoint, and checkpoints kept outside (--witness)."""
    from archive.integrity import verify
    from archive.integrity.witness import witness_files

    witnesses = [witness.witness_key(k, as_json) for k in witness_keys or []]
    if witnesses and not witnessed:
        fail(
            BadInput(
                "witness_missing",
                "给了 --witness-key 却没有 --witness 检查点文件",
                "--witness-key needs at least one --witness file",
            ),
            as_json,
        )
    try:
        witness_files(witnessed or [])  # a folder with no checkpoint in it: before any work
    except BadInput as error:
        fail(error, as_json)
    with opened(as_json) as archive:
        report = verify(archive, witnessed=witnessed or [], witnesses=witnesses)
    if as_json:
        emit_json(report.as_dict())
    else:
        typer.echo("\n".join(describe(report) + witness.unchecked_cosignatures(report, witnesses)))
    raise typer.Exit(0 if report.intact else 1)


def describe(report: VerifyReport) -> list[str]:
    """The report for people: verdict, first finding, the rest, figures."""
    root = base64.b64encode(report.root).decode()
    signed = sum(1 for c in report.checkpoints if c.signature_valid)
    lines: list[str] = []
    if report.intact:
        lines += [
            f"档案完整：{report.events} 个事件，根哈希 {root}；"
            f"{signed} 个检查点签名有效且前后一致，{report.seals} 次封存均有检查点覆盖",
            f"archive intact: {report.events} events, root {root}; "
            f"{signed} checkpoints validly signed and consistent; "
            f"all {report.seals} seals covered by a checkpoint",
        ]
    else:
        zh, en = VERDICTS.get(report.blame or "") or _verdict(report)
        first = report.findings[0]
        lines += [
            f"发现篡改！{zh}",
            f"TAMPERING FOUND: {en}",
            f"第一处：{first.message_zh}",
            f"first:  {first.message_en}",
        ]
        for finding in report.findings[1:SHOWN]:
            lines += [f"  - {finding.message_zh}", f"    {finding.message_en}"]
        if len(report.findings) > SHOWN:
            lines.append(f"  … 另有 {len(report.findings) - SHOWN} 处 / and more")
        if report.differences:
            counts = "，".join(f"{code} {n}" for code, n in sorted(report.differences.items()))
            lines.append(f"与账本比对 / against the ledger: {counts}")
    lines += witness.witnessed_lines(report)
    signed_sizes = [
        c.checkpoint.parsed.body.size
        for c in report.checkpoints
        if c.signature_valid and c.checkpoint.parsed
    ]
    after = report.events - max(signed_sizes, default=0)
    if after > 0:
        lines.append(
            f"最新的检查点之后还有 {after} 个事件未签入检查点（archive checkpoint 可签）/ "
            f"{after} events are not yet in a signed checkpoint (run `archive checkpoint`)"
        )
    if report.unwitnessed:
        lines.append(
            f"账本尚未见证最后 {report.unwitnessed} 个事件 / "
            f"the ledger has not yet witnessed the last {report.unwitnessed} events"
        )
    lines.append(
        f"用时 {report.seconds:.2f} 秒，每秒 {report.rate:,.0f} 个事件 / "
        f"{report.seconds:.2f} s, {report.rate:,.0f} events/s"
    )
    return lines


@app.command("verify-bundle")
def verify_bundle_command(
    pdf: Annotated[Path, typer.Argument(help="The bundle PDF to check.")],
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="The archive's public key: a checkpoint.vkey file or its one line of text.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a bundle PDF offline (核验装订文件): signed checkpoint, inclusion proofs, replayed
    documents, page numbers, the content hashes and fees printed on its pages.

    Exit 0: verified with --key. 1: tampered with. 2: the file or the key cannot be read.
    3: consistent with the key the file carries, but no --key was given to say whose it is.
    """
    try:
        data = pdf.read_bytes()
    except OSError as error:
        fail(unreadable(error), as_json)
    from archive.bundle.check import CHECK_STAGE_LABELS, check_bundle  # loads pypdf

    verifier = _verifier(key, as_json) if key is not None else None
    with _pypdf_quiet():
        report = check_bundle(data, verifier, progress_bar(as_json, CHECK_STAGE_LABELS))
    if as_json:
        emit_json({"file": str(pdf), **report.as_dict()})
    else:
        typer.echo("\n".join(describe_bundle(report, pdf.name, verifier)))
    if not report.intact:
        raise typer.Exit(1)
    raise typer.Exit(0 if report.authenticated else UNAUTHENTICATED)


@contextlib.contextmanager
def _pypdf_quiet() -> Iterator[None]:
    """pypdf says what it repairs or cannot read ("invalid pdf header", "EOF marker not found")
    in English on stderr, before the report; the report's own finding already says, in Chinese
    and English, that the file cannot be read or what is wrong with it."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"pypdf(\.|$)")
            yield
    finally:
        logger.setLevel(level)


def _verifier(key: str, as_json: bool) -> VerifierKey:
    """``--key``: a file holding the key, else the key's text itself."""
    from archive.integrity.keys import VerifierKey

    path = Path(key)
    try:
        text = path.read_text(encoding="utf-8").strip() if path.is_file() else key.strip()
        return VerifierKey.parse(text)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        fail(
            BadInput(
                "bad_key",
                f"--key 不是有效的公钥（应为 checkpoint.vkey 文件或其内容）：{error}",
                f"--key is not a public key (a checkpoint.vkey file or its text): {error}",
            ),
            as_json,
        )


def describe_bundle(report: BundleReport, name: str, key: VerifierKey | None = None) -> list[str]:
    """The bundle report for people: verdict, findings, what was checked (and with whose
    key: the dealer and the key's fingerprint, not its punycode name)."""
    from archive.integrity.key_label import KeyLabel, dealer_of

    what = name
    if report.volume and report.binding in BINDING_LABELS:
        what = f"{name}（{report.volume} {BINDING_LABELS[report.binding]}）"
    lines: list[str] = []
    if report.intact:
        zh, en = ("核验通过", "verified")
        if not report.authenticated:
            zh, en = ("内部一致，但未用档案室公钥核对", "agrees with itself, NOT checked by key")
        lines += [
            f"{what} {zh}：{report.documents} 份单据、{report.events} 个事件均已证明包含在"
            f"签名检查点（{report.tree_size} 个事件）中，"
            f"{report.printed} 份表单逐格与由事件重排的版面一致（含内容摘要、文字说明和人名）",
            f"{name} {en}: {report.documents} documents and {report.events} events are proved "
            f"in the signed checkpoint of {report.tree_size} events; every cell of the "
            f"{report.printed} printed forms (content hashes, free text and names included) "
            "matches the forms laid out again from the events",
        ]
    else:
        lines += [
            f"{what} 核验未通过！发现 {len(report.findings)} 处问题",
            f"{name} FAILED verification: {len(report.findings)} problems",
        ]
        for finding in report.findings[:SHOWN]:
            lines += [f"  - {finding.message_zh}", f"    {finding.message_en}"]
        if len(report.findings) > SHOWN:
            lines.append(f"  … 另有 {len(report.findings) - SHOWN} 处 / and more")
    if report.origin:
        lines.append(
            f"检查点 / checkpoint: {dealer_of(report.origin)}  {report.tree_size}  {report.root}"
        )
    if key is not None:
        label = KeyLabel.of(key.name, key.public_key)
        lines.append(f"公钥 / key: {label.dealer}  指纹 fingerprint {label.fingerprint}")
    if report.key_source == "embedded":
        lines += [
            "注意：未指定 --key，只用文件自带的公钥核对，不能排除整份文件被另一把密钥重签；"
            "请用档案室公布的公钥（checkpoint.vkey）再核对一次",
            "note: no --key given, so only the key the file carries was used, which cannot rule "
            "out a file re-signed with another key; check again with the archive's published "
            "key (checkpoint.vkey)",
        ]
    lines.append(
        f"读取 {report.pages} 页，用时 {report.seconds:.1f} 秒"
        "（每页页码和表单的每一格均已比对，文字说明和人名也逐字比对）/ "
        f"{report.pages} pages read in {report.seconds:.1f} s (page numbers and every cell of "
        "the forms compared, free text and names included)"
    )
    return lines
