"""The checks behind the auditor's review, on SQLite and PostgreSQL: every altered row of the
files a view or an export prints is named; a verification orders its findings by where they
show, counts a checkpoint once, and says how far signed checkpoints vouch for the log."""

from __future__ import annotations

from datetime import UTC, datetime

from audit_support import Database, file_events, record
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.file_checks import check_files, verify_file
from audit.verifying import verify
from eventlog import EventLog
from eventlog.canonical import canonical_event, chain_hash
from eventlog.checkpoints import checkpoint_now, sign, stored
from eventlog.signing import key_id

EVENTS = "eventlog_events"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()


async def _two_files(log: EventLog) -> None:
    """app-1 at positions 1-4 and 8-11, app-2 at 5-7."""
    await record(log, "app-1", file_events("app-1")[:4])
    await record(log, "app-2", file_events("app-2")[:3])
    await record(log, "app-1", file_events("app-1")[4:8])


async def test_every_altered_row_of_the_checked_files_is_named(
    log: EventLog, database: Database
) -> None:
    """Two rows of app-1 altered: both named (not only the first), app-2 untouched is sound,
    and the first finding is the one the file page names."""
    await _two_files(log)
    assert (await check_files(log, ["app-1", "app-2"])).ok
    await database.tamper(
        f"UPDATE {EVENTS} SET data = replace(data, '\"type\"', '\"typo\"') WHERE position IN (3, 9)"
    )
    report = await check_files(log, ["app-1", "app-2"])
    assert not report.ok and report.checked == 11
    assert [f.position for f in report.findings] == [3, 9]
    assert report.first_bad_position == (await verify_file(log, "app-1")).first_bad_position
    assert report.untrusted_from == 3
    assert (await check_files(log, ["app-2"])).ok


async def test_a_row_re_hashed_alone_or_deleted_is_named_where_the_file_page_names_it(
    log: EventLog, database: Database
) -> None:
    """A row deleted (a gap, counted file by file) and a row re-hashed alone (its successor
    no longer chains to it): each found where ``verify_file`` finds it."""
    await _two_files(log)
    row = [e async for e in log.read_all()][8]  # position 9
    data = {**row.data, "actor": {**row.data["actor"], "id": "someone-else"}}
    body = canonical_event(
        position=9,
        stream_id=row.stream_id,
        version=row.version,
        event_id=row.event_id,
        type_=row.type,
        schema_version=row.schema_version,
        occurred_at=row.occurred_at,
        data=data,
    )
    stored_data = body[len('{"data":') : body.index(',"event_id":')].replace("'", "''")
    await database.tamper(
        f"UPDATE {EVENTS} SET data = '{stored_data}', "
        f"hash = '{chain_hash(row.prev_hash, body)}' WHERE position = 9"
    )
    re_hashed = await check_files(log, ["app-1"])
    assert [f.position for f in re_hashed.findings] == [10]
    assert re_hashed.problem == "position 10: prev_hash does not chain to position 9"
    assert (await verify_file(log, "app-1")).first_bad_position == 10
    await database.tamper(f"DELETE FROM {EVENTS} WHERE position = 6")
    for application_id in ("app-1", "app-2"):  # a gap counted file by file, as the page does
        deleted = await check_files(log, [application_id])
        assert not deleted.ok
        assert (
            deleted.first_bad_position
            == (await verify_file(log, application_id)).first_bad_position
        )


async def test_a_chain_fault_heads_the_report_before_a_checkpoint_range_that_ends_later(
    log: EventLog, database: Database
) -> None:
    """A row altered at 5 and a trusted checkpoint of position 11 that the log contradicts
    (its range 1..11): the first bad position is 5, not 1; the doubt still starts at 1."""
    await _two_files(log)
    await database.tamper(
        f"UPDATE {EVENTS} SET data = replace(data, 'agent', 'agant') WHERE position = 5"
    )
    contradicted = sign(KEY, 11, "ab" * 32, NOW)
    report = await verify(log, [contradicted], trusted=KEY.public_key())
    assert report.first_bad_position == 5
    assert report.problem
    assert report.problem.startswith("position 5: hash does not match its content (row altered?); ")
    assert [f.shows_at for f in report.findings] == [5, 11]
    assert report.untrusted_from == 1


async def test_a_checkpoint_from_the_file_and_the_database_counts_once(log: EventLog) -> None:
    """The stored checkpoint given again (as in the auditor's export) is one checked, one
    matching, and vouches for the head under the trusted key."""
    await _two_files(log)
    await checkpoint_now(log, KEY, NOW)
    kept = await stored(log)
    report = await verify(log, [*kept, *kept], trusted=KEY.public_key())
    assert report.ok
    assert (report.checkpoints_checked, report.checkpoints_matching) == (1, 1)
    assert (report.vouched_up_to, report.trusted_key_id) == (11, key_id(KEY.public_key()))


async def test_unchecked_signatures_vouch_for_nothing(log: EventLog) -> None:
    """Without a trusted key a matching checkpoint proves no more than the chain: nothing is
    vouched for."""
    await _two_files(log)
    await checkpoint_now(log, KEY, NOW)
    report = await verify(log, await stored(log))
    assert report.ok and report.vouched_up_to == 0 and report.trusted_key_id is None
