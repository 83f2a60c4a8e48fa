"""The values a select takes on this file, when the form's options depend on it (a plan
line, a payment, a deadline, an opinion request), and what a person reads for each."""

from __future__ import annotations

from console.web import labels
from console.web.statuses import PAYMENT_STAGES
from domain.actor import Actor
from domain.commands import PaymentKind
from domain.state import Application


def choices(command_type: str, name: str, state: Application, actor: Actor) -> tuple[str, ...]:
    """The values a select may take on this file (for the fields whose options depend on it)."""
    if command_type == "DecideFunding" and name == "line_id" and state.plan:
        # From rules 2 a decided line may be corrected (``FundingDecided.correction``).
        return tuple(
            line.line_id
            for line in state.plan.lines
            if line.funder == actor.funder and (line.status == "pending" or state.rules >= 2)
        )
    if command_type == "OrderPayment" and name == "payment_number":
        return tuple(str(p.number) for p in state.payments if p.status in ("claimed", "failed"))
    if command_type == "ExtendDeadline" and name == "deadline":
        return tuple(
            _deadline_choice(d.kind, d.subject)
            for d in state.deadlines
            if d.extension is not None and not d.extended
        )
    if command_type in ("GiveOpinion", "WithdrawOpinionRequest") and name == "number":
        # The expert answers what was asked of them; the services withdraw any pending one.
        return tuple(
            str(o.number)
            for o in state.opinions
            if o.pending and (command_type != "GiveOpinion" or o.expert_id == actor.id)
        )
    if command_type == "RemoveLabel" and name == "label":
        return state.labels or ()
    if command_type == "ClaimPayment" and name == "kind":
        return _payment_kinds_now(state)
    if command_type == "RecordConvention" and name == "kind":
        # Offered while it matters: a convention-cadre awaited, whose delay still runs.
        return ("cadre",) if state.deadline("convention_cadre", None) is not None else ()
    return ()


def _payment_kinds_now(state: Application) -> tuple[str, ...]:
    """The payments the commune may claim at this stage (décret 2018-514 art. 12): one
    advance once works started, interim payments until the balance, the balance once they
    are completed; a programme paid in one go, its balance only."""
    if state.programme is None:
        return ()
    if state.programme.payments.kind == "single":
        return ("balance",) if state.status in PAYMENT_STAGES["balance"] else ()
    return tuple(kind for kind in ("advance", "interim", "balance") if claimable(kind, state))


def claimable(kind: PaymentKind, state: Application) -> bool:
    """Whether the file's stage allows a claim of ``kind``: one advance only."""
    if kind == "advance" and any(p.kind == "advance" for p in state.payments):
        return False
    return state.status in PAYMENT_STAGES[kind]


def choice_label(command_type: str, name: str, value: str, state: Application) -> str:
    """What a person reads for one of ``choices``: a plan line by its funder and amount, a
    deadline by its name and last day, a payment by its number, kind and amount."""
    if command_type == "DecideFunding" and name == "line_id" and state.plan:
        line = state.plan.line(value)
        if line is not None:
            asked = f"{line.funder} : {labels.euros(line.requested_cents)} demandés"
            if line.status == "approved":
                return f"{asked}, accordé {labels.euros(line.granted_cents)} : corriger"
            if line.status == "refused":
                return f"{asked}, refusé : corriger"
            return asked
    if command_type == "OrderPayment" and name == "payment_number":
        payment = state.payment(int(value))
        if payment is not None:
            kind = labels.lower(labels.PAYMENT_KIND, payment.kind)
            if payment.with_bank_guarantee:  # 60 % instead of 30 %: the officer checks it
                kind += " avec garantie bancaire"
            label = f"n° {payment.number}, {kind} : {labels.euros(payment.amount_cents)}"
            if payment.status == "failed":  # ordered again, it goes to the bank again
                label += ", refusé par la banque : nouvel ordre"
            return label
    if command_type == "ExtendDeadline" and name == "deadline":
        kind, _, subject = value.partition(":")
        deadline = state.deadline(kind, subject or None)  # type: ignore[arg-type]
        if deadline is not None:
            whose = f" ({line_funders(state).get(subject, subject)})" if subject else ""
            until = labels.last_day(deadline.due_at)
            return f"{labels.word(labels.DEADLINE, kind)}{whose}, jusqu'au {until}"
    opinion_number = command_type in ("GiveOpinion", "WithdrawOpinionRequest") and name == "number"
    if opinion_number and (request := state.opinion(int(value))) is not None:
        asked = request.question if len(request.question) <= 80 else request.question[:79] + "…"
        due = labels.day(request.due_on)
        named = labels.expert(request.expert_id, request.expert_name)
        return f"n° {request.number} ({named}, pour le {due}) : {asked}"
    if command_type == "ClaimPayment" and name == "kind":
        return labels.word(labels.PAYMENT_KIND, value)
    if command_type == "RecordConvention" and name == "kind":
        deadline = state.deadline("convention_cadre", None)
        until = f", attendue au plus tard le {labels.last_day(deadline.due_at)}" if deadline else ""
        return f"{labels.word(labels.CONVENTION, value)}{until}"
    return value


def line_funders(state: Application) -> dict[str, str]:
    """Each plan line's funder by line id: a co-financer's deadline names its line, and people
    know the line by its funder (``detr`` is DETR's)."""
    return {line.line_id: line.funder for line in state.plan.lines} if state.plan else {}


def _deadline_choice(kind: str, subject: str | None) -> str:
    """A deadline as one select value: its kind, and its plan line for a co-financer's."""
    return f"{kind}:{subject}" if subject else kind
