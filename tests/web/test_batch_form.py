"""The queue's batches without a server: the deadlines their form offers, and how a file that
refused the action reads on the batch's page."""

from __future__ import annotations

from typing import Any

from console.web.app import templates
from console.web.batch import BatchRunner, batch_deadlines
from domain.catalogue import load_catalogue
from domain.commands import DeclareComplete
from tests.unit.builders import CASEWORKER, at
from workflows.client_errors import CommandRefused


def test_the_batch_form_offers_only_the_deadlines_a_rule_lets_extend() -> None:
    """« Recevabilité » was offered, and every file answered « Le délai … ne peut pas être
    prolongé »: the catalogue's rules give an extension to the answer to a correction, the
    start and the completion of works only."""
    assert batch_deadlines(load_catalogue()) == (
        "correction_answer",
        "start_of_works",
        "completion",
    )


class RefusingGuichet:
    """A Guichet whose every file refuses the command, as a workflow would."""

    async def act(self, application_id: str, command: Any, *, request_id: str) -> Any:
        raise CommandRefused(
            "wrong status",
            rule="status",
            source="",
            kind="InvalidTransition",
            french="Le dossier est « Refusé » : cette action n'y est pas possible",
        )


async def test_an_action_a_file_refused_reads_as_not_done_not_as_a_status() -> None:
    """« REFUSÉ Le dossier est… » read as the file's status « Refusé »."""
    runner = BatchRunner()
    command = DeclareComplete(actor=CASEWORKER, at=at(1))
    batch = runner.start(RefusingGuichet(), "alice", command, ["PVD-1"], may_act=None)  # type: ignore[arg-type]
    assert batch.task is not None
    await batch.task
    assert batch.results[0].message.startswith("non effectué : Le dossier est « Refusé »")
    page = templates.env.get_template("lot.html").render(batch=batch)
    assert '<span class="badge badge-error">Non effectué</span> Le dossier est' in page
