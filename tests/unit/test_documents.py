"""Documents on a file (``AttachDocument``): the file records each one's reference and hash."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain import Actor, InvalidTransition, NotPermitted, RuleViolation, decide, fold
from domain.commands import AddNote, AttachDocument, WithdrawApplication
from domain.documents import MAX_DOCUMENTS, AttachedDocument, Document, media_type_of, named_as
from domain.events import DocumentAttached
from domain.french import size
from domain.notices import notices_for
from tests.unit.builders import (
    APPLICANT,
    AUDITOR,
    CASEWORKER,
    DETR_OFFICER,
    OTHER_APPLICANT,
    QUOTE,
    apply,
    at,
    to_instruction,
)


def _attach(actor: Actor = APPLICANT, document: Document = QUOTE, day: int = 9) -> AttachDocument:
    return AttachDocument(actor=actor, at=at(day), document=document, note="Devis signé")


def test_a_document_joins_the_file_with_who_attached_it_and_when() -> None:
    """The state lists it; the status, the plan and the deadlines do not move."""
    before = apply(to_instruction())
    events = decide(_attach(), before)
    assert events == [
        DocumentAttached(actor=APPLICANT, at=at(9), document=QUOTE, note="Devis signé")
    ]
    after = fold(events, before)
    assert after.documents == (
        AttachedDocument(**QUOTE.model_dump(), attached_by=APPLICANT, attached_at=at(9)),
    )
    assert (after.status, after.plan, after.deadlines) == (
        before.status,
        before.plan,
        before.deadlines,
    )


def test_the_same_bytes_again_are_a_no_op_whatever_their_name() -> None:
    """A form sent twice, or the same scan under another name by someone else: one document."""
    state = fold(decide(_attach(), apply(to_instruction())), apply(to_instruction()))
    renamed = QUOTE.replaced({"filename": "autre nom.pdf", "kind": "other"})
    assert decide(_attach(CASEWORKER, renamed, day=10), state) == []


def test_a_file_holds_a_bounded_number_of_documents() -> None:
    """Each reference travels in the workflow's state: past the cap, one PDF of many pages."""
    state = apply(to_instruction())
    full = state.replaced({"documents": tuple(
        AttachedDocument(**QUOTE.replaced({"sha256": f"{n:064x}"}).model_dump(),
                         attached_by=APPLICANT, attached_at=at(1))
        for n in range(MAX_DOCUMENTS)
    )})  # fmt: skip
    with pytest.raises(RuleViolation) as refused:
        decide(_attach(), full)
    assert refused.value.rule == "documents-per-file"
    assert "un seul PDF" in refused.value.french


def test_who_may_attach_and_when() -> None:
    """The commune and the services may; the auditor and another commune may not, nor anyone
    once the file is over."""
    state = apply(to_instruction())
    for actor in (APPLICANT, CASEWORKER, DETR_OFFICER):
        assert decide(_attach(actor), state)
    for actor in (AUDITOR, OTHER_APPLICANT):
        with pytest.raises(NotPermitted):
            decide(_attach(actor), state)
    withdrawn = apply(
        [*to_instruction(), WithdrawApplication(actor=APPLICANT, at=at(5), reason="abandon")]
    )
    with pytest.raises(InvalidTransition):
        decide(_attach(), withdrawn)


@pytest.mark.parametrize(
    "name",
    [
        "../etc/passwd.pdf",
        "C:\\devis.pdf",
        "devis\x00.pdf",
        "  ",
        "a" * 201,
        "...",
        "devis\u202efdp.exe.pdf",  # shown right to left: "devisexe.pdf"…
        "devis\u200b.pdf",
        "devis\u2028.pdf",
        "é" * 110 + ".pdf",  # 110 characters, 224 bytes
        "devis.html",  # a PDF's name ends with .pdf
        "devis.pdf.bat",
    ],
)
def test_a_file_name_is_a_plain_name(name: str) -> None:
    """It is given back on download: no folder, no character a header or a disk refuses."""
    with pytest.raises(ValidationError):
        Document.model_validate({**QUOTE.model_dump(), "filename": name})


def test_a_reference_is_a_sha256_and_a_size_within_the_limit() -> None:
    """What the store gives back, checked again on the way into the file."""
    wrong = [
        {"sha256": "5" * 63},
        {"sha256": "G" * 64},
        {"size_bytes": 0},
        {"size_bytes": 10_000_001},
        {"media_type": "application/x-msdownload"},
    ]
    for change in wrong:
        with pytest.raises(ValidationError):
            Document.model_validate({**QUOTE.model_dump(), **change})


