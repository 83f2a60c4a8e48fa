"""The verification's findings, written in English by the log and the audit, read in French
on the auditor's pages: each sentence the code writes, numbers and names kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from audit.documents import DocumentProblem, Naming
from audit.findings import AuditReport, StartingCheckpoint, above_break_note
from console.web.findings import finding_in_french, notes_in_french, scope_in_french
from eventlog.documents import UnsoundDocument

CHECKPOINT = "the checkpoint of position 12 signed at 2026-03-01T10:00:00Z"
SHA = "ab" * 32
OTHER = "cd" * 32

SENTENCES = {
    "position 9 missing (log head says 12: rows deleted at the end?)":
        "position 9 manquante (la tête du journal en annonce 12 : lignes supprimées à la fin ?)",
    "position 13: beyond the log head (12); row inserted behind the log's back?":
        "position 13 : au-delà de la tête du journal (12) ; ligne insérée sans passer par le "
        "journal ?",
    "position 12: hash differs from the one in the log head":
        "position 12 : son empreinte diffère de celle de la tête du journal",
    "the log holds 3 rows between position 7 and its head at 12, not 5 (rows deleted or "
    "inserted?): verify the whole log to find where":
        "le journal compte 3 lignes entre la position 7 et sa tête (12), et non 5 (lignes "
        "supprimées ou insérées ?) : vérifiez tout le journal pour trouver où",
    "position 4: stream dsil-detr-01033-abc jumps from version 2 to 4 (event missing or "
    "moved?)":
        "position 4 : le dossier dsil-detr-01033-abc passe de la version 2 à la version 4 "
        "(événement manquant ou déplacé ?)",
    "position 1: prev_hash is not the genesis hash":
        "position 1 : l'empreinte précédente n'est pas celle de l'origine du journal",
    "position 4 missing (gap: row deleted?)": "position 4 manquante (trou : ligne supprimée ?)",
    "position 5: prev_hash does not chain to position 4":
        "position 5 : l'empreinte précédente ne s'enchaîne pas à la position 4",
    "position 5: occurred_at is outside the years 1 to 9999 (row altered?)":
        "position 5 : la date de l'événement sort des années 1 à 9999 (ligne altérée ?)",
    "position 5: stored data is not valid JSON (Expecting value: line 1 column 1 (char 0)); "
    "row altered?":
        "position 5 : le contenu enregistré n'est pas du JSON valide (Expecting value: line 1 "
        "column 1 (char 0)) ; ligne altérée ?",
    "position 5: hash does not match its content (row altered?)":
        "position 5 : l'empreinte ne correspond pas au contenu (ligne altérée ?)",
    "position 5: hash does not match its content (row altered?); the row there reads file "
    "dsil-detr-01033-abc, PaymentOrdered (version 24), as stored: those columns may be "
    "altered too":
        "position 5 : l'empreinte ne correspond pas au contenu (ligne altérée ?) ; la ligne "
        "indique le dossier dsil-detr-01033-abc, « Paiement ordonné » (version 24), telle "
        "qu'enregistrée : ces colonnes peuvent aussi avoir été altérées",
    f"{CHECKPOINT} is refused: key k1, not the trusted key k2":
        "le point de contrôle de la position 12 signé le 01/03/2026 à 11:00:00 est refusé : "
        "signé par la clé k1, et non par la clé de confiance k2",
    f"{CHECKPOINT} is refused: the signature does not match its content":
        "le point de contrôle de la position 12 signé le 01/03/2026 à 11:00:00 est refusé : sa "
        "signature ne correspond pas à son contenu",
    f"position 9: {CHECKPOINT} vouches for position 12 but the log ends at 8: events deleted "
    "at the end, or anywhere in positions 4..8 and the rest renumbered":
        "position 9 : le point de contrôle de la position 12 signé le 01/03/2026 à 11:00:00 "
        "garantit la position 12, mais le journal s'arrête à 8 : des événements ont été "
        "supprimés à la fin, ou n'importe où entre les positions 4 et 8 et les suivants "
        "renumérotés",
    f"position 12: hash differs from {CHECKPOINT}: the log was rewritten somewhere in "
    "positions 5..12":
        "position 12 : son empreinte diffère de celle que garantit le point de contrôle de la "
        "position 12 signé le 01/03/2026 à 11:00:00 : le journal a été réécrit quelque part "
        "entre les positions 5 et 12",
    "the append-only trigger(s) eventlog_events_no_update, eventlog_events_no_delete are "
    "dropped or disabled: the database no longer refuses changes to the log (the chain shows "
    "those made so far, unless they were re-hashed)":
        "le ou les déclencheurs eventlog_events_no_update, eventlog_events_no_delete, qui "
        "rendent le journal inaltérable, sont supprimés ou désactivés : la base n'en refuse "
        "plus les modifications (la chaîne montre celles faites jusqu'ici, sauf si leurs "
        "empreintes ont été recalculées). Trouvez qui les a retirés, recréez-les (migrations "
        "0001, 0003 et 0008) et vérifiez avec les points de contrôle exportés",
}  # fmt: skip


@pytest.mark.parametrize("english", SENTENCES)
def test_each_finding_of_the_chain_reads_in_french(english: str) -> None:
    assert finding_in_french(english) == SENTENCES[english]


@pytest.mark.parametrize("found", [None, OTHER])
def test_a_document_finding_reads_in_french_as_the_audit_writes_it(found: str | None) -> None:
    naming = Naming(position=7, stream_id="dsil-detr-01033-abc", filename="devis.pdf")
    problem = UnsoundDocument(SHA, found).problem
    sentence = DocumentProblem(SHA, problem, (naming,)).sentence()
    what = (
        f"est altérée : les octets conservés ont pour empreinte {OTHER}"
        if found
        else ("manque au magasin des pièces")
    )
    assert finding_in_french(sentence) == (
        f"position 7 : la pièce « devis.pdf » (sha256 {SHA}) {what} ; elle est jointe à "
        "dsil-detr-01033-abc (position 7)"
    )


def test_a_sentence_it_does_not_know_is_shown_as_it_is() -> None:
    assert finding_in_french("something new went wrong") == "something new went wrong"
    assert finding_in_french(None) == ""


def _from_checkpoint(position: int, head: int) -> AuditReport:
    start = StartingCheckpoint(
        position=position,
        hash="h" * 64,
        signed_at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
        key_id="k1",
        source="file",
        matches=True,
    )
    return AuditReport(ok=True, checked=head - position, head_position=head, started_from=start)


@pytest.mark.parametrize(
    ("position", "head", "read"),
    [
        (12, 3_000, "positions 13 à 3\u202f000 relues"),
        (12, 13, "position 13 relue"),
        (12, 12, "aucune position après la 12 à relire"),
    ],
)
def test_a_verification_from_a_checkpoint_says_its_scope_in_french(
    position: int, head: int, read: str
) -> None:
    """What was re-read, however little, then what the checkpoint vouched for."""
    assert scope_in_french(_from_checkpoint(position, head), with_file=True) == (
        f"{read} ; positions 1 à 12 garanties par le point de contrôle de la position 12 signé "
        "le 01/03/2026 à 11:00:00 (clé k1, du fichier déposé), non relues, et les pièces "
        "jointes nommées seulement à ces positions non hachées de nouveau"
    )


def test_an_empty_log_with_no_checkpoint_is_said_to_be_empty() -> None:
    """Nothing to start from, nothing to read: not « positions 1 à 0 »."""
    empty = AuditReport(ok=True, checked=0, head_position=0, trusted_key_id="k1")
    assert scope_in_french(empty, with_file=False) == (
        "aucun point de contrôle signé par la clé de confiance k1 dans la base : tout le "
        "journal a été vérifié à la place (il est vide)"
    )


def test_checkpoints_above_a_break_read_in_french_and_the_page_s_own_notes_are_left_out() -> None:
    """``verify``'s note of the checkpoints past the chain's break, one or several; the notes
    the journal's page says from the report's fields (signatures not checked, the scope) are
    not said twice."""
    report = AuditReport(
        ok=False,
        checked=9,
        head_position=9,
        notes=(
            "checkpoint signatures not checked: no public key to check them against",
            above_break_note([6, 8, 9], 5),
        ),
        chain_broken_at=5,
        checkpoints_above_break=(6, 8, 9),
    )
    assert notes_in_french(report) == [
        "les 3 points de contrôle des positions 6, 8 et 9 concordent avec l'empreinte "
        "enregistrée à leur position, mais la chaîne est rompue en dessous, à la position 5 : "
        "ils ne garantissent rien à partir de la position 5"
    ]


def test_many_checkpoints_above_a_break_are_said_by_the_first_and_the_last() -> None:
    """Hourly checkpoints above a break years back: thousands of positions, not a sentence."""
    positions = tuple(range(10, 100_000, 10))
    note = above_break_note(positions, 5)
    assert note == (  # the command line's note is not thousands of positions long either
        "9999 checkpoint(s) at position(s) 10 … 99990 (9999 of them) match the hash stored "
        "there, but the chain beneath is broken at position 5: they vouch for nothing from "
        "position 5 on"
    )
    report = AuditReport(
        ok=False,
        checked=1,
        head_position=99_990,
        notes=(note,),
        chain_broken_at=5,
        checkpoints_above_break=positions,
    )
    assert notes_in_french(report) == [
        "les 9\u202f999 points de contrôle signés entre les positions 10 et 99990 concordent avec "
        "l'empreinte enregistrée à leur position, mais la chaîne est rompue en dessous, à la "
        "position 5 : ils ne garantissent rien à partir de la position 5"
    ]
