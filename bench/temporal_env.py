"""Starting the Temporal servers the benchmarks run against, from the installed binaries."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.common import binary
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
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=binary("temporal"),
            dev_server_database_filename=str(Path(folder) / "temporal.sqlite3"),
            dev_server_extra_args=PRAGMAS,
            dev_server_log_level="error",
            search_attributes=search.ALL_KEYS,
            data_converter=pydantic_data_converter,
        )
        try:
            yield env
        finally:
            await env.shutdown()


def history_shape(history: WorkflowHistory) -> tuple[int, int, int]:
    """(activities scheduled, updates accepted, history events) of one workflow run."""
    activities = updates = 0
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            activities += 1
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            updates += 1
    return activities, updates, len(history.events)
