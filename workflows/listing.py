"""Listings of grant applications through Temporal visibility: a page at a time, every
one as the server's pages arrive, or a count; each file as its search attributes say.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio.api.workflow.v1 import WorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import ListWorkflowExecutionsRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from workflows import search
from workflows.client_errors import PageExpired
from workflows.file_queries import WORKFLOW_EXECUTION_STATUS_RUNNING
from workflows.grant_application import GrantApplicationWorkflow


@dataclass(frozen=True)
class ApplicationSummary:
    """One row of a visibility listing."""

    application_id: str
    status: str | None
    programme: str | None
    insee: str | None
    department: str | None
    caseworker: str | None
    running: bool
    next_deadline: datetime | None = None
    """The earliest pending deadline (``GuichetNextDeadline``), if any."""
    last_activity: datetime | None = None
    """The hour in which the file last recorded an event (``GuichetLastActivity``; exact for
    files started before it was published to the hour), if published."""
    labels: tuple[str, ...] = ()
    """The services' labels (``GuichetLabels``): never to be shown to the commune."""
    funders: tuple[str, ...] | None = None
    """The funders on the file's plan (``GuichetFunders``); None when its run does not
    publish them (begun before they were)."""
    sector: str | None = None
    """The department whose service the file was routed to (``GuichetSector``); None when
    it stays with its commune's department."""


_SERVED_AT_MOST = 1000
"""Rows the server gives in one listing response (its ``visibilityMaxPageSize``)."""


class FileListings:
    """The listings of a ``GuichetClient``, through its Temporal client."""

    temporal: Client
    server_timeout: timedelta | None

    async def page(
        self, query: str, size: int, token: bytes | None = None
    ) -> tuple[list[ApplicationSummary], bytes | None]:
        """One page of ``list``: at most ``size`` files, those after ``token`` (None: from
        the most recent), and the token of the page after it (None: there is none).

        A token the server cannot read (altered, or from another server) raises
        ``PageExpired``."""
        rows: list[ApplicationSummary] = []
        while len(rows) < size:
            # The server serves at most 1,000 a request (its visibilityMaxPageSize): asking
            # for what is still missing keeps the token at the end of exactly ``size`` rows.
            try:
                served, token = await self._listed(query, size - len(rows), token)
            except RPCError as error:
                if token is not None and error.status == RPCStatusCode.INVALID_ARGUMENT:
                    raise PageExpired(str(error)) from None
                raise
            rows += [_summary(info) for info in served]
            if token is None or not served:
                return rows, None
        # The server gives a token after a full page even when nothing follows it: one
        # more row asked for tells, so that no page after the last says « none ».
        return rows, token if await self._has_page(query, token) else None

    async def _has_page(self, query: str, token: bytes | None) -> bool:
        served, _ = await self._listed(query, 1, token)
        return bool(served)

    async def _listed(
        self, query: str, size: int, token: bytes | None
    ) -> tuple[Sequence[WorkflowExecutionInfo], bytes | None]:
        """One page of raw rows from the server, and the token of the next (None: the last).

        Through the service, not ``Client.list_workflows``: that decodes every row's search
        attributes twice, typed and untyped, and builds an execution around them: 148 µs a
        row, where ``search.decoded`` takes a fifth of it (most of a digest's listing
        in this process)."""
        page = await self.temporal.workflow_service.list_workflow_executions(
            ListWorkflowExecutionsRequest(
                namespace=self.temporal.namespace,
                query=_applications(query),
                page_size=size,
                next_page_token=token or b"",
            ),
            retry=True,
            timeout=self.server_timeout,
        )
        return page.executions, page.next_page_token or None

    async def list(self, query: str = "", limit: int | None = 200) -> list[ApplicationSummary]:
        """Files matching a visibility query (e.g. ``GuichetStatus = 'submitted'``), the most
        recently started first, at most ``limit`` of them (None: every one, page by page)."""
        return [summary async for summary in self.each(query, limit)]

    async def each(
        self, query: str = "", limit: int | None = None
    ) -> AsyncIterator[ApplicationSummary]:
        """``list`` one file at a time, as the server's pages arrive: a long listing can say
        how far it got (the daily digest heartbeats with it)."""
        token: bytes | None = None
        given = 0
        while limit is None or given < limit:
            wanted = _SERVED_AT_MOST if limit is None else min(_SERVED_AT_MOST, limit - given)
            served, token = await self._listed(query, wanted, token)
            for info in served:
                yield _summary(info)
            given += len(served)
            if token is None or not served:
                return

    async def count(self, query: str = "") -> int:
        """How many files match a visibility query, however many ``list`` would return."""
        counted = await self.temporal.count_workflows(
            _applications(query), rpc_timeout=self.server_timeout
        )
        return counted.count


def _summary(info: WorkflowExecutionInfo) -> ApplicationSummary:
    attributes = search.decoded(info.search_attributes.indexed_fields)
    funders = attributes.get(search.FUNDERS.name)
    return ApplicationSummary(
        application_id=info.execution.workflow_id,
        status=attributes.get(search.STATUS.name),
        programme=attributes.get(search.PROGRAMME.name),
        insee=attributes.get(search.INSEE.name),
        department=attributes.get(search.DEPARTMENT.name),
        caseworker=attributes.get(search.CASEWORKER.name),
        running=info.status == WORKFLOW_EXECUTION_STATUS_RUNNING,
        next_deadline=attributes.get(search.NEXT_DEADLINE.name),
        last_activity=attributes.get(search.LAST_ACTIVITY.name),
        labels=tuple(attributes.get(search.LABELS.name) or ()),
        funders=None if funders is None else tuple(funders),
        sector=attributes.get(search.SECTOR.name),
    )


def _applications(query: str) -> str:
    """The visibility query for grant applications that also match ``query``."""
    base = f"WorkflowType = '{GrantApplicationWorkflow.__name__}'"
    return f"{base} AND ({query})" if query else base
