"""A file's whole life on a real SMTP server, every mail read as its reader gets it: the
commune, the caseworker, the co-financers, the experts and the payment officers.

The workflow runs on the time-skipping server (``tests.workflow``'s ``stack``, which this
folder's conftest takes), its worker mails through a local SMTP server with a directory and
the console's address, as deployed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest

from activities.directory import MappingDirectory
from activities.ledger import LedgerGateway
from activities.mail import SmtpMailer
from activities.outbox import outbox
from activities.payments import DisbursementOrder, PaymentRefused
from activities.rendering import AUTOMATIC
from domain.actor import Actor
from domain.commands import (
    AcceptApplication,
    AnswerCorrection,
    AssignCaseworker,
    ClaimPayment,
    DecideFunding,
    DeclareComplete,
    DeclareStart,
    GiveOpinion,
    NotifyAward,
    OrderPayment,
    RecordCommissionOpinion,
    RequestCorrection,
    RequestOpinion,
    RevisePlan,
    WithdrawOpinionRequest,
)
from domain.deadline import day_of
from domain.plan import FinancingPlan
from tests.notifications.conftest import SENDER, SmtpServer
from tests.polling import eventually
from tests.workflow.conftest import Stack
from tests.workflow.scenarios import (
    AGENT,
    ALICE,
    BOB,
    DEPARTMENT,
    EUR,
    NOW,
    PREFECTURE,
    REGION,
    submission,
    wait_until,
)
from worker import build_worker

pytestmark = [pytest.mark.temporal, pytest.mark.postgres]

CONSOLE = "https://guichet.example.fr"
COMMUNE = "mairie@valserhone.example.fr"
TITLE = "Halle « Marché couvert »"
DIRECTORY = {
    "alice": ["alice@ddt.example.fr"],
    "caseworkers": ["instruction@ddt.example.fr"],
    "supervisors": ["chef@ddt.example.fr"],
    "payment-officers": ["ddfip@example.fr"],
    "cofinancer:DETR": ["detr@pref.example.fr"],
    "cofinancer:REGION": ["region@example.fr"],
    "cofinancer:DEPARTEMENT": ["cd01@example.fr"],
    "abf-ain": ["abf@culture.example.fr"],
    "dreal-ain": ["dreal@example.fr"],
}
ABF = Actor(id="abf-ain", role="expert")
AMOUNT = re.compile(r"(\S+) €")
FRENCH_AMOUNT = re.compile(r"^−?\d{1,3}(\u202f\d{3})*,\d{2}$")


class RefusedOnce(LedgerGateway):
    """The bank refuses the first disbursement (a closed account), then pays."""

    refused = False

    async def disburse(self, order: DisbursementOrder) -> str:
        if not self.refused:
            self.refused = True
            raise PaymentRefused("IBAN clos (AC04)")
        return await super().disburse(order)


async def today(stack: Stack) -> date:
    """The workflows' day in Paris: the time-skipping server's clock, not the tests'."""
    return day_of(await stack.env.get_current_time(), paris=True)


def without_the_department(plan: FinancingPlan) -> FinancingPlan:
    """The commune's revision after the Région's partial grant and the Département's refusal:
    it takes the Région's €80,000 and puts in the €70,000 no longer asked of anyone."""
    lines = []
    for line in plan.lines:
        if line.line_id == "department":
            continue
        if line.line_id in ("region", "owner"):
            amount = {"region": 80_000, "owner": 220_000}[line.line_id] * EUR
            line = line.model_copy(update={"requested_cents": amount})
        lines.append(line)
    return plan.model_copy(update={"lines": tuple(lines)})


