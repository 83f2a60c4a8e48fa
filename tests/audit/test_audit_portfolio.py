"""The portfolio: every file's state as of a date, from one read of the log, is each file's
own ``state_as_of``; exports count what they wrote."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from functools import partialmethod

import pytest
from audit_support import file_events, record

from audit.portfolio import CSV_HEADER, export_states, states_as_of, summarize
from audit.timeline import state_as_of, state_json
from domain.commands import Command, OrderPayment, RecordPaymentFailure
from eventlog import EventLog
from tests.unit.builders import PAYMENT_OFFICER, SYSTEM, history


async def _three_files(log: EventLog) -> None:
    await record(log, "app-ain", file_events("app-ain", department="01"))
    await record(log, "app-gironde", file_events("app-gironde", department="33"))
    await record(log, "app-ain-2", file_events("app-ain-2", department="01")[:3])


async def test_each_state_is_the_files_own_state_as_of_the_same_cut(log: EventLog) -> None:
    """No cut, a date and a position: the one-pass fold gives each file's state_as_of."""
    await _three_files(log)
    for at, position in ((None, None), (file_events()[2].at, None), (None, 5)):
        states = [state async for state in states_as_of(log, at=at, position=position)]
        expected = [
            await state_as_of(log, id_, at=at, position=position) for id_ in await log.stream_ids()
        ]
        assert states == [state for state in expected if state.version > 0], (at, position)
    assert [s.application_id async for s in states_as_of(log)] == sorted(
        ["app-ain", "app-ain-2", "app-gironde"]
    )


async def test_a_file_with_no_event_by_then_is_left_out(log: EventLog) -> None:
    """A file that did not exist yet at the cut is not in the portfolio at all."""
    await _three_files(log)
    before_all = file_events()[0].at.replace(year=2000)
    assert [state async for state in states_as_of(log, at=before_all)] == []
    # Position 1 is the first event of the first file appended: that file alone existed.
    (only,) = [state async for state in states_as_of(log, position=1)]
    assert (only.application_id, only.status, only.version) == ("app-ain", "submitted", 1)


async def test_csv_has_one_row_per_file_of_the_department_and_counts_them(
    log: EventLog,
) -> None:
    """The export's CSV conventions, one row per chosen file, and the counts it returns."""
    await _three_files(log)
    out = io.StringIO(newline="")
    portfolio = await export_states(log, out, "csv", department="01")
    text = out.getvalue()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    header, body = tuple(rows[0]), rows[1:]
    assert header == CSV_HEADER and all(len(row) == len(header) for row in body)
    column = {name: index for index, name in enumerate(header)}
    assert [row[column["application_id"]] for row in body] == ["app-ain", "app-ain-2"]
    assert [row[column["department"]] for row in body] == ["01", "01"]
    full = body[0]
    assert full[column["award_eur"]] == "100000,00" and full[column["paid_eur"]] == "30000,00"
    assert full[column["submitted_at_utc"]] == "2025-03-03T08:00:00Z"
    assert portfolio.position == (await log.head())[0]
    assert await summarize(log, department="01") == portfolio  # the same count, nothing written
    assert portfolio.files == 2 and portfolio.paid_cents == 30_000 * 100
    assert portfolio.award_cents == 100_000 * 100
    assert sum(portfolio.by_status.values()) == 2


async def test_a_closed_file_says_what_it_cost_its_funders_in_the_end(log: EventLog) -> None:
    """Overpaid, then repaid: its award still reads as granted at acceptance, and an auditor
    asking what the programme cost had no figure for it. ``final`` is paid less repaid, once
    the file is closed; empty while a file runs."""
    from domain.commands import DeclareCompletion, RecordRepayment
    from tests.unit.builders import (
        APPLICANT,
        PAYMENT_OFFICER,
        at,
        claim,
        history,
        paid,
        to_started,
    )

    overpaid = [
        *to_started(),
        claim("advance", 30_000),
        *paid(1),
        claim("interim", 50_000, expense=200_000),
        *paid(2),
        DeclareCompletion(actor=APPLICANT, at=at(60), completed_on=at(60).date()),
        claim("balance", expense=200_000, days=61),
        RecordRepayment(actor=PAYMENT_OFFICER, at=at(70), amount_cents=30_000_00, reference="R"),
    ]
    events = history(overpaid)
    events[0] = file_events("app-closed")[0].model_copy(update={"at": events[0].at})
    await record(log, "app-closed", events)
    await record(log, "app-running", file_events("app-running"))
    out = io.StringIO(newline="")
    portfolio = await export_states(log, out, "csv")
    rows = list(csv.reader(io.StringIO(out.getvalue().removeprefix("\ufeff")), delimiter=";"))
    final = {row[0]: row[CSV_HEADER.index("final_eur")] for row in rows[1:]}
    assert final == {"app-closed": "50000,00", "app-running": ""}
    assert portfolio.final_cents == 50_000_00 and portfolio.by_status["closed"] == 1


def _paying_file(*after_claim: Command) -> list[Command]:
    """The default file: its advance paid on 24 March 2025 (08:00 UTC), an interim claimed,
    then ``after_claim``."""
    from tests.unit.builders import claim, paid, to_started

    return [*to_started(), claim("advance", 30_000), *paid(1),
            claim("interim", 50_000, expense=200_000, days=30), *after_claim]  # fmt: skip


