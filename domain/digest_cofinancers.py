"""The co-financers' daily digest: the lines waiting for each one's decision, and by when.

Pure: each file's events (read from the log) and the moment arrive as arguments; one notice
per co-financer with a line awaiting its decision comes out, addressed to its desk as its
other notices are (``cofinancer:FUNDER``), for the outbox to deliver. A notice lists that
funder's own lines and no other: what the console shows it (``may_see``), no more.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from domain.decider import PERMISSIONS, fold
from domain.digest import DIGEST_EVENT, PARIS, at_most, deadline_words
from domain.events import DeadlineClosed, DeadlineExpired, Event
from domain.french import euros
from domain.model import AwareDatetime, Frozen
from domain.notices_shared import Notice, commune_of

DECIDABLE = PERMISSIONS["DecideFunding"].statuses
"""The statuses in which a co-financer decides its line: the files its digest reads."""


class AwaitedDecision(Frozen):
    """One line of a file that waits for its funder's decision, and the decision's deadline."""

    funder: str
    application_id: str
    line_id: str
    project: str
    commune: str
    requested_cents: int
    due_at: AwareDatetime | None = None
    """The last moment of the decision's deadline, open or expired; None: the file's
    programme sets none."""


def awaited_decisions(events: Sequence[Event]) -> list[AwaitedDecision]:
    """The lines of one file (its events, in order) that wait for their funder's decision.

    A line waits while it is pending on a file its co-financer may decide (in instruction):
    the commune's own line never does, a decided one no longer. Its deadline is the open one,
    else the one that expired last (the state forgets an expired deadline's line and day)."""
    state = fold(events)
    if state.status not in DECIDABLE or state.plan is None:
        return []
    expired = _expired_decisions(events)
    return [
        AwaitedDecision(
            funder=line.funder,
            application_id=state.application_id,
            line_id=line.line_id,
            project=" ".join(state.request.project_title.split()) if state.request else "",
            commune=commune_of(state),
            requested_cents=line.requested_cents,
            due_at=open_.due_at
            if (open_ := state.deadline("cofinancer_decision", line.line_id))
            else expired.get(line.line_id),
        )
        for line in state.plan.lines
        if line.kind != "owner" and line.status == "pending"
    ]


def _expired_decisions(events: Iterable[Event]) -> dict[str, datetime]:
    """Each line whose decision deadline expired, and was not closed since: when. (One
    opened since is in the state, which the caller reads first.)"""
    expired: dict[str, datetime] = {}
    for event in events:
        match event:
            case DeadlineExpired(kind="cofinancer_decision", subject=str(line_id)):
                expired[line_id] = event.due_at
            case DeadlineClosed(kind="cofinancer_decision", subject=str(line_id)):
                expired.pop(line_id, None)
    return expired


def build_cofinancer_digests(awaited: Iterable[AwaitedDecision], *, now: datetime) -> list[Notice]:
    """One notice per funder with lines awaiting its decision, in funder order; its lines
    the oldest deadline first (expired ones first of all, those without one last)."""
    by_funder: dict[str, list[AwaitedDecision]] = defaultdict(list)
    for decision in awaited:
        by_funder[decision.funder].append(decision)
    return [
        _notice(funder, sorted(by_funder[funder], key=_oldest_first), now=now)
        for funder in sorted(by_funder)
    ]


def _oldest_first(decision: AwaitedDecision) -> tuple[bool, datetime, str, str]:
    due = decision.due_at or datetime.max.replace(tzinfo=PARIS)
    return decision.due_at is None, due, decision.application_id, decision.line_id


def _notice(funder: str, lines: list[AwaitedDecision], *, now: datetime) -> Notice:
    today = now.astimezone(PARIS).date()
    late = sum(1 for line in lines if line.due_at is not None and line.due_at <= now)
    count = f"{len(lines)} décisions attendues" if len(lines) > 1 else "1 décision attendue"
    if late:
        count += f", dont {late} en retard"
    body = [
        "Bonjour,",
        "",
        f"Voici le point du {today:%d/%m/%Y} sur les lignes {funder} qui attendent votre "
        "décision, l'échéance la plus ancienne d'abord :",
        "",
        *at_most(
            [f"- {_describe(line, now)}" for line in lines],
            "autres lignes : la page « Mes lignes de financement » les liste toutes",
        ),
        "",
        "Chaque décision se prend sur la page du dossier, dans Guichet ; la page « Mes lignes "
        "de financement » les liste toutes.",
        "",
        "Message automatique de Guichet, merci de ne pas y répondre.",
    ]
    return Notice(
        recipient_role="cofinancer",
        recipient=desk(funder),
        subject=f"Guichet : point du {today:%d/%m/%Y} — {count}",
        body="\n".join(body) + "\n",
        event_type=DIGEST_EVENT,
    )


def desk(funder: str) -> str:
    """A funder's notices go to its desk, as every co-financer's notice does."""
    return f"cofinancer:{funder}"


def _describe(line: AwaitedDecision, now: datetime) -> str:
    project = f" « {line.project} »" if line.project else ""
    asked = f"ligne « {line.line_id} », {euros(line.requested_cents)} demandés"
    when = deadline_words(line.due_at, now) if line.due_at else "sans échéance fixée"
    return f"{line.application_id}{project}, {line.commune} ({asked}) : {when}"
