"""The verification's clocks, on SQLite and PostgreSQL: ``recorded_at`` stepping back along
positions, and events recorded before their business date, beyond the tolerance, reported
with both moments beside an intact chain, which they leave intact."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from audit_support import Database, file_events, record

from audit.verifying import verify
from eventlog import ClockCheck, EventLog, NewEvent, log_verifier
from eventlog.clocks import SAMPLES
from eventlog.models import RecordedEarly, StepBack

SECOND = timedelta(seconds=1)


async def _ordinary(log: EventLog, database: Database) -> dict[int, datetime]:
    """app-1's 11 events, each recorded a second after its business moment (events 4-5 and
    10-11 share theirs): ordinary clocks, to the millisecond. Their business moments."""
    await record(log, "app-1", file_events("app-1"))
    occurred = {e.position: e.occurred_at async for e in log.read_all()}
    await database.set_recorded_at({p: moment + SECOND for p, moment in occurred.items()})
    return occurred


async def test_an_intact_log_with_ordinary_clocks_reports_no_clock_finding(
    log: EventLog, database: Database
) -> None:
    """Recorded as the log records, events of one batch included (one clock reading, or
    microseconds apart): nothing to report."""
    await record(log, "app-1", file_events("app-1"))
    batch = [
        NewEvent(event_id=uuid.uuid4(), type="Noted", data={"n": n}, occurred_at=datetime.now(UTC))
        for n in range(3)
    ]
    await log.append("app-2", 0, batch)
    for report in (await log.verify(), await verify(log)):
        assert report.ok and report.clocks == ClockCheck(tolerance_seconds=60.0)


async def test_clocks_that_agree_to_the_millisecond_report_nothing_even_without_tolerance(
    log: EventLog, database: Database
) -> None:
    """Each event recorded a second after its business moment, some sharing theirs: no
    finding at a tolerance of 0, where any disagreement would be one."""
    await _ordinary(log, database)
    report = await verify(log, clock_tolerance=timedelta(0))
    assert report.ok and report.clocks == ClockCheck(tolerance_seconds=0.0)


@pytest.mark.parametrize("batch", [1000, 4])
async def test_steps_back_are_counted_and_named_with_both_moments_and_the_log_stays_intact(
    log: EventLog, database: Database, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recorded_at set an hour back (position 11), and one set a month ahead (position 8,
    which shows as a step back at 9): two steps back, no chain finding, exit status
    untouched (``ok``); also where verify reads 4 rows at a time, 9 opening a read."""
    monkeypatch.setattr(log_verifier, "_VERIFY_BATCH", batch)
    occurred = await _ordinary(log, database)
    await database.set_recorded_at(
        {
            8: occurred[8] + timedelta(days=30),
            10: occurred[10] + 2 * timedelta(hours=1),
            11: occurred[11] + timedelta(hours=1),
        }
    )
    report = await verify(log)
    assert report.ok and report.findings == () and report.untrusted_from is None
    assert report.clocks == ClockCheck(
        tolerance_seconds=60.0,
        steps_back=2,
        first_steps_back=(
            StepBack(
                position=9,
                recorded_at=occurred[9] + SECOND,
                previous_recorded_at=occurred[8] + timedelta(days=30),
            ),
            StepBack(
                position=11,
                recorded_at=occurred[11] + timedelta(hours=1),
                previous_recorded_at=occurred[10] + 2 * timedelta(hours=1),
            ),
        ),
    )


async def test_an_event_recorded_before_its_business_date_is_counted_and_named(
    log: EventLog, database: Database
) -> None:
    """A recorded_at two hours before its occurred_at (position 7, still after position 6's):
    one event recorded early, no step back."""
    occurred = await _ordinary(log, database)
    await database.set_recorded_at({7: occurred[7] - timedelta(hours=2)})
    report = await verify(log)
    assert report.ok and report.clocks is not None
    assert report.clocks.steps_back == 0
    assert report.clocks.recorded_early == 1
    assert report.clocks.first_recorded_early == (
        RecordedEarly(
            position=7, occurred_at=occurred[7], recorded_at=occurred[7] - timedelta(hours=2)
        ),
    )


async def test_a_business_date_ahead_of_the_clock_is_appended_legitimately_and_reported(
    log: EventLog,
) -> None:
    """As a workflow on Temporal's time-skipping server appends (its clock years ahead): the
    chain is intact, the events are reported, counted past the first few."""
    ahead = datetime.now(UTC) + timedelta(days=3 * 365)
    batch = [
        NewEvent(event_id=uuid.uuid4(), type="Noted", data={"n": n}, occurred_at=ahead)
        for n in range(SAMPLES + 2)
    ]
    await log.append("app-1", 0, batch)
    report = await verify(log)
    assert report.ok and report.clocks is not None
    assert report.clocks.recorded_early == SAMPLES + 2
    shown = report.clocks.first_recorded_early
    assert [e.position for e in shown] == list(range(1, SAMPLES + 1))
    assert shown[0].occurred_at is not None  # to the millisecond
    assert abs(shown[0].occurred_at - ahead) <= timedelta(milliseconds=1)


async def test_the_tolerance_is_respected_for_both_findings(
    log: EventLog, database: Database
) -> None:
    """Position 11 recorded 30 s before position 10 (which shares its business moment) and
    29 s before its own: reported at a tolerance of 28 s, not at 31 s nor at the default."""
    occurred = await _ordinary(log, database)
    await database.set_recorded_at({11: occurred[11] - 29 * SECOND})
    for seconds, found in ((28, 1), (31, 0), (None, 0)):
        tolerance = {} if seconds is None else {"clock_tolerance": timedelta(seconds=seconds)}
        clocks = (await log.verify(**tolerance)).clocks
        assert clocks is not None
        assert (clocks.steps_back, clocks.recorded_early) == (found, found), seconds


async def test_a_recorded_at_that_is_no_moment_is_reported_not_fatal(
    log: EventLog, database: Database
) -> None:
    """PostgreSQL's infinity at position 6 (the step back shows at 7, from no moment), or on
    SQLite text that is no date (a step back at 6, to no moment): reported, verify goes on."""
    await _ordinary(log, database)
    if database.kind == "postgresql":
        await database.set_recorded_at({6: "'infinity'"})
        expected = StepBack.model_construct(position=7, previous_recorded_at=None)
    else:
        await database.set_recorded_at({6: "'not a date'"})
        expected = StepBack.model_construct(position=6, recorded_at=None)
    report = await verify(log)
    assert report.ok and report.checked == 11 and report.clocks is not None
    assert report.clocks.steps_back == 1 and report.clocks.recorded_early == 0
    step = report.clocks.first_steps_back[0]
    assert step.position == expected.position
    for field in expected.model_fields_set - {"position"}:
        assert getattr(step, field) is None, field


async def test_a_broken_chain_still_reports_the_clocks_of_the_rows_before_it(
    log: EventLog, database: Database
) -> None:
    """The chain's fault decides the verdict; the clocks cover the rows checked before it."""
    occurred = await _ordinary(log, database)
    await database.set_recorded_at({3: occurred[3] - timedelta(hours=2)})
    await database.tamper(
        "UPDATE eventlog_events SET data = replace(data, ':\"', ':\"X') WHERE position = 9"
    )
    report = await verify(log)
    assert not report.ok and report.first_bad_position == 9
    assert report.clocks is not None
    assert [e.position for e in report.clocks.first_recorded_early] == [3]
