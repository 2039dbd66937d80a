"""Signed checkpoints: the key on disk, the C2SP note format, the files kept, the commands."""

from __future__ import annotations

import json
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.cli.integrity import register
from archive.config import Settings
from archive.integrity import (
    CheckpointRefused,
    KeyProblem,
    ensure_key,
    list_checkpoints,
    load_verifier,
    log_name,
    make_checkpoint,
    verify,
)
from archive.integrity.keys import PRIVATE_FILE, PUBLIC_FILE, SignerKey, VerifierKey, key_id
from archive.integrity.notes import (
    BadNote,
    CheckpointBody,
    parse_checkpoint,
    parse_note,
    sign_checkpoint,
    sign_note,
)
from tests.support import FakeClock, register_team, work_order

# The example of Go's golang.org/x/mod/sumdb/note, the reference implementation of signed notes.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIGNATURE = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


@pytest.fixture
def filed(tmp_path: Path) -> Iterator[Archive]:
    """A SQLite archive with a team and two work orders."""
    archive = open_archive(Settings(home=tmp_path / "home"), clock=FakeClock())
    register_team(archive)
    for number in ("WO-0001", "WO-0002"):
        commands.file_document(archive, "work_order", work_order(number), "admin")
    try:
        yield archive
    finally:
        archive.close()


# -- keys and notes ---------------------------------------------------------------------------


def test_keys_and_signatures_match_the_reference_implementation() -> None:
    signer = SignerKey.parse(GO_SKEY)
    verifier = VerifierKey.parse(GO_VKEY)
    assert signer.verifier() == verifier
    assert verifier.key_id.hex() == "c74f20a3" == key_id("PeterNeumann", verifier.public_key).hex()
    assert (signer.text(), verifier.text()) == (GO_SKEY, GO_VKEY)
    assert sign_note(GO_TEXT, signer) == GO_TEXT + "\n" + GO_SIGNATURE
    assert parse_note(GO_TEXT + "\n" + GO_SIGNATURE).signed_by(verifier)


def test_mangled_keys_are_refused() -> None:
    for bad in (
        GO_VKEY.replace("c74f20a3", "c74f20a4"),  # key id of another key
        GO_VKEY[:-4],  # truncated
        GO_VKEY.replace("+ARpc", "+ZRpc"),  # not Ed25519
        "PeterNeumann+c74f20a3",
    ):
        with pytest.raises(ValueError):
            VerifierKey.parse(bad)
    with pytest.raises(ValueError):
        SignerKey.parse(GO_SKEY.replace("c74f20a3", "00000000"))


def test_a_checkpoint_note_signs_its_three_lines_and_nothing_else() -> None:
    signer = SignerKey.parse(GO_SKEY)
    body = CheckpointBody("archive.example/v1", 1234, bytes(range(32)))
    note = sign_checkpoint(body, signer)
    lines = note.split("\n")
    assert lines[:4] == [
        "archive.example/v1",
        "1234",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "",
    ]
    assert lines[4].startswith("— PeterNeumann ")
    parsed = parse_checkpoint(note)
    assert parsed.body == body and parsed.signed_by(signer.verifier())
    other = SignerKey.generate("PeterNeumann").verifier()  # same name, another key
    assert not parsed.signed_by(other)
    for forged in (note.replace("1234", "1235"), note.replace("AAEC", "AQEC")):
        assert not parse_checkpoint(forged).signed_by(signer.verifier())
    # Another key's signature beside ours is ignored; a bad one of ours rejects the note.
    stranger = sign_checkpoint(body, SignerKey.generate("stranger.example")).split("\n")[4]
    assert parse_checkpoint(note + stranger + "\n").signed_by(signer.verifier())
    ours_broken = lines[4][:-8] + "AAAAAAA="
    assert not parse_checkpoint(note + ours_broken + "\n").signed_by(signer.verifier())


