"""Exports: JSON Lines give back the stored events; CSV opens cleanly in a French spreadsheet."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from audit_support import file_events, record

from audit.exporting import CSV_HEADER, euros_fr, export, parse_jsonl, select_applications
from eventlog import EventLog


async def _three_files(log: EventLog) -> None:
    await record(log, "app-ain", file_events("app-ain", department="01"))
    await record(log, "app-gironde", file_events("app-gironde", department="33"))
    await record(log, "app-ain-2", file_events("app-ain-2", department="01")[:3])


async def test_jsonl_export_parses_back_to_the_same_events(log: EventLog, tmp_path: Path) -> None:
    """Every stored field survives the JSON Lines round trip, in log order."""
    await _three_files(log)
    path = tmp_path / "trail.jsonl"
    with path.open("w", encoding="utf-8") as out:
        count = await export(log, ["app-ain", "app-gironde"], out, "jsonl")
    parsed = parse_jsonl(path.read_text(encoding="utf-8").splitlines())
    expected = [e async for e in log.read_all() if e.stream_id in ("app-ain", "app-gironde")]
    assert parsed == expected and count == len(expected) > 0


async def test_csv_has_bom_semicolons_and_two_decimal_euro_amounts(
    log: EventLog, tmp_path: Path
) -> None:
    """UTF-8 with BOM, `;` separator, euros like 30000,00, ISO dates: a spreadsheet reads it."""
    await _three_files(log)
    path = tmp_path / "trail.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        await export(log, ["app-ain"], out, "csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert tuple(header) == CSV_HEADER
    assert all(len(row) == len(header) for row in body)
    column = {name: index for index, name in enumerate(header)}
    submitted = body[0]
    assert submitted[column["type"]] == "ApplicationSubmitted"
    assert submitted[column["occurred_at_utc"]] == "2025-03-03T08:00:00Z"
    disbursed = next(r for r in body if r[column["type"]] == "PaymentDisbursed")
    assert disbursed[column["amount_eur"]] == "30000,00"
    accepted = next(r for r in body if r[column["type"]] == "ApplicationAccepted")
    assert accepted[column["award_eur"]] == "100000,00"
    eligibility = next(r for r in body if r[column["type"]] == "EligibilityConfirmed")
    assert "(pass) [" in eligibility[column["rules"]]


def test_euros_have_a_comma_and_two_decimals() -> None:
    """Cents become the number a French spreadsheet reads, with no thousands separator."""
    assert [euros_fr(c) for c in (0, 5, 123_450, 10**13, None)] == [
        "0,00",
        "0,05",
        "1234,50",
        "100000000000,00",
        "",
    ]


async def test_files_are_selected_by_programme_and_department_from_the_log(
    log: EventLog,
) -> None:
    """The submission snapshot decides which files a programme or department export holds."""
    await _three_files(log)
    assert await select_applications(log, department="01") == ["app-ain", "app-ain-2"]
    assert await select_applications(log, department="33") == ["app-gironde"]
    programme = file_events()[0].request.programme_id  # type: ignore[union-attr]
    assert len(await select_applications(log, programme=programme)) == 3
    assert await select_applications(log, programme=programme, department="33") == ["app-gironde"]
    assert await select_applications(log, programme="nope") == []
