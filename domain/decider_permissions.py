"""Who may send which command in which status: ONE table read by ``decide`` and by
``allowed_commands`` (what the console offers), so the two can never disagree."""

from __future__ import annotations

from dataclasses import dataclass

from domain.actor import Actor, Role
from domain.errors import DomainError, InvalidTransition, NotPermitted
from domain.french import COMMAND, ROLE, STATUS, lower, word
from domain.labels import MAX_LABELS
from domain.state import Application, Status

SEPARATION_OF_DUTIES = "séparation des fonctions d'ordonnateur et de comptable"

_REVIEW: frozenset[Status] = frozenset({"submitted", "correction_requested", "in_instruction"})
_DECIDED: frozenset[Status] = frozenset({"accepted", "refused", "dismissed"})
_EXECUTION: frozenset[Status] = frozenset({"awarded", "started", "completed"})
_PAYING: frozenset[Status] = frozenset({"started", "completed"})
_RUNNING: frozenset[Status] = _REVIEW | _DECIDED | _EXECUTION | {"repayment_due"}
_LIVE: frozenset[Status] = frozenset({*_REVIEW, "accepted", *_EXECUTION})


@dataclass(frozen=True)
class Permission:
    """The roles that may send a command and the statuses it is valid in.

    ``four_eyes``: the actor must not be the one who accepted the file. ``since``: statuses
    the command is valid in only for files decided under that revision of the decision rules
    or a later one (``Application.rules``): files of before replay as they ran."""

    roles: frozenset[Role]
    statuses: frozenset[Status]
    four_eyes: bool = False
    since: tuple[tuple[Status, int], ...] = ()

    def statuses_under(self, rules: int) -> frozenset[Status]:
        """The statuses the command is valid in for a file of rules revision ``rules``."""
        later = {status for status, revision in self.since if rules < revision}
        return self.statuses - later if later else self.statuses


def _p(
    roles: tuple[Role, ...],
    statuses: frozenset[Status],
    four_eyes: bool = False,
    since: tuple[tuple[Status, int], ...] = (),
) -> Permission:
    return Permission(
        frozenset(roles), statuses | {status for status, _ in since}, four_eyes, since
    )


REOPEN_ACCEPTED_RULES = 6
"""The revision of the decision rules (``domain.commands.RULES``) from which an accepted file
whose award is not notified yet may be re-opened into instruction (DOMAIN.md, States:
« re-opening after a decision »; démarches-simplifiées' « repasser en instruction » applies
to an accepted file too). Before, a file accepted by mistake could only be notified, or
withdrawn by its commune."""


