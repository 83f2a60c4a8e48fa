"""Batch actions: one command sent to up to 500 selected files, with progress per file.

A batch runs in the background of the console process (a few updates at a time) and its
page polls its progress. Each file gets the update id ``<key>:<file>``, the key being the
form's or the API's ``request_id``, so a batch resubmitted after a lost answer runs each
command once (without a key, ``<batch id>:<file>``: a batch sent again is another one).
Batches are kept in memory (the last hundred): their effects are in the files and the log,
not here.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import get_args

from console.web.labels import STATUS, word
from console.web.outages import FILE_ENDED, FILE_UNKNOWN, no_worker_sentence
from domain.commands import Command
from domain.programme import Catalogue, DeadlineKind
from workflows.client import GuichetClient
from workflows.client_errors import (
    ApplicationEnded,
    ApplicationNotFound,
    CommandRefused,
    GuichetError,
    NoWorker,
)
from workflows.file_commands import what_is_asked

MAX_FILES = 500
FORM_ACTIONS = {
    "AssignCaseworker": "Prendre en charge",
    "DeclareComplete": "Déclarer complet",
    "RequestCorrection": "Demander la même correction",
    "AcceptApplication": "Accepter",
    "ExtendDeadline": "Prolonger un délai",
    "AddLabel": "Ajouter une étiquette",
    "RemoveLabel": "Retirer une étiquette",
}
"""The actions the queue's batch form offers, in its order and words."""
UNNAMED_DEADLINES: frozenset[DeadlineKind] = frozenset({"cofinancer_decision", "programme_closing"})
"""Deadlines a batch cannot name: a co-financer's is one per plan line; the programme's
closing is no file's to extend."""
MayAct = Callable[[str], Awaitable[bool]]
"""Whether the batch's owner may act on the file of this id (False: answered as unknown);
it may also raise ``NotForThisFile``."""


class NotForThisFile(Exception):
    """The batch's command does not apply to this file, for the reason given (in French)."""


def batch_deadlines(catalogue: Catalogue) -> tuple[DeadlineKind, ...]:
    """The deadlines a batch may extend: those a programme's rule grants an extension
    (``DeadlineRule.extension``; the domain refuses the others, « no-extension »), in their
    order. « Recevabilité » was offered, and every file answered that it cannot be extended."""
    extendable = {
        rule.kind
        for programme in catalogue.programmes
        for rule in programme.deadlines
        if rule.extension is not None
    }
    return tuple(
        kind
        for kind in get_args(DeadlineKind)
        if kind in extendable and kind not in UNNAMED_DEADLINES
    )


KEEP = 100
UNKNOWN_BATCH = "Aucun lot à ce numéro : un lot se suit tant que la console qui l'a lancé tourne."
NOT_SENT = (
    "non envoyée : aucun worker ne tourne (voir les dossiers en suspens) ; relancez le lot sur "
    "ces dossiers une fois le service rétabli"
)


@dataclass
class FileResult:
    """Where one file of the batch stands: ``ok`` is None until its command returned.

    ``message`` opens with the outcome, « fait », « non effectué », « en suspens », « échec »,
    then « : » and the detail: an action the file refused is « non effectué », since
    « refusé » read as the file's own status."""

    application_id: str
    ok: bool | None = None
    message: str = "en attente"


@dataclass
class Batch:
    """One batch: who started it, what it sends, and each file's result."""

    id: str
    owner: str
    command_type: str
    started_at: datetime
    results: list[FileResult]
    key: str = ""
    """The form's key: the same form sent twice is this batch, and its request ids."""
    sent: str = ""
    """What the form asked (the command, its time aside, and the files): a form sent again
    from the same page but with another choice is another batch."""
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def done(self) -> int:
        """How many files have their answer."""
        return sum(1 for result in self.results if result.ok is not None)

    @property
    def finished(self) -> bool:
        """True when every file has its answer."""
        return self.done == len(self.results)

    def as_json(self) -> dict[str, object]:
        """The batch's progress for the API and the page script."""
        return {
            "id": self.id,
            "command_type": self.command_type,
            "total": len(self.results),
            "done": self.done,
            "succeeded": sum(1 for r in self.results if r.ok),
            "finished": self.finished,
            "results": [
                {"application_id": r.application_id, "ok": r.ok, "message": r.message}
                for r in self.results
            ],
        }


