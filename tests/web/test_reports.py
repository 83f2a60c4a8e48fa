"""The console's background reports: one computation per key, progress while it runs, the
result shown for a minute, a failure said and computed again."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from console.web.reports import FAILURE_SHOWN, FRESH, Report, Reports
from eventlog import EventLogUnavailable, UnreadableEvent


class Gate:
    """A computation that reports progress, then waits to be let through."""

    def __init__(self, result: str = "fait", error: Exception | None = None) -> None:
        self.opened = asyncio.Event()
        self.runs = 0
        self.result = result
        self.error = error

    async def __call__(self, report: Report) -> str:
        self.runs += 1
        report.progress(25, 100)
        await self.opened.wait()
        if self.error is not None:
            raise self.error
        return self.result


async def finished(report: Report) -> Report:
    assert report.task is not None
    await report.task
    return report


async def test_visits_while_it_runs_follow_one_computation_and_see_its_progress() -> None:
    """Two visits before the end: the same report, one run, its progress; then its result."""
    reports, gate = Reports(wait=0), Gate()
    first = await reports.get("portefeuille:actuel", gate)
    await asyncio.sleep(0)  # the computation's first step
    second = await reports.get("portefeuille:actuel", gate)
    assert second is first and gate.runs == 1
    assert not first.finished and first.percent == 25
    gate.opened.set()
    assert (await finished(first)).result == "fait" and first.error is None


async def test_a_finished_report_is_shown_for_a_minute_then_computed_again() -> None:
    """Within FRESH the same result; older, the next visit starts a new computation."""
    reports, gate = Reports(wait=0), Gate()
    gate.opened.set()
    report = await finished(await reports.get("journal", gate))
    assert await reports.get("journal", gate) is report and gate.runs == 1
    assert report.finished_at is not None
    report.finished_at -= FRESH  # as if a minute had passed
    again = await reports.get("journal", gate)
    assert again is not report and (await finished(again)).result == "fait"
    assert gate.runs == 2


async def test_a_failed_report_says_why_and_the_next_visit_computes_again() -> None:
    """The database gone mid-way: said in French without the database's address (which the
    server's log keeps), no result, a new run next time."""
    reports = Reports(wait=0)
    failing = Gate(error=EventLogUnavailable("the event log PostgreSQL … is unavailable"))
    failing.opened.set()
    with capture_logs() as logs:
        report = await finished(await reports.get("journal", failing))
    assert report.result is None
    assert report.error is not None and report.error.startswith(
        "la base de données de Guichet (journal et comptes) est injoignable"
    )
    assert [(entry["event"], entry["error"]) for entry in logs] == [
        ("event log unavailable", "the event log PostgreSQL … is unavailable")
    ]
    working = Gate()
    working.opened.set()
    assert report.finished_at is not None
    report.finished_at -= FAILURE_SHOWN  # once the page has shown it
    again = await finished(await reports.get("journal", working))
    assert again is not report and again.result == "fait"


async def test_a_failure_after_the_wait_is_shown_to_the_page_following_it() -> None:
    """A computation that fails after the page stopped waiting (minutes into a long log): the
    page's next visit sees why, instead of a new computation from 0 % that fails again unseen,
    forever; a visit once the failure has been on screen a while computes again."""
    reports = Reports(wait=0)
    failing = Gate(error=UnreadableEvent(10, "app-1", "PaymentOrdered.actor: Field required"))
    running = await reports.get("portefeuille:actuel", failing)
    failing.opened.set()  # it fails while nobody waits on it
    await finished(running)
    seen = await reports.get("portefeuille:actuel", failing)
    assert seen is running and seen.error is not None and failing.runs == 1
    assert running.finished_at is not None
    running.finished_at -= FAILURE_SHOWN  # as if the reader had read it
    again = await reports.get("portefeuille:actuel", failing)
    assert again is not running and failing.runs == 2


async def test_a_report_over_an_altered_row_names_the_row_in_french() -> None:
    """A row that holds no event (altered) stops the portfolio: its position and the journal
    are named, not « erreur inattendue (ValidationError) » nor a database outage."""
    reports = Reports(wait=0)
    failing = Gate(error=UnreadableEvent(10, "app-1", "PaymentOrdered.actor: Field required"))
    failing.opened.set()
    report = await finished(await reports.get("portefeuille:actuel", failing))
    assert report.error is not None and report.error.startswith(
        "la position 10 (dossier app-1) ne se lit plus comme un événement : la ligne a été "
        "modifiée, ou écrite par une version plus récente de Guichet. La vérification du "
        "journal (page Journal, /journal) nomme la première position altérée"
    )


async def test_only_the_last_reports_are_kept() -> None:
    """Older keys are forgotten beyond ``keep``: memory stays bounded whatever the dates asked."""
    reports, gate = Reports(keep=2, wait=0), Gate()
    gate.opened.set()
    oldest = await finished(await reports.get("portefeuille:2020-01-01", gate))
    await finished(await reports.get("portefeuille:2021-01-01", gate))
    await finished(await reports.get("portefeuille:2022-01-01", gate))
    assert await reports.get("portefeuille:2020-01-01", gate) is not oldest