async def live_a_whole_life(stack: Stack) -> str:
    """Received, corrected, complete, two experts asked (one withdrawn), three decisions
    (partial, whole, refused), the plan revised without the refused line, accepted,
    awarded, started, the advance refused by the bank once, then paid."""
    g = stack.guichet
    sent = submission()
    assert sent.request is not None
    request = sent.request.model_copy(update={"contact_email": COMMUNE, "project_title": TITLE})
    app_id, _ = await g.submit(sent.model_copy(update={"request": request}))
    await wait_until(g, app_id, lambda s: s.status != "draft")
    await g.act(app_id, AssignCaseworker(actor=ALICE, at=NOW, caseworker_id="alice"))
    await g.act(
        app_id,
        RequestCorrection(actor=ALICE, at=NOW, reason="incomplete", message="Devis manquant"),
    )
    await stack.env.sleep(timedelta(days=17))  # the J-14 reminder of the answer
    await g.act(app_id, AnswerCorrection(actor=AGENT, at=NOW, message="Devis joint"))
    await g.act(app_id, DeclareComplete(actor=ALICE, at=NOW))
    for expert, question in (("abf-ain", "Toiture conforme ?"), ("dreal-ain", "Zone inondable ?")):
        due_on = await today(stack) + timedelta(days=20)
        ask = RequestOpinion(
            actor=ALICE, at=NOW, expert_id=expert, question=question, due_on=due_on
        )
        await g.act(app_id, ask)
    await g.act(app_id, WithdrawOpinionRequest(actor=ALICE, at=NOW, number=2, reason="Sans objet"))
    await g.act(
        app_id, GiveOpinion(actor=ABF, at=NOW, number=1, verdict="reserved", opinion="Chaux")
    )
    for actor, line, granted, note in (
        (REGION, "region", 80_000, "Enveloppe limitée"),
        (PREFECTURE, "detr", 200_000, ""),
        (DEPARTMENT, "department", None, "Hors règlement départemental"),
    ):
        decision = DecideFunding(
            actor=actor,
            at=NOW,
            line_id=line,
            approve=granted is not None,
            granted_cents=granted * EUR if granted else None,
            note=note,
        )
        await g.act(app_id, decision)
    plan = (await g.state(app_id)).plan
    assert plan is not None
    await g.act(app_id, RevisePlan(actor=AGENT, at=NOW, plan=without_the_department(plan)))
    await g.act(app_id, RecordCommissionOpinion(actor=ALICE, at=NOW, favourable=True))
    await g.act(app_id, AcceptApplication(actor=ALICE, at=NOW))
    await g.act(app_id, NotifyAward(actor=ALICE, at=NOW, decision_reference="ARR-2027-001"))
    await g.act(app_id, DeclareStart(actor=AGENT, at=NOW, started_on=await today(stack)))
    claim = ClaimPayment(
        actor=AGENT, at=NOW, kind="advance", amount_cents=60_000 * EUR, proof_reference="ODS-1"
    )
    await g.act(app_id, claim)
    for status in ("failed", "disbursed"):
        await g.act(app_id, OrderPayment(actor=BOB, at=NOW, payment_number=1))
        await wait_until(g, app_id, lambda s, status=status: s.payments[0].status == status)
    return app_id


