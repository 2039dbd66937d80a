"""What a witness checks before it cosigns: the C2SP tlog-witness ``add-checkpoint`` rules,
offline, with the request carried as a file instead of an HTTP POST.

The request body is that of c2sp.org/tlog-witness::

    old <size the witness last cosigned, 0 the first time>
    <base64 hash of the RFC 6962 consistency proof, one a line, at most 63>

    <the checkpoint note>

The witness keeps one state file per log: the last checkpoint it cosigned. It cosigns only a
checkpoint signed by the log's key whose ``old`` size is that state's size, and whose proof
shows the state's tree to be a prefix of the new one (equal sizes need equal roots). So a
history rewritten between two visits is refused at the witness's desk, not only found later
by an auditor. The first request (no state yet) is trusted as it is, as in the spec.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from archive.integrity.keys import VerifierKey
from archive.integrity.notes import BadNote, Checkpoint, parse_checkpoint
from projections.merkle import verify_consistency

MAX_PROOF_LINES = 63
_OLD = re.compile(r"old (0|[1-9][0-9]*)")


class WitnessRefusal(ValueError):
    """Why the witness does not cosign (``code`` for scripts, messages for people)."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code, self.message_zh, self.message_en = code, message_zh, message_en


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: list[bytes]
    note: str  # the checkpoint note, as sent

    def text(self) -> str:
        lines = [f"old {self.old_size}", *(base64.b64encode(h).decode() for h in self.proof)]
        return "".join(f"{line}\n" for line in lines) + "\n" + self.note


def is_request(data: bytes) -> bool:
    return data.startswith(b"old ")


def parse_request(data: bytes) -> AddCheckpoint:
    """An ``add-checkpoint`` body (:class:`BadNote` when malformed)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadNote("the request is not valid UTF-8") from None
    head, separator, note = text.partition("\n\n")
    if not separator:
        raise BadNote("no blank line between the proof and the checkpoint")
    lines = head.split("\n")
    match = _OLD.fullmatch(lines[0])
    if not match:
        raise BadNote("the first line is not 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise BadNote(f"more than {MAX_PROOF_LINES} proof lines")
    proof = []
    for line in lines[1:]:
        try:
            digest = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise BadNote(f"proof line {line[:40]!r} is not base64") from None
        if len(digest) != 32:
            raise BadNote("a proof line is not a 32-byte hash")
        proof.append(digest)
    return AddCheckpoint(int(match.group(1)), proof, note)


def check_request(
    request: AddCheckpoint, log_key: VerifierKey, state: Checkpoint | None
) -> Checkpoint:
    """The request's checkpoint, if a witness whose last cosigned checkpoint is ``state`` may
    cosign it; else :class:`WitnessRefusal`."""
    checkpoint = parse_checkpoint(request.note)
    body = checkpoint.body
    if not checkpoint.signed_by(log_key):
        raise WitnessRefusal(
            "not_signed_by_log",
            "检查点不是这把档案库公钥签的，不予副签",
            "the checkpoint is not signed by the log's key; not cosigned",
        )
    if state is not None and state.body.origin != body.origin:
        raise WitnessRefusal(
            "other_log",
            f"见证记录属于另一个档案库（{state.body.origin}），不予副签",
            f"the witness state belongs to another log ({state.body.origin})",
        )
    known = state.body.size if state is not None else 0
    if request.old_size > body.size:
        raise WitnessRefusal(
            "old_beyond_new", "请求中的旧大小大于检查点大小", "old size beyond the checkpoint"
        )
    if request.old_size != known:
        raise WitnessRefusal(
            "old_size_mismatch",
            f"见证人上次副签的是 {known} 个事件，请求却从 {request.old_size} 个算起："
            f"请用上次副签的检查点重新导出（archive checkpoints export --since）",
            f"the witness last cosigned {known} events, the request starts from "
            f"{request.old_size}; export again --since the last cosigned checkpoint",
        )
    if state is None or known == 0:
        if request.proof:
            raise WitnessRefusal(
                "proof_not_empty", "旧大小为 0 时证明必须为空", "the proof must be empty"
            )
        return checkpoint
    if not verify_consistency(known, body.size, state.body.root, body.root, request.proof):
        raise WitnessRefusal(
            "inconsistent",
            f"该检查点（{body.size} 个事件）与上次副签的检查点（{known} 个事件）不一致："
            "档案库的历史被改写过，不予副签；请保留这两份文件并告知审计",
            f"the checkpoint ({body.size} events) is not consistent with the one cosigned "
            f"last ({known} events): the log's history was rewritten; not cosigned",
        )
    return checkpoint