PERMISSIONS: dict[str, Permission] = {
    "SubmitApplication": _p(("applicant",), frozenset({"draft"})),
    "AssignCaseworker": _p(
        ("caseworker", "supervisor"), _REVIEW | _DECIDED | _EXECUTION | {"repayment_due"}
    ),
    "RouteFile": _p(("caseworker", "supervisor"), _RUNNING),
    "RequestCorrection": _p(("caseworker",), frozenset({"submitted", "in_instruction"})),
    "AnswerCorrection": _p(("applicant",), frozenset({"correction_requested"})),
    "DeclareComplete": _p(("caseworker", "system"), frozenset({"submitted"})),
    "DecideFunding": _p(("cofinancer",), frozenset({"in_instruction"})),
    "RevisePlan": _p(("applicant",), _REVIEW),
    "RecordCommissionOpinion": _p(("caseworker",), frozenset({"in_instruction"})),
    "AcceptApplication": _p(("caseworker",), frozenset({"in_instruction"})),
    "RefuseApplication": _p(("caseworker",), _REVIEW),
    "DismissApplication": _p(("caseworker", "supervisor", "system"), _REVIEW),
    "ReopenApplication": _p(
        ("caseworker", "supervisor"),
        frozenset({"refused", "dismissed"}),
        since=(("accepted", REOPEN_ACCEPTED_RULES),),
    ),
    "WithdrawApplication": _p(("applicant",), _REVIEW | _DECIDED | _EXECUTION),
    "NotifyAward": _p(("caseworker",), frozenset({"accepted"})),
    "RecordConvention": _p(("caseworker", "supervisor"), _LIVE),
    "AddNote": _p(("caseworker", "supervisor", "cofinancer", "payment_officer"), _RUNNING),
    "RequestOpinion": _p(("caseworker", "supervisor"), _REVIEW),
    "GiveOpinion": _p(("expert",), _REVIEW),
    "WithdrawOpinionRequest": _p(("caseworker", "supervisor"), _REVIEW),
    "AddLabel": _p(("caseworker", "supervisor"), _RUNNING),
    "RemoveLabel": _p(("caseworker", "supervisor"), _RUNNING),
    "SendMessage": _p(("applicant", "caseworker", "supervisor"), _RUNNING),
    "AttachDocument": _p(
        ("applicant", "caseworker", "supervisor", "cofinancer", "payment_officer", "expert"),
        _RUNNING,
    ),
    "DeclareStart": _p(("applicant",), frozenset({"awarded"})),
    "DeclareCompletion": _p(("applicant",), frozenset({"started"})),
    "ClaimPayment": _p(("applicant",), _PAYING),
    "OrderPayment": _p(("payment_officer",), _PAYING, four_eyes=True),
    "RecordDisbursement": _p(("system",), _PAYING),
    "RecordPaymentFailure": _p(("system",), _PAYING),
    "RecordRepayment": _p(("payment_officer",), frozenset({"repayment_due"})),
    "SettleAfterCompletionDeadline": _p(
        ("caseworker", "supervisor"), frozenset({"started", "completed"})
    ),
    "LapseAward": _p(("system",), frozenset({"awarded"})),
    "SendReminder": _p(("system",), _RUNNING),
    "ExpireDeadline": _p(("system",), _RUNNING),
    "ExtendDeadline": _p(("caseworker", "supervisor"), _RUNNING),
}
"""Command type name → permission. The auditor appears nowhere: it may send nothing."""


def check_permission(
    command_type: str, state: Application, actor: Actor, insee: str | None = None
) -> None:
    """Raise ``NotPermitted`` (role, own commune, four eyes) or ``InvalidTransition`` (status).

    ``insee`` is the file's commune (the request's, for a submission)."""
    permission = PERMISSIONS[command_type]
    if actor.role not in permission.roles:
        allowed = ", ".join(sorted(permission.roles))
        raise NotPermitted(
            f"{'an' if actor.role[0] in 'aeiou' else 'a'} {actor.role} may not send "
            f"{command_type}; it is for: {allowed}",
            rule="role-permission",
            french=f"Le rôle « {lower(ROLE, actor.role)} » ne permet pas l'action "
            f"« {word(COMMAND, command_type)} » ; elle est réservée "
            + ("au rôle " if len(permission.roles) == 1 else "aux rôles ")
            + _listed([lower(ROLE, role) for role in sorted(permission.roles)], "et"),
        )
    if actor.role == "applicant" and actor.insee is not None and insee not in (None, actor.insee):
        raise NotPermitted(
            f"applicant {actor.id} acts for commune {actor.insee}, not for {insee}: "
            "only the commune's own agents may act on its files",
            rule="own-commune",
            french=f"L'agent {actor.id} agit pour la commune de code INSEE {actor.insee}, et non "
            f"pour celle de code INSEE {insee} : seuls les agents d'une commune peuvent agir sur "
            "ses dossiers",
        )
    if permission.four_eyes and state.accepted_by == actor.id:
        raise NotPermitted(
            f"{actor.id} accepted this file and so may not order its payments: "
            "another payment officer must do it",
            rule="four-eyes",
            source=SEPARATION_OF_DUTIES,
            french=f"{actor.id} a accepté ce dossier et ne peut donc pas en ordonner les "
            f"paiements (principe des quatre yeux) : un autre {lower(ROLE, 'payment_officer')} "
            "doit le faire",
        )
    _check_status(command_type, state, permission)


