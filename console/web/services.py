"""What the console's routes need, built once at start-up and held by the app."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit import AuditReport, verify
from console.web.accounts import AccountStore
from console.web.batch import BatchRunner
from console.web.reports import Reports
from console.web.sessions import SessionSigner
from console.web.spool import Spool
from console.web.throttle import SignInThrottle
from domain.programme import Catalogue
from domain.registry import CommuneRegistry, name_key
from eventlog import EventLog
from eventlog.checkpoints import stored
from eventlog.documents import DocumentStore
from eventlog.verification import Progress
from workflows.client import GuichetClient

PROJECT_TITLE = ("request", "project_title")
"""Where a file's title sits in its first event (``ApplicationSubmitted``)."""


@dataclass
class TitleIndex:
    """Every file's project title, kept in memory for the queue's search: a title never
    changes once submitted and the log only grows, so each search reads the files submitted
    since the last one (the first reads them all: about half a second at 10,000 files on
    PostgreSQL)."""

    titles: dict[str, tuple[str, str]] = field(default_factory=dict)
    """File id → (title, title as searches compare it, ``name_key``)."""
    position: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def newest_first(self, log: EventLog) -> list[tuple[str, str, str]]:
        """(file id, title, its search key) of every file, the most recently submitted first."""
        async with self.lock:
            for position, application_id, title in await log.first_texts_after(
                self.position, PROJECT_TITLE
            ):
                self.titles[application_id] = (title, name_key(title))
                self.position = position
            return [(file, *titled) for file, titled in reversed(self.titles.items())]


@dataclass
class WebServices:
    """The Temporal facade, the event log, accounts, reference data and security helpers."""

    guichet: GuichetClient
    log: EventLog
    accounts: AccountStore
    catalogue: Catalogue
    registry: CommuneRegistry
    signer: SessionSigner
    throttle: SignInThrottle
    batches: BatchRunner = field(default_factory=BatchRunner)
    reports: Reports = field(default_factory=Reports)
    spool: Spool = field(default_factory=Spool)
    """The private folder of the prepared downloads, created with these services: ``close``
    removes it."""
    titles: TitleIndex = field(default_factory=TitleIndex)
    trusted_key: Ed25519PublicKey | None = None
    """The key the log's signed checkpoints are checked against (``GUICHET_PUBLIC_KEY``);
    without it, the journal says their signatures were not checked."""

    async def close(self) -> None:
        """Stop the reports still computing, then remove the prepared downloads: at shutdown,
        once the console serves no more requests."""
        await self.reports.close()
        self.spool.close()

    @property
    def documents(self) -> DocumentStore:
        """The documents' bytes, in the log's database."""
        return DocumentStore(self.log.engine)

    async def verify_log(
        self,
        progress: Progress | None = None,
        *,
        documents: bool = True,
        documents_progress: Progress | None = None,
        from_checkpoint: bool = False,
    ) -> AuditReport:
        """The whole chain recomputed, then every stored checkpoint checked against
        ``trusted_key`` (``guichet audit verify`` without a file), then (``documents``) every
        document's bytes. ``from_checkpoint`` (which needs ``trusted_key``): only the positions
        after the latest stored checkpoint signed by it (``guichet audit verify
        --from-checkpoint``)."""
        checkpoints = await stored(self.log)
        return await verify(
            self.log, checkpoints, trusted=self.trusted_key, progress=progress,
            documents=documents, documents_progress=documents_progress,
            from_checkpoint=from_checkpoint,
        )  # fmt: skip
