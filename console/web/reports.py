"""Reads of the whole log (the portfolio as of a day, the journal's verification), computed in
the background of the console process while their page shows how far they have gone.

On a ten-year log they take minutes (bench/README.md, scale model): longer than a browser or a
reverse proxy waits for a page. Only the auditor's form starts one (a POST, ``start``): a page
opened (a GET, which a link prefetch, a crawler or a restored tab sends too) shows the report
as it stands (``current``), or the form to start it. The form waits for its report a short
while, so that a small log's page shows the result at once; otherwise the page shows the
progress and reloads itself. Forms sent meanwhile follow the same computation instead of
starting another. A finished report is shown for a minute (to the page that waited for it and
its reloads), then the page offers to compute it again: an auditor is not shown an old
verification as if it were today's. A failed one is shown as long, with the form, which
computes it again at once. A result held outside memory (a download's file, ``Disposable``) is
freed once its report is no longer shown or kept.
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import structlog

from console.web.findings import unreadable_in_french
from console.web.outages import database_outage
from eventlog import EventLogError, UnreadableEvent

logger = structlog.get_logger("guichet.console")

KEEP = 20
WAIT_SECONDS = 2.0
"""How long a page waits for its report before showing the progress instead."""
FRESH = timedelta(minutes=1)
"""How long a finished report is shown before its page offers to compute it again."""
SWEEP_MARGIN = 1.0
"""Seconds past ``FRESH`` after which a finished report's result is freed without a visit:
the loop's clock and the wall clock ``_fresh`` reads need not agree to the millisecond."""


@dataclass
class Report:
    """One computation: how far it has gone, then its result or why it failed."""

    key: str
    started_at: datetime
    done: int = 0
    total: int = 0
    result: Any = None
    error: str | None = None
    finished_at: datetime | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    unit: str = "événements lus"
    """What ``done`` and ``total`` count, as the page says it: the stage under way."""

    @property
    def finished(self) -> bool:
        """True once the result or the error is there."""
        return self.finished_at is not None

    @property
    def percent(self) -> int:
        """How far the read has gone, 0 to 100."""
        return min(100, self.done * 100 // self.total) if self.total else 0

    def progress(self, done: int, total: int) -> None:
        """The computation's progress callback: ``(items done, items in all)``."""
        self.done, self.total = done, total

    def stage(self, unit: str) -> Callable[[int, int], None]:
        """The progress callback of a later stage, counting ``unit`` (« pièces jointes
        hachées »): without it, the page sat at 100 % of the first stage meanwhile."""

        def progress(done: int, total: int) -> None:
            self.unit = unit
            self.progress(done, total)

        return progress


@dataclass(frozen=True)
class StartForm:
    """The form a report's page shows to start it (``calcul.html``): a POST to ``action``
    with the page's CSRF token and ``fields``, the choices its address made."""

    action: str
    fields: dict[str, str]
    label: str
    """The button's words: what it computes."""


Computation = Callable[[Report], Awaitable[Any]]
"""Computes a report's result, telling ``report.progress`` how far it has gone."""


@runtime_checkable
class Disposable(Protocol):
    """A result holding more than memory (a prepared download's file on disk)."""

    def discard(self) -> None:
        """Free what it holds: its report is no longer shown, nor kept."""


class Reports:
    """The reports of one console process, by key."""

    def __init__(self, keep: int = KEEP, wait: float = WAIT_SECONDS) -> None:
        self._reports: OrderedDict[str, Report] = OrderedDict()
        self._running: set[asyncio.Task[None]] = set()
        """Strong references: a report forgotten beyond ``keep`` may still be running, and the
        event loop holds its tasks only weakly."""
        self._keep = keep
        self._wait = wait

    async def start(self, key: str, compute: Computation) -> Report:
        """The report for ``key``: the one running, or finished within ``FRESH`` without an
        error, else a new computation; waits for it a little, so that small logs answer at
        once. For the form that asks for it, never for a page opened."""
        self._sweep()
        report = self._reports.get(key)
        if report is None or (report.finished and (report.error or not _fresh(report))):
            report = Report(key, started_at=datetime.now(UTC))
            report.task = asyncio.create_task(_run(report, compute))
            self._running.add(report.task)
            report.task.add_done_callback(self._running.discard)
            report.task.add_done_callback(functools.partial(self._finished, report))
            self._reports[key] = report
            while len(self._reports) > self._keep:
                _discard(self._reports.popitem(last=False)[1])  # one running: once it ends
        self._reports.move_to_end(key)
        if report.task is not None and not report.finished:
            await asyncio.wait({report.task}, timeout=self._wait)
        return report

    def current(self, key: str) -> Report | None:
        """The report for ``key`` while it runs, or finished within ``FRESH`` (its result or
        why it failed); None otherwise. Computes nothing: what a page opened shows."""
        self._sweep()
        report = self.find(key)
        return report if report is not None and (not report.finished or _fresh(report)) else None

    def find(self, key: str) -> Report | None:
        """The report for ``key`` as it stands, however old, without computing anything: for
        a computation only its starter can make again (a verification with an uploaded file)."""
        report = self._reports.get(key)
        if report is not None:
            self._reports.move_to_end(key)
        return report

    async def close(self) -> None:
        """Cancel the computations still running and free every result: at shutdown."""
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        for report in self._reports.values():
            _discard(report)
        self._reports.clear()

    def _finished(self, report: Report, _: object) -> None:
        """A computation ended: its result freed at once if its report was evicted meanwhile,
        else when it is no longer shown (a console nobody opens frees it too)."""
        if self._reports.get(report.key) is not report:
            _discard(report)
        elif isinstance(report.result, Disposable):
            loop = asyncio.get_running_loop()
            loop.call_later(FRESH.total_seconds() + SWEEP_MARGIN, self._sweep)

    def _sweep(self) -> None:
        """Free the results no longer shown (finished over ``FRESH`` ago); the reports stay,
        for ``find``."""
        for report in self._reports.values():
            if report.finished and not _fresh(report):
                _discard(report)


def _discard(report: Report) -> None:
    """Free a report's ``Disposable`` result (a running one's when it ends: ``_finished``)."""
    if isinstance(report.result, Disposable):
        report.result.discard()
        report.result = None


def _fresh(report: Report) -> bool:
    """Whether a finished report is still shown."""
    finished_at = report.finished_at
    return finished_at is not None and datetime.now(UTC) - finished_at < FRESH


async def _run(report: Report, compute: Computation) -> None:
    try:
        report.result = await compute(report)
    except UnreadableEvent as error:  # an altered row: where, and what to run
        report.error = unreadable_in_french(error)
    except EventLogError as error:  # the database went away: said on the page, tried again
        outage = database_outage(error, report=report.key)
        report.error = outage[0].lower() + outage[1:]  # after « Le calcul n'a pas abouti : »
    except Exception as error:  # a bug: logged whole, said in one line, tried again
        logger.exception("report failed", key=report.key)
        report.error = f"erreur inattendue ({type(error).__name__})"
    finally:
        report.finished_at = datetime.now(UTC)
