"""The work queue as a spreadsheet: the files its filters select, with the columns people
sort and count by (démarches-simplifiées' caseworkers export theirs every week).

Read from visibility like the queue itself (no file's state is read, but a co-financer's,
whose queue is filtered on each file's lines), CSV as the auditor's exports write it: UTF-8
with a BOM, ``;`` between fields, for a French spreadsheet to open as is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from console.web import labels
from console.web.accounts import QUEUE_ROLES, Account
from console.web.auth import roles, services
from console.web.files import EXPORT_LIMIT, QUEUE_LIMIT, QueueRow, parse_filters, work_queue
from domain.commune import Commune
from domain.deadline import PARIS

router = APIRouter(include_in_schema=False)
HEADER = (
    "Dossier",
    "Statut",
    "Dispositif",
    "Commune",
    "INSEE",
    "Département",
    "Instructeur",
    "Dernier jour de la prochaine échéance",
    "En retard",
    "Dernière activité (à l'heure près, heure de Paris)",
)


@router.get("/dossiers.csv")
async def queue_export(
    request: Request, account: Annotated[Account, Depends(roles(*QUEUE_ROLES))]
) -> Response:
    """The queue's files under its filters, nearest deadline first, as a CSV download."""
    found = services(request)
    filters = parse_filters(dict(request.query_params), found)
    now = datetime.now(UTC)
    # A co-financer's queue reads each listed file's state: as many as its page, no more.
    limit = QUEUE_LIMIT if account.role == "cofinancer" else EXPORT_LIMIT
    rows = await work_queue(found, account, filters, now, limit=limit)
    names = {programme.id: programme.name for programme in found.catalogue.programmes}
    out = io.StringIO(newline="")
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(_line(row, names, found.registry.get))
    day = now.astimezone(PARIS).date().isoformat()
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="dossiers-{day}.csv"'},
    )


def _line(
    row: QueueRow, programmes: dict[str, str], commune_of: Callable[[str], Commune | None]
) -> list[str]:
    summary = row.summary
    commune = commune_of(summary.insee) if summary.insee else None
    return [
        summary.application_id,
        labels.word(labels.STATUS, summary.status) if summary.status else "",
        programmes.get(summary.programme or "", summary.programme or ""),
        commune.name if commune else "",
        summary.insee or "",
        summary.department or "",
        summary.caseworker or "",
        labels.last_day(summary.next_deadline) if summary.next_deadline else "",
        "oui" if row.overdue else "non",
        labels.moment(summary.last_activity) if summary.last_activity else "",
    ]
