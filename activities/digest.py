"""The daily digest's activity: list the files through Temporal visibility, build the notices.

The caseworkers' digests come from the listing alone. The co-financers' need more than
visibility publishes (``GuichetFunders`` names a plan's funders, not whose decision is pending
nor by when): the files a co-financer may decide now are listed, and their states read from
the event log, as the console's « Mes lignes de financement » reads them. The notices are
delivered by the outbox's activities, like every other notice; the workflow mints their
message ids.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from temporalio import activity

from activities.logging import activity_logger
from domain.digest import HORIZON_DAYS, DigestFile, build_digests
from domain.digest_cofinancers import (
    DECIDABLE,
    AwaitedDecision,
    awaited_decisions,
    build_cofinancer_digests,
)
from domain.events import parse_event
from domain.model import AwareDatetime, Frozen
from domain.notices import Notice
from eventlog import EventLog
from workflows import search
from workflows.client import ApplicationSummary, GuichetClient
from workflows.visibility import RUNNING, digest_query

DEFAULT_STALE_DAYS = 7
STATES_READ_AT_ONCE = 500
"""Files whose events one read of the log folds (a console page's worth)."""


class DigestRequest(Frozen):
    """The moment the digest is for, and optionally a staleness other than the worker's."""

    at: AwareDatetime
    stale_days: int | None = Field(default=None, ge=1)
    horizon_days: int = Field(default=HORIZON_DAYS, ge=1)


class DigestNotices(Frozen):
    """One notice per caseworker who has something to look at, then one per co-financer
    whose decision is awaited (possibly none)."""

    notices: tuple[Notice, ...]
    files: int
    """How many listed files were considered for the caseworkers."""
    awaited: int = 0
    """How many lines wait for a co-financer's decision (0 in runs of before)."""


class DigestActivities:
    """Holds the Temporal client the listing needs, and the event log the co-financers'
    digests read (None: caseworkers' digests only)."""

    def __init__(
        self,
        guichet: GuichetClient,
        *,
        log: EventLog | None = None,
        stale_days: int = DEFAULT_STALE_DAYS,
    ) -> None:
        self._guichet = guichet
        self._log = log
        self._stale_days = stale_days

    @activity.defn(name="collect_digests")
    async def collect_digests(self, request: DigestRequest) -> DigestNotices:
        """List stale and soon-due files, group them by caseworker, build the notices."""
        stale_days = request.stale_days or self._stale_days
        horizon = timedelta(days=request.horizon_days)
        query = digest_query(request.at, stale_days=stale_days, horizon=horizon)
        rows = await self._guichet.list(query, limit=None)
        files = [file for file in map(_digest_file, rows) if file is not None]
        notices = build_digests(
            files, now=request.at, stale_days=stale_days, horizon_days=request.horizon_days
        )
        awaited = await self._awaited_decisions()
        for_funders = build_cofinancer_digests(awaited, now=request.at)
        activity_logger().info(
            "digests collected",
            listed=len(rows),
            assigned=len(files),
            digests=len(notices),
            awaited=len(awaited),
            cofinancer_digests=len(for_funders),
        )
        return DigestNotices(
            notices=(*notices, *for_funders), files=len(files), awaited=len(awaited)
        )

    async def _awaited_decisions(self) -> list[AwaitedDecision]:
        """The lines awaiting a co-financer's decision on running files it may decide now,
        each file's state the fold of its events in the log."""
        if self._log is None:
            return []
        statuses = ", ".join(f"'{status}'" for status in sorted(DECIDABLE))
        query = f"{RUNNING} AND {search.STATUS.name} IN ({statuses})"
        ids = [row.application_id for row in await self._guichet.list(query, limit=None)]
        awaited: list[AwaitedDecision] = []
        for start in range(0, len(ids), STATES_READ_AT_ONCE):
            streams = await self._log.read_streams_of(ids[start : start + STATES_READ_AT_ONCE])
            for events in streams.values():
                awaited += awaited_decisions([parse_event(event.data) for event in events])
        return awaited


def _digest_file(row: ApplicationSummary) -> DigestFile | None:
    """The digest's view of a listed file; None for a file no caseworker has taken yet."""
    if not row.caseworker or not row.running:
        return None
    return DigestFile(
        application_id=row.application_id,
        caseworker=row.caseworker,
        status=row.status,
        programme=row.programme,
        next_deadline=row.next_deadline,
        last_activity=row.last_activity,
    )
