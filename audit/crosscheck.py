"""The workflow's state against the fold of the log: two records of one file must agree.

DESIGN.md decision 2: the workflow's queried state and the auditor's fold of the log are the
same fold over the same events. A difference means one of them is not what it should be (a
lost append, a log altered behind the workflow's back, a fold changed without a migration).
A workflow Temporal no longer holds (its history is deleted after the namespace retention
period) is not a difference: the log is the record that outlives it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import to_jsonable_python

from audit.timeline import state_as_of
from domain.state import Application
from eventlog import EventLog
from workflows.client import GuichetClient
from workflows.client_errors import ApplicationNotFound


class Difference(BaseModel):
    """One field of one file where the workflow and the log disagree."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    application_id: str
    field: str
    in_workflow: Any
    in_log: Any

    def sentence(self) -> str:
        """The difference in one line, for people: where inside the field the two first part
        (``payments[0].amount_cents``), as JSON, so that a long field still shows it."""
        where, mine, theirs = _first_difference(self.in_workflow, self.in_log, self.field)
        return (
            f"{self.application_id}: {where} is {_short(mine)} in the workflow but "
            f"{_short(theirs)} in the log"
        )


def _first_difference(mine: Any, theirs: Any, path: str) -> tuple[str, Any, Any]:
    """The first place where two JSON-like values differ, and the values there."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        for key in [*mine, *(k for k in theirs if k not in mine)]:
            if mine.get(key) != theirs.get(key):
                return _first_difference(mine.get(key), theirs.get(key), f"{path}.{key}")
    if isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs):
        for index, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            if a != b:
                return _first_difference(a, b, f"{path}[{index}]")
    return path, mine, theirs


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def differences(application_id: str, workflow: Application, log: Application) -> list[Difference]:
    """Every top-level field of ``Application`` whose values differ, in declaration order."""
    found = []
    for name in Application.model_fields:
        mine, theirs = getattr(workflow, name), getattr(log, name)
        if mine != theirs:
            found.append(
                Difference(
                    application_id=application_id,
                    field=name,
                    in_workflow=_plain(mine),
                    in_log=_plain(theirs),
                )
            )
    return found


def _plain(value: Any) -> Any:
    """JSON's values (dates as ISO text): what the report prints and ``--json`` carries."""
    return to_jsonable_python(value)


CONCURRENCY = 4
"""Files checked at once. Each is a log read and a query the worker answers, by replaying
the file when it is not in its cache (about 0.1 s of the worker's CPU): with 200 files not
cached, 1 at a time checked 9-10 files/s, 4 or 8 at a time 11-17, so 4, which leaves the
worker more room for the caseworkers it also serves."""

Progress = Callable[[int, int], None]
"""Told ``(files checked, files to check)`` as each file is done."""


async def cross_check(
    guichet: GuichetClient,
    log: EventLog,
    application_ids: Iterable[str] | None = None,
    *,
    on_missing: Callable[[str], None] | None = None,
    progress: Progress | None = None,
) -> list[Difference]:
    """Compare each file's queried workflow state with the fold of its log stream.

    ``application_ids`` None means every stream in the log. Differences come in the order of
    the ids, whatever order the files finish in. ``on_missing(id)`` is told of each file whose
    workflow Temporal no longer holds (not a difference, see the module), also in that order.
    """
    ids = list(application_ids) if application_ids is not None else await log.stream_ids()
    gate = asyncio.Semaphore(CONCURRENCY)
    checked = 0

    async def one(application_id: str) -> list[Difference] | None:
        """The file's differences; None when Temporal no longer holds it."""
        nonlocal checked
        async with gate:
            try:
                return await _check_one(guichet, log, application_id)
            except _Gone:
                return None
            finally:
                checked += 1
                if progress is not None:
                    progress(checked, len(ids))

    # A task group: a failure (Temporal unreachable) cancels the checks still waiting; the
    # caller gets that failure itself, as from a check made one file at a time.
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(application_id)) for application_id in ids]
    except ExceptionGroup as failed:
        raise failed.exceptions[0]  # noqa: B904 - the group adds nothing to it
    found: list[Difference] = []
    for application_id, task in zip(ids, tasks, strict=True):
        outcome = task.result()
        if outcome is not None:
            found += outcome
        elif on_missing is not None:
            on_missing(application_id)
    return found


class _Gone(Exception):
    """Temporal no longer holds this workflow, but the log does."""


async def _check_one(
    guichet: GuichetClient, log: EventLog, application_id: str
) -> list[Difference]:
    # A live file may record an event between our two reads: a difference is confirmed by a
    # second look before it is reported.
    for attempt in range(2):
        folded = await state_as_of(log, application_id)
        try:
            queried = await guichet.state(application_id)
        except ApplicationNotFound:
            if folded.version == 0:
                raise
            raise _Gone from None
        found = differences(application_id, queried, folded)
        if not found or attempt == 1:
            return found
    return []  # unreachable: the loop returns on its second pass
