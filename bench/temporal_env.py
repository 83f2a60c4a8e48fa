"""Starting the Temporal servers the benchmarks run against, from the installed binaries."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.common import binary
from bench.stopping import started
from workflows import search

PRAGMAS = ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]


def quiet_logs() -> None:
    """Activities log every event at INFO; a benchmark keeps warnings and errors only."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.basicConfig(level=logging.WARNING)


@asynccontextmanager
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """The embedded dev server on a database file in WAL mode, as ``guichet dev`` runs it."""
    with tempfile.TemporaryDirectory(prefix="guichet-bench-") as folder:
        env = await started(
            WorkflowEnvironment.start_local(
                dev_server_existing_path=binary("temporal"),
                dev_server_database_filename=str(Path(folder) / "temporal.sqlite3"),
                dev_server_extra_args=PRAGMAS,
                dev_server_log_level="error",
                search_attributes=search.ALL_KEYS,
                data_converter=pydantic_data_converter,
            )
        )
        try:
            yield env
        finally:
            await env.shutdown()


PAYLOAD_PLACES = (
    "start input",
    "activity input",
    "activity result",
    "update input",
    "update result",
    "result",
)
"""Where a workflow's history carries payloads; ``HistoryShape.payload_bytes`` gives the mean
size of each."""


@dataclass(frozen=True)
class HistoryShape:
    """What one workflow run asked of Temporal, counted from its history."""

    activities: int = 0
    updates: int = 0
    events: int = 0
    upserts: int = 0
    """Search-attribute upserts, the SDK's own for ``workflow.patched`` included."""
    markers: int = 0
    timers: int = 0
    """Timers started (Guichet cancels most of them when a message comes first)."""
    size: int = 0
    """Bytes of the whole history."""
    payload_bytes: dict[str, int] = field(default_factory=dict)
    """Mean bytes of payload data at each of ``PAYLOAD_PLACES``."""

    def describe(self) -> str:
        return (
            f"{self.activities} activities, {self.updates} updates, {self.events} history events "
            f"({self.size / 1000:.1f} KB), {self.upserts} upserts, {self.markers} markers, "
            f"{self.timers} timers"
        )


def history_shape(history: WorkflowHistory) -> HistoryShape:
    """Count what ``history`` asked of Temporal, and the mean size of its payloads."""
    counts = {"activities": 0, "updates": 0, "upserts": 0, "markers": 0, "timers": 0}
    payloads: dict[str, list[int]] = {place: [] for place in PAYLOAD_PLACES}

    def carried(place: str, found: Iterable[Payload]) -> None:
        payloads[place].append(sum(len(payload.data) for payload in found))

    for event in history.events:
        kind = event.WhichOneof("attributes")
        if kind is None:
            continue
        attributes = getattr(event, kind)
        if kind == "workflow_execution_started_event_attributes":
            carried("start input", attributes.input.payloads)
        elif kind == "activity_task_scheduled_event_attributes":
            counts["activities"] += 1
            carried("activity input", attributes.input.payloads)
        elif kind == "activity_task_completed_event_attributes":
            carried("activity result", attributes.result.payloads)
        elif kind == "workflow_execution_update_accepted_event_attributes":
            counts["updates"] += 1
            carried("update input", attributes.accepted_request.input.args.payloads)
        elif kind == "workflow_execution_update_completed_event_attributes":
            carried("update result", attributes.outcome.success.payloads)
        elif kind == "workflow_execution_completed_event_attributes":
            carried("result", attributes.result.payloads)
        elif kind == "upsert_workflow_search_attributes_event_attributes":
            counts["upserts"] += 1
        elif kind == "marker_recorded_event_attributes":
            counts["markers"] += 1
        elif kind == "timer_started_event_attributes":
            counts["timers"] += 1
    return HistoryShape(
        **counts,
        events=len(history.events),
        size=sum(event.ByteSize() for event in history.events),
        payload_bytes={
            place: sum(sizes) // len(sizes) for place, sizes in payloads.items() if sizes
        },
    )
