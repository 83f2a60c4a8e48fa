"""Verifying from a signed checkpoint: only the positions after it are re-read, with the same
checks as the whole log's verification, and the report says what was taken on its word.

Each library test runs on SQLite and PostgreSQL; the CLI's run on SQLite. The intruder
bypasses the append-only triggers (as a superuser could), as in ``test_audit_integrity``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from audit_support import Database, file_events, record, sqlite_log_for_guichet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoints import export_file, read_file
from audit.findings import AuditReport
from audit.verifying import verify
from domain.commands import AttachDocument
from domain.decider import decide, fold
from domain.documents import Document
from eventlog import EventLog
from eventlog.checkpoints import Checkpoint, checkpoint_now, sign, stored
from eventlog.documents import DocumentStore
from eventlog.signing import key_id, public_key_text
from tests.cli.support import guichet
from tests.unit.builders import CASEWORKER, at

EVENTS = "eventlog_events"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
KID = key_id(KEY.public_key())
SIGNED_AT_4 = f"the checkpoint of position 4 signed at 2025-06-01T12:00:00Z by key {KID}"


async def _signed_then_more(log: EventLog) -> None:
    """app-1's first four events, signed at position 4; then app-2 at 5-7 (a stream that
    begins after the checkpoint) and app-1 again at 8-9 (one that goes on across it)."""
    await record(log, "app-1", file_events("app-1")[:4])
    await checkpoint_now(log, KEY, NOW)
    await record(log, "app-2", file_events("app-2")[:3])
    await record(log, "app-1", file_events("app-1")[4:6])


async def _from_checkpoint(log: EventLog, kept: Sequence[Checkpoint] = ()) -> AuditReport:
    """The incremental verification, with the stored checkpoints and the auditor's ``kept``."""
    return await verify(
        log,
        [*await stored(log), *kept],
        trusted=KEY.public_key(),
        from_checkpoint=True,
        kept=kept,
    )


async def test_an_intact_log_is_re_read_only_after_the_latest_checkpoint(log: EventLog) -> None:
    """Positions 5..9 recomputed, 1..4 taken on the checkpoint's word, and the report says so."""
    await _signed_then_more(log)
    report = await _from_checkpoint(log)
    assert report.ok and (report.checked, report.head_position) == (5, 9)
    assert report.started_from is not None
    assert (report.started_from.position, report.started_from.source) == (4, "database")
    assert report.scope == (
        f"positions 5..9 re-read; positions 1..4 vouched for by {SIGNED_AT_4} (from the "
        "database), not re-read; documents named only at positions 1..4 not hashed again"
    )
    assert report.clocks is not None and report.clocks.agree
    assert any("edited in place without re-hashing" in note for note in report.notes)
    whole = await verify(log, await stored(log), trusted=KEY.public_key())
    assert whole.ok and whole.checked == 9 and whole.started_from is None
    assert whole.scope == "positions 1..9 re-read (the whole log)"


async def test_a_row_altered_after_the_checkpoint_is_found_at_its_position(
    log: EventLog, database: Database
) -> None:
    """A row after the checkpoint whose data changed behind the triggers is named, as the
    whole verification names it."""
    await _signed_then_more(log)
    await database.tamper(
        f"UPDATE {EVENTS} SET data = replace(data, 'agent', 'agant') WHERE position = 5"
    )
    report = await _from_checkpoint(log)
    whole = await verify(log, await stored(log), trusted=KEY.public_key())
    assert (report.ok, report.first_bad_position, report.untrusted_from) == (False, 5, 5)
    assert report.problem == whole.problem
    assert report.problem is not None
    assert report.problem.startswith("position 5: hash does not match its content")


