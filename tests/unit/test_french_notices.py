"""What communes and caseworkers read of refusals: e-mails and timeline lines in French."""

from __future__ import annotations

from console.web.phrases import phrase
from domain.events import CommandRejected, EligibilityRejected
from domain.notices import notices_for
from tests.unit.builders import (
    CASEWORKER,
    NON_PVD_COMMUNE,
    OTHER_APPLICANT,
    apply,
    at,
    history,
    request,
    submit,
    to_started,
)


def test_an_ineligible_request_is_explained_to_the_commune_in_french() -> None:
    """The e-mail gives each failed rule's French sentence, never the English one."""
    outside = submit(request(insee="24999"), commune=NON_PVD_COMMUNE, actor=OTHER_APPLICANT)
    rejected = next(e for e in history([outside]) if isinstance(e, EligibilityRejected))
    state = apply([outside])
    [notice] = notices_for(rejected, state)
    assert rejected.verdicts
    for verdict in rejected.verdicts:
        assert verdict.french and verdict.french in notice.body
        assert verdict.message not in notice.body


def test_amounts_in_e_mails_are_written_the_french_way() -> None:
    """The award notice: a decimal comma and French spacing, not ``100 000.00 €``."""
    state = apply(to_started())
    awarded = next(e for e in history(to_started()) if e.type == "AwardNotified")
    [notice] = notices_for(awarded, state)
    assert notice.body == "Subvention attribuée : 100\u202f000,00\u00a0€."


def test_a_recorded_rejection_reads_in_french_and_older_ones_as_they_were() -> None:
    """The timeline shows the French refusal; a rejection recorded before it had one keeps
    its English sentence rather than an empty line."""
    rejected = CommandRejected(
        actor=CASEWORKER,
        at=at(1),
        command_type="AcceptApplication",
        rule="status",
        message="AcceptApplication is not possible while application app-1 is submitted",
        command={"type": "AcceptApplication"},
        french="« Accepter la demande » n'est pas possible : le dossier est déposé",
    )
    assert phrase(rejected) == (
        "Action refusée : « Accepter la demande » n'est pas possible : le dossier est déposé"
        " [status]"
    )
    older = rejected.model_copy(update={"french": ""})
    assert "is not possible while" in phrase(older)
