"""The notices of co-financers' lines (revision 1): each co-financer that its decision is
expected (again, and why), suspended, or no longer asked, and how the file ended; the commune
what a co-financer decided; the services what a revised plan leaves waiting. From revision
3, a decision expected again after a reopening says so (``decision_expected``)."""

from __future__ import annotations

from domain.actor import Role
from domain.deadline import OpenDeadline
from domain.events import ApplicationAccepted, DeadlineClosed, Event, FundingDecided, PlanRevised
from domain.french import day, euros, last_day
from domain.notices_shared import Notice, commune_of, file_ref, notice, services_of, to
from domain.state import Application


def decision_expected(
    deadline: OpenDeadline,
    state: Application,
    before: Application | None,
    event: Event,
    *,
    revision: int,
) -> list[Notice]:
    """A co-financer's decision is expected on its line: the first time, or again and why
    (from revision 3, after a reopening: the file was reopened, not declared complete)."""
    line = state.plan.line(deadline.subject) if state.plan and deadline.subject else None
    if line is None:
        return []
    earlier = before.plan.line(line.line_id) if before and before.plan else None
    if earlier is not None and earlier.status != "pending":
        decided = (
            f"accordé {euros(earlier.granted_cents)}" if earlier.status == "approved" else "refusé"
        )
        why = (
            f"La commune a révisé son plan de financement : votre ligne demande maintenant "
            f"{euros(line.requested_cents)} (votre décision, {decided}, portait sur "
            f"{euros(earlier.requested_cents)}). Une nouvelle décision est attendue"
        )
    elif before is not None and before.deadline("cofinancer_decision", line.line_id) is not None:
        why = (
            "Le délai de votre décision repart (le dossier a été complété ou rouvert) : elle est "
            "attendue"
        )
    elif revision >= 3 and state.reopened_at == deadline.anchored_at:
        why = (
            f"Le dossier a été rouvert le {day(deadline.anchored_at)} : votre décision est de "
            "nouveau attendue"
        )
    else:
        why = _first_asked(deadline, state)
    body = (
        f"Commune : {commune_of(state)}.\n\n{why} sur votre ligne {line.funder} "
        f"({euros(line.requested_cents)} demandés), au plus tard le {last_day(deadline.due_at)}."
        "\n\nLe dossier et ses pièces vous attendent dans Guichet."
    )
    subject = f"Décision attendue au plus tard le {last_day(deadline.due_at)} – {file_ref(state)}"
    return to(("cofinancer", f"cofinancer:{line.funder}"), subject, body, event)


def _first_asked(deadline: OpenDeadline, state: Application) -> str:
    """Why a decision is expected of a line that had no deadline running: the file declared
    complete, or, once it was, what the commune brought since: the answer to a correction
    (whose request had suspended the decision) or a revised plan (a line it adds, or one it
    changes). Those read « Le dossier est complet ». Which of the two is the trigger event's
    (CorrectionAnswered or PlanRevised), which neither the opening nor the states around it
    record: the sentence names both."""
    # A reopening's words are revision 3's (``decision_expected``): before, it read as this.
    reopened = state.reopened_at == deadline.anchored_at
    if reopened or state.complete_at is None or deadline.anchored_at <= state.complete_at:
        return "Le dossier est complet : votre décision est attendue"
    return (
        f"Le {day(deadline.anchored_at)}, la commune a répondu à une demande de correction ou "
        "révisé son plan de financement : le délai de votre décision repart, elle est attendue"
    )


def decision_suspended(event: DeadlineClosed, state: Application, ref: str) -> list[Notice]:
    """The co-financer whose decision a correction requested of the commune puts on hold."""
    line = state.plan.line(event.subject) if state.plan and event.subject else None
    if line is None:
        return []
    body = (
        f"Commune : {commune_of(state)}.\n\nLes services instructeurs ont demandé une "
        "correction à la commune : votre décision sur votre ligne "
        f"{line.funder} ({euros(line.requested_cents)} demandés) n'est plus attendue "
        "pour l'instant. Un nouveau délai vous sera donné une fois la correction "
        "apportée."
    )
    desk: tuple[Role, str] = ("cofinancer", f"cofinancer:{line.funder}")
    return to(desk, f"Décision suspendue (correction demandée) – {ref}", body, event)


