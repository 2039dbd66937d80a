"""Checkpoints witnessed outside the archive: every seal covered, export, cosignatures
(c2sp.org/tlog-cosignature) and ``verify --witness`` against a rewritten history."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import typer
from typer.testing import CliRunner

from archive import commands
from archive.bootstrap import Archive, open_archive
from archive.cli.integrity import register
from archive.config import Settings
from archive.integrity import list_checkpoints, load_verifier, make_checkpoint, verify
from archive.integrity.cosignature import WitnessSigner, WitnessVerifier, cosign
from archive.integrity.cosigner import AddCheckpoint, parse_request
from archive.integrity.keys import SignerKey, load_signer
from archive.integrity.notes import (
    BadNote,
    CheckpointBody,
    parse_checkpoint,
    parse_note,
    sign_checkpoint,
)
from archive.integrity.witness import latest_checkpoint
from projections.merkle import MerkleTree
from projections.runner import LogReader, catch_up
from tests.support import FakeClock, register_team, work_order
from tests.test_tamper import RawStore

# The example of c2sp.org/tlog-cosignature: its witness line was made at "time 1679315147".
C2SP_EXAMPLE = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJs"
    "X3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
# A native cosignature/v1 vkey from github.com/transparency-dev/formats' tests.
REMORA = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def seal_november(archive: Archive) -> None:
    """Two work orders of 2026-11 (unsigned), sealed by force: the seal signs a checkpoint."""
    for number in ("WO-0001", "WO-0002"):
        commands.file_document(archive, "work_order", work_order(number), "admin")
    commands.seal_month(archive, "2026-11", "sun", force_reason="厂家要求月底寄回")


@pytest.fixture
def sealed(tmp_path: Path):
    archive = open_archive(Settings(home=tmp_path / "home"), clock=FakeClock())
    register_team(archive)
    seal_november(archive)
    try:
        yield archive
    finally:
        archive.close()


def rewrite_consistently(archive: Archive) -> None:
    """What an intruder with the disk does: change a filed work order in the store, rebuild
    the ledger from it so the two agree, and delete every checkpoint."""
    store = RawStore(archive.settings)
    try:
        (position,) = [
            n.id
            for n in archive.app.recorder.select_notifications(start=1, limit=1000)
            if n.topic.endswith("Document.Filed")
        ][:1]
        state = store.row(position)[3]
        changed = state.replace("张三".encode(), "李四".encode())
        assert changed != state
        store.set_state(position, changed)
    finally:
        store.close()
    ledger = archive.open_ledger()
    try:
        ledger.reset()
        catch_up(ledger, LogReader(archive.app))
    finally:
        ledger.close()
    if archive.settings.database_url:  # kept in the database there (checkpoint_table)
        with psycopg.connect(archive.settings.database_url, autocommit=True) as conn:
            conn.execute("DELETE FROM archive_checkpoints")
    else:
        shutil.rmtree(archive.settings.layout.checkpoints)


# -- every seal needs a checkpoint over it -----------------------------------------------------


def test_deleted_checkpoints_after_a_consistent_rewrite_fail_verification(team: Archive) -> None:
    """On SQLite and PostgreSQL: the seals are found in the log, whatever stores it."""
    seal_november(team)
    assert verify(team).intact and verify(team).seals == 1
    rewrite_consistently(team)
    report = verify(team)
    assert not report.intact
    assert [f.code for f in report.findings] == ["seal_uncovered"]
    finding = report.findings[0].as_dict()
    assert (finding["kind"], finding["number"]) == ("volume", "2026-11")
    assert "卷 2026-11" in finding["message_zh"] and "--witness" in finding["message_zh"]


def test_a_seal_whose_checkpoint_failed_is_reported_until_one_is_signed(tmp_path: Path) -> None:
    archive = open_archive(Settings(home=tmp_path / "home"), clock=FakeClock())
    try:
        register_team(archive)
        commands.file_document(archive, "work_order", work_order(), "admin")
        commands.seal_month(archive, "2026-11", "sun", force_reason="测试", after_seal=None)
        assert [f.code for f in verify(archive).findings] == ["seal_uncovered"]
        make_checkpoint(archive)
        assert verify(archive).intact
    finally:
        archive.close()


# -- cosignatures ------------------------------------------------------------------------------


def test_cosignature_keys_and_lines_follow_the_spec() -> None:
    assert WitnessVerifier.parse(REMORA).text() == REMORA  # key id with type 0x04
    stamp = parse_note(C2SP_EXAMPLE).signatures[1].signature
    assert int.from_bytes(stamp[:8], "big") == 1679315147 and len(stamp) == 72
    with pytest.raises(ValueError):  # an archive (type 0x01) key is not a witness key
        WitnessVerifier.parse(SignerKey.generate("log.example/a").verifier().text())
    with pytest.raises(ValueError):
        WitnessSigner.generate("service centre")


def test_a_cosignature_round_trip(sealed: Archive) -> None:
    note = latest_checkpoint(sealed.settings, load_verifier(sealed.settings)).path.read_text()
    witness = WitnessSigner.generate("service-centre.example/witness")
    cosigned = cosign(note, witness, AT)
    assert cosigned.startswith(note)  # the archive's note, and one line more
    parsed = parse_checkpoint(cosigned)
    assert parsed.signed_by(load_verifier(sealed.settings))  # other signatures are ignored
    (found,) = witness.verifier().cosignatures(parsed.note)
    assert found.valid and found.time == AT
    again = cosign(cosigned, witness, AT.replace(day=2))  # the newer replaces the older
    assert len(parse_note(again).signatures) == 2
    other = WitnessSigner.generate("service-centre.example/witness")  # same name, other key
    assert other.verifier().cosignatures(parsed.note) == []
    forged = cosigned.replace(f"\n{parsed.body.size}\n", f"\n{parsed.body.size + 1}\n")
    assert not witness.verifier().cosignatures(parse_checkpoint(forged).note)[0].valid
    with pytest.raises(BadNote):
        cosign(note.replace("\n\n", "\n"), witness, AT)
    far = witness.signature(parsed.note.text, 2**63 - 1)  # signed, but at no possible date
    beyond = parse_note(parsed.note.render() + far.line())
    assert [c.valid for c in witness.verifier().cosignatures(beyond)] == [True, False]


# -- verify --witness --------------------------------------------------------------------------


def test_witnessed_checkpoints_catch_a_consistent_rewrite(sealed: Archive, tmp_path: Path) -> None:
    witness = WitnessSigner.generate("service-centre.example/witness")
    note = latest_checkpoint(sealed.settings, load_verifier(sealed.settings)).path.read_text()
    kept = tmp_path / "2026-11.checkpoint"
    kept.write_text(cosign(note, witness, AT))
    commands.file_document(sealed, "work_order", work_order("WO-0003"), "admin")  # log grows
    report = verify(sealed, witnessed=[kept], witnesses=[witness.verifier()])
    assert report.intact, report.findings
    (check,) = report.witnessed
    assert check.consistent and check.signature_valid and check.cosignatures[0].valid

    stranger = WitnessSigner.generate("other.example/w").verifier()
    unsigned = verify(sealed, witnessed=[kept], witnesses=[stranger])
    assert [f.code for f in unsigned.findings] == ["witness_not_cosigned"]

    rewrite_consistently(sealed)
    report = verify(sealed, witnessed=[kept], witnesses=[witness.verifier()])
    codes = [f.code for f in report.findings]
    assert codes == ["witness_inconsistent", "seal_uncovered"]
    assert report.findings[0].checkpoint == str(kept)


def test_a_truncated_log_or_a_foreign_note_is_a_finding(sealed: Archive, tmp_path: Path) -> None:
    stored = latest_checkpoint(sealed.settings, load_verifier(sealed.settings))
    body = parse_checkpoint(stored.path.read_text()).body
    longer = CheckpointBody(body.origin, body.size + 5, body.root)
    kept = tmp_path / "longer.checkpoint"  # as if signed before 5 events were deleted
    kept.write_text(sign_checkpoint(longer, load_signer(sealed.settings)))
    assert [f.code for f in verify(sealed, witnessed=[kept]).findings] == ["witness_beyond_store"]
    foreign = SignerKey.generate(body.origin)  # the archive's name, another key
    kept.write_text(sign_checkpoint(body, foreign))
    assert [f.code for f in verify(sealed, witnessed=[kept]).findings] == ["witness_signature"]
    broken = tmp_path / "broken.checkpoint"
    broken.write_bytes(stored.path.read_bytes().replace(b"\n", b"\xff\n", 1))
    missing = tmp_path / "missing.checkpoint"
    codes = [f.code for f in verify(sealed, witnessed=[broken, missing]).findings]
    assert codes == ["witness_unreadable", "witness_unreadable"]


# -- the commands ------------------------------------------------------------------------------


@pytest.fixture
def run(sealed: Archive):
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def invoke(*args: str, home: Path | None = None):
        env = {"ARCHIVE_HOME": str(home or sealed.settings.home)}
        return runner.invoke(app, list(args), env=env)

    return invoke


def test_export_cosign_and_verify_from_the_command_line(
    run, sealed: Archive, tmp_path: Path
) -> None:
    safe = tmp_path / "safe"
    made = run("checkpoints", "export", str(safe), "--json")
    assert made.exit_code == 0, made.output
    assert len(json.loads(made.output)["written"]) == len(list_checkpoints(sealed.settings)) == 1
    assert json.loads(run("checkpoints", "export", str(safe), "--json").output)["written"] == []
    whole_folder = json.loads(run("verify", "--witness", str(safe), "--json").output)
    assert whole_folder["intact"] and len(whole_folder["witnessed"]) == 1
    assert "签名有效" in run("checkpoints").output  # the listing still works without a verb

    monthly = tmp_path / "2026-11.checkpoint"
    assert run("checkpoints", "export", "-o", str(monthly)).exit_code == 0
    elsewhere = tmp_path / "service-centre"  # no archive there: the witness's own machine
    key = elsewhere / "witness.key"
    elsewhere.mkdir()
    made = run("witness", "keygen", "sc.example/witness", "-o", str(key), home=elsewhere / "none")
    assert made.exit_code == 0, made.output
    vkey = elsewhere / "witness.vkey"
    assert oct(key.stat().st_mode & 0o777) == "0o600" and vkey.is_file()
    archive_vkey = str(sealed.settings.layout.keys / "checkpoint.vkey")
    cosigned = run(
        "witness", "cosign", "--key", str(key), "--log-key", archive_vkey, str(monthly),
        home=elsewhere / "none",
    )  # fmt: skip
    assert cosigned.exit_code == 0, cosigned.output
    assert "未核对与此前副签的检查点是否一致" in cosigned.stderr  # no --state: forks pass
    assert not (elsewhere / "none").exists()  # no archive was opened or made
    assert len(parse_note(monthly.read_text()).signatures) == 2

    checked = run("verify", "--witness", str(monthly), "--witness-key", str(vkey))
    assert checked.exit_code == 0, checked.output
    assert "一致 / consistent" in checked.output and "sc.example/witness" in checked.output
    assert "未核对见证人副签" not in checked.output
    unkeyed = run("verify", "--witness", str(monthly))
    assert unkeyed.exit_code == 0 and "未核对见证人副签" in unkeyed.output

    rewrite_consistently(sealed)
    failed = run("verify", "--witness", str(monthly), "--witness-key", str(vkey), "--json")
    assert failed.exit_code == 1
    codes = [f["code"] for f in json.loads(failed.output)["findings"]]
    assert codes == ["witness_inconsistent", "seal_uncovered"]


def test_refusals_of_the_commands_change_nothing(run, sealed: Archive, tmp_path: Path) -> None:
    taken = tmp_path / "taken.checkpoint"
    taken.write_text("something else\n")
    refused = run("checkpoints", "export", "-o", str(taken), "--json")
    assert refused.exit_code == 1 and json.loads(refused.output)["error"] == "export_exists"
    assert taken.read_text() == "something else\n"
    assert run("checkpoints", "export", "--json").exit_code == 2  # neither a folder nor -o
    key = tmp_path / "w.key"
    assert run("witness", "keygen", "bad name", "-o", str(key)).exit_code == 2
    assert not key.exists()
    run("witness", "keygen", "w.example/w", "-o", str(key))
    again = run("witness", "keygen", "w.example/w", "-o", str(key), "--json")
    assert again.exit_code == 1 and json.loads(again.output)["error"] == "key_exists"
    before = taken.read_bytes()
    other_log = tmp_path / "other.vkey"
    other_log.write_text(SignerKey.generate("x.example/log").verifier().text())
    bad = run(
        "witness", "cosign", "--key", str(key), "--log-key", str(other_log), str(taken), "--json"
    )  # fmt: skip
    assert bad.exit_code == 2 and json.loads(bad.stdout)["error"] == "bad_checkpoint"
    assert taken.read_bytes() == before
    blind = run("witness", "cosign", "--key", str(key), str(taken))  # a witness checks the log
    assert blind.exit_code == 2 and "--log-key" in blind.output and taken.read_bytes() == before
    assert "KEYFILE" not in run("witness", "keygen", "--help").output
    note = tmp_path / "n.checkpoint"
    run("checkpoints", "export", "-o", str(note))
    exported = note.read_bytes()
    wrong = run("witness", "cosign", "--key", str(key), "--log-key", str(other_log), str(note))
    assert wrong.exit_code == 1 and note.read_bytes() == exported
    assert run("verify", "--witness-key", str(tmp_path / "w.vkey")).exit_code == 2
    folder = tmp_path / "cosigned"  # files cosigned -o under other names: none is checked
    folder.mkdir()
    (folder / "2026-11.txt").write_bytes(exported)
    empty = run("verify", "--witness", str(folder))
    assert empty.exit_code == 2 and "文件夹" in empty.output and "*.checkpoint" in empty.output
    assert "None" not in empty.output and "篡改" not in empty.output
    gone = run("verify", "--witness", str(folder / "gone.checkpoint"))  # a kept copy is lost
    assert gone.exit_code == 1 and "无法读取 / unreadable" in gone.output
    assert "None" not in gone.output


# -- Go's sumdb/note reads a cosigned checkpoint -----------------------------------------------

GO_PROGRAM = """
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// A cosignature/v1 verifier written from c2sp.org/tlog-cosignature, apart from the archive's.
type cosigner struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (c cosigner) Name() string    { return c.name }
func (c cosigner) KeyHash() uint32 { return c.hash }
func (c cosigner) Verify(msg, sig []byte) bool {
	if len(sig) != 72 {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	m := append([]byte(fmt.Sprintf("cosignature/v1\\ntime %d\\n", t)), msg...)
	return ed25519.Verify(c.key, m, sig[8:])
}

func main() {
	msg, _ := os.ReadFile(os.Args[1])
	logKey, err := note.NewVerifier(os.Args[2])
	if err != nil {
		panic(err)
	}
	parts := strings.SplitN(os.Args[3], "+", 3)
	raw, _ := base64.StdEncoding.DecodeString(parts[2])
	h := sha256.Sum256(append([]byte(parts[0]+"\\n"), raw...))
	w := cosigner{parts[0], binary.BigEndian.Uint32(h[:4]), ed25519.PublicKey(raw[1:])}
	if fmt.Sprintf("%08x", w.hash) != parts[1] {
		fmt.Println("key hash differs")
		os.Exit(1)
	}
	n, err := note.Open(msg, note.VerifierList(logKey, w))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Printf("verified %d unverified %d\\n", len(n.Sigs), len(n.UnverifiedSigs))
}
"""


@pytest.mark.skipif(shutil.which("go") is None, reason="Go is not installed")
def test_go_verifies_the_archive_signature_and_the_cosignature(
    sealed: Archive, tmp_path: Path
) -> None:
    source = tmp_path / "main.go"
    source.write_text(GO_PROGRAM)
    env = {
        "GO111MODULE": "off",
        "GOPATH": "/usr/share/gocode",
        "GOCACHE": str(tmp_path / "gocache"),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    built = subprocess.run(
        ["go", "build", "-o", str(tmp_path / "open"), str(source)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if built.returncode and "cannot find package" in built.stderr:
        pytest.skip("golang.org/x/mod is not installed (Debian golang-golang-x-mod-dev)")
    assert built.returncode == 0, built.stderr
    key = load_verifier(sealed.settings)
    assert key is not None
    witness = WitnessSigner.generate("sc.example/witness")
    stranger = WitnessSigner.generate("other.example/w")
    note = latest_checkpoint(sealed.settings, key).path.read_text()
    cosigned = tmp_path / "cosigned.checkpoint"
    cosigned.write_text(cosign(cosign(note, witness, AT), stranger, AT))

    def go_open(path: Path, witness_key: str) -> subprocess.CompletedProcess[str]:
        command = [str(tmp_path / "open"), str(path), key.text(), witness_key]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    opened = go_open(cosigned, witness.verifier().text())
    assert opened.stdout.strip() == "verified 2 unverified 1", opened.stdout
    forged = tmp_path / "forged.checkpoint"
    text = cosigned.read_text()
    line = text.splitlines()[-2]  # the witness's line: its time changed by one second
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[11] ^= 1
    forged.write_text(text.replace(line, f"— sc.example/witness {base64.b64encode(blob).decode()}"))
    assert go_open(forged, witness.verifier().text()).returncode == 1
    # The signed-note rules the archive's parser enforces, Go's Open enforces too.
    good = "o\n12\n" + "A" * 43 + "=\n\n— k AAAAAAAA\n"
    for bad in (
        good.replace("— k", "— k+1"),
        good.replace("— k", "—  k"),
        good.replace("— k", "— k\u00a0x"),
        good[:-1],
        good + "— k AAAAAAAA\n" * 100,
        good.replace("o\n", "o\r\n"),
    ):
        path = tmp_path / "bad.checkpoint"
        path.write_text(bad)
        with pytest.raises(BadNote):
            parse_note(bad)
        assert go_open(path, witness.verifier().text()).stdout.strip() == "malformed note"
    not_utf8 = tmp_path / "latin1.checkpoint"
    not_utf8.write_bytes(good.encode().replace(b"o\n", b"o\xff\n", 1))
    assert go_open(not_utf8, witness.verifier().text()).stdout.strip() == "malformed note"


# -- a witness that keeps a record: the tlog-witness checks at its desk -----------------------


def test_a_witness_with_a_record_refuses_a_rewritten_history(
    run, sealed: Archive, tmp_path: Path
) -> None:
    key, vkey, record = tmp_path / "w.key", tmp_path / "w.vkey", tmp_path / "archive.state"
    run("witness", "keygen", "sc.example/witness", "-o", str(key))
    log_key = str(sealed.settings.layout.keys / "checkpoint.vkey")

    def cosign_at_desk(path: Path):
        args = ["witness", "cosign", "--key", str(key), "--log-key", log_key]
        return run(*args, "--state", str(record), str(path), "--json")

    first = tmp_path / "2026-11.checkpoint"
    run("checkpoints", "export", "-o", str(first))
    assert cosign_at_desk(first).exit_code == 0  # the first visit is trusted as it is
    assert record.read_text() == first.read_text()

    commands.file_document(sealed, "work_order", work_order("WO-0003"), "admin")
    make_checkpoint(sealed)
    plain = tmp_path / "plain.checkpoint"
    run("checkpoints", "export", "-o", str(plain))
    refused = cosign_at_desk(plain)  # bigger, and no proof from the recorded one
    assert refused.exit_code == 1 and json.loads(refused.output)["error"] == "proof_needed"
    second = tmp_path / "2026-12.request"
    made = run("checkpoints", "export", "-o", str(second), "--since", str(first))
    assert made.exit_code == 0, made.output
    assert second.read_text().startswith(f"old {parse_checkpoint(first.read_bytes()).body.size}\n")
    assert verify(sealed, witnessed=[second]).intact  # a request not yet cosigned is read too
    assert cosign_at_desk(second).exit_code == 0
    cosigned = parse_checkpoint(second.read_bytes())  # the request became the cosigned note
    assert record.read_text() == second.read_text() and cosigned.body.size == sealed.app.head()
    returned = tmp_path / "returned"  # the files the service centre sent back, kept together
    returned.mkdir()
    shutil.copy(first, returned)
    shutil.copy(second, returned)
    back = run("verify", "--witness", str(returned), "--witness-key", str(vkey), "--json")
    assert back.exit_code == 0 and len(json.loads(back.stdout)["witnessed"]) == 2

    # An insider rewrites store and ledger, deletes the checkpoints and signs anew: the archive
    # alone now looks intact; the witness, and the witnessed copies, do not agree.
    rewrite_consistently(sealed)
    resigned = make_checkpoint(sealed)
    assert verify(sealed).intact
    refused = run("checkpoints", "export", "-o", str(tmp_path / "x"), "--since", str(second))
    assert refused.exit_code == 1 and not (tmp_path / "x").exists()
    with sealed.ledger() as ledger:
        tree = MerkleTree(ledger.leaf_hashes())
    old = cosigned.body.size
    forged = tmp_path / "forged.request"
    forged.write_text(
        AddCheckpoint(old, tree.consistency_proof(old, tree.size), resigned.path.read_text()).text()
    )
    before = record.read_bytes()
    refused = cosign_at_desk(forged)
    assert refused.exit_code == 1 and json.loads(refused.output)["error"] == "inconsistent"
    assert record.read_bytes() == before
    report = verify(sealed, witnessed=[second], witnesses=[WitnessVerifier.parse(vkey.read_text())])
    assert [f.code for f in report.findings] == ["witness_inconsistent"]


@pytest.mark.parametrize(
    "body",
    [
        b"old 01\n\n",  # leading zero
        b"old 1\nnot base64\n\n",
        b"old 1\nAAAA\n\n",  # not 32 bytes
        b"old 1\n",  # no blank line
        b"old 1\n" + b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" * 64 + b"\n",
        b"old 1\xff\n\n",
    ],
)
def test_malformed_witness_requests_are_refused(body: bytes) -> None:
    with pytest.raises(BadNote):
        parse_request(body + C2SP_EXAMPLE.encode())
