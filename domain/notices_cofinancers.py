"""The notices of co-financers' lines (revision 1): each co-financer that its decision is
expected (again, and why), suspended, or no longer asked, and how the file ended; the commune
what a co-financer decided; the services what a revised plan leaves waiting. From revision
3, a decision expected again after a reopening says so (``decision_expected``)."""

from __future__ import annotations

from domain.actor import Role
from domain.deadline import OpenDeadline
from domain.events import DeadlineClosed, Event, FundingDecided, PlanRevised
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
        why = "Le dossier est complet : votre décision est attendue"
    body = (
        f"Commune : {commune_of(state)}.\n\n{why} sur votre ligne {line.funder} "
        f"({euros(line.requested_cents)} demandés), au plus tard le {last_day(deadline.due_at)}."
        "\n\nLe dossier et ses pièces vous attendent dans Guichet."
    )
    subject = f"Décision attendue au plus tard le {last_day(deadline.due_at)} – {file_ref(state)}"
    return to(("cofinancer", f"cofinancer:{line.funder}"), subject, body, event)


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
        said = f"{corrects}refuse votre demande de {asked}."
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


def to_funders(state: Application, subject: str, body: str, event: Event) -> list[Notice]:
    """Each co-financer with a line in the plan (its mailbox, ``cofinancer:FUNDER``)."""
    funders = (
        sorted({line.funder for line in state.plan.lines if line.kind != "owner"})
        if state.plan
        else []
    )
    return [
        notice("cofinancer", f"cofinancer:{funder}", subject, body, event) for funder in funders
    ]