def _check_status(command_type: str, state: Application, permission: Permission) -> None:
    name = state.application_id or "(new)"
    statuses = permission.statuses_under(state.rules)
    if state.status in statuses:
        return
    nom = state.application_id or "(nouveau)"
    statut = f"« {lower(STATUS, state.status)} »"
    if command_type == "SubmitApplication":
        raise InvalidTransition(
            f"application {name} was already submitted (it is {state.status}): "
            "start a new application instead",
            rule="already-submitted",
            french=f"Le dossier {nom} a déjà été déposé (il a le statut {statut}) : déposez "
            "plutôt une nouvelle demande",
        )
    if state.status == "draft":
        raise InvalidTransition(
            f"no application was submitted yet: {command_type} needs a submitted file",
            rule="not-submitted",
            french=f"Aucune demande n'a encore été déposée : l'action "
            f"« {word(COMMAND, command_type)} » nécessite un dossier déposé",
        )
    if state.is_terminal:
        raise InvalidTransition(
            f"application {name} is {state.status}: no further command can change it",
            rule="terminal-status",
            french=f"Le dossier {nom} est {lower(STATUS, state.status)} : plus aucune action ne "
            "peut le modifier",
        )
    expected = ", ".join(sorted(statuses))
    raise InvalidTransition(
        f"{command_type} is not possible while application {name} is {state.status}; "
        f"it needs the file to be: {expected}",
        rule="status",
        french=f"L'action « {word(COMMAND, command_type)} » n'est pas possible tant que le "
        f"dossier {nom} a le statut {statut} ; elle exige le statut "
        + _listed([lower(STATUS, s) for s in _in_order(statuses)], "ou"),
    )


def _listed(words: list[str], last: str) -> str:
    """``["a", "b", "c"]``, ``"ou"`` → ``« a », « b » ou « c »``."""
    quoted = [f"« {w} »" for w in words]
    return f" {last} ".join([", ".join(quoted[:-1]), quoted[-1]]) if len(quoted) > 1 else quoted[0]


def _in_order(statuses: frozenset[Status]) -> list[Status]:
    """``statuses`` in the order of the file's life (``STATUS``'s order), for people."""
    rank = {code: index for index, code in enumerate(STATUS)}
    return sorted(statuses, key=lambda status: (rank.get(status, len(rank)), status))


def allowed_commands(state: Application, actor: Actor) -> tuple[str, ...]:
    """The command type names ``actor`` could send on this file now (per ``PERMISSIONS``),
    leaving out an answer or a withdrawal when no request awaits one, and taking a label off
    a file that carries none (or putting one on a file that carries the most)."""
    insee = state.request.insee if state.request else None
    allowed: list[str] = []
    for command_type in PERMISSIONS:
        try:
            check_permission(command_type, state, actor, insee)
        except DomainError:
            continue
        if command_type in OPINION_ANSWERS and not _awaited(command_type, state, actor):
            continue
        if command_type == "AttachDocument" and not _may_attach(state, actor):
            continue
        if command_type == "RemoveLabel" and not state.labels:
            continue
        if command_type == "AddLabel" and len(state.labels or ()) >= MAX_LABELS:
            continue
        allowed.append(command_type)
    return tuple(allowed)


OPINION_ANSWERS = frozenset({"GiveOpinion", "WithdrawOpinionRequest"})


def _may_attach(state: Application, actor: Actor) -> bool:
    return actor.role != "expert" or consulted_on(state, actor)


def consulted_on(state: Application, actor: Actor) -> bool:
    """An expert asked on this file (a request not withdrawn) while it is under review: what
    lets them attach a document, a signed opinion."""
    return state.status in _REVIEW and any(
        o.expert_id == actor.id and o.withdrawn_reason is None for o in state.opinions
    )


def _awaited(command_type: str, state: Application, actor: Actor) -> bool:
    """A request still unanswered: one asked of this expert, for an answer; any, for a
    withdrawal."""
    return any(
        o.pending and (command_type != "GiveOpinion" or o.expert_id == actor.id)
        for o in state.opinions
    )