@pytest.mark.parametrize(
    "note",
    [
        "origin\n12\n",  # no signatures
        "origin\n012\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— k AAAAAAAA\n",
        "origin\n12\nnot base64\n\n— k AAAAAAAA\n",
        "origin\n12\nAAAA\n\n— k AAAAAAAA\n",  # root too short
        "origin\n12\n\n— k AAAAAAAA\n",
        "origin\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n- k AAAAAAAA\n",  # hyphen
        "origin\r\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— k AAAAAAAA\n",
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(BadNote):
        parse_checkpoint(note)


ROOT = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
SIG = "— k AAAAAAAA"


def checkpoint_note(*lines: str, signatures: tuple[str, ...] = (SIG,)) -> str:
    return "".join(f"{line}\n" for line in lines) + "\n" + "".join(f"{s}\n" for s in signatures)


# Each rule of c2sp.org/signed-note and c2sp.org/tlog-checkpoint, broken once.
@pytest.mark.parametrize(
    ("rule", "note"),
    [
        ("empty extension line", checkpoint_note("o", "12", ROOT, "", "ext")),
        ("empty last extension line", checkpoint_note("o", "12", ROOT, "")),
        ("key name with +", checkpoint_note("o", "12", ROOT, signatures=("— k+1 AAAAAAAA",))),
        (
            "key name with space",
            checkpoint_note("o", "12", ROOT, signatures=("— k\u00a0x AAAAAAAA",)),
        ),
        ("empty key name", checkpoint_note("o", "12", ROOT, signatures=("—  AAAAAAAA",))),
        ("no space after the dash", checkpoint_note("o", "12", ROOT, signatures=("—k AAAAAAAA",))),
        ("no signature", checkpoint_note("o", "12", ROOT, signatures=("— k",))),
        ("signature too short", checkpoint_note("o", "12", ROOT, signatures=("— k AAAA",))),
        (
            "trailing space on a signature",
            checkpoint_note("o", "12", ROOT, signatures=(SIG + " ",)),
        ),
        ("a third field", checkpoint_note("o", "12", ROOT, signatures=(SIG + " AAAA",))),
        ("trailing space on the origin", checkpoint_note("o ", "12", ROOT)),
        ("leading space on the size", checkpoint_note("o", " 12", ROOT)),
        ("trailing space on an extension", checkpoint_note("o", "12", ROOT, "ext ")),
        ("missing final newline", checkpoint_note("o", "12", ROOT)[:-1]),
        ("no signature lines", checkpoint_note("o", "12", ROOT, signatures=())),
        ("101 signatures", checkpoint_note("o", "12", ROOT, signatures=(SIG,) * 101)),
        ("size beyond int64", checkpoint_note("o", str(2**63), ROOT)),
        ("non-canonical base64 root", checkpoint_note("o", "12", ROOT[:-2] + "h=")),
        ("a tab", checkpoint_note("o\tx", "12", ROOT)),
    ],
)
def test_every_signed_note_rule_is_enforced(rule: str, note: str) -> None:
    with pytest.raises(BadNote):
        parse_checkpoint(note)


def test_notes_must_be_utf8_and_the_limits_are_the_reference_ones() -> None:
    good = checkpoint_note("o", "12", ROOT)
    with pytest.raises(BadNote, match="UTF-8"):
        parse_checkpoint(good.encode().replace(b"o", b"o\xff", 1))
    assert parse_checkpoint(good.encode()).body.size == 12  # bytes are read as UTF-8
    assert len(parse_note(checkpoint_note("o", "12", ROOT, signatures=(SIG,) * 100)).signatures)
    with_extension = parse_checkpoint(checkpoint_note("o", "12", ROOT, "ext line"))
    assert with_extension.note.text.endswith("ext line\n")


def test_the_log_name_is_stable_ascii_without_spaces_or_plus(tmp_path: Path) -> None:
    chinese = log_name(Settings(home=tmp_path))
    assert chinese.startswith("archive.xn--") and chinese.endswith("/v1") and chinese.isascii()
    assert chinese == log_name(Settings(home=tmp_path / "elsewhere"))
    named = Settings(home=tmp_path, dealer_name="Beijing Auto+ 4S")
    assert log_name(named) == "archive.beijing-auto-4s/v1"


def test_ensure_key_makes_one_private_key_once(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    first = ensure_key(settings)
    assert ensure_key(settings) == first == load_verifier(settings)
    folder = settings.layout.keys
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / PRIVATE_FILE).stat().st_mode) == 0o600
    assert (folder / PUBLIC_FILE).read_text().strip() == first.text()
    assert first.name == log_name(settings)
    assert sorted(p.name for p in folder.iterdir()) == [PRIVATE_FILE, PUBLIC_FILE]


def test_a_public_key_without_its_private_key_is_not_replaced(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    public = ensure_key(settings)
    (settings.layout.keys / PRIVATE_FILE).unlink()
    with pytest.raises(KeyProblem):
        ensure_key(settings)
    assert load_verifier(settings) == public


# -- checkpoint files --------------------------------------------------------------------------


def test_every_checkpoint_is_kept_and_listed(filed: Archive) -> None:
    first = make_checkpoint(filed)
    again = make_checkpoint(filed)  # same size, same clock second: a second file all the same
    commands.file_document(filed, "work_order", work_order("WO-0003"), "admin")
    filed.clock.advance(hours=1)  # type: ignore[attr-defined]
    later = make_checkpoint(filed)
    listed = list_checkpoints(filed.settings)
    assert [c.name for c in listed] == [first.name, again.name, later.name]
    assert first.name == f"{filed.app.head() - 1:012d}-20261103T010000Z.checkpoint"
    assert again.name.endswith("Z-2.checkpoint")
    sizes = [c.parsed.body.size for c in listed]  # type: ignore[union-attr]
    assert sizes == [filed.app.head() - 1, filed.app.head() - 1, filed.app.head()]
    assert all(c.as_dict(load_verifier(filed.settings))["signature_valid"] for c in listed)
    assert verify(filed).intact


def test_a_ledger_contradicting_a_signed_checkpoint_is_not_signed_again(filed: Archive) -> None:
    make_checkpoint(filed)
    with sqlite3.connect(filed.settings.layout.ledger_db) as conn:
        conn.execute("UPDATE ledger_leaves SET leaf_hash = zeroblob(32) WHERE leaf_index = 0")
    with pytest.raises(CheckpointRefused):
        make_checkpoint(filed)
    assert len(list_checkpoints(filed.settings)) == 1


def test_an_unreadable_checkpoint_file_fails_verification(filed: Archive) -> None:
    made = make_checkpoint(filed)
    made.path.write_text(made.path.read_text().replace("\n\n", "\n"))
    report = verify(filed)
    assert [(f.code, f.checkpoint) for f in report.findings] == [
        ("checkpoint_unreadable", made.name)
    ]


# -- the commands ------------------------------------------------------------------------------


@pytest.fixture
def run(filed: Archive):
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    env = {"ARCHIVE_HOME": str(filed.settings.home)}

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=env)

    return invoke


def test_checkpoint_checkpoints_and_verify_commands(run, filed: Archive) -> None:
    assert "还没有检查点" in run("checkpoints").output
    made = run("checkpoint", "--json")
    assert made.exit_code == 0, made.output
    info = json.loads(made.output)
    assert info["size"] == filed.app.head() and info["signature_valid"]
    human = run("checkpoint")
    assert human.exit_code == 0 and "已签发检查点" in human.output
    listed = json.loads(run("checkpoints", "--json").output)
    stem = info["file"].removesuffix(".checkpoint")
    assert [c["file"] for c in listed] == [f"{stem}.checkpoint", f"{stem}-2.checkpoint"]
    assert len(list(filed.settings.layout.checkpoints.iterdir())) == 2
    assert "签名有效 / valid" in run("checkpoints").output
    checked = run("verify", "--json")
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["intact"] is True
    assert "档案完整" in run("verify").output


def test_verify_exits_1_and_names_the_event(run, filed: Archive) -> None:
    run("checkpoint")
    with sqlite3.connect(filed.settings.layout.events_db) as conn:
        conn.execute("UPDATE stored_events SET state = CAST('{}' AS BLOB) WHERE rowid = 9")
    result = run("verify")
    assert result.exit_code == 1
    assert "发现篡改" in result.output and "第 9 号事件" in result.output
    assert "WO-0002" in result.output  # the 9th event is the second work order's filing
    as_json = run("verify", "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.output)
    assert (report["first"]["notification_id"], report["first"]["number"]) == (9, "WO-0002")


def test_checkpoint_without_a_usable_key_is_refused_with_exit_1(run, filed: Archive) -> None:
    folder = filed.settings.layout.keys
    folder.mkdir(parents=True)
    (folder / PUBLIC_FILE).write_text(GO_VKEY + "\n")
    result = run("checkpoint", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["error"] == "key_missing"


def test_a_row_the_recorder_cannot_read_is_reported_not_a_traceback(run, filed: Archive) -> None:
    with sqlite3.connect(filed.settings.layout.events_db) as conn:
        conn.execute("UPDATE stored_events SET originator_id = 'forged' WHERE rowid = 5")
    result = run("verify", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["error"] == "store_unreadable"


def test_checkpoints_without_the_public_key_cannot_be_trusted(filed: Archive) -> None:
    make_checkpoint(filed)
    (filed.settings.layout.keys / PUBLIC_FILE).unlink()
    assert [f.code for f in verify(filed).findings] == ["key_missing"]
    ensure_key(filed.settings)  # the public key is derived again from the private one
    assert verify(filed).intact
