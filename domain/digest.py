"""The caseworker's daily digest: files left untreated, files to settle after their completion
deadline, and the week's deadlines, in French.

Pure: the files (as listed by Temporal visibility), the moment, and which of them wait to be
settled (their events read from the log, ``settlement_awaited``) arrive as arguments; one
notice per caseworker comes out, for the outbox to deliver like any other notice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.actor import pool_of
from domain.decider_evolve import fold
from domain.decider_permissions import PERMISSIONS
from domain.decider_settlement import COMPLETION_RULE, settlement_refused
from domain.events import DeadlineExpired, Event
from domain.french import COMMAND, STATUS, day, last_day, lower
from domain.model import AwareDatetime, Frozen
from domain.notices import Notice
from domain.state import Status

PARIS = ZoneInfo("Europe/Paris")
DIGEST_EVENT = "DailyDigest"
HORIZON_DAYS = 7
LISTED_AT_MOST = 100
"""Lines one section of a digest lists, the most pressing first; past them, one line says how
many more and where the console lists them all: a mail of thousands of lines is read by nobody."""

CASEWORKERS_POOL = pool_of("caseworker")
"""Whose digest lists the files no caseworker has taken yet: the caseworkers' pool, as the
notices of a file no one holds name it (``domain.notices_shared.services_of``). Before, such a
file was in no digest at all, however long it waited."""

_CASEWORKER_STEPS = ("DeclareComplete", "AcceptApplication", "NotifyAward")
AWAITING_CASEWORKER: frozenset[Status] = frozenset().union(
    *(PERMISSIONS[step].statuses for step in _CASEWORKER_STEPS)
)
"""Where the caseworker moves the file next (declare it complete, decide on it, notify the
award): only there are days without action work left undone. Elsewhere it waits on the
commune (a correction, its works, a claim), a payment officer, or nobody (refused or dismissed,
running only to be reopened): a file in its works for two years was « sans action » in every
morning's digest, which then listed nearly every file its caseworker had ever held."""

SETTLEABLE: frozenset[Status] = PERMISSIONS["SettleAfterCompletionDeadline"].statuses
"""Where a file whose completion deadline expired waits for its caseworker to settle it: no
claim is accepted after that deadline (CGCT R2334-29), the status stays the works', and no
deadline is open any more, so neither of the other sections ever listed it."""


class DigestFile(Frozen):
    """What the digest needs of one file: its caseworker, status and two moments, and the
    words its caseworker knows it by."""

    application_id: str
    caseworker: str
    status: str | None = None
    programme: str | None = None
    """The programme's name, as the work queue shows it (else its code)."""
    commune: str | None = None
    """The commune's name (else its INSEE code)."""
    next_deadline: AwareDatetime | None = None
    last_activity: AwareDatetime | None = None


def stale_before(now: datetime, stale_days: int) -> datetime:
    """Files whose last activity is before this moment are untreated for ``stale_days`` days.

    On the hour: files publish their last activity truncated to the hour
    (``workflows.search.published``), and against an hour the truncated value and the true
    one fall on the same side. Against ``now`` itself, a file acted on at 7:45 a week ago
    (published as 7:00) would be listed at 7:30 as untreated for more than 7 days."""
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(days=stale_days)


def settlement_awaited(events: Sequence[Event]) -> datetime | None:
    """When the completion deadline of one file (its events, in order) expired, if the file
    waits for its caseworker to settle it now (``settlement_refused``: not while a payment
    claimed in time is on its way); else None."""
    state = fold(events)
    if state.status not in SETTLEABLE or settlement_refused(state) is not None:
        return None
    return next(
        (
            event.due_at
            for event in reversed(events)
            if isinstance(event, DeadlineExpired) and event.kind == "completion"
        ),
        None,
    )


