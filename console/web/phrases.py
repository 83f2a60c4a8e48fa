"""What happened, in French, for the console's timelines (the CLI and exports keep
``audit.describing``'s English). Amounts as French readers write them."""

from __future__ import annotations

from audit.describing import describe
from console.reasons import reason_in_french
from console.web.labels import (
    CONVENTION,
    DEADLINE,
    DOCUMENT_KIND,
    OPINION_VERDICT,
    STATUS,
    euros,
    expert,
    last_day,
    lower,
)
from domain.events import (
    ApplicationAccepted,
    ApplicationClosed,
    ApplicationDeclaredComplete,
    ApplicationDismissed,
    ApplicationLapsed,
    ApplicationRefused,
    ApplicationReopened,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    AwardNotified,
    CaseworkerAssigned,
    CommandRejected,
    CommissionOpinionRecorded,
    ConventionRecorded,
    CorrectionAnswered,
    CorrectionRequested,
    DeadlineClosed,
    DeadlineExpired,
    DeadlineExtended,
    DeadlineOpened,
    DocumentAttached,
    EligibilityConfirmed,
    EligibilityRejected,
    Event,
    FileRouted,
    FundingDecided,
    LabelAdded,
    LabelRemoved,
    MessageSent,
    NoteAdded,
    OpinionGiven,
    OpinionRequested,
    OpinionRequestWithdrawn,
    PaymentClaimed,
    PaymentDisbursed,
    PaymentFailed,
    PaymentOrdered,
    PlanRevised,
    ReminderSent,
    RepaymentDue,
    RepaymentRecorded,
    WorksCompleted,
    WorksStarted,
)
from domain.french import bank_reason

PAYMENT_KIND = {"advance": "avance", "interim": "acompte", "balance": "solde"}