def test_a_name_gets_an_extension_of_its_format_when_it_has_none() -> None:
    """What is saved opens as what it is: never a PDF saved as a web page or a program."""
    assert named_as("devis.pdf", "application/pdf") == "devis.pdf"
    assert named_as("devis.html", "application/pdf") == "devis.html.pdf"
    assert named_as("photo.JPEG", "image/jpeg") == "photo.JPEG"
    assert named_as("scan", "image/png") == "scan.png"


def test_a_weight_reads_as_people_say_it() -> None:
    assert [size(n) for n in (1, 182_331, 999_000, 999_999, 1_450_000, 10_000_000)] == [
        "1\u00a0Ko", "183\u00a0Ko", "999\u00a0Ko", "1\u00a0Mo", "1,5\u00a0Mo", "10\u00a0Mo",
    ]  # fmt: skip


def test_the_format_is_read_from_the_bytes_not_from_the_name() -> None:
    """A browser's claim is not trusted; the zipped office formats need their name too."""
    assert media_type_of("x.pdf", b"%PDF-1.7\n") == "application/pdf"
    assert media_type_of("scan", b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert media_type_of("photo.jpg", b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert media_type_of("Plan.XLSX", b"PK\x03\x04") == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert media_type_of("archive.zip", b"PK\x03\x04") is None
    assert media_type_of("devis.pdf", b"MZ\x90\x00") is None  # a program named like a PDF
    # Readers find a PDF's header within its first kilobyte (after a scanner's preamble).
    assert media_type_of("scan.pdf", b"\x00" * 600 + b"%PDF-1.4") == "application/pdf"
    assert media_type_of("scan.pdf", b"\x00" * 1100 + b"%PDF-1.4") is None


def test_the_other_side_hears_of_a_document() -> None:
    """The commune's document goes to the caseworkers' pool (no one holds the file yet); the
    services' document goes to the commune's contact; a co-financer's to the caseworkers,
    who pass it on."""
    state = apply(to_instruction())
    by_commune = decide(_attach(), state)[0]
    (notice,) = notices_for(by_commune, fold([by_commune], state))
    assert (notice.recipient_role, notice.recipient) == ("caseworker", "caseworkers")
    assert "Devis : « devis-menuiserie signé.pdf »" in notice.body
    assert "Devis signé" in notice.body
    by_services = decide(_attach(CASEWORKER), state)[0]
    (notice,) = notices_for(by_services, fold([by_services], state))
    assert notice.recipient_role == "applicant"
    by_funder = decide(_attach(DETR_OFFICER), state)[0]
    (notice,) = notices_for(by_funder, fold([by_funder], state))
    assert (notice.recipient_role, notice.recipient) == ("caseworker", "caseworkers")
    assert notice.subject.startswith("Pièce jointe (DETR) – ")


def test_a_document_is_an_action_on_the_file() -> None:
    """Like a note, it counts as someone's action (the digest's « sans action depuis »)."""
    state = apply([*to_instruction(), AddNote(actor=CASEWORKER, at=at(3), note="x")])
    after = fold(decide(_attach(day=12), state), state)
    assert after.last_action_at == at(12)


def test_the_programme_s_expected_documents_are_checked_off_as_they_are_attached() -> None:
    """A checklist, by kind: the quote attached ticks "quote"; the proof of expense is for
    the balance claim."""
    from domain.catalogue import load_catalogue

    detr = load_catalogue().get("dsil-detr-investissement")
    assert detr is not None
    state = apply(to_instruction()).replaced({"programme": detr})
    with_quote = fold(decide(_attach(), state), state)
    checklist = [
        (r.kind, held.filename if held else None) for r, held in with_quote.document_checklist()
    ]
    assert checklist == [
        ("council_decision", None),
        ("financing_plan", None),
        ("quote", "devis-menuiserie signé.pdf"),
        ("proof_of_expense", None),
    ]
    assert [r.kind for r in with_quote.missing_documents("request")] == [
        "council_decision",
        "financing_plan",
    ]
    assert [r.kind for r in with_quote.missing_documents("balance")] == ["proof_of_expense"]
    assert apply([]).document_checklist() == []  # no programme yet: nothing expected
