"""The notices of co-financers' lines (revision 1): each co-financer that its decision is
expected (again, and why), suspended, or no longer asked, and how the file ended; the commune
what a co-financer decided; the services what a revised plan leaves waiting. From revision
3, a decision expected again after a reopening says so (``decision_expected``); from
revision 5, a line still awaiting its decision whose amount the commune changed is told so
(``amount_changed``)."""

from __future__ import annotations

from domain.actor import Role
from domain.deadline import OpenDeadline
from domain.events import (
    ApplicationAccepted,
    CorrectionAnswered,
    DeadlineClosed,
    Event,
    FundingDecided,
    PlanRevised,
)
from domain.french import day, euros, last_day
from domain.notices_shared import Cause, Notice, commune_of, file_ref, notice, services_of, to
from domain.plan import FundingLine
from domain.state import Application


def decision_expected(
    deadline: OpenDeadline,
    state: Application,
    event: Event,
    *,
    revision: int,
    cause: Cause | None = None,
) -> list[Notice]:
    """A co-financer's decision is expected on its line: the first time, or again and why:
    what the commune's revised plan or answered correction changed (``cause``: the event the
    opening follows), or, from revision 3, that the file was reopened."""
    line = state.plan.line(deadline.subject) if state.plan and deadline.subject else None
    if line is None:
        return []
    why = _asked_again(line, cause) if cause is not None else None
    if why is None and revision >= 3 and state.reopened_at == deadline.anchored_at:
        why = (
            f"Le dossier a été rouvert le {day(deadline.anchored_at)} : votre décision est de "
            "nouveau attendue"
        )
    why = why or _first_asked(deadline, state)
    body = (
        f"Commune : {commune_of(state)}.\n\n{why} sur votre ligne {line.funder} "
        f"({euros(line.requested_cents)} demandés), au plus tard le {last_day(deadline.due_at)}."
        "\n\nLe dossier et ses pièces vous attendent dans Guichet."
    )
    subject = f"Décision attendue au plus tard le {last_day(deadline.due_at)} – {file_ref(state)}"
    return to(("cofinancer", f"cofinancer:{line.funder}"), subject, body, event)


def _asked_again(line: FundingLine, cause: Cause) -> str | None:
    """Why a decision is expected again after what the commune brought, or None when the
    cause is no revision of the plan and no answered correction."""
    if isinstance(cause.event, CorrectionAnswered):
        return (
            "La commune a apporté la correction que les services lui avaient demandée : le "
            "délai de votre décision repart, elle est attendue"
        )
    if not isinstance(cause.event, PlanRevised):
        return None
    revised = "La commune a révisé son plan de financement"
    earlier = cause.before.plan.line(line.line_id) if cause.before.plan else None
    if earlier is None:
        return (
            "La commune a ajouté votre ligne à son plan de financement : votre décision est "
            "attendue"
        )
    was = euros(earlier.requested_cents)
    if earlier.status != "pending":
        decided = (
            f"vous aviez accordé {euros(earlier.granted_cents)} des {was} demandés"
            if earlier.status == "approved"
            else f"vous l'aviez refusée quand elle demandait {was}"
        )
        return (
            f"{revised} : votre ligne demande maintenant {euros(line.requested_cents)} "
            f"({decided}). Une nouvelle décision est attendue"
        )
    if earlier.requested_cents != line.requested_cents:
        return (
            f"{revised} : votre ligne demande maintenant {euros(line.requested_cents)} au lieu "
            f"de {was}. Le délai de votre décision repart : elle est attendue"
        )
    return f"{revised} : le délai de votre décision repart, elle est attendue"


def _first_asked(deadline: OpenDeadline, state: Application) -> str:
    """Why a decision is expected when what caused it is not known (``_asked_again``): the
    file declared complete, or, once it was, an answer to a correction or a revised plan,
    which the sentence then names both."""
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


def amount_changed(event: Event, state: Application, before: Application | None) -> list[Notice]:
    """Revision 5: a co-financer whose line still awaits its decision, and whose delay runs on
    (no new deadline opens, so ``decision_expected`` says nothing), reads the amount the
    commune's revised plan now asks of it: it would otherwise decide on the old one."""
    if not isinstance(event, PlanRevised) or before is None or before.plan is None:
        return []
    told: list[Notice] = []
    for line in event.plan.lines:
        earlier = before.plan.line(line.line_id)
        running = state.deadline("cofinancer_decision", line.line_id)
        if earlier is None or running is None or line.status != "pending":
            continue  # not asked yet, asked again (a deadline opens), suspended or decided
        if earlier.requested_cents == line.requested_cents:
            continue
        body = (
            f"Commune : {commune_of(state)}.\n\nLa commune a révisé son plan de financement : "
            f"votre ligne {line.funder} demande maintenant {euros(line.requested_cents)} au "
            f"lieu de {euros(earlier.requested_cents)}. Votre décision reste attendue au plus "
            f"tard le {last_day(running.due_at)}, sur ce nouveau montant.\n\nLe dossier et ses "
            "pièces vous attendent dans Guichet."
        )
        subject = f"Montant demandé modifié – {file_ref(state)}"
        told += to(("cofinancer", f"cofinancer:{line.funder}"), subject, body, event)
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
