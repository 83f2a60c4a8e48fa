"""The daily digest's activity: list the files through Temporal visibility, build the notices.

The caseworkers' digests come from the listing, but for the files to settle: visibility
cannot say that a completion deadline expired, only that a file in its works has no deadline
open. The co-financers' need more than visibility publishes too (``GuichetFunders`` names a
plan's funders, not whose decision is pending nor by when). So the same listing also holds the
files a co-financer may decide now and the files that may wait for their settlement, whose
states are read from the event log, as the console's « Mes lignes de financement » reads them.
The notices are delivered by the outbox's activities, like every other notice; the workflow
mints their message ids.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field
from temporalio import activity

from activities.logging import activity_logger
from domain.digest import (
    CASEWORKERS_POOL,
    HORIZON_DAYS,
    SETTLEABLE,
    DigestFile,
    build_digests,
    settlement_awaited,
)
from domain.digest_cofinancers import (
    DECIDABLE,
    AwaitedDecision,
    awaited_decisions,
    build_cofinancer_digests,
)
from domain.events import parse_event
from domain.model import AwareDatetime, Frozen
from domain.notices import Notice
from domain.programme import Catalogue
from domain.registry import CommuneRegistry
from eventlog import EventLog
from workflows.client import GuichetClient
from workflows.listing import ApplicationSummary
from workflows.visibility import digest_query

DEFAULT_STALE_DAYS = 7
STATES_READ_AT_ONCE = 500
"""Files whose events one read of the log folds (a console page's worth)."""
HEARTBEAT_EVERY = 1_000
"""Files listed between two heartbeats (the SDK sends them at most every few seconds)."""


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
    """How many listed files the caseworkers' digests consider (those no one holds are the
    pool's)."""
    awaited: int = 0
    """How many lines wait for a co-financer's decision (0 in runs of before)."""


class DigestActivities:
    """Holds the Temporal client the listing needs, the event log the co-financers'
    digests read (None: caseworkers' digests only), and the catalogue and registry that
    name a listed file's programme and commune (None: their codes)."""

    def __init__(
        self,
        guichet: GuichetClient,
        *,
        log: EventLog | None = None,
        stale_days: int = DEFAULT_STALE_DAYS,
        catalogue: Catalogue | None = None,
        registry: CommuneRegistry | None = None,
    ) -> None:
        self._guichet = guichet
        self._log = log
        self._stale_days = stale_days
        self._catalogue = catalogue
        self._registry = registry

    @activity.defn(name="collect_digests")
    async def collect_digests(self, request: DigestRequest) -> DigestNotices:
        """List stale and soon-due files, and with the log the files in instruction and those
        in their works without a deadline, in one listing; group them by caseworker, fold the
        decidable ones and those that may wait for their settlement, build the notices.

        Heartbeats as it goes (files listed, then files folded): the workflow gives it a
        heartbeat timeout, so a stuck run is retried within minutes while a long one, over
        the tens of thousands of files of a large programme, runs to its end."""
        stale_days = request.stale_days or self._stale_days
        horizon = timedelta(days=request.horizon_days)
        query = digest_query(
            request.at, stale_days=stale_days, horizon=horizon, from_log=self._log is not None
        )
        rows: list[ApplicationSummary] = []
        async for row in self._guichet.each(query):
            rows.append(row)
            if len(rows) % HEARTBEAT_EVERY == 0:
                activity.heartbeat({"listed": len(rows)})
        files = [file for file in map(self._digest_file, rows) if file is not None]
        decidable = [row.application_id for row in rows if row.status in DECIDABLE]
        settleable = [
            file.application_id
            for file in files
            if file.status in SETTLEABLE and file.next_deadline is None
        ]
        awaited, to_settle = await self._read_from_log(decidable, settleable)
        notices = build_digests(
            files,
            now=request.at,
            stale_days=stale_days,
            horizon_days=request.horizon_days,
            to_settle=to_settle,
        )
        for_funders = build_cofinancer_digests(awaited, now=request.at)
        activity_logger().info(
            "digests collected",
            listed=len(rows),
            assigned=len(files),
            digests=len(notices),
            decidable=len(decidable),
            awaited=len(awaited),
            settleable=len(settleable),
            to_settle=len(to_settle),
            cofinancer_digests=len(for_funders),
        )
        return DigestNotices(
            notices=(*notices, *for_funders), files=len(files), awaited=len(awaited)
        )

    def _digest_file(self, row: ApplicationSummary) -> DigestFile | None:
        """The digest's view of a listed file, named as the work queue names it; a file no
        caseworker has taken yet is the pool's (``CASEWORKERS_POOL``); None for a file that
        no longer runs."""
        if not row.running:
            return None
        programme = (
            self._catalogue.get(row.programme) if self._catalogue and row.programme else None
        )
        commune = self._registry.get(row.insee) if self._registry and row.insee else None
        return DigestFile(
            application_id=row.application_id,
            caseworker=row.caseworker or CASEWORKERS_POOL,
            status=row.status,
            programme=programme.name if programme else row.programme,
            commune=commune.name if commune else row.insee,
            next_deadline=row.next_deadline,
            last_activity=row.last_activity,
        )

    async def _read_from_log(
        self, decidable: list[str], settleable: list[str]
    ) -> tuple[list[AwaitedDecision], dict[str, datetime]]:
        """Each file's state, the fold of its events in the log, ``STATES_READ_AT_ONCE`` files
        a read: the lines awaiting a co-financer's decision on the files it may decide now,
        and among ``settleable`` the files that wait for their caseworker to settle them, each
        with the moment its completion deadline expired."""
        if self._log is None:
            return [], {}
        awaited: list[AwaitedDecision] = []
        to_settle: dict[str, datetime] = {}
        ids = [*decidable, *settleable]  # apart: they were listed in other statuses
        settling = set(settleable)
        for start in range(0, len(ids), STATES_READ_AT_ONCE):
            streams = await self._log.read_streams_of(ids[start : start + STATES_READ_AT_ONCE])
            for application_id, stored in streams.items():
                events = [parse_event(event.data) for event in stored]
                if application_id not in settling:
                    awaited += awaited_decisions(events)
                elif (expired_at := settlement_awaited(events)) is not None:
                    to_settle[application_id] = expired_at
            read = min(start + STATES_READ_AT_ONCE, len(ids))
            activity.heartbeat({"from_log": len(ids), "read": read})
        return awaited, to_settle
