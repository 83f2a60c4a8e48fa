"""The workflow's state against the fold of the log: two records of one file must agree.

DESIGN.md decision 2: the workflow's queried state and the auditor's fold of the log are the
same fold over the same events. A difference means one of them is not what it should be (a
lost append, a log altered behind the workflow's back, a fold changed without a migration).
A workflow Temporal no longer holds (its history is deleted after the namespace retention
period) is not a difference: the log is the record that outlives it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from audit.timeline import state_as_of
from domain.state import Application
from eventlog import EventLog
from workflows.client import ApplicationNotFound, GuichetClient


class Difference(BaseModel):
    """One field of one file where the workflow and the log disagree."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    application_id: str
    field: str
    in_workflow: Any
    in_log: Any

    def sentence(self) -> str:
        """The difference in one line, for people."""
        return (
            f"{self.application_id}: {self.field} is {_short(self.in_workflow)} in the "
            f"workflow but {_short(self.in_log)} in the log"
        )


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
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
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


async def cross_check(
    guichet: GuichetClient,
    log: EventLog,
    application_ids: Iterable[str] | None = None,
    *,
    on_missing: Callable[[str], None] | None = None,
) -> list[Difference]:
    """Compare each file's queried workflow state with the fold of its log stream.

    ``application_ids`` None means every stream in the log. ``on_missing(id)`` is told of
    each file whose workflow Temporal no longer holds (not a difference, see the module).
    """
    ids = list(application_ids) if application_ids is not None else await log.stream_ids()
    found: list[Difference] = []
    for application_id in ids:
        try:
            found += await _check_one(guichet, log, application_id)
        except _Gone:
            if on_missing is not None:
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
