"""Tampering is found at its exact position; signed checkpoints catch what the chain cannot.

Each test runs on SQLite and PostgreSQL. The intruder bypasses the append-only triggers (as a
superuser could), as in tests/eventlog.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from audit_support import Database, file_events, record
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoints import export_file, read_file
from audit.file_checks import check_files, verify_file
from audit.verifying import verify
from eventlog import EventLog
from eventlog.checkpoints import checkpoint_now, sign, stored

EVENTS = "eventlog_events"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()


async def _two_files(log: EventLog) -> int:
    """Two interleaved files; returns the head position."""
    await record(log, "app-1", file_events("app-1")[:4])
    await record(log, "app-2", file_events("app-2")[:3])
    await record(log, "app-1", file_events("app-1")[4:8])
    position, _ = await log.head()
    return position


async def test_intact_log_and_its_checkpoints_verify(log: EventLog) -> None:
    """An untouched log with checkpoints along the way verifies, every checkpoint matching."""
    await record(log, "app-1", file_events("app-1")[:3])
    await checkpoint_now(log, KEY, NOW)
    await record(log, "app-1", file_events("app-1")[3:6])
    await checkpoint_now(log, KEY, NOW)
    report = await verify(log, await stored(log), trusted=KEY.public_key())
    assert report.ok and report.checked == 6
    assert report.checkpoints_checked == report.checkpoints_matching == 2


async def test_altered_row_is_found_at_its_position(log: EventLog, database: Database) -> None:
    """A row whose data was changed behind the triggers is named by its position."""
    await _two_files(log)
    await database.tamper(
        f"UPDATE {EVENTS} SET data = replace(data, 'agent', 'agant') WHERE position = 5"
    )
    report = await verify(log)
    assert not report.ok and report.first_bad_position == 5
    assert report.problem == (
        "position 5: hash does not match its content (row altered?); the row there reads file "
        "app-2, ApplicationSubmitted (version 1), as stored: those columns may be altered too"
    )


async def test_a_checkpoint_past_an_altered_row_vouches_for_nothing_beyond_it(
    log: EventLog, database: Database
) -> None:
    """An auditor read « 2 checkpoints, 2 matching » above an altered row: they match the hash
    stored at their position, but the chain beneath no longer holds."""
    await record(log, "app-1", file_events("app-1")[:3])
    await checkpoint_now(log, KEY, NOW)
    await record(log, "app-1", file_events("app-1")[3:6])
    await checkpoint_now(log, KEY, NOW)
    await database.tamper(f"UPDATE {EVENTS} SET version = 99 WHERE position = 5")
    report = await verify(log, await stored(log), trusted=KEY.public_key())
    assert not report.ok and report.first_bad_position == 5
    assert (report.checkpoints_checked, report.checkpoints_matching) == (2, 1)
    assert report.vouched_up_to == 3
    assert (
        "1 checkpoint(s) at position(s) 6 match the hash stored there, but the chain beneath "
        "is broken at position 5: they vouch for nothing from position 5 on"
    ) in report.notes
    assert (report.chain_broken_at, report.checkpoints_above_break) == (5, (6,))


async def test_a_file_page_check_names_the_altered_row_of_that_file(
    log: EventLog, database: Database
) -> None:
    """The per-file check (the auditor's file page) finds a row of that file altered, and
    says so in the audit report's terms; the other file is intact."""
    await _two_files(log)  # app-1 at positions 1-4 and 8-11, app-2 at 5-7
    assert (await verify_file(log, "app-1")).checked == 8
    await database.tamper(
        f"UPDATE {EVENTS} SET data = replace(data, '\"type\"', '\"typo\"') WHERE position = 9"
    )
    mine = await verify_file(log, "app-1")
    assert not mine.ok and mine.first_bad_position == 9
    assert [f.position for f in mine.findings] == [9]
    assert (await verify_file(log, "app-2")).ok


async def test_deleted_row_is_found_as_a_gap(log: EventLog, database: Database) -> None:
    """A deleted row leaves a gap named by its position."""
    await _two_files(log)
    await database.tamper(f"DELETE FROM {EVENTS} WHERE position = 4")
    report = await verify(log)
    assert report.first_bad_position == 4
    assert report.problem == "position 4 missing (gap: row deleted?)"


async def test_swapped_rows_are_found_at_the_first(log: EventLog, database: Database) -> None:
    """Two rows that swapped places break the chain at the first of them."""
    await _two_files(log)
    await database.tamper(
        f"UPDATE {EVENTS} SET position = 1000 WHERE position = 6",
        f"UPDATE {EVENTS} SET position = 6 WHERE position = 7",
        f"UPDATE {EVENTS} SET position = 7 WHERE position = 1000",
    )
    report = await verify(log)
    assert report.first_bad_position == 6
    assert report.problem
    assert report.problem.startswith("position 6: hash does not match its content (row altered?)")


async def test_row_inserted_with_a_forged_hash_is_found(log: EventLog, database: Database) -> None:
    """A row added by raw INSERT with a made-up hash is named by its position."""
    head = await _two_files(log)
    _, head_hash = await log.head()
    new_id = "gen_random_uuid()" if database.kind == "postgresql" else "lower(hex(randomblob(16)))"
    await database.tamper(
        f"INSERT INTO {EVENTS} (position, stream_id, version, event_id, type, schema_version, "
        f"occurred_at, recorded_at, data, prev_hash, hash) SELECT {head + 1}, 'app-2', 4, "
        f"{new_id}, type, schema_version, occurred_at, recorded_at, data, '{head_hash}', "
        f"'{'ab' * 32}' FROM {EVENTS} WHERE position = {head}"
    )
    report = await verify(log)
    assert report.first_bad_position == head + 1
    assert report.problem == (
        f"position {head + 1}: hash does not match its content (row altered?); the row there "
        "reads file app-2, WorksStarted (version 4), as stored: those columns may be altered too"
    )


async def test_checkpoint_signed_with_another_key_is_refused(log: EventLog) -> None:
    """A checkpoint of the right hash but signed with a key the auditor does not trust fails."""
    head = await _two_files(log)
    _, head_hash = await log.head()
    forged = sign(Ed25519PrivateKey.generate(), head, head_hash, NOW)
    report = await verify(log, [forged], trusted=KEY.public_key())
    assert not report.ok and report.first_bad_position is None
    assert report.problem is not None and "is refused: key" in report.problem
    assert report.checkpoints_matching == 0


async def test_checkpoint_altered_after_signing_is_refused(log: EventLog) -> None:
    """A checkpoint whose position was edited no longer matches its signature."""
    head = await _two_files(log)
    _, head_hash = await log.head()
    edited = sign(KEY, head, head_hash, NOW).model_copy(update={"position": head - 1})
    report = await verify(log, [edited], trusted=KEY.public_key())
    assert report.problem is not None and "signature does not match its content" in report.problem


async def _signed_twice(log: EventLog, tmp_path: Path) -> Path:
    """Eight events of one file, signed at positions 3 and 8; the exported checkpoints."""
    await record(log, "app-1", file_events("app-1")[:3])
    await checkpoint_now(log, KEY, NOW)
    await record(log, "app-1", file_events("app-1")[3:8])
    await checkpoint_now(log, KEY, NOW)
    kept = tmp_path / "checkpoints.json"
    export_file(await stored(log), kept, NOW)
    return kept


async def test_rewritten_and_rehashed_log_is_caught_by_an_exported_checkpoint(
    log: EventLog, database: Database, tmp_path: Path
) -> None:
    """A log re-hashed from position k passes plain verify but not a checkpoint past k."""
    kept = await _signed_twice(log, tmp_path)

    await database.rewrite_from(log, 5)

    assert (await log.verify()).ok, "the forgery must fool the chain alone"
    report = await verify(log, read_file(kept), trusted=KEY.public_key())
    assert not report.ok
    assert report.first_bad_position == 4  # after the last checkpoint that still matches (3)
    assert report.untrusted_from == 4
    assert report.problem == (
        "position 8: hash differs from the checkpoint of position 8 signed at "
        "2025-06-01T12:00:00Z: the log was rewritten somewhere in positions 4..8"
    )
    assert report.checkpoints_matching == 1
    # A file's own check and an export's read the stored checkpoints too, not the chain only.
    for own in (
        await verify_file(log, "app-1", KEY.public_key()),
        await check_files(log, ["app-1"]),
    ):
        assert (own.ok, own.untrusted_from) == (False, 4)
        assert own.problem is not None and "rewritten somewhere in positions 4..8" in own.problem


async def test_a_log_shorter_than_a_checkpoint_is_trusted_up_to_the_last_matching_one(
    log: EventLog, database: Database, tmp_path: Path
) -> None:
    """A log that ends before a signed checkpoint lost its tail, or a row anywhere after the
    last checkpoint that still matches (the rest renumbered and re-hashed, which the chain
    alone cannot tell apart): trust ends there, not at the missing tail."""
    kept = await _signed_twice(log, tmp_path)
    seventh = (await database.fetch(f"SELECT hash FROM {EVENTS} WHERE position = 7"))[0][0]
    await database.tamper(
        f"DELETE FROM {EVENTS} WHERE position = 8",
        f"UPDATE eventlog_head SET position = 7, hash = '{seventh}' WHERE id = 1",
        "DELETE FROM eventlog_checkpoints",
    )

    assert (await log.verify()).ok, "the forgery must fool the chain alone"
    report = await verify(log, read_file(kept), trusted=KEY.public_key())
    assert (report.ok, report.untrusted_from, report.first_bad_position) == (False, 4, 4)
    assert report.problem == (
        "position 8: the checkpoint of position 8 signed at 2025-06-01T12:00:00Z vouches for "
        "position 8 but the log ends at 7: events deleted at the end, or anywhere in positions "
        "4..7 and the rest renumbered"
    )
    assert report.vouched_up_to == 3


@pytest.mark.parametrize("statement", ["UPDATE {t} SET position = 1", "DELETE FROM {t}"])
async def test_stored_checkpoints_are_append_only(
    log: EventLog, database: Database, statement: str
) -> None:
    """The database refuses to change or delete a stored checkpoint."""
    await record(log, "app-1", file_events("app-1")[:2])
    await checkpoint_now(log, KEY, NOW)
    with pytest.raises(Exception, match="append-only"):
        await database.execute(statement.format(t="eventlog_checkpoints"))
    assert len(await stored(log)) == 1


async def test_an_unchanged_head_is_not_signed_twice(log: EventLog) -> None:
    """Checkpointing an idle log returns the existing checkpoint instead of piling up copies."""
    await record(log, "app-1", file_events("app-1")[:2])
    first, created = await checkpoint_now(log, KEY, NOW)
    again, created_again = await checkpoint_now(log, KEY, NOW)
    assert created and not created_again and again == first
    assert len(await stored(log)) == 1


async def test_a_guard_dropped_or_disabled_is_named_by_the_verification(
    log: EventLog, database: Database
) -> None:
    """The database's refusal of changes is part of the evidence: a trigger an intruder
    dropped (or, on PostgreSQL, disabled) fails the verification even when the chain is
    intact (it was a note beside « nothing wrong »), without naming any position."""
    await record(log, "app-1", file_events("app-1")[:3])
    assert await log.missing_guards() == ()
    assert (await verify(log)).ok
    if database.kind == "postgresql":
        await database.execute(
            "ALTER TABLE eventlog_events DISABLE TRIGGER eventlog_events_append_only"
        )
        weakened = "eventlog_events_append_only"
    else:
        await database.execute("DROP TRIGGER eventlog_events_no_update")
        weakened = "eventlog_events_no_update"
    report = await verify(log)
    assert await log.missing_guards() == (weakened,)
    assert not report.ok and report.notes == ()
    assert (report.first_bad_position, report.untrusted_from) == (None, None)
    (finding,) = report.findings
    assert finding.unguarded and report.problem == (
        f"the append-only trigger(s) {weakened} are dropped or disabled: the database no "
        "longer refuses changes to the log (the chain shows those made so far, unless they "
        "were re-hashed)"
    )