async def test_rows_deleted_at_the_end_are_found(log: EventLog, database: Database) -> None:
    """The log's last rows removed, the head left as it was: the first missing position."""
    await _signed_then_more(log)
    await database.tamper(f"DELETE FROM {EVENTS} WHERE position >= 8")
    report = await _from_checkpoint(log)
    assert (report.ok, report.first_bad_position) == (False, 8)
    assert report.problem == "position 8 missing (log head says 9: rows deleted at the end?)"
    assert report.checked == 3


async def test_a_prefix_rewritten_and_rehashed_contradicts_the_checkpoint(
    log: EventLog, database: Database
) -> None:
    """Positions 2..9 rewritten and re-hashed: the chain from the checkpoint would hold, but
    the hash at position 4 is not the signed one. The finding of the whole verification, and
    nothing re-read from a checkpoint that no longer matches."""
    await _signed_then_more(log)
    await database.rewrite_from(log, 2)
    report = await _from_checkpoint(log)
    assert (report.ok, report.first_bad_position, report.untrusted_from) == (False, 1, 1)
    assert report.problem == (
        "position 4: hash differs from the checkpoint of position 4 signed at "
        "2025-06-01T12:00:00Z: the log was rewritten somewhere in positions 1..4"
    )
    whole = await verify(log, await stored(log), trusted=KEY.public_key())
    assert whole.problem == report.problem
    assert report.checked == 0 and report.started_from is not None
    assert not report.started_from.matches
    assert report.scope == (
        f"no position re-read: {SIGNED_AT_4} (from the database) does not match the log"
    )


async def test_a_stream_whose_version_skips_across_the_checkpoint_is_found(
    log: EventLog, database: Database
) -> None:
    """app-1 reached version 4 at the checkpoint; its next row, re-hashed with version 7,
    jumps: the version it went on from is read in one query, not by re-reading the log."""
    await _signed_then_more(log)
    await database.rewrite_from(log, 8, version=7)
    report = await _from_checkpoint(log)
    assert (report.ok, report.first_bad_position) == (False, 8)
    assert report.problem is not None
    assert report.problem.startswith(
        "position 8: stream app-1 jumps from version 4 to 7 (event missing or moved?)"
    )


async def test_a_row_before_the_checkpoint_edited_without_rehashing_is_seen_only_by_the_whole(
    log: EventLog, database: Database
) -> None:
    """What the incremental run does not promise: a row it did not read, altered in place
    with its stored hash left as it was, still links to the rest. The whole verification
    finds it; the incremental report says to run that one too."""
    await _signed_then_more(log)
    await database.tamper(
        f"UPDATE {EVENTS} SET data = replace(data, 'agent', 'agant') WHERE position = 2"
    )
    assert (await _from_checkpoint(log)).ok
    assert (await verify(log, await stored(log))).first_bad_position == 2


async def test_the_auditors_file_is_preferred_to_the_checkpoints_stored_since(
    log: EventLog, tmp_path: Path
) -> None:
    """The file kept outside the database was exported at position 4; the database holds a
    later checkpoint. The file's is the one started from, and the report says where it
    came from; without the file, the latest stored, with nothing left to re-read."""
    await record(log, "app-1", file_events("app-1")[:4])
    await checkpoint_now(log, KEY, NOW)
    export_file(await stored(log), tmp_path / "kept.json", NOW)
    await record(log, "app-2", file_events("app-2")[:3])
    await checkpoint_now(log, KEY, NOW + timedelta(days=1))
    with_file = await _from_checkpoint(log, read_file(tmp_path / "kept.json"))
    assert with_file.ok and with_file.checked == 3
    assert with_file.started_from is not None and with_file.started_from.source == "file"
    assert with_file.scope is not None
    assert f"{SIGNED_AT_4} (from the auditor's checkpoints file)" in with_file.scope
    alone = await _from_checkpoint(log)
    assert alone.ok and alone.checked == 0
    assert alone.scope is not None and alone.scope.startswith(
        "no position after 7 to re-read; positions 1..7 vouched for by the checkpoint of "
        "position 7 signed at 2025-06-02T12:00:00Z"
    )


