"""The words of a deadline's reminder (revision 0): which deadline, for which line, until
when, and what its expiry will do, as the decider does it (``decider_deadlines._consequence``)
and the catalogue says it (``at_expiry``). A reminder said the last day and nothing of what
followed it, and a co-financer's named no line: a supervisor got one identical mail per line.
"""

from __future__ import annotations

from datetime import datetime

from domain.deadline import PARIS
from domain.events import DeadlineExpired, ReminderSent
from domain.french import COMMAND, de, euros, last_day
from domain.notices_shared import DEADLINE_NAMES, EXPIRY_ACTIONS, Notice, notice
from domain.plan import FundingLine
from domain.programme import ExpiryAction
from domain.state import Application

AT_EXPIRY: dict[ExpiryAction, str] = {
    "deem_complete": "Sans réponse des services instructeurs au {day} inclus, le dossier sera "
    "réputé complet",
    "decision_due": "Passé le {day}, la décision sur la recevabilité du dossier sera due",
    "dismiss": "Sans réponse de la commune au {day} inclus, le dossier sera classé sans suite",
    "escalate": "Sans décision {whose}au {day} inclus, le dossier sera signalé au responsable du "
    "service instructeur",
    "lapse": "Sans commencement d'exécution déclaré au {day} inclus, la subvention sera caduque",
    "refuse_claims": "Passé le {day}, les demandes de versement seront refusées",
    "close_offers": "Sans convention-cadre signée au {day} inclus, l'offre ne sera plus ouverte à "
    "la commune et le dossier sera classé sans suite",
    "close_programme": "Passé le {day}, le dispositif sera clos",
    "tell_asker": "Sans avis au {day} inclus, le service qui l'a demandé en sera averti ; un avis "
    "rendu plus tard reste reçu tant que le dossier n'est pas décidé",
}
"""What a deadline's expiry will do, said before it does, by the rule's ``at_expiry``."""


def reminder_notices(event: ReminderSent, state: Application, ref: str) -> list[Notice]:
    """Each recipient's reminder: the deadline (and the co-financer's line), the days left,
    the last day, and what follows it."""
    line = _line(event, state)
    name = f"« {DEADLINE_NAMES[event.kind]} »"
    which = f" ({line.funder})" if line else ""
    subject = f"Échéance {name} : {_days_left(event.at, event.due_at)}{which} – {ref}"
    body = f"L'échéance {name}{_on(line)} court jusqu'au {last_day(event.due_at)} inclus."
    if (action := _at_expiry(event, state)) is not None:
        whose = f"{de(line.funder)} " if line else ""
        body += f" {AT_EXPIRY[action].format(day=last_day(event.due_at), whose=whose)}."
    if event.kind == "expert_opinion" and (asked := state.opinion(event.subject)):
        body += f"\n\nLa question (demande d'avis n° {asked.number}) : {asked.question}"
    return [notice(r.role, r.id, subject, body, event) for r in event.recipients]


def expiry_notices(event: DeadlineExpired, state: Application, ref: str) -> list[Notice]:
    """Each recipient's notice of an expiry: the deadline (and the co-financer's line), its
    last day, and what followed. It read « L'échéance est expirée » alone, the same for each
    line a supervisor is told of."""
    line = _line(event, state)
    name = f"« {DEADLINE_NAMES[event.kind]} »"
    which = f" ({line.funder})" if line else ""
    subject = f"Échéance {name} expirée{which} – {ref}"
    body = (
        f"L'échéance {name}{_on(line)} a pris fin le {last_day(event.due_at)} ; conséquence : "
        f"{EXPIRY_ACTIONS[event.action]}."
    )
    return [
        notice(r.role, r.id, subject, body + _then(event, r.role), event) for r in event.recipients
    ]


def _then(event: DeadlineExpired, role: str) -> str:
    """What the caseworker does next, where the expiry leaves the file waiting on them: after
    the completion deadline, no claim will close it, the settlement does."""
    if event.kind != "completion" or role != "caseworker":
        return ""
    return (
        f"\n\nSoldez le dossier depuis sa page (« {COMMAND['SettleAfterCompletionDeadline']} ») "
        "sur la dépense éligible justifiée à cette date : ce qui a été versé au-delà de ce "
        "qu'elle justifie sera dû en reversement, le reste de la subvention ne sera pas versé."
    )


def _line(event: ReminderSent | DeadlineExpired, state: Application) -> FundingLine | None:
    """The funding line a co-financer's deadline is about; None for other deadlines."""
    if event.kind != "cofinancer_decision" or state.plan is None or event.subject is None:
        return None
    return state.plan.line(event.subject)


def _on(line: FundingLine | None) -> str:
    """« sur la ligne REGION (200 000,00 € demandés) », after the deadline's name."""
    return f" sur la ligne {line.funder} ({euros(line.requested_cents)} demandés)" if line else ""


def _at_expiry(event: ReminderSent, state: Application) -> ExpiryAction | None:
    """What the reminded deadline does at its expiry: the open deadline's rule, else the
    programme's (a reminder read without the deadline's state)."""
    if (running := state.deadline(event.kind, event.subject)) is not None:
        return running.at_expiry
    if event.kind == "expert_opinion":
        return "tell_asker"
    rules = state.programme.deadlines if state.programme else ()
    return next((rule.at_expiry for rule in rules if rule.kind == event.kind), None)


def _days_left(sent_at: datetime, expiry: datetime) -> str:
    """What is left of a deadline when its reminder leaves, in Paris days, the last included.

    Counted, not the reminder's nominal offset: a reminder can leave late (a worker down, a
    file opened with less time left than the offset), and "J-1" leaves on the last day."""
    left = (expiry.astimezone(PARIS).date() - sent_at.astimezone(PARIS).date()).days
    return "dernier jour aujourd'hui" if left <= 1 else f"plus que {left} jours"