def build_digests(
    files: Iterable[DigestFile],
    *,
    now: datetime,
    stale_days: int,
    horizon_days: int = HORIZON_DAYS,
    to_settle: Mapping[str, datetime] | None = None,
) -> list[Notice]:
    """One notice per caseworker with something to look at, in caseworker order.

    Stale: awaiting the caseworker (``AWAITING_CASEWORKER``) with no action for more than
    ``stale_days`` days (``stale_before``). To settle: the files of ``to_settle`` (application
    id → when its completion deadline expired, ``settlement_awaited``), the oldest expiry
    first. Due: the next deadline falls before ``now + horizon_days`` (an expired one is shown
    as such), whoever moves next.
    """
    untreated_before = stale_before(now, stale_days)
    due_before = now + timedelta(days=horizon_days)
    expired = to_settle or {}
    stale: dict[str, list[DigestFile]] = defaultdict(list)
    settle: dict[str, list[tuple[datetime, DigestFile]]] = defaultdict(list)
    due: dict[str, list[DigestFile]] = defaultdict(list)
    for file in files:
        if untreated(file, untreated_before):
            stale[file.caseworker].append(file)
        if (expired_at := expired.get(file.application_id)) is not None:
            settle[file.caseworker].append((expired_at, file))
        if file.next_deadline is not None and file.next_deadline < due_before:
            due[file.caseworker].append(file)
    return [
        _notice(
            caseworker,
            sorted(stale[caseworker], key=lambda f: (f.last_activity, f.application_id)),
            sorted(settle[caseworker], key=lambda s: (s[0], s[1].application_id)),
            sorted(due[caseworker], key=lambda f: (f.next_deadline, f.application_id)),
            now=now,
            stale_days=stale_days,
            horizon_days=horizon_days,
        )
        for caseworker in sorted(stale.keys() | settle.keys() | due.keys())
    ]


def untreated(file: DigestFile, untreated_before: datetime) -> bool:
    """Waiting on its caseworker, with no action since before ``untreated_before``."""
    return (
        file.status in AWAITING_CASEWORKER
        and file.last_activity is not None
        and file.last_activity < untreated_before
    )


def _notice(
    caseworker: str,
    stale: list[DigestFile],
    settle: list[tuple[datetime, DigestFile]],
    due: list[DigestFile],
    *,
    now: datetime,
    stale_days: int,
    horizon_days: int,
) -> Notice:
    today = now.astimezone(PARIS).date()
    counts = [
        _count(n, singular, plural)
        for n, singular, plural in (
            (len(stale), "dossier à traiter", "dossiers à traiter"),
            (len(settle), "dossier à solder", "dossiers à solder"),
            (len(due), "échéance", "échéances"),
        )
        if n
    ]
    lines = [
        "Bonjour,",
        "",
        _about(caseworker, today),
        *_section(
            f"Dossiers à traiter, sans action depuis {_more_than(stale_days)} :",
            [f"- {_describe(f)} : {_idle(f, now)}" for f in stale],
            "autres dossiers à traiter : la file de travail, vue « En attente de "
            "l'instructeur », les liste tous",
        ),
        *_section(
            "Dossiers à solder, délai d'achèvement des travaux expiré :",
            [f"- {_describe(f)} : {_expired(expired_at, now)}" for expired_at, f in settle],
            "autres dossiers à solder : les points suivants les listeront à mesure que "
            "ceux-ci seront soldés",
            then=SETTLE_HOW,
        ),
        *_section(
            f"Échéances {_next(horizon_days)} :",
            [f"- {_describe(f)} : {_deadline(f, now)}" for f in due],
            "autres échéances : la file de travail les liste, vues « En retard » et "
            "« Échéance dans les 7 jours »",
        ),
        "",
        "Message automatique de Guichet, merci de ne pas y répondre.",
    ]
    return Notice(
        recipient_role="caseworker",
        recipient=caseworker,
        subject=f"Guichet : point du {today:%d/%m/%Y} — " + ", ".join(counts),
        body="\n".join(lines) + "\n",
        event_type=DIGEST_EVENT,
    )