async def test_without_a_checkpoint_signed_by_the_trusted_key_the_whole_log_is_re_read(
    log: EventLog,
) -> None:
    """A daily run before the first checkpoint still verifies, all of it, and says why;
    a checkpoint signed by another key is refused as always and starts nothing."""
    await record(log, "app-1", file_events("app-1")[:4])
    report = await _from_checkpoint(log)
    assert report.ok and report.checked == 4 and report.started_from is None
    assert report.scope == "positions 1..4 re-read (the whole log)"
    assert f"no checkpoint signed by the trusted key {KID} to start from" in report.notes[0]
    _, head_hash = await log.head()
    forged = sign(Ed25519PrivateKey.generate(), 4, head_hash, NOW)
    refused = await _from_checkpoint(log, [forged])
    assert not refused.ok and refused.checked == 4 and refused.started_from is None
    assert refused.problem is not None and "is refused: key" in refused.problem


async def test_the_clocks_compare_the_first_row_re_read_with_the_checkpoints_row(
    log: EventLog, database: Database
) -> None:
    """Position 5 recorded an hour before position 4: a step back, though 4 was not re-read."""
    await _signed_then_more(log)
    noon = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    moments = {p: noon + timedelta(minutes=p) for p in range(1, 10)}
    moments[5] = noon - timedelta(hours=1)
    await database.set_recorded_at(dict(moments))
    report = await _from_checkpoint(log)
    assert report.ok and report.clocks is not None
    assert report.clocks.steps_back == 1
    assert report.clocks.first_steps_back[0].position == 5


async def test_only_the_documents_named_after_the_checkpoint_are_hashed_again(
    log: EventLog, database: Database
) -> None:
    """A document attached before the checkpoint and one after, both altered in the store:
    the incremental run hashes the second only (its scope says so), the whole one both."""
    store = DocumentStore(log.engine)
    await record(log, "app-1", file_events("app-1"))
    state = fold(file_events("app-1"))
    named: list[str] = []
    for name, content in (("devis.pdf", b"%PDF devis"), ("rib.pdf", b"%PDF rib")):
        if named:  # the first one at position 12, the checkpoint there, the second at 13
            await checkpoint_now(log, KEY, NOW)
        sha256 = await store.keep(content, "application/pdf")
        document = Document(sha256=sha256, filename=name, media_type="application/pdf",
                            size_bytes=len(content), kind="quote")  # fmt: skip
        events = decide(AttachDocument(actor=CASEWORKER, at=at(40), document=document), state)
        state = fold(events, state)
        await record(log, "app-1", events)
        named.append(sha256)
    await database.tamper("UPDATE eventlog_documents SET content = substr(content, 2)")
    report = await _from_checkpoint(log)
    assert (report.ok, report.checked, report.documents_checked) == (False, 1, 1)
    assert [f.document for f in report.findings] == [named[1]]
    whole = await verify(log, await stored(log), trusted=KEY.public_key())
    assert whole.documents_checked == 2
    assert [f.document for f in whole.findings] == named


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    """A SQLite log with one file (11 events), that ``guichet`` finds, no key configured."""
    return sqlite_log_for_guichet(tmp_path, monkeypatch, {"app-1": None})


def _public_key_file(tmp_path: Path) -> Path:
    """The trusted key as an auditor holds it (``guichet audit export-key`` writes it)."""
    public = tmp_path / "guichet.pub"
    public.write_text(public_key_text(KEY.public_key()))
    return public


def _signed_at_11_then_app_2(db: Database, tmp_path: Path) -> None:
    """Sign the head (11) and export it to the auditor's file, then record app-2 (12..22)."""

    async def work() -> None:
        log = db.open()
        try:
            await checkpoint_now(log, KEY, NOW)
            export_file(await stored(log), tmp_path / "kept.json", NOW)
            await record(log, "app-2", file_events("app-2"))
        finally:
            await log.close()

    asyncio.run(work())


