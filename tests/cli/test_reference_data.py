"""The CLI's pre-check and the console's live verdicts judge with the worker's reference data.

``guichet dev --demo`` gives the worker the demo communes' signed conventions; the other
commands and the console must use them too, or they refuse a Shop'in request the worker
accepts.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast

import pytest

from console.connection import dev_file, resolve_target
from console.errors import CliError
from console.people import precheck
from console.web.serve import build_services
from domain.commands import ApplicationRequest
from domain.plan import FinancingPlan, FundingLine
from domain.registry import DEMO_CONVENTIONS
from eventlog import EventLog
from workers.settings import Settings
from workflows.client import GuichetClient

SHOPIN_DAY = date(2025, 6, 2)
"""A day when Shop'in received requests."""


def shopin_request() -> ApplicationRequest:
    """Valserhône (01033, a demo commune with a convention d'adhésion) asks for Shop'in."""
    return ApplicationRequest(
        programme_id="bdt-shopin-diagnostic",
        insee="01033",
        project_title="Diagnostic du commerce de centre-ville",
        plan=FinancingPlan(
            total_cost_cents=20_000_00,
            subsidisable_base_cents=20_000_00,
            lines=(
                FundingLine(line_id="bdt", funder="BDT", kind="public", requested_cents=20_000_00),
            ),
        ),
    )


def test_the_precheck_uses_the_conventions_it_is_given() -> None:
    """Without conventions the request is refused for the missing one; with them it passes."""
    with pytest.raises(CliError, match="convention"):
        precheck(shopin_request(), None, SHOPIN_DAY)
    precheck(shopin_request(), Path(str(DEMO_CONVENTIONS)), SHOPIN_DAY)


def test_the_target_takes_conventions_from_the_environment_then_a_running_dev(
    tmp_path: Path,
) -> None:
    """GUICHET_CONVENTIONS_FILE first, else the file the running ``guichet dev`` published."""
    published = tmp_path / "published.csv"
    dev_file(tmp_path).write_text(
        json.dumps({"pid": os.getpid(), "conventions_file": str(published),
                    "started_at": datetime.now(UTC).isoformat()}),
        encoding="utf-8",
    )  # fmt: skip
    from_dev = resolve_target(Settings(state_dir=tmp_path))
    assert from_dev.conventions_file == published
    mine = tmp_path / "mine.csv"
    from_env = resolve_target(Settings(state_dir=tmp_path, conventions_file=mine))
    assert from_env.conventions_file == mine
    dev_file(tmp_path).unlink()
    assert resolve_target(Settings(state_dir=tmp_path)).conventions_file is None


async def test_the_console_registry_carries_the_conventions(tmp_path: Path) -> None:
    """The console's live verdicts see the demo commune's signed convention."""
    log = EventLog.from_url(f"sqlite+aiosqlite:///{tmp_path / 'log.sqlite3'}")
    unused = cast(GuichetClient, object())  # the registry is all this test reads
    try:
        with_them = build_services(unused, log, Path(str(DEMO_CONVENTIONS)))
        without = build_services(unused, log)
    finally:
        await log.close()
    signed, unsigned = with_them.registry.get("01033"), without.registry.get("01033")
    assert signed is not None and signed.conventions
    assert unsigned is not None and not unsigned.conventions