def _about(caseworker: str, today: date) -> str:
    """What the digest is about: the reader's own files, or, for the pool, those no one took."""
    if caseworker == CASEWORKERS_POOL:
        return (
            f"Voici le point du {today:%d/%m/%Y} sur les dossiers qu'aucun instructeur n'a "
            "encore pris : la file de travail les liste (instructeur « aucun »), où chacun "
            "peut les prendre."
        )
    return f"Voici le point du {today:%d/%m/%Y} sur les dossiers qui vous sont attribués."


def _section(title: str, lines: list[str], others: str, *, then: str | None = None) -> list[str]:
    """A section of the digest: its title, its lines (``at_most``), then what to do with
    them; nothing when it has no line."""
    if not lines:
        return []
    return ["", title, *at_most(lines, others), *([then] if then else [])]


def at_most(lines: list[str], others: str) -> list[str]:
    """The first ``LISTED_AT_MOST`` of ``lines``, then « - … et N {others}. » for the rest."""
    if len(lines) <= LISTED_AT_MOST:
        return lines
    return [*lines[:LISTED_AT_MOST], f"- … et {len(lines) - LISTED_AT_MOST} {others}."]


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def _more_than(days: int) -> str:
    """``plus de 7 jours``, ``plus d'un jour``."""
    return "plus d'un jour" if days == 1 else f"plus de {days} jours"


def _next(days: int) -> str:
    """``des 7 prochains jours``, ``des prochaines 24 heures``."""
    return "des prochaines 24 heures" if days == 1 else f"des {days} prochains jours"


def _describe(file: DigestFile) -> str:
    programme = f"« {file.programme} »" if file.programme else None
    details = ", ".join(x for x in (file.commune, programme, _status(file.status)) if x)
    return f"{file.application_id} ({details})" if details else file.application_id


def _status(status: str | None) -> str | None:
    return lower(STATUS, status) if status else None


def _idle(file: DigestFile, now: datetime) -> str:
    assert file.last_activity is not None  # only stale files come here
    days = (now - file.last_activity).days
    return f"dernière action le {day(file.last_activity)} (il y a {_count(days, 'jour', 'jours')})"


SETTLE_HOW = (
    f"Aucune demande de paiement n'y est plus recevable ({COMPLETION_RULE}) : soldez chacun "
    f"depuis sa page (« {COMMAND['SettleAfterCompletionDeadline']} ») sur la dépense éligible "
    "justifiée."
)
"""What the caseworker does with the files to settle, said once under their list."""


def _expired(expired_at: datetime, now: datetime) -> str:
    """``délai expiré à la fin du 04/12/2026 (il y a 25 jours)``."""
    local = expired_at.astimezone(PARIS)
    if local.time() == time(0, 0):
        when = f"à la fin du {last_day(expired_at)}"
    else:
        when = f"le {local:%d/%m/%Y à %Hh%M}"
    days = (now - expired_at).days
    ago = f" (il y a {_count(days, 'jour', 'jours')})" if days >= 1 else ""
    return f"délai expiré {when}{ago}"


def _deadline(file: DigestFile, now: datetime) -> str:
    assert file.next_deadline is not None  # only due files come here
    return deadline_words(file.next_deadline, now)


def deadline_words(due_at: datetime, now: datetime) -> str:
    """``échéance jusqu'au 03/06/2026 inclus``, or ``échéance dépassée (…)`` once ``now`` is
    past it: the caseworker's and the co-financers' digests word a deadline alike."""
    when = _moment(due_at)
    return f"échéance dépassée ({when})" if due_at <= now else f"échéance {when}"


def _moment(moment: datetime) -> str:
    """Paris time; a deadline at midnight ends the day before (``jusqu'au 03/06/2026 inclus``)."""
    local = moment.astimezone(PARIS)
    if local.time() == time(0, 0):
        return f"jusqu'au {last_day(moment)} inclus"
    return f"le {local:%d/%m/%Y à %Hh%M}"
