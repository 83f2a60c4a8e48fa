"""``decide`` after the decision: notification, execution, payments and repayments.

No path here can pay more than the award: advance and interim claims are capped below it,
and the balance only ever brings the total to min(award, rate × proven expense).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.commands import (
    ClaimPayment,
    Command,
    DeclareCompletion,
    DeclareStart,
    LapseAward,
    NotifyAward,
    OrderPayment,
    PaymentKind,
    RecordDisbursement,
    RecordPaymentFailure,
    RecordRepayment,
)
from domain.deadline import PARIS, open_deadline
from domain.decider_instruction import file_of, withdrawing_a_decided_refusal
from domain.errors import DomainError, InvalidTransition, RuleViolation
from domain.events import (
    ApplicationClosed,
    ApplicationLapsed,
    AwardNotified,
    Event,
    PaymentClaimed,
    PaymentDisbursed,
    PaymentFailed,
    PaymentOrdered,
    RepaymentDue,
    RepaymentRecorded,
    WorksCompleted,
    WorksStarted,
)
from domain.french import DEADLINE, DOCUMENT_KIND, PAYMENT_KIND, PAYMENT_STATUS, STATUS, day, lower
from domain.french import euros as euros_fr
from domain.rules.eligibility import NO_PRIOR_START
from domain.rules.financing import euros
from domain.rules.payment import (
    PAYMENTS,
    balance_due_cents,
    check_advance,
    check_interim,
    claim_of,
    final_amount_cents,
    staged_total,
)
from domain.rules.payment_verdicts import advance_verdicts, balance_verdicts, staged_verdicts
from domain.state import Application, Payment, Status

EXECUTION = "CGCT R2334-28 / R2334-29 (exécution du projet subventionné)"


def notify_award(c: NotifyAward, state: Application) -> list[Event]:
    """The award decision is notified to the commune, on a day that has come."""
    if c.notified_on is not None and c.notified_on > state.day_of(c.at):
        raise RuleViolation(
            f"the notification date {c.notified_on.isoformat()} is in the future: record the "
            "notification once the commune has received the decision",
            rule="notification-not-in-future",
            source=EXECUTION,
            french=f"La date de notification indiquée, le {day(c.notified_on)}, est à venir : "
            "enregistrez la notification une fois la décision reçue par la commune",
        )
    notified = AwardNotified(
        actor=c.actor, at=c.at, decision_reference=c.decision_reference,
        award_cents=state.award_cents, notified_on=c.notified_on,
    )  # fmt: skip
    return [notified]


def refused_on_arrival(command: Command, state: Application) -> DomainError | None:
    """What the file's state says against a command, refused where commands arrive (the
    workflow's update validator), not by ``decide``: a file that recorded such a command
    before these checks must replay as it ran."""
    return (
        date_before_submission(command, state)
        or interim_beyond_expense(command, state)
        or ordered_already(command, state)
        or repayment_recorded_already(command, state)
        or withdrawing_a_decided_refusal(command, state)
        or balance_documents_missing(command, state)
    )


def ordered_already(command: Command, state: Application) -> InvalidTransition | None:
    """A payment ordered (or already paid) on another officer's order, ordered again: ``decide``
    takes it as a no-op (a retry), and a second officer who ordered it at the same moment was
    told « enregistré » for what a colleague did. The officer who ordered it, sending it again
    (after an answer lost, under another request id), is still answered as before. Checked
    where commands arrive, and by ``GuichetClient.act`` once an order did nothing new (two
    orders validated on the same state)."""
    match command:
        case OrderPayment(payment_number=number, actor=actor):
            payment = state.payment(number)
            if (
                payment is not None
                and payment.status in ("ordered", "disbursed")
                and payment.ordered_by != actor.id
            ):
                by = payment.ordered_by or "?"
                paid = payment.status == "disbursed"
                return InvalidTransition(
                    f"payment {number} was already ordered by {by}: "
                    + ("it was disbursed" if paid else "it is being disbursed"),
                    rule="payment-already-ordered",
                    french=f"Le paiement n° {number} a déjà été ordonné par {by} : "
                    + ("il a été versé" if paid else "son versement est en cours"),
                )
    return None


def balance_documents_missing(command: Command, state: Application) -> RuleViolation | None:
    """The balance is paid on the expense proven (décret 2018-514 art. 12): a claim whose
    programme expects documents with it (the proof of expense) is taken once they are attached
    to the file. Claimed without them, it was ordered and paid, and the file closed, on a bank
    reference alone."""
    match command:
        case ClaimPayment(kind="balance"):
            missing = state.missing_documents("balance")
            if missing:
                return RuleViolation(
                    "attach the documents the balance is paid on first: "
                    + ", ".join(d.kind for d in missing),
                    rule="balance-documents",
                    source=PAYMENTS,
                    french="Joignez d'abord au dossier les pièces sur lesquelles le solde est "
                    "versé : " + ", ".join(lower(DOCUMENT_KIND, d.kind) for d in missing),
                )
    return None


def repayment_recorded_already(command: Command, state: Application) -> InvalidTransition | None:
    """A repayment whose bank reference the file already recorded: the same transfer entered
    twice would close a file whose commune still owes, or count its money twice. References
    are compared as the bank prints them, case and spaces aside."""
    match command:
        case RecordRepayment(reference=reference):
            wanted = _bank_reference(reference)
            for earlier in state.repayments:
                if _bank_reference(earlier.reference) == wanted:
                    amount = earlier.amount_cents
                    on = state.day_of(earlier.recorded_at)
                    return InvalidTransition(
                        f"the repayment {earlier.reference!r} was already recorded "
                        f"on {on.isoformat()} by {earlier.recorded_by} ({euros(amount)}): "
                        "a second transfer has a reference of its own",
                        rule="repayment-reference-recorded",
                        french=f"Le reversement de référence « {earlier.reference} » a déjà été "
                        f"enregistré le {day(on)} par {earlier.recorded_by} "
                        f"({euros_fr(amount)}) : un second virement a sa propre référence",
                    )
    return None


def _bank_reference(reference: str) -> str:
    return "".join(reference.split()).casefold()


def interim_beyond_expense(command: Command, state: Application) -> RuleViolation | None:
    """An interim payment (acompte) follows the works: with the advance and the interim
    payments before it, it may not pay more than the subsidy the expense proven so far
    justifies (the award's rate applied to it, as the balance computes it)."""
    programme, plan = state.programme, state.plan
    match command:
        case ClaimPayment(kind="interim", amount_cents=int() as amount) if programme and plan:
            expense = command.eligible_expense_cents
            if expense is None:
                return RuleViolation(
                    "an interim claim gives the eligible expense proven so far",
                    rule="interim-expense",
                    source=PAYMENTS,
                    french="Une demande d'acompte indique la dépense éligible justifiée à ce jour",
                )
            justified = final_amount_cents(
                programme, plan, state.award_cents, expense, rules=state.rules
            )
            already = staged_total(state.payments)
            if already + amount > justified:
                room = justified - already
                what_to_do = (
                    f"demandez au plus {euros_fr(room)}, ou justifiez davantage de dépense"
                    if room > 0
                    else "aucun acompte n'est possible avant d'avoir justifié davantage de dépense"
                )
                return RuleViolation(
                    f"advance and interim payments would reach {euros(already + amount)}, "
                    f"above the {euros(justified)} the expense proven ({euros(expense)}) "
                    f"justifies: claim at most {euros(max(room, 0))}",
                    rule="interim-within-expense",
                    source=PAYMENTS,
                    french=f"L'avance et les acomptes atteindraient {euros_fr(already + amount)}, "
                    f"au-delà des {euros_fr(justified)} que justifie la dépense de "
                    f"{euros_fr(expense)} : {what_to_do}",
                )
    return None


def date_before_submission(command: Command, state: Application) -> RuleViolation | None:
    """A decision received, or works begun, before the request was even submitted: a typo
    that would lapse the award at once (the two years to start run from the notification),
    or a start the no-prior-start rule forbids.

    Refused on arrival (``refused_on_arrival``)."""
    if state.submitted_at is None:
        return None
    submitted = state.day_of(state.submitted_at)
    match command:
        case NotifyAward(notified_on=date() as notified) if notified < submitted:
            return RuleViolation(
                f"the notification date {notified.isoformat()} is before the request was "
                f"submitted ({submitted.isoformat()}): check the date, the two years to start "
                "the works run from it",
                rule="notification-after-submission",
                source=EXECUTION,
                french=f"La date de réception indiquée, le {day(notified)}, précède le dépôt "
                f"de la demande, le {day(submitted)} : vérifiez-la, le délai de commencement "
                "des travaux court à partir d'elle",
            )
        case DeclareStart(started_on=started) if started < submitted:
            return RuleViolation(
                f"the start date {started.isoformat()} is before the request was submitted "
                f"({submitted.isoformat()}): works begun before the request make the subsidy "
                "impossible; check the date",
                rule="start-after-submission",
                source=NO_PRIOR_START,
                french=f"La date de commencement indiquée, le {day(started)}, précède le dépôt "
                f"de la demande, le {day(submitted)} : des travaux commencés avant la demande "
                "rendent la subvention impossible. Vérifiez la date ; si les travaux ont "
                "vraiment commencé avant, signalez-le au service instructeur",
            )
    return None


def declare_start(c: DeclareStart, state: Application) -> list[Event]:
    """The commune declares the start of works, on a day that has come."""
    if c.started_on > state.day_of(c.at):
        raise RuleViolation(
            f"the start date {c.started_on.isoformat()} is in the future: declare the start "
            "once works have begun",
            rule="start-not-in-future",
            source=EXECUTION,
            french=f"La date de commencement des travaux indiquée, le {day(c.started_on)}, est "
            "à venir : déclarez le commencement des travaux une fois qu'ils ont commencé",
        )
    return [WorksStarted(actor=c.actor, at=c.at, started_on=c.started_on)]


def declare_completion(c: DeclareCompletion, state: Application) -> list[Event]:
    """The commune declares the project completed, after its start and not in the future."""
    if c.completed_on > state.day_of(c.at) or (
        state.started_on is not None and c.completed_on < state.started_on
    ):
        start = "non déclaré" if state.started_on is None else day(state.started_on)
        raise RuleViolation(
            f"the completion date {c.completed_on.isoformat()} must fall between the start "
            f"({state.started_on}) and today",
            rule="completion-date",
            source=EXECUTION,
            french=f"La date d'achèvement des travaux ({day(c.completed_on)}) doit être comprise "
            f"entre le commencement des travaux ({start}) et aujourd'hui",
        )
    return [WorksCompleted(actor=c.actor, at=c.at, completed_on=c.completed_on)]


CLAIMABLE_IN: dict[PaymentKind, tuple[Status, ...]] = {
    "advance": ("started",),
    "interim": ("started", "completed"),
    "balance": ("completed",),
}
"""The statuses in which the commune may claim each kind of payment (décret 2018-514 art. 12:
the advance at the start of works, interim payments as they go, the balance once complete)."""


def claim_payment(c: ClaimPayment, state: Application) -> list[Event]:
    """A payment claim within the caps of décret 2018-514 art. 12; the balance may close the
    file (nothing left to pay) or turn into a repayment due (too much paid)."""
    programme, _, plan = file_of(state)
    if state.status not in CLAIMABLE_IN[c.kind]:
        raise InvalidTransition(
            f"{'an' if c.kind[0] in 'aeiou' else 'a'} {c.kind} payment can be claimed only "
            "when the project is "
            f"{' or '.join(CLAIMABLE_IN[c.kind])}; it is {state.status}",
            rule="payment-stage",
            french=f"Une {claim_of(c.kind)} n'est possible que lorsque le dossier a le statut "
            + " ou ".join(f"« {lower(STATUS, stage)} »" for stage in CLAIMABLE_IN[c.kind])
            + f" ; il a le statut « {lower(STATUS, state.status)} »",
        )
    if "completion" in state.expired_deadlines:
        raise RuleViolation(
            "the completion deadline has expired: payment claims are no longer accepted",
            rule="completion-deadline",
            source="CGCT R2334-29",
            french=f"Le délai « {lower(DEADLINE, 'completion')} » a expiré : les demandes de "
            "paiement ne sont plus acceptées",
        )
    if (first := state.payment_under_way) is not None:
        raise RuleViolation(
            f"payment {first.number} ({first.kind}) is still {first.status}: wait until it is "
            "disbursed before claiming another",
            rule="one-payment-at-a-time",
            source=PAYMENTS,
            french=f"Le paiement n° {first.number} ({lower(PAYMENT_KIND, first.kind)}) a encore "
            f"le statut « {lower(PAYMENT_STATUS, first.status)} » : attendez qu'il soit versé "
            "avant d'en demander un autre",
        )
    award = state.award_cents
    if c.kind == "advance":
        amount = check_advance(
            programme, plan, state.payments, award, c.amount_cents, c.with_bank_guarantee
        )
        verdicts = advance_verdicts(programme, award, amount, c.with_bank_guarantee)
        verdicts += staged_verdicts(programme, plan, state.payments, award, amount)
    elif c.kind == "interim":
        amount = check_interim(programme, plan, state.payments, award, c.amount_cents)
        verdicts = staged_verdicts(programme, plan, state.payments, award, amount)
    else:
        amount = balance_due_cents(
            programme, plan, award, state.paid_cents, c.eligible_expense_cents, rules=state.rules
        )
        verdicts = balance_verdicts(
            programme, plan, award, state.paid_cents, c.eligible_expense_cents or 0, state.rules
        )
        # No payment follows: the closing or the repayment carries the claim's evidence.
        proof = {
            "eligible_expense_cents": c.eligible_expense_cents,
            "proof_reference": c.proof_reference,
            "verdicts": verdicts,
        }
        if amount == 0:
            return [ApplicationClosed(actor=c.actor, at=c.at, **proof)]
        if amount < 0:
            reason = (
                f"the final subsidy is {euros(state.paid_cents + amount)} for a proven expense "
                f"of {euros(c.eligible_expense_cents or 0)}; {euros(state.paid_cents)} was paid"
            )
            due = RepaymentDue(actor=c.actor, at=c.at, amount_cents=-amount, reason=reason, **proof)
            return [due]
    claimed = PaymentClaimed(
        actor=c.actor, at=c.at, payment_number=len(state.payments) + 1, kind=c.kind,
        amount_cents=amount, eligible_expense_cents=c.eligible_expense_cents,
        with_bank_guarantee=c.with_bank_guarantee, proof_reference=c.proof_reference,
        verdicts=verdicts,
    )  # fmt: skip
    return [claimed]


def _claimed_so_far(count: int) -> str:
    if count == 0:
        return "aucun paiement demandé à ce jour"
    return f"{count} paiement{'s' if count > 1 else ''} demandé{'s' if count > 1 else ''} à ce jour"


def _payment(state: Application, number: int) -> Payment:
    payment = state.payment(number)
    if payment is None:
        raise InvalidTransition(
            f"application {state.application_id} has no payment {number} "
            f"({len(state.payments)} claimed so far)",
            rule="payment-exists",
            french=f"Le dossier {state.application_id} n'a pas de paiement n° {number} "
            f"({_claimed_so_far(len(state.payments))})",
        )
    return payment


def order_payment(c: OrderPayment, state: Application) -> list[Event]:
    """The payment officer orders a claimed (or failed, to retry) payment; twice is a no-op."""
    payment = _payment(state, c.payment_number)
    if payment.status == "ordered":
        return []
    if payment.status == "disbursed":
        # Who ordered it: a second officer whose order arrived once it was paid learns who did.
        by = f" (ordered by {payment.ordered_by})" if payment.ordered_by else ""
        by_fr = f", sur l'ordre de {payment.ordered_by}" if payment.ordered_by else ""
        raise InvalidTransition(
            f"payment {payment.number} was already disbursed{by}",
            rule="payment-status",
            french=f"Le paiement n° {payment.number} a déjà été versé{by_fr}",
        )
    ordered = PaymentOrdered(
        actor=c.actor, at=c.at, payment_number=payment.number, amount_cents=payment.amount_cents
    )
    return [ordered]


def is_repeated_disbursement(c: RecordDisbursement, state: Application) -> bool:
    """True when the gateway reports again a disbursement already recorded (retries)."""
    payment = state.payment(c.payment_number)
    return (
        payment is not None
        and payment.status == "disbursed"
        and payment.gateway_reference == c.gateway_reference
    )


def _not_ordered(payment: Payment) -> str:
    return (
        f"Le paiement n° {payment.number} a le statut « {lower(PAYMENT_STATUS, payment.status)} » "
        f"et non « {lower(PAYMENT_STATUS, 'ordered')} »"
    )


def record_disbursement(c: RecordDisbursement, state: Application) -> list[Event]:
    """The gateway paid an ordered payment; the balance closes the file."""
    payment = _payment(state, c.payment_number)
    if payment.status != "ordered":
        raise InvalidTransition(
            f"payment {payment.number} is {payment.status}, not ordered: only an ordered "
            "payment can be disbursed",
            rule="payment-status",
            french=f"{_not_ordered(payment)} : seul un paiement ordonné peut être versé",
        )
    events: list[Event] = [
        PaymentDisbursed(
            actor=c.actor, at=c.at, payment_number=payment.number,
            amount_cents=payment.amount_cents, gateway_reference=c.gateway_reference,
        )
    ]  # fmt: skip
    if payment.kind == "balance":
        events.append(ApplicationClosed(actor=c.actor, at=c.at))
    return events


def record_payment_failure(c: RecordPaymentFailure, state: Application) -> list[Event]:
    """The gateway could not pay an ordered payment; it can be ordered again."""
    payment = _payment(state, c.payment_number)
    if payment.status != "ordered":
        raise InvalidTransition(
            f"payment {payment.number} is {payment.status}, not ordered: only an ordered "
            "payment can fail",
            rule="payment-status",
            french=f"{_not_ordered(payment)} : seul un paiement ordonné peut être signalé en échec",
        )
    return [PaymentFailed(actor=c.actor, at=c.at, payment_number=payment.number, reason=c.reason)]


def record_repayment(c: RecordRepayment, state: Application) -> list[Event]:
    """Money paid back by the commune; the file closes once nothing is due."""
    due = state.repayment_due_cents
    if not 0 < c.amount_cents <= due:
        raise RuleViolation(
            f"a repayment must be more than €0 and at most the {euros(due)} due",
            rule="repayment-amount",
            source=PAYMENTS,
            french=f"Un reversement doit être supérieur à {euros_fr(0)} et ne peut dépasser "
            f"les {euros_fr(due)} dus",
        )
    events: list[Event] = [
        RepaymentRecorded(
            actor=c.actor, at=c.at, amount_cents=c.amount_cents, reference=c.reference
        )
    ]
    if c.amount_cents == due:
        events.append(ApplicationClosed(actor=c.actor, at=c.at))
    return events


LAPSE_RULES = 4
"""The revision of the decision rules (``domain.commands.RULES``) from which ``LapseAward``
is refused before the delay to start the works has run out (CGCT R2334-28: two years from
the notification, three when extended). Before, an awarded file lapsed on any such command,
a month after its notification as well. The expiry of the file's own deadline lapses it
without this command (``domain.decider_deadlines.expire``)."""


def lapse(c: LapseAward, state: Application) -> list[Event]:
    """The award lapses (*caducité*): works did not start in time."""
    if state.rules >= LAPSE_RULES:
        _check_start_delay_over(c, state)
    return [ApplicationLapsed(actor=c.actor, at=c.at, deadline=c.deadline)]


def _start_delay_ends(state: Application) -> datetime | None:
    """When the delay to start the works runs out: the file's own deadline (extension
    included, from the day the decision was received), or, on a file that runs no deadlines,
    its programme's rule from the notification; None when the programme sets no such delay."""
    if (running := state.deadline("start_of_works")) is not None:
        return running.due_at
    rules = state.programme.deadlines if state.programme is not None else ()
    rule = next((r for r in rules if r.kind == "start_of_works"), None)
    if rule is None or state.award_notified_at is None:
        return None
    return open_deadline(rule, state.award_notified_at).due_at


def _check_start_delay_over(c: LapseAward, state: Application) -> None:
    if "start_of_works" in state.expired_deadlines:
        return
    ends = _start_delay_ends(state)
    if ends is None:
        name = state.programme.name if state.programme is not None else "?"
        raise RuleViolation(
            f"{name} sets no delay to start the works: its award does not lapse",
            rule="lapse-after-start-delay",
            source=EXECUTION,
            french=f"Le dispositif « {name} » ne fixe aucun délai de commencement des travaux "
            ": sa subvention ne devient pas caduque",
        )
    if c.at < ends:
        last = ends.astimezone(PARIS).date() - timedelta(days=1)
        raise RuleViolation(
            f"the works may still start until {last.isoformat()} (two years from the "
            "notification, three when extended): the award lapses only once that delay has "
            "run out",
            rule="lapse-after-start-delay",
            source=EXECUTION,
            french="La subvention ne devient caduque qu'à l'expiration du délai de "
            "commencement des travaux : les travaux peuvent encore commencer jusqu'au "
            f"{day(last)} inclus (deux ans à compter de la notification, trois en cas de "
            "prolongation)",
        )