class BatchRunner:
    """Starts batches and finds them again for their owner."""

    def __init__(self, concurrency: int = 8) -> None:
        self._concurrency = concurrency
        self._batches: OrderedDict[str, Batch] = OrderedDict()

    def start(
        self,
        guichet: GuichetClient,
        owner: str,
        command: Command,
        application_ids: list[str],
        key: str = "",
        *,
        may_act: MayAct | None,
    ) -> Batch:
        """Start sending ``command`` to each file; returns at once.

        ``key`` (the form's, or the API's ``request_id``): the same form sent again with the
        same choices (a double click) is the batch it started, not a second one; its files'
        request ids carry it, so a double click that reached another replica is still run
        once per file by Temporal.
        ``may_act``: whether the owner may act on a file (their sector holds it; None: every
        file); a file they may not is answered as unknown, as its page would be. Required, so
        that no way of starting a batch forgets the owner's sector."""
        if not 1 <= len(application_ids) <= MAX_FILES:
            raise ValueError(f"a batch takes 1 to {MAX_FILES} files")
        sent = what_is_asked(command) + "\n" + "\n".join(application_ids)
        for started in self._batches.values():
            if key and (started.owner, started.key, started.sent) == (owner, key, sent):
                return started
        batch = Batch(
            id=secrets.token_urlsafe(9),
            owner=owner,
            command_type=command.type,
            started_at=datetime.now(UTC),
            results=[FileResult(application_id) for application_id in application_ids],
            key=key,
            sent=sent,
        )
        batch.task = asyncio.create_task(self._run(guichet, batch, command, may_act))
        self._batches[batch.id] = batch
        while len(self._batches) > KEEP:
            self._batches.popitem(last=False)
        return batch

    def get(self, batch_id: str, owner: str) -> Batch | None:
        """The batch, when ``owner`` started it."""
        batch = self._batches.get(batch_id)
        return batch if batch is not None and batch.owner == owner else None

    async def _run(
        self, guichet: GuichetClient, batch: Batch, command: Command, may_act: MayAct | None
    ) -> None:
        gate = asyncio.Semaphore(self._concurrency)
        # Once a file found no worker, the files not sent yet are not: their commands would
        # wait on the server, with no one to run them.
        stopped: list[NoWorker] = []

        async def one(result: FileResult) -> None:
            async with gate:
                if stopped:
                    result.ok, result.message = False, NOT_SENT
                    return
                try:
                    if may_act is not None and not await may_act(result.application_id):
                        raise ApplicationNotFound(result.application_id)
                    outcome = await guichet.act(
                        result.application_id,
                        command,
                        request_id=f"{batch.key or batch.id}:{result.application_id}",
                    )
                except NotForThisFile as refused:
                    result.ok, result.message = False, f"non effectué : {refused}"
                except CommandRefused as refused:
                    result.ok, result.message = False, f"non effectué : {refused.french}"
                except NoWorker as no_worker:
                    stopped.append(no_worker)
                    result.ok = False
                    result.message = f"en suspens : {no_worker_sentence(no_worker)}"
                except ApplicationEnded:
                    result.ok, result.message = False, f"non effectué : {FILE_ENDED}"
                except ApplicationNotFound:
                    result.ok, result.message = False, f"non effectué : {FILE_UNKNOWN}"
                except GuichetError as error:
                    result.ok, result.message = False, f"échec : {error}"
                else:
                    result.ok = True
                    result.message = f"fait : {word(STATUS, outcome.status)}"

        await asyncio.gather(*(one(result) for result in batch.results))