async def test_every_mail_of_a_file_s_life_reads_right_to_its_reader(
    stack: Stack,
    smtp_server: SmtpServer,
) -> None:
    """Each mail: from Guichet, to its reader's address, dated in Paris, its subject naming
    the file, French amounts, said automatic, linked to a page its reader may open; and each
    reader gets the file's mails in the order they were written."""
    worker = build_worker(
        stack.env.client,
        task_queue=stack.task_queue,
        log=stack.log,
        registry=stack.registry,
        catalogue=stack.catalogue,
        gateway=RefusedOnce(stack.log.engine),
        mailer=SmtpMailer(smtp_server.settings),
        directory=MappingDirectory(DIRECTORY),
        console_url=CONSOLE,
    )
    async with worker:
        app_id = await live_a_whole_life(stack)
        rows = await eventually(lambda: delivered(stack, app_id))
    received = await smtp_server.recorder.wait_for(len(rows))
    assert len(received) == len(rows)
    by_id = {f"<{row.message_id}@pvd.example.fr>": row for row in rows}
    arrived: dict[str, list[Any]] = defaultdict(list)
    threads: dict[str, set[str | None]] = defaultdict(set)
    for mail in received:
        message = mail.message
        row = by_id[message["Message-ID"]]
        reader = tuple(DIRECTORY.get(row.recipient, [row.recipient]))
        arrived[row.recipient].append(row)
        threads[row.recipient].add(message["In-Reply-To"] and message["References"])
        assert (mail.mail_from, tuple(mail.rcpt_tos)) == (SENDER, reader)
        assert message["From"] == f"Guichet PVD <{SENDER}>"
        assert message["To"] == ", ".join(reader)
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Date"].endswith(("+0100", "+0200")), message["Date"]
        assert message.get_content_type() == "text/plain"
        assert message.get_content_charset() == "utf-8"
        assert message["Subject"] == row.subject
        # What happened first, then the commune, the project and the number: an inbox list
        # cut the subject at « [PVD-…-000123] Halle « Marché… » and nothing of the news.
        what, _, ref = row.subject.partition(" – ")
        assert what and not what.startswith("["), row.subject
        assert ref == f"Valserhône – {TITLE} [{app_id}]", row.subject
        text, footer = message.get_content().replace("\r\n", "\n").split("\n\n-- \n")
        assert text == row.body
        assert footer.splitlines() == [AUTOMATIC, *link(row, app_id)], row.subject
        for amount in AMOUNT.findall(text):
            assert FRENCH_AMOUNT.match(amount), (amount, row.subject)
    # One conversation per file and reader: each of its mails refers to the same root.
    assert all(len(refs) == 1 and None not in refs for refs in threads.values()), threads
    assert len({ref for refs in threads.values() for ref in refs}) == len(threads)
    for recipient, mails in arrived.items():  # each reader's mails, in the order written
        assert mails == sorted(mails, key=lambda row: row.created_at), recipient
    told = {(row.recipient, row.event_type) for row in rows}
    read = defaultdict(str)
    for row in rows:
        read[(row.recipient, row.event_type)] += row.body
    # What each reader needs of the news to act on it (the review read them lacking).
    assert "le dossier sera classé sans suite" in read[(COMMUNE, "ReminderSent")]
    assert "en reportant son montant sur un autre financeur" in read[(COMMUNE, "FundingDecided")]
    assert (
        "Votre ligne REGION : 80\u202f000,00\u00a0€ accordés."
        in (read[("cofinancer:REGION", "ApplicationAccepted")])
    )
    assert read[("payment-officers", "PaymentFailed")].startswith(
        "Avance (versement n° 1) de 60\u202f000,00\u00a0€ à Valserhône (01033) : la banque a "
        "refusé le virement (IBAN clos (AC04))."
    )
    assert "Avis favorable avec réserves d'abf-ain" in read[("alice", "OpinionGiven")]
    assert {
        (COMMUNE, "CorrectionRequested"),
        (COMMUNE, "FundingDecided"),
        (COMMUNE, "PaymentFailed"),
        (COMMUNE, "PaymentDisbursed"),
        ("alice", "CorrectionAnswered"),
        ("alice", "OpinionGiven"),
        ("cofinancer:DEPARTEMENT", "PlanRevised"),
        ("dreal-ain", "OpinionRequestWithdrawn"),
        ("payment-officers", "PaymentClaimed"),
    } <= told


async def delivered(stack: Stack, app_id: str) -> list[Any] | None:
    """The file's outbox rows once every one is mailed (the last deliveries run in the
    background), oldest first."""
    async with stack.log.engine.connect() as conn:
        query = outbox.select().where(outbox.c.application_id == app_id)
        rows = list((await conn.execute(query.order_by(outbox.c.created_at))).all())
    done = rows and all(row.delivered_by == "smtp" for row in rows)
    return rows if done else None


def link(row: Any, app_id: str) -> list[str]:
    """The page a reader may open from the mail: the file's, except for a co-financer whose
    line left the plan (none) and an expert whose request was withdrawn (theirs)."""
    if (row.event_type, row.recipient_role) == ("PlanRevised", "cofinancer"):
        return []
    if (row.event_type, row.recipient_role) == ("OpinionRequestWithdrawn", "expert"):
        return [f"Vos demandes d'avis dans Guichet : {CONSOLE}/avis"]
    return [f"Le dossier dans Guichet : {CONSOLE}/dossiers/{app_id}"]