ORDERED = datetime(2025, 4, 14, 23, 30, tzinfo=UTC)
"""The interim's order: 15 April in Paris (01:30), the 14th in UTC."""


def _order(at: datetime) -> OrderPayment:
    return OrderPayment(actor=PAYMENT_OFFICER, at=at, payment_number=2)


DAY = timedelta(days=1)
REFUSAL = RecordPaymentFailure(
    actor=SYSTEM, at=ORDERED + DAY, payment_number=2, reason="Compte clôturé"
)


async def test_csv_gives_the_days_a_file_s_payments_were_last_ordered_paid_and_refused(
    log: EventLog,
) -> None:
    """The state holds the days of each payment's order, payment and refusal, and the file
    page and ``guichet show`` give them; the auditor's CSV gave the sum paid and no day:
    whether money left before the cut, or an order still waited on the bank at it, was not
    read from it. Each file's latest order, payment and standing refusal, as ISO times in
    UTC like its other moments (one payment is under way at a time: an order later than the
    last payment is that one)."""
    refused = history(_paying_file(_order(ORDERED), REFUSAL))
    ordered_again = history(_paying_file(_order(ORDERED), REFUSAL, _order(ORDERED + 3 * DAY)))
    await record(log, "app-1", refused)
    rows = await _csv_rows(log)
    header, (row,) = rows[0], rows[1:]
    moments = ("last_ordered_at_utc", "last_disbursed_at_utc", "last_failed_at_utc")
    assert tuple(header[-3:]) == moments  # after final_eur: sheets reading by place still do
    cells = dict(zip(header, row, strict=True))
    assert [cells[name] for name in moments] == [
        "2025-04-14T23:30:00Z", "2025-03-24T08:00:00Z", "2025-04-15T23:30:00Z",
    ]  # fmt: skip
    lines = io.StringIO()
    await export_states(log, lines, "jsonl")  # each whole state: every payment's moments
    interim = json.loads(lines.getvalue())["payments"][1]
    assert datetime.fromisoformat(interim["failed_at"]) == ORDERED + DAY
    await record(log, "app-1", ordered_again[len(refused) :])
    (_, row) = await _csv_rows(log)
    assert row[-3:] == ["2025-04-17T23:30:00Z", "2025-03-24T08:00:00Z", ""]  # no refusal now


async def _csv_rows(log: EventLog) -> list[list[str]]:
    out = io.StringIO(newline="")
    await export_states(log, out, "csv")
    return list(csv.reader(io.StringIO(out.getvalue().removeprefix("\ufeff")), delimiter=";"))


def test_the_workbook_gives_the_same_payment_days_in_paris() -> None:
    """The portfolio's workbook, in French, gives those moments as the file page gives them:
    Paris days, the order of 23:30 UTC on the 14th on the 15th."""
    from console.web.exports import PORTFOLIO_HEADER, PORTFOLIO_WIDTHS, portfolio_row
    from tests.unit.builders import apply

    assert PORTFOLIO_HEADER[-3:] == (
        "Dernier paiement ordonné le (jour à Paris)",
        "Dernier paiement versé le (jour à Paris)",
        "Paiement refusé par la banque le (jour à Paris)",
    )
    assert len(PORTFOLIO_WIDTHS) == len(PORTFOLIO_HEADER)
    row = portfolio_row(apply(_paying_file(_order(ORDERED), REFUSAL)), {})
    assert row[-3:] == (date(2025, 4, 15), date(2025, 3, 24), date(2025, 4, 16))
    advance_paid = (date(2025, 3, 24), date(2025, 3, 24), None)  # the interim not ordered yet
    assert portfolio_row(apply(_paying_file()), {})[-3:] == advance_paid


async def test_jsonl_carries_each_whole_state_and_progress_reaches_the_end(
    log: EventLog,
) -> None:
    """Each line is the file's whole state; progress is told in order up to the last event."""
    await _three_files(log)
    told: list[tuple[int, int]] = []
    out = io.StringIO()
    programme = file_events()[0].request.programme_id  # type: ignore[union-attr]
    portfolio = await export_states(
        log, out, "jsonl", programme=programme, progress=lambda *seen: told.append(seen)
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines == [state_json(await state_as_of(log, id_)) for id_ in await log.stream_ids()]
    total = (await log.head())[0]
    assert told[-1] == (total, total) and [done for done, _ in told] == sorted(d for d, _ in told)
    assert portfolio.files == 3
    assert (await export_states(log, io.StringIO(), "jsonl", programme="nope")).files == 0
    assert (await export_states(log, io.StringIO(), "csv", position=4)).position == 4


async def test_events_appended_during_the_read_are_left_out(
    log: EventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files are read one after another; every one is cut at the head the read began with,
    so an event appended meanwhile to a file not read yet does not show."""
    await _three_files(log)
    monkeypatch.setattr(
        EventLog, "read_streams", partialmethod(EventLog.read_streams, batch_size=1)
    )
    head = (await log.head())[0]
    reading = states_as_of(log)
    first = await anext(reading)
    late = file_events("app-ain-2", department="01")[3]
    await record(log, "app-ain-2", [late])  # app-ain-2 comes after app-ain in id order
    rest = [state async for state in reading]
    assert [s.application_id for s in [first, *rest]] == ["app-ain", "app-ain-2", "app-gironde"]
    assert rest[0] == await state_as_of(log, "app-ain-2", position=head)
    assert rest[0].version == 3 and (await state_as_of(log, "app-ain-2")).version == 4