def decision_for_the_commune(event: FundingDecided, state: Application) -> str:
    """What the commune reads of a co-financer's decision on its line."""
    line = state.plan.line(event.line_id) if state.plan else None
    asked = euros(line.requested_cents) if line else ""
    corrects = f"{event.funder} corrige sa décision : " if event.correction else f"{event.funder} "
    if not event.approved:
        said = (
            f"{corrects}refuse votre demande de {asked}. Votre plan de financement compte encore "
            f"sur ces {asked} : révisez-le (page du dossier, « Réviser le plan »), en retirant "
            "cette ligne et en reportant son montant sur un autre financeur ou sur la part de la "
            "commune."
        )
    elif line is not None and (event.granted_cents or 0) < line.requested_cents:
        missing = euros(line.requested_cents - (event.granted_cents or 0))
        said = (
            f"{corrects}accorde {euros(event.granted_cents)} sur les {asked} demandés. Il "
            f"manque {missing} au plan de financement : révisez-le (page du dossier, « Réviser "
            "le plan »), en inscrivant sur cette ligne le montant accordé."
        )
    else:
        said = f"{corrects}accorde les {asked} demandés."
    return f"{said}\n\nObservation : {event.note}" if event.note else said


def plan_revised(
    event: PlanRevised, state: Application, before: Application | None
) -> list[Notice]:
    """The services read what now waits for a decision; a co-financer whose line left the
    plan is told it is no longer asked."""
    ref = file_ref(state)
    waiting = [
        f"{line.funder} ({euros(line.requested_cents)})"
        for line in event.plan.lines
        if line.kind != "owner" and line.status == "pending"
    ]
    body = "La commune a révisé son plan de financement" + (
        f" : {event.note}" if event.note else "."
    )
    if waiting:
        body += f"\n\nLignes qui attendent une décision : {', '.join(waiting)}."
    told = to(services_of(state), f"Plan de financement révisé – {ref}", body, event)
    kept = {line.funder for line in event.plan.lines}
    gone = sorted(
        {line.funder for line in before.plan.lines if line.kind != "owner"} - kept
        if before and before.plan
        else set()
    )
    for funder in gone:
        left = (
            f"Commune : {commune_of(state)}.\n\nLa commune a révisé son plan de financement : "
            f"il ne compte plus sur {funder}, dont aucune décision n'est plus attendue."
        )
        told += to(
            ("cofinancer", f"cofinancer:{funder}"), f"Ligne retirée du plan – {ref}", left, event
        )
    return told


def accepted(event: ApplicationAccepted, state: Application) -> list[Notice]:
    """Each co-financer reads what its own line comes to, then the programme's award: it read
    the award alone, which is the programme's funder's, as if it were its own line's."""
    programme = f"« {state.programme.name} »" if state.programme else "du dispositif"
    award = f"Subvention du dispositif {programme} : {euros(event.award_cents)}."
    subject = f"Dossier accepté – {file_ref(state)}"
    told = []
    for funder in _funders(state):
        lines = [line for line in state.plan.lines if line.funder == funder] if state.plan else []
        granted = sum(line.granted_cents or 0 for line in lines if line.status == "approved")
        own = (
            f"Votre ligne {funder} : {euros(granted)} accordés."
            if any(line.status == "approved" for line in lines)
            else f"Votre ligne {funder} : refusée."
        )
        body = f"Le dossier est accepté. {own}\n\n{award}"
        told.append(notice("cofinancer", f"cofinancer:{funder}", subject, body, event))
    return told


def _funders(state: Application) -> list[str]:
    """The co-financers with a line in the plan, by name."""
    lines = state.plan.lines if state.plan else ()
    return sorted({line.funder for line in lines if line.kind != "owner"})


def to_funders(state: Application, subject: str, body: str, event: Event) -> list[Notice]:
    """Each co-financer with a line in the plan (its mailbox, ``cofinancer:FUNDER``)."""
    return [
        notice("cofinancer", f"cofinancer:{funder}", subject, body, event)
        for funder in _funders(state)
    ]
