"""Demo files for ``guichet dev --demo``: a handful of applications in different states,
driven through the real commands (so the log, the rules and the UI show real histories).

Idempotent: each file has a fixed idempotency key (hence a fixed application id) and each
step a fixed update id, which Temporal runs once; terminal files are left alone.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from console.documents import attach, document_from
from domain.actor import Actor
from domain.commands import ApplicationRequest, AttachDocument, Command
from domain.deadline import PARIS, day_of
from domain.documents import DocumentKind
from domain.plan import FinancingPlan, FundingLine
from domain.state import Application
from eventlog.documents import DocumentStore
from workflows.client import GuichetClient, application_id_for
from workflows.messages import Submission

PROGRAMME = "dsil-detr-investissement"
EXPERT = "abf-ain"
DEMO_NAMES: dict[str, str] = {
    "alice": "Alice Martin",
    "sophie": "Sophie Bernard",
    "carol": "Carole Petit",
    EXPERT: "Claire Dubois",
    "audrey": "Audrey Lambert",
}
"""The names the demo's people accounts carry (``guichet user add --name``): the mails and
pages name the expert by hers, and the demo's caseworker and payment officer by theirs."""
CASEWORKER = Actor(id="alice", role="caseworker").named(DEMO_NAMES["alice"])
DETR = Actor(id="prefecture", role="cofinancer", funder="DETR")
REGION = Actor(id="region-aura", role="cofinancer", funder="REGION")
OFFICER = Actor(id="carol", role="payment_officer").named(DEMO_NAMES["carol"])
QUESTION = "Les menuiseries proposées conviennent-elles aux abords de l'église classée ?"
DISBURSE_TIMEOUT = 60.0

# (name, INSEE, title, target): the steps for each target are in ``_steps``.
DEMO_FILES: tuple[tuple[str, str, str, str], ...] = (
    ("submitted", "01034", "Rénovation de la halle du marché", "submitted"),
    ("instruction", "01072", "Réfection de l'école élémentaire", "in_instruction"),
    ("correction", "01074", "Aménagement de la place centrale", "correction_requested"),
    ("awarded", "01093", "Médiathèque intercommunale", "awarded"),
    ("partly-paid", "01143", "Voie verte le long du Léman", "started"),
    ("closed", "01173", "Rénovation thermique de la mairie", "closed"),
    ("ineligible", "01001", "Salle des fêtes", "ineligible"),
)


def demo_plan() -> FinancingPlan:
    """€100,000 HT: the commune 40 %, DETR 40 %, the region 20 % (every rule passes)."""
    return FinancingPlan(
        total_cost_cents=100_000_00,
        subsidisable_base_cents=100_000_00,
        lines=(
            FundingLine(line_id="owner", funder="OWNER", kind="owner", requested_cents=40_000_00),
            FundingLine(
                line_id="detr", funder="DETR", kind="public", dotation="DETR",
                requested_cents=40_000_00,
            ),
            FundingLine(
                line_id="region", funder="REGION", kind="public", requested_cents=20_000_00
            ),
        ),
    )  # fmt: skip


def _steps(target: str, applicant: Actor) -> list[tuple[str, dict[str, Any]]]:
    today = day_of(datetime.now(UTC), paris=True).isoformat()  # the day French law counts
    review = [("AssignCaseworker", {"actor": CASEWORKER, "caseworker_id": CASEWORKER.id})]
    if target == "correction_requested":
        return [*review, ("RequestCorrection", {"actor": CASEWORKER, "reason": "incomplete",
                "message": "Joindre les devis signés et le plan de situation."})]  # fmt: skip
    review.append(("DeclareComplete", {"actor": CASEWORKER}))
    if target == "in_instruction":
        return review
    award = [
        *review,
        ("DecideFunding", {"actor": DETR, "line_id": "detr", "approve": True,
                           "granted_cents": 40_000_00}),
        ("DecideFunding", {"actor": REGION, "line_id": "region", "approve": True,
                           "granted_cents": 20_000_00}),
        ("AcceptApplication", {"actor": CASEWORKER, "note": "Plan de financement vérifié."}),
        ("NotifyAward", {"actor": CASEWORKER, "decision_reference": "ARR-DEMO-001"}),
    ]  # fmt: skip
    if target == "awarded":
        return award
    paying = [
        *award,
        ("DeclareStart", {"actor": applicant, "started_on": today}),
        ("ClaimPayment", {"actor": applicant, "kind": "advance", "amount_cents": 12_000_00,
                          "proof_reference": "ORDRE-SERVICE-1"}),
        ("OrderPayment", {"actor": OFFICER, "payment_number": 1}),
    ]  # fmt: skip
    if target == "started":  # the advance paid, an interim payment waiting to be ordered
        return [*paying, ("ClaimPayment", {"actor": applicant, "kind": "interim",
                "amount_cents": 10_000_00, "eligible_expense_cents": 60_000_00,
                "proof_reference": "SITUATION-1"})]  # fmt: skip
    return [
        *paying,
        ("DeclareCompletion", {"actor": applicant, "completed_on": today}),
        ("ClaimPayment", {"actor": applicant, "kind": "balance",
                          "eligible_expense_cents": 100_000_00, "proof_reference": "DGD-1"}),
        ("OrderPayment", {"actor": OFFICER, "payment_number": 2}),
    ]  # fmt: skip


DEMO_LABEL = "attente avis abf"


def _opinion_request() -> Command:
    """The school's file waits on the architect of the Bâtiments de France (the demo's
    expert account), due in two weeks."""
    due_on = datetime.now(PARIS).date() + timedelta(days=14)
    return _command("RequestOpinion", {"actor": CASEWORKER, "expert_id": EXPERT,
                    "expert_name": DEMO_NAMES[EXPERT], "question": QUESTION,
                    "due_on": due_on})  # fmt: skip


