"""A production log is JSON from end to end, Temporal's own lines included: during a Temporal
outage its core's retries, the lines that matter then, were coloured text a JSON pipeline
could not parse."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tests.conftest import start_dev_server
from tests.e2e.support import PYTHON, python_env, spawn, wait_until


async def test_temporal_s_core_logs_as_json_while_temporal_is_down(tmp_path: Path) -> None:
    env = await start_dev_server()
    log = tmp_path / "worker.log"
    worker = spawn(
        [PYTHON, "worker.py"],
        python_env(
            TEMPORAL_ADDRESS=env.client.service_client.config.target_host,
            GUICHET_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'events.db'}",
            GUICHET_LOG_FORMAT="json",
        ),
        log,
    )
    try:
        wait_until(lambda: "worker started" in log.read_text(errors="replace"), 60, "the worker")
        await env.shutdown()  # Temporal goes away under the running worker
        wait_until(
            lambda: "temporalio.core" in log.read_text(errors="replace"),
            60,
            "Temporal's core to log its retries",
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    for line in lines:
        assert isinstance(json.loads(line), dict), line  # no coloured text, no plain line
    core = [json.loads(line) for line in lines if "temporalio.core" in line]
    assert core and all(entry["level"] in ("warning", "error") for entry in core), core[:2]
