"""The daily digest's activity: list the files through Temporal visibility, build the notices.

The notices are delivered by the outbox's activities, like every other notice; the workflow
mints their message ids.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from temporalio import activity

from activities.logging import activity_logger
from domain.digest import HORIZON_DAYS, DigestFile, build_digests
from domain.model import AwareDatetime, Frozen
from domain.notices import Notice
from workflows.client import ApplicationSummary, GuichetClient
from workflows.visibility import digest_query

DEFAULT_STALE_DAYS = 7
LISTING_LIMIT = 50_000
"""Far above the programme's open files (about 1,650 communes): the listing is never cut."""


class DigestRequest(Frozen):
    """The moment the digest is for, and optionally a staleness other than the worker's."""

    at: AwareDatetime
    stale_days: int | None = Field(default=None, ge=1)
    horizon_days: int = Field(default=HORIZON_DAYS, ge=1)


class DigestNotices(Frozen):
    """One notice per caseworker who has something to look at (possibly none)."""

    notices: tuple[Notice, ...]
    files: int
    """How many listed files were considered."""


class DigestActivities:
    """Holds the Temporal client the listing needs."""

    def __init__(self, guichet: GuichetClient, *, stale_days: int = DEFAULT_STALE_DAYS) -> None:
        self._guichet = guichet
        self._stale_days = stale_days

    @activity.defn(name="collect_digests")
    async def collect_digests(self, request: DigestRequest) -> DigestNotices:
        """List stale and soon-due files, group them by caseworker, build the notices."""
        stale_days = request.stale_days or self._stale_days
        horizon = timedelta(days=request.horizon_days)
        query = digest_query(request.at, stale_days=stale_days, horizon=horizon)
        rows = await self._guichet.list(query, limit=LISTING_LIMIT)
        files = [file for file in map(_digest_file, rows) if file is not None]
        notices = build_digests(
            files, now=request.at, stale_days=stale_days, horizon_days=request.horizon_days
        )
        activity_logger().info(
            "digests collected", listed=len(rows), assigned=len(files), digests=len(notices)
        )
        return DigestNotices(notices=tuple(notices), files=len(files))


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