def _command(type_name: str, fields: dict[str, Any]) -> Command:
    data = {"type": type_name, "at": datetime.now(UTC), **fields}
    return TypeAdapter(Command).validate_python(data)


async def seed_demo(
    guichet: GuichetClient,
    progress: Callable[[str], None],
    documents: DocumentStore,
) -> list[str]:
    """Create (or finish creating) the demo files; returns their application ids. The running
    files get the commune's quote, awarded ones the award decision, and the balance is claimed
    on the proof of expense, attached first."""
    ids: list[str] = []
    for name, insee, title, target in DEMO_FILES:
        applicant = Actor(id=f"mairie-{insee}", role="applicant", insee=insee)
        key = f"guichet-demo-{name}"
        request = ApplicationRequest(
            programme_id=PROGRAMME, insee=insee, project_title=title, plan=demo_plan()
        )
        application_id = application_id_for(PROGRAMME, insee, key)
        await guichet.submit(
            Submission(
                application_id=application_id, idempotency_key=key, actor=applicant,
                request=request,
            )
        )  # fmt: skip
        state = await _settled(guichet, application_id)
        for number, (type_name, fields) in enumerate(_steps(target, applicant), start=1):
            if state.is_terminal or _reached(state, target):
                break
            if type_name == "ClaimPayment" and fields["kind"] == "balance":
                lines = ["Decompte general definitif (demonstration)", title]
                await _attach(guichet, documents, application_id, applicant, "proof_of_expense",
                              "decompte-general-definitif.pdf", lines)  # fmt: skip
            command = _command(type_name, fields)
            await guichet.act(application_id, command, request_id=f"{key}-step-{number}")
            if type_name == "OrderPayment":
                await _disbursed(guichet, application_id, fields["payment_number"])
            state = await guichet.state(application_id)
        if target == "in_instruction" and not state.opinions:
            await guichet.act(application_id, _opinion_request(), request_id=f"{key}-opinion")
            state = await guichet.state(application_id)
        if target == "in_instruction" and state.labels is None:
            # The queue shows a label and filters on it from the first look.
            label = _command("AddLabel", {"actor": CASEWORKER, "label": DEMO_LABEL})
            await guichet.act(application_id, label, request_id=f"{key}-label")
            state = await guichet.state(application_id)
        if not state.is_terminal:
            await _attach_documents(guichet, documents, application_id, applicant, state)
        progress(f"  {application_id}: {state.status}")
        ids.append(application_id)
    return ids


async def _attach_documents(
    guichet: GuichetClient,
    documents: DocumentStore,
    application_id: str,
    applicant: Actor,
    state: Application,
) -> None:
    """The commune's signed quote, and for an awarded file the caseworker's award decision:
    small PDFs written here, kept and attached as the console does (the same bytes again
    attach nothing, so a second ``make dev`` adds none)."""
    title = state.request.project_title if state.request else application_id
    attached: list[tuple[Actor, DocumentKind, str, list[str]]] = [
        (applicant, "quote", "devis-signe.pdf", ["Devis signe (demonstration)", title]),
    ]
    if state.award_notified_at is not None:
        lines = ["Arrete attributif ARR-DEMO-001 (demonstration)", title]
        attached.append((CASEWORKER, "award_decision", "arrete-ARR-DEMO-001.pdf", lines))
    for actor, kind, filename, text in attached:
        await _attach(guichet, documents, application_id, actor, kind, filename, text)


async def _attach(
    guichet: GuichetClient,
    documents: DocumentStore,
    application_id: str,
    actor: Actor,
    kind: DocumentKind,
    filename: str,
    lines: list[str],
) -> None:
    content = demo_pdf(lines)
    document = await document_from(filename, content, kind)
    command = AttachDocument(actor=actor, at=datetime.now(UTC), document=document)
    state = await guichet.state(application_id)
    await attach(guichet, documents, state, command, content, request_id=f"{application_id}-{kind}")


def demo_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ``lines`` in Helvetica, with a correct cross-reference table,
    so that any reader opens it. Accents are dropped: the standard fonts' encoding is not
    worth carrying for a demonstration."""
    text = " ".join(f"({_pdf_text(line)}) Tj 0 -24 Td" for line in lines)
    stream = f"BT /F1 16 Tf 72 770 Td {text} ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(pdf)


def _pdf_text(line: str) -> str:
    """``line`` as a PDF literal string's content: ASCII, its delimiters escaped."""
    plain = unicodedata.normalize("NFKD", line).encode("ascii", "ignore").decode()
    return re.sub(r"([\\()])", r"\\\1", plain)


def _reached(state: Application, target: str) -> bool:
    """The file stands as the demo wants it. A started file is the partly paid one: its
    status is reached at the start of works, steps before its advance is paid and its interim
    payment claimed (for the payment officer's page)."""
    if target == "started":
        return state.payment(2) is not None
    return state.status == target


async def _settled(guichet: GuichetClient, application_id: str) -> Application:
    """The state once the workflow has recorded the submission (it starts as ``draft``)."""
    while True:
        state = await guichet.state(application_id)
        if state.status != "draft":
            return state
        await asyncio.sleep(0.2)


async def _disbursed(guichet: GuichetClient, application_id: str, number: int) -> None:
    """Wait until the worker's payment gateway has paid ``number`` (or failed to)."""
    async with asyncio.timeout(DISBURSE_TIMEOUT):
        while True:
            payment = (await guichet.state(application_id)).payment(number)
            if payment is not None and payment.status in ("disbursed", "failed"):
                return
            await asyncio.sleep(0.2)