def phrase(event: Event) -> str:
    """One sentence in French; an event this table does not know keeps the English phrase."""
    match event:
        case ApplicationSubmitted(request=request, programme=programme, commune=commune):
            # Names from the snapshots taken at submission; codes when the look-up found none.
            what = programme.name if programme else request.programme_id
            where = f"{commune.name} ({commune.insee})" if commune else request.insee
            return (
                f"Demande « {request.project_title} » déposée au titre de « {what} » pour la "
                f"commune de {where} (coût total {euros(request.plan.total_cost_cents)})"
            )
        case EligibilityConfirmed():
            return "Éligibilité confirmée"
        case EligibilityRejected(verdicts=verdicts):
            return "Demande inéligible : " + " ; ".join(
                f"{v.french or v.message} [{v.source}]" for v in verdicts
            )
        case CaseworkerAssigned(caseworker_id=who):
            return f"Dossier attribué à {who}"
        case CorrectionRequested(message=message):
            return f"Correction demandée : {message}"
        case CorrectionAnswered(message=message, revised_plan=plan):
            return (
                "Correction apportée" + (" avec un plan révisé" if plan else "") + f" : {message}"
            )
        case ApplicationDeclaredComplete(deemed=deemed):
            return "Dossier réputé complet (silence gardé)" if deemed else "Dossier déclaré complet"
        case FundingDecided(funder=funder, approved=approved, granted_cents=granted, note=note):
            verdict = f"accorde {euros(granted)} sur sa ligne" if approved else "refuse sa ligne"
            corrects = "corrige sa décision : " if event.correction else ""
            return f"{funder} {corrects}{verdict}{_said(note)}"
        case PlanRevised(note=note):
            return f"Plan de financement révisé{_said(note)}"
        case CommissionOpinionRecorded(favourable=favourable, note=note):
            opinion = "favorable" if favourable else "défavorable"
            return f"Avis de la commission DETR : {opinion}{_said(note)}"
        case ApplicationAccepted(award_cents=award, note=note):
            return f"Dossier accepté, subvention de {euros(award)}{_said(note)}"
        case AwardNotified(award_cents=award, decision_reference=reference, notified_on=on):
            received = f", reçue par la commune le {on:%d/%m/%Y}" if on else ""
            return f"Décision attributive notifiée ({reference}{received}) : {euros(award)}"
        case ConventionRecorded(kind=kind, signed_on=signed, note=note):
            return f"{CONVENTION[kind]} de la commune signée le {signed:%d/%m/%Y}{_said(note)}"
        case NoteAdded(note=note):
            return f"Note interne : {note}"
        case DocumentAttached(document=document, note=note):
            attached = lower(DOCUMENT_KIND, document.kind)
            return f"Pièce jointe, {attached} « {document.filename} »{_said(note)}"
        case OpinionRequested(number=n, expert_id=expert_id, question=question, due_on=due):
            named = expert(expert_id, event.expert_name)
            return f"Avis n° {n} demandé à {named}, pour le {due:%d/%m/%Y} : {question}"
        case OpinionGiven(number=n, verdict=verdict, opinion=opinion):
            return f"Avis n° {n} rendu, {lower(OPINION_VERDICT, verdict)} : {opinion}"
        case OpinionRequestWithdrawn(number=n, reason=reason):
            return f"Demande d'avis n° {n} retirée : {reason}"
        case FileRouted(department=department, reason=reason):
            return f"Dossier transmis au service du département {department} : {reason}"
        case LabelAdded(label=label):
            return f"Étiquette « {label} » ajoutée"
        case LabelRemoved(label=label):
            return f"Étiquette « {label} » retirée"
        case MessageSent(message=message, actor=actor):
            side = "de la commune" if actor.role == "applicant" else "des services instructeurs"
            return f"Message {side} : {message}"
        case ApplicationRefused(reason=reason):
            return f"Demande refusée : {reason}"
        case ApplicationDismissed(reason=reason):
            return f"Classée sans suite : {reason_in_french(reason)}"
        case ApplicationReopened(reason=reason, back_to=back_to):
            return f"Dossier rouvert, de nouveau « {lower(STATUS, back_to)} » : {reason}"
        case ApplicationWithdrawn(reason=reason):
            return f"Demande retirée : {reason}"
        case WorksStarted(started_on=day):
            return f"Travaux commencés le {day:%d/%m/%Y}"
        case WorksCompleted(completed_on=day):
            return f"Travaux achevés le {day:%d/%m/%Y}"
        case PaymentClaimed(
            payment_number=n, kind=kind, amount_cents=amount, with_bank_guarantee=guaranteed
        ):
            what = PAYMENT_KIND[kind] + (", avec garantie bancaire" if guaranteed else "")
            proof = _proof(event.eligible_expense_cents, event.proof_reference)
            return f"Demande de versement n° {n} ({what}) : {euros(amount)}{proof}"
        case PaymentOrdered(payment_number=n, amount_cents=amount):
            return f"Versement n° {n} ordonné : {euros(amount)}"
        case PaymentDisbursed(payment_number=n, amount_cents=amount, gateway_reference=ref):
            return f"Versement n° {n} effectué : {euros(amount)} ({ref})"
        case PaymentFailed(payment_number=n, reason=reason):
            return f"Versement n° {n} refusé par la banque : {bank_reason(reason)}"
        case RepaymentDue(deadline="completion", amount_cents=amount):
            return f"Reversement dû : {euros(amount)}, {_settled(event)}"
        case ApplicationClosed(deadline="completion"):
            return f"Dossier clos : {_settled(event)}"
        case RepaymentDue(amount_cents=amount, eligible_expense_cents=expense, proof_reference=ref):
            return f"Reversement dû : {euros(amount)}" + _proof(expense, ref)
        case RepaymentRecorded(amount_cents=amount, reference=ref):
            return f"Reversement reçu : {euros(amount)} ({ref})"
        case ApplicationClosed(proof_reference=None):
            return "Dossier clos"
        case ApplicationClosed(eligible_expense_cents=expense, proof_reference=ref):
            return "Dossier clos : le solde demandé ne laisse rien à verser" + _proof(expense, ref)
        case ApplicationLapsed(deadline=kind):
            return f"Subvention caduque : délai « {DEADLINE[kind]} » expiré"
        case DeadlineOpened(deadline=deadline):
            named = _deadline(deadline.kind, deadline.subject)
            return f"Délai {named} jusqu'au {last_day(deadline.due_at)}"
        case DeadlineClosed(kind=kind, subject=subject):
            return f"Délai {_deadline(kind, subject)} clos"
        case ReminderSent(kind=kind, subject=subject, days_before=days):
            return f"Rappel J-{days} du délai {_deadline(kind, subject)} envoyé"
        case DeadlineExpired(kind=kind, subject=subject):
            return f"Délai {_deadline(kind, subject)} expiré"
        case DeadlineExtended(kind=kind, subject=subject, due_at=due, reason=reason):
            named = _deadline(kind, subject)
            return f"Délai {named} prolongé jusqu'au {last_day(due)} : {reason}"
        case CommandRejected(message=message, french=french, rule=rule):
            return f"Action refusée : {french or message} [{rule}]"
    return describe(event)


def _settled(event: RepaymentDue | ApplicationClosed) -> str:
    """A settlement after the completion deadline: the expense the caseworker found proven."""
    proof = f", justificatif {event.proof_reference}" if event.proof_reference else ""
    return (
        "soldé après le délai d'achèvement (dépense éligible justifiée "
        f"{euros(event.eligible_expense_cents)}{proof})"
    )


def _proof(expense_cents: int | None, reference: str | None) -> str:
    """A claim's evidence, when the event carries it: the expense proven, and the proof."""
    if reference is None:
        return ""
    expense = f"dépense éligible justifiée {euros(expense_cents)}, " if expense_cents else ""
    return f" ({expense}justificatif {reference})"


def _deadline(kind: str, subject: str | None) -> str:
    """``« Décision du cofinanceur » (ligne detr)``: a co-financer's deadline names its line,
    an expert's the number of the request."""
    which = "demande n°" if kind == "expert_opinion" else "ligne"
    return f"« {DEADLINE[kind]} »" + (f" ({which} {subject})" if subject else "")


def _said(note: str) -> str:
    """A decision's observation after its phrase (« … : motif »), nothing when none was given."""
    return f" : {note}" if note else ""
