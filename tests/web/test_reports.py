"""The console's background reports: started by a form only, one computation per key,
progress while it runs, the result shown for a minute, a failure said and computed again."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from console.web.reports import FRESH, Report, Reports
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


async def test_forms_sent_while_it_runs_follow_one_computation_and_see_its_progress() -> None:
    """Two starts before the end: the same report, one run, its progress; then its result."""
    reports, gate = Reports(wait=0), Gate()
    first = await reports.start("portefeuille:actuel", gate)
    await asyncio.sleep(0)  # the computation's first step
    second = await reports.start("portefeuille:actuel", gate)
    assert second is first and gate.runs == 1
    assert reports.current("portefeuille:actuel") is first
    assert not first.finished and first.percent == 25
    gate.opened.set()
    assert (await finished(first)).result == "fait" and first.error is None


async def test_a_page_opened_computes_nothing() -> None:
    """``current`` (what a GET shows) finds no report where none was started, and starts none."""
    reports, gate = Reports(wait=0), Gate()
    assert reports.current("journal") is None
    assert reports.current("journal") is None and gate.runs == 0


async def test_a_finished_report_is_shown_for_a_minute_then_offered_again() -> None:
    """Within FRESH the same result, to a page and to a form; older, the page shows none (it
    offers the form) and the form starts a new computation."""
    reports, gate = Reports(wait=0), Gate()
    gate.opened.set()
    report = await finished(await reports.start("journal", gate))
    assert await reports.start("journal", gate) is report and gate.runs == 1
    assert reports.current("journal") is report
    assert report.finished_at is not None
    report.finished_at -= FRESH  # as if a minute had passed
    assert reports.current("journal") is None
    again = await reports.start("journal", gate)
    assert again is not report and (await finished(again)).result == "fait"
    assert gate.runs == 2


async def test_a_failed_report_says_why_and_the_form_computes_it_again_at_once() -> None:
    """The database gone mid-way: said in French without the database's address (which the
    server's log keeps), no result; the page shows why, and the form sent again starts anew
    rather than showing the failure once more."""
    reports = Reports(wait=0)
    failing = Gate(error=EventLogUnavailable("the event log PostgreSQL … is unavailable"))
    failing.opened.set()
    with capture_logs() as logs:
        report = await finished(await reports.start("journal", failing))
    assert report.result is None
    assert report.error is not None and report.error.startswith(
        "la base de données de Guichet (journal et comptes) est injoignable"
    )
    assert [(entry["event"], entry["error"]) for entry in logs] == [
        ("event log unavailable", "the event log PostgreSQL … is unavailable")
    ]
    assert reports.current("journal") is report
    working = Gate()
    working.opened.set()
    again = await finished(await reports.start("journal", working))
    assert again is not report and again.result == "fait"


async def test_a_failure_after_the_wait_is_shown_to_the_page_following_it() -> None:
    """A computation that fails after its form stopped waiting (minutes into a long log): the
    page following it sees why, and nothing is computed again until the form is sent."""
    reports = Reports(wait=0)
    failing = Gate(error=UnreadableEvent(10, "app-1", "PaymentOrdered.actor: Field required"))
    running = await reports.start("portefeuille:actuel", failing)
    failing.opened.set()  # it fails while nobody waits on it
    await finished(running)
    seen = reports.current("portefeuille:actuel")
    assert seen is running and running.error is not None and failing.runs == 1


async def test_a_report_over_an_altered_row_names_the_row_in_french() -> None:
    """A row that holds no event (altered) stops the portfolio: its position and the journal
    are named, not « erreur inattendue (ValidationError) » nor a database outage."""
    reports = Reports(wait=0)
    failing = Gate(error=UnreadableEvent(10, "app-1", "PaymentOrdered.actor: Field required"))
    failing.opened.set()
    report = await finished(await reports.start("portefeuille:actuel", failing))
    assert report.error is not None and report.error.startswith(
        "la position 10 (dossier app-1) ne se lit plus comme un événement : la ligne a été "
        "modifiée, ou écrite par une version plus récente de Guichet. La vérification du "
        "journal (page Journal, /journal) nomme la première position altérée"
    )


async def test_only_the_last_reports_are_kept() -> None:
    """Older keys are forgotten beyond ``keep``: memory stays bounded whatever the dates asked."""
    reports, gate = Reports(keep=2, wait=0), Gate()
    gate.opened.set()
    oldest = await finished(await reports.start("portefeuille:2020-01-01", gate))
    await finished(await reports.start("portefeuille:2021-01-01", gate))
    await finished(await reports.start("portefeuille:2022-01-01", gate))
    assert await reports.start("portefeuille:2020-01-01", gate) is not oldest
