"""Faults survived, nothing lost: many files through worker kills, a Temporal server restart
and a PostgreSQL outage, with every invariant of the log, workflows and ledger checked after.

    GUICHET_RELIABILITY_FILES=200 GUICHET_RELIABILITY_SEED=8 .venv/bin/pytest -m reliability

The figures of the run go to ``GUICHET_RELIABILITY_REPORT`` (JSON; a temporary file if unset)
and are printed; RELIABILITY.md keeps those of the last full run.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.reliability.storm import Rig, run_storm

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.postgres, pytest.mark.temporal]

FILES = int(os.environ.get("GUICHET_RELIABILITY_FILES", "200"))


@pytest.mark.timeout(1800)
async def test_no_file_is_lost_through_worker_kills_a_server_restart_and_a_database_outage(
    rig: Rig, tmp_path: Path
) -> None:
    """Five SIGKILLs, a dev-server restart, 10 s without PostgreSQL: every file closes, intact."""
    seed = int(os.environ.get("GUICHET_RELIABILITY_SEED") or random.SystemRandom().randrange(10**6))
    print(f"reliability seed {seed} (GUICHET_RELIABILITY_SEED={seed} replays this plan)")
    report = await run_storm(rig, FILES, seed)
    path = Path(os.environ.get("GUICHET_RELIABILITY_REPORT") or tmp_path / "reliability.json")
    report.write(path)
    print(f"reliability report: {path}\n{json.dumps(asdict(report), indent=2, default=str)}")
    assert [f.injected_at != "" for f in report.faults] == [True] * 7
    assert report.losses.total == 0, (report.losses, report.notes[:20])
    assert report.totals.streams == FILES
    assert report.totals.ordered_payments == report.totals.ledger_rows == 2 * FILES
