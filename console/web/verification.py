"""The log's verification as a report computed in the background (``console.web.reports``),
one per scope, which the journal's form and the API both start and read: an auditor's script
polling the API and the journal's page follow the same computation instead of two.

Two scopes: the whole log, every position re-read; or from the latest checkpoint signed by
the trusted key (``guichet audit verify --from-checkpoint``). Their reports are kept under
distinct keys (``report_key``): a partial verification must never pass for the whole one.
"""

from __future__ import annotations

from audit import AuditReport
from console.web.reports import Report
from console.web.services import WebServices

WHOLE = "complete"
FROM_CHECKPOINT = "depuis-point"

HASHING = "pièces jointes hachées"
"""What the progress counts once the chain is read: the documents, hashed again."""


def report_key(incremental: bool, upload: str | None = None) -> str:
    """The key of a verification's report: its scope always in it, so that a partial
    verification is never shown for the whole one (nor the other way round); ``upload``: the
    digest of an uploaded file and key (the journal's form only)."""
    key = f"journal:{FROM_CHECKPOINT if incremental else WHOLE}"
    return key if upload is None else f"{key}:{upload}"


async def start_verification(found: WebServices, incremental: bool) -> Report:
    """The log's verification in that scope: the one running or just done, else a new one
    (``Reports.start``). ``incremental`` needs the console's trusted key: the caller checks."""

    async def compute(report: Report) -> AuditReport:
        hashing = report.stage(HASHING)
        return await found.verify_log(
            report.progress, documents_progress=hashing, from_checkpoint=incremental
        )

    return await found.reports.start(report_key(incremental), compute)