def test_from_checkpoint_without_a_trusted_key_is_refused_saying_what_to_pass(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --public-key and none configured: exit 2, one sentence naming the options."""
    code, out, err = guichet(capsys, "audit", "verify", "--from-checkpoint")
    assert code == 2 and out == ""
    assert err.startswith("guichet: --from-checkpoint starts from a checkpoint signed by the key")
    assert "--public-key" in err and "GUICHET_PUBLIC_KEY_FILE" in err and err.count("\n") == 1


def test_from_checkpoint_says_its_scope_in_text_and_json(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Text: a scope line after the counts, and the closing line about the positions read;
    JSON: ``scope`` and ``started_from``. A row altered after the checkpoint: exit 1 and
    its position; the prefix rewritten: exit 1, the range the checkpoint covers."""
    _signed_at_11_then_app_2(db, tmp_path)
    public = _public_key_file(tmp_path)
    kept = str(tmp_path / "kept.json")
    argv = ["audit", "verify", "--from-checkpoint", "--public-key", str(public)]
    code, out, _ = guichet(capsys, *argv, "--checkpoints", kept)
    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith("11 event(s) recomputed, head at position 22; 1 checkpoint(s)")
    assert lines[0].endswith("0 attached document(s) named after position 11 hashed again")
    assert lines[1] == (
        "scope: positions 12..22 re-read; positions 1..11 vouched for by the checkpoint of "
        f"position 11 signed at 2025-06-01T12:00:00Z by key {KID} (from the auditor's "
        "checkpoints file), not re-read; documents named only at positions 1..11 not hashed "
        "again"
    )
    assert lines[2].startswith("note: positions 1..11 were not re-read: a row there edited")
    assert lines[-1].startswith(
        "the chain is consistent from the checkpoint of position 11 on and checkpoints "
        f"signed by the trusted key {KID} vouch for positions 1..11, but no checkpoint covers "
        "positions 12..22"
    )
    code, out, _ = guichet(capsys, *argv, "--json")
    report = json.loads(out)
    assert code == 0 and report["checked"] == 11
    assert report["scope"].startswith("positions 12..22 re-read; positions 1..11 vouched for")
    assert "(from the database)" in report["scope"]
    assert {k: report["started_from"][k] for k in ("position", "source", "matches")} == {
        "position": 11,
        "source": "database",
        "matches": True,
    }
    asyncio.run(
        db.tamper(
            "UPDATE eventlog_events SET data = replace(data, ':\"', ':\"X') WHERE position = 15"
        )
    )
    code, out, _ = guichet(capsys, *argv)
    assert code == 1 and "FIRST BAD POSITION: 15 — position 15: hash does not match" in out
    assert "scope: positions 12..22 re-read" in out

    async def rewrite() -> None:
        log = db.open()
        try:
            await db.rewrite_from(log, 3)
        finally:
            await log.close()

    asyncio.run(rewrite())
    code, out, _ = guichet(capsys, *argv, "--checkpoints", kept)
    assert code == 1 and "ALTERED SOMEWHERE IN POSITIONS 1..11 — position 11: hash differs" in out
    assert "scope: no position re-read: the checkpoint of position 11" in out
    assert json.loads(guichet(capsys, *argv, "--json")[1])["checked"] == 0


def test_from_checkpoint_before_any_checkpoint_verifies_the_whole_log_and_says_so(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A daily cron set up before the first signature: exit 0, the whole log re-read, a note."""
    public = _public_key_file(tmp_path)
    code, out, _ = guichet(
        capsys, "audit", "verify", "--from-checkpoint", "--public-key", str(public)
    )
    assert code == 0
    assert "scope: positions 1..11 re-read (the whole log)" in out
    assert f"note: no checkpoint signed by the trusted key {KID} to start from" in out
