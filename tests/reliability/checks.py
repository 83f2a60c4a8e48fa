"""After the storm: what must hold of the log, the workflows and the ledger, counted.

Every count in :class:`Losses` must be zero; the report keeps them all, so "nothing lost" is
a figure, not an absence of failure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from activities.ledger import payment_ledger
from domain.state import Application
from eventlog import EventLog
from eventlog.schema import events as events_table
from tests.workflow.scenarios import folded_log


@dataclass
class Losses:
    """Each field counts one kind of damage; all must be zero."""

    files_not_closed: int = 0
    position_gaps: int = 0
    duplicate_event_ids: int = 0
    stream_version_gaps: int = 0
    chain_broken: int = 0
    fold_differs_from_workflow: int = 0
    ordered_payments_not_in_ledger: int = 0
    ledger_rows_without_order: int = 0
    ledger_duplicates: int = 0

    @property
    def total(self) -> int:
        return sum(asdict(self).values())


@dataclass
class Totals:
    events: int = 0
    streams: int = 0
    ordered_payments: int = 0
    ledger_rows: int = 0


async def check_everything(
    log: EventLog, finals: dict[str, Application]
) -> tuple[Losses, Totals, list[str]]:
    """Compare the log, every file's fold, every final state and the ledger; name faults."""
    losses, totals, notes = Losses(), Totals(), []
    async with log.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(
                    events_table.c.position,
                    events_table.c.stream_id,
                    events_table.c.version,
                    events_table.c.event_id,
                    events_table.c.type,
                    events_table.c.data,
                ).order_by(events_table.c.position)
            )
        ).all()
        ledger = (await conn.execute(sa.select(payment_ledger))).all()
    totals.events, totals.ledger_rows = len(rows), len(ledger)
    positions = [r.position for r in rows]
    losses.position_gaps = sum(1 for i, p in enumerate(positions, start=1) if p != i)
    losses.duplicate_event_ids = len(rows) - len({r.event_id for r in rows})
    versions: dict[str, list[int]] = {}
    for row in rows:
        versions.setdefault(row.stream_id, []).append(row.version)
    totals.streams = len(versions)
    for stream, seen in versions.items():
        if sorted(seen) != list(range(1, len(seen) + 1)):
            losses.stream_version_gaps += 1
            notes.append(f"{stream}: versions {sorted(seen)}")
    report = await log.verify()
    if not report.ok:
        losses.chain_broken = 1
        notes.append(f"verify: {report}")
    for app_id, final in finals.items():
        if final.status != "closed":
            losses.files_not_closed += 1
            notes.append(f"{app_id} ended {final.status}")
        folded = await folded_log(log, app_id)
        if folded != final:
            losses.fold_differs_from_workflow += 1
            notes.append(
                f"{app_id}: the log's fold differs from the workflow's state: "
                + "; ".join(
                    differences(folded.model_dump(mode="json"), final.model_dump(mode="json"))
                )
            )
    _check_ledger(rows, ledger, losses, totals, notes)
    return losses, totals, notes


def _check_ledger(
    rows: list[sa.Row[object]],
    ledger: list[sa.Row[object]],
    losses: Losses,
    totals: Totals,
    notes: list[str],
) -> None:
    import json

    ordered = {
        (r.stream_id, json.loads(r.data)["payment_number"])  # type: ignore[attr-defined]
        for r in rows
        if r.type == "PaymentOrdered"  # type: ignore[attr-defined]
    }
    totals.ordered_payments = len(ordered)
    paid = Counter((r.application_id, r.payment_number) for r in ledger)  # type: ignore[attr-defined]
    losses.ledger_duplicates = sum(n - 1 for n in paid.values() if n > 1)
    missing = ordered - set(paid)
    extra = set(paid) - ordered
    losses.ordered_payments_not_in_ledger = len(missing)
    losses.ledger_rows_without_order = len(extra)
    notes.extend(f"ordered, not in the ledger: {m}" for m in sorted(missing))
    notes.extend(f"in the ledger, never ordered: {e}" for e in sorted(extra))


def differences(log: object, workflow: object, path: str = "") -> list[str]:
    """Where two dumped states differ, as ``path: log value != workflow value`` lines."""
    if isinstance(log, dict) and isinstance(workflow, dict):
        return [
            line
            for key in sorted(log.keys() | workflow.keys())
            for line in differences(log.get(key), workflow.get(key), f"{path}.{key}")
        ]
    if isinstance(log, list) and isinstance(workflow, list) and len(log) == len(workflow):
        return [
            line
            for index, (a, b) in enumerate(zip(log, workflow, strict=True))
            for line in differences(a, b, f"{path}[{index}]")
        ]
    return [] if log == workflow else [f"{path or '.'}: {log!r:.200} != {workflow!r:.200}"]
