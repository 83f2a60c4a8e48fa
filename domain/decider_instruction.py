"""``decide`` for the instruction phase: submission, corrections, co-financing, decision."""

from __future__ import annotations

from domain.commands import (
    AcceptApplication,
    AnswerCorrection,
    AssignCaseworker,
    Command,
    DecideFunding,
    DeclareComplete,
    DismissApplication,
    RecordCommissionOpinion,
    RefuseApplication,
    ReopenApplication,
    RequestCorrection,
    RevisePlan,
    RouteFile,
    SubmitApplication,
    WithdrawApplication,
)
from domain.commune import Commune
from domain.deadline import day_of
from domain.errors import InvalidTransition, NotPermitted, RuleViolation
from domain.events import (
    ApplicationAccepted,
    ApplicationDeclaredComplete,
    ApplicationDismissed,
    ApplicationRefused,
    ApplicationReopened,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CaseworkerAssigned,
    CommissionOpinionRecorded,
    CorrectionAnswered,
    CorrectionRequested,
    EligibilityConfirmed,
    EligibilityRejected,
    Event,
    FileRouted,
    FundingDecided,
    PlanRevised,
    RepaymentDue,
)
from domain.french import STATUS, lower
from domain.french import euros as euros_fr
from domain.plan import FinancingPlan, FundingLine
from domain.programme import Programme
from domain.rules.award import anah_cofunds
from domain.rules.eligibility import eligibility_verdicts
from domain.rules.financing import (
    COMMISSION_THRESHOLD_CENTS,
    DETR_COMMISSION,
    HARD_PLAN_RULES,
    detr_needs_commission,
    euros,
    plan_verdicts,
    plan_verdicts_shown,
)
from domain.state import Application
from domain.verdict import RuleVerdict

PLAN_POLICY = "Guichet : les décisions d'un plan reviennent à ses cofinanceurs"

_LINE_DECISION = {"approved": "accordée", "refused": "refusée", "pending": "en attente"}
"""A funding line's status in a French sentence (``la ligne … a déjà été accordée``)."""


def _refusal(verdict: RuleVerdict) -> RuleViolation:
    """The refusal a failing plan verdict makes, in both languages."""
    french = verdict.french or (
        "Le plan de financement ne respecte pas une de ses règles : consultez le détail des "
        "vérifications du plan"
    )
    return RuleViolation(verdict.message, rule=verdict.rule, source=verdict.source, french=french)


def file_of(state: Application) -> tuple[Programme, Commune, FinancingPlan]:
    """The programme, commune and plan of a submitted, eligible file."""
    # The permission table only lets these commands through after an eligible submission,
    # which snapshots all three.
    assert state.programme is not None and state.commune is not None and state.plan is not None
    return state.programme, state.commune, state.plan


def merge_plan(old: FinancingPlan, new: FinancingPlan, rules: int) -> FinancingPlan:
    """The revised plan where a line keeps its decision only if its id, funder and requested
    amount are unchanged, or (rules 2) if it now requests what its co-financer granted;
    every other line is pending again. Decisions written by the applicant are ignored: only
    co-financers decide."""

    def carry(line: FundingLine) -> FundingLine:
        before = old.line(line.line_id)
        if before is None or before.funder != line.funder:
            return line.model_copy(update={"status": "pending", "granted_cents": None})
        same = before.requested_cents == line.requested_cents
        # A commune that brings a line down to a partial grant asks for what it was given:
        # the co-financer need not decide it again.
        down_to_grant = (
            rules >= 2
            and before.status == "approved"
            and before.granted_cents == line.requested_cents
        )
        if same or down_to_grant:
            return line.model_copy(
                update={"status": before.status, "granted_cents": before.granted_cents}
            )
        return line.model_copy(update={"status": "pending", "granted_cents": None})

    return new.model_copy(update={"lines": tuple(carry(line) for line in new.lines)})


def check_lines_pending(plan: FinancingPlan) -> None:
    """A submitted plan carries no decision: the co-financers decide their lines."""
    decided = [line.line_id for line in plan.lines if line.status != "pending"]
    decided += [line.line_id for line in plan.lines if line.granted_cents is not None]
    if decided:
        raise RuleViolation(
            f"line {decided[0]} of the submitted plan carries a decision: submit every line "
            "as pending, the co-financers decide",
            rule="plan-lines-pending",
            source=PLAN_POLICY,
            french=f"La ligne {decided[0]} du plan de financement déposé porte déjà une "
            "décision : déposez toutes les lignes en attente de décision, ce sont les "
            "cofinanceurs qui décident",
        )


def submit(c: SubmitApplication, state: Application) -> list[Event]:
    """Submission, then the automatic eligibility verdict (received date = command date)."""
    check_lines_pending(c.request.plan)
    received_on = day_of(c.at, paris=c.rules >= 1)
    verdicts = eligibility_verdicts(
        c.request, c.commune, c.programme, received_on, cadre_window=c.rules >= 1
    )
    failing = tuple(v for v in verdicts if v.outcome == "fail")
    submitted = ApplicationSubmitted(
        actor=c.actor,
        at=c.at,
        application_id=c.application_id,
        request=c.request,
        commune=c.commune,
        programme=c.programme,
        registry_vintage=c.registry_vintage,
        tracks_deadlines=c.tracks_deadlines,
        rules=c.rules,
    )
    if failing:
        return [submitted, EligibilityRejected(actor=c.actor, at=c.at, verdicts=failing)]
    return [submitted, EligibilityConfirmed(actor=c.actor, at=c.at, verdicts=verdicts)]


def assign(c: AssignCaseworker, state: Application) -> list[Event]:
    """Assign (or re-assign) the file; the same person again is a no-op."""
    if state.caseworker_id == c.caseworker_id:
        return []
    return [CaseworkerAssigned(actor=c.actor, at=c.at, caseworker_id=c.caseworker_id)]


def route(c: RouteFile, state: Application) -> list[Event]:
    """Send the file to another department's service; it leaves whoever held it."""
    if c.department == state.instructing_department:
        raise InvalidTransition(
            f"the file is already instructed by the service of department {c.department}",
            rule="routed-elsewhere",
            french=f"Le dossier est déjà instruit par le service du département {c.department}",
        )
    return [FileRouted(actor=c.actor, at=c.at, department=c.department, reason=c.reason)]


def request_correction(c: RequestCorrection, state: Application) -> list[Event]:
    """Ask the applicant to correct the file; it comes back to the current status."""
    return [CorrectionRequested(actor=c.actor, at=c.at, reason=c.reason, message=c.message)]


def answer_correction(c: AnswerCorrection, state: Application) -> list[Event]:
    """The applicant answers; a revised plan keeps the decisions of unchanged lines."""
    _, _, plan = file_of(state)
    revised = merge_plan(plan, c.revised_plan, state.rules) if c.revised_plan is not None else None
    return [CorrectionAnswered(actor=c.actor, at=c.at, message=c.message, revised_plan=revised)]


def declare_complete(c: DeclareComplete, state: Application) -> list[Event]:
    """Complete by a caseworker, or deemed complete by silence when the system sends it."""
    deemed = c.actor.role == "system"
    return [ApplicationDeclaredComplete(actor=c.actor, at=c.at, deemed=deemed)]


def revise_plan(c: RevisePlan, state: Application) -> list[Event]:
    """Replace the plan; an identical plan changes nothing."""
    _, _, plan = file_of(state)
    revised = merge_plan(plan, c.plan, state.rules)
    if revised == plan:
        return []
    return [PlanRevised(actor=c.actor, at=c.at, plan=revised, note=c.note)]


def decide_funding(c: DecideFunding, state: Application) -> list[Event]:
    """A co-financer's decision on its own pending line, re-checked against the hard rules."""
    programme, commune, plan = file_of(state)
    line = plan.line(c.line_id)
    if line is None:
        known = ", ".join(item.line_id for item in plan.lines)
        raise RuleViolation(
            f"the plan has no line {c.line_id!r} (lines: {known})",
            rule="line-exists",
            source=PLAN_POLICY,
            french=f"Le plan de financement n'a pas de ligne « {c.line_id} » (lignes : {known})",
        )
    if line.kind == "owner":
        raise RuleViolation(
            f"line {line.line_id} is the owner's own contribution: it needs no decision",
            rule="owner-line",
            source=PLAN_POLICY,
            french=f"La ligne {line.line_id} est l'autofinancement du maître d'ouvrage : elle "
            "n'appelle aucune décision",
        )
    if c.actor.funder != line.funder:
        raise NotPermitted(
            f"{c.actor.id} acts for {c.actor.funder} and may not decide line {line.line_id} "
            f"of {line.funder}: each co-financer decides its own line only",
            rule="own-line",
            french=f"{c.actor.id} agit pour {c.actor.funder} et ne peut pas décider de la ligne "
            f"{line.line_id} de {line.funder} : chaque cofinanceur ne décide que de sa propre "
            "ligne",
        )
    correction = line.status != "pending"
    if correction:
        _check_correctable(line, state)
        if _same_decision(c, line):
            return []  # sent again: the decision stands as it was recorded
        _check_correction_note(c, line)
    if not c.approve:
        refused = FundingDecided(
            actor=c.actor, at=c.at, line_id=line.line_id, funder=line.funder,
            approved=False, granted_cents=None, note=c.note, correction=correction,
        )  # fmt: skip
        return [refused]
    granted = c.granted_cents
    if granted is None or not 0 < granted <= line.requested_cents:
        raise RuleViolation(
            f"an approval of line {line.line_id} must grant more than €0 and at most the "
            f"{euros(line.requested_cents)} requested",
            rule="granted-amount",
            source=PLAN_POLICY,
            french=f"L'accord sur la ligne {line.line_id} doit porter sur plus de {euros_fr(0)} "
            f"et au plus sur les {euros_fr(line.requested_cents)} demandés",
        )
    decided = line.model_copy(update={"status": "approved", "granted_cents": granted})
    _check_commitments(plan.with_line(decided), programme, commune, state.rules)
    approved = FundingDecided(
        actor=c.actor, at=c.at, line_id=line.line_id, funder=line.funder,
        approved=True, granted_cents=granted, note=c.note, correction=correction,
    )  # fmt: skip
    return [approved]


def _same_decision(c: DecideFunding, line: FundingLine) -> bool:
    """The line's recorded decision, sent again (a second click, a retried command)."""
    if not c.approve:
        return line.status == "refused"
    return line.status == "approved" and line.granted_cents == c.granted_cents


def _check_correctable(line: FundingLine, state: Application) -> None:
    """From rules 2, a co-financer corrects its decision while the file is in instruction (an
    amount mistyped, a refusal recorded on the wrong line); before, the line was decided for
    good until the commune revised it."""
    if state.rules < 2:
        raise InvalidTransition(
            f"line {line.line_id} was already {line.status}: it can be decided again only "
            "after the applicant revises its amount",
            rule="line-already-decided",
            french=f"La ligne {line.line_id} a déjà été "
            f"{_LINE_DECISION.get(line.status, line.status)} : elle ne peut être décidée à "
            "nouveau qu'après une révision de son montant par la commune",
        )


def _check_correction_note(c: DecideFunding, line: FundingLine) -> None:
    """A corrected decision says why: the commune and the caseworker read it."""
    if not c.note.strip():
        raise RuleViolation(
            f"line {line.line_id} was already {line.status}: a corrected decision says why in "
            "its note (the commune reads it)",
            rule="correction-note",
            source=PLAN_POLICY,
            french=f"La ligne {line.line_id} a déjà été "
            f"{_LINE_DECISION.get(line.status, line.status)} : une décision corrigée dit "
            "pourquoi dans son observation (la commune la lit)",
        )


def _check_commitments(
    plan: FinancingPlan, programme: Programme, commune: Commune, rules: int
) -> None:
    # Only approved lines are commitments: a pending over-request elsewhere must not block a
    # sound decision, while an approval that breaks a cap by itself must be refused.
    approved = tuple(line for line in plan.lines if line.status == "approved")
    committed = plan.model_copy(update={"lines": approved})
    # Anah's pending line still co-funds the post: its higher cap is the whole plan's.
    anah = anah_cofunds(plan, rules=rules)
    for verdict in plan_verdicts(committed, programme, commune, None, rules=rules, anah=anah):
        if verdict.rule in HARD_PLAN_RULES and verdict.outcome == "fail":
            raise _refusal(verdict)


def record_opinion(c: RecordCommissionOpinion, state: Application) -> list[Event]:
    """The DETR commission's opinion, only asked when the project's DETR subsidy (its live DETR
    lines together) is above €100,000 (CGCT L2334-37); under rules before 4, when one DETR
    line is (``domain.rules.financing.COMMISSION_RULES``)."""
    _, _, plan = file_of(state)
    if not detr_needs_commission(plan, rules=state.rules):
        raise RuleViolation(
            "the DETR subsidy on this plan is not above €100,000: no commission opinion is needed",
            rule="detr-commission",
            source=DETR_COMMISSION,
            french="La subvention DETR de ce plan de financement ne dépasse pas "
            f"{euros_fr(COMMISSION_THRESHOLD_CENTS)} : l'avis de la commission DETR n'est "
            "pas requis",
        )
    if state.commission_opinion == c.favourable:
        return []
    return [CommissionOpinionRecorded(actor=c.actor, at=c.at, favourable=c.favourable, note=c.note)]


def accept(c: AcceptApplication, state: Application) -> list[Event]:
    """Accept once every line is decided and every plan rule passes; the award is the sum
    granted by the programme's funders."""
    if (refusal := acceptance_refused(state)) is not None:
        raise refusal
    programme, _, plan = file_of(state)
    verdicts = _file_plan_verdicts(state)
    ours = [line for line in plan.lines if line.funder in programme.funders]
    award = sum(line.granted_cents or 0 for line in ours if line.status == "approved")
    return [
        ApplicationAccepted(
            actor=c.actor, at=c.at, award_cents=award, verdicts=verdicts, note=c.note
        )
    ]


def _file_plan_verdicts(state: Application) -> tuple[RuleVerdict, ...]:
    """The plan's verdicts on this file as it stands: its rules, its commission's opinion,
    the documents on it (a prefect's derogation order)."""
    programme, commune, plan = file_of(state)
    return plan_verdicts(
        plan,
        programme,
        commune,
        state.commission_opinion,
        rules=state.rules,
        attached=state.attached_kinds,
    )


def file_plan_verdicts_shown(state: Application) -> tuple[RuleVerdict, ...]:
    """What people read of the file's plan as it stands (``plan_verdicts_shown``, judged as
    ``_file_plan_verdicts`` judges it); none before the file has its plan, programme and
    commune."""
    if state.plan is None or state.programme is None or state.commune is None:
        return ()
    return plan_verdicts_shown(
        state.plan,
        state.programme,
        state.commune,
        state.commission_opinion,
        rules=state.rules,
        attached=state.attached_kinds,
    )


def acceptance_refused(state: Application) -> RuleViolation | None:
    """Why ``accept`` refuses the file now, or None: lines still undecided, none of the
    programme's own approved, a plan rule failing or to check (the DETR commission's opinion
    above €100,000). The console and ``guichet actions`` say it before the box is ticked."""
    programme, _, plan = file_of(state)
    pending = [line for line in plan.lines if line.kind != "owner" and line.status == "pending"]
    if pending:
        # By line id for the CLI, which names a line so; by funder, as the plan writes it, in
        # French for people (a refusal's words are no part of what a replay compares).
        return RuleViolation(
            "lines still wait for their co-financer's decision: "
            f"{', '.join(line.line_id for line in pending)}",
            rule="lines-decided",
            source=PLAN_POLICY,
            french="Des lignes attendent encore la décision de leur cofinanceur : "
            f"{', '.join(line.funder for line in pending)}",
        )
    ours = [line for line in plan.lines if line.funder in programme.funders]
    if not any(line.status == "approved" for line in ours):
        return RuleViolation(
            f"no line of {programme.name} ({', '.join(programme.funders)}) is approved: "
            "refuse the application instead",
            rule="programme-line-approved",
            source=programme.source,
            french=f"Aucune ligne du dispositif « {programme.name} » "
            f"({', '.join(programme.funders)}) n'est accordée : refusez plutôt la demande",
        )
    verdicts = _file_plan_verdicts(state)
    held = next((v for v in verdicts if v.outcome in ("fail", "attention")), None)
    return None if held is None else _refusal(held)


def refuse(c: RefuseApplication, state: Application) -> list[Event]:
    """Refuse the application with a reason."""
    return [ApplicationRefused(actor=c.actor, at=c.at, reason=c.reason)]


def dismiss(c: DismissApplication, state: Application) -> list[Event]:
    """Close the file without a decision (*classé sans suite*)."""
    return [ApplicationDismissed(actor=c.actor, at=c.at, reason=c.reason)]


def reopen(c: ReopenApplication, state: Application) -> list[Event]:
    """Re-open a refused or dismissed file, or from rules 6 an accepted one whose award is not
    notified yet: into instruction, or, from rules 3, back to reception when it was never
    declared complete (completeness comes before instruction)."""
    never_complete = state.rules >= 3 and state.complete_at is None
    back_to = "submitted" if never_complete else "in_instruction"
    return [ApplicationReopened(actor=c.actor, at=c.at, reason=c.reason, back_to=back_to)]


def withdrawing_a_decided_refusal(command: Command, state: Application) -> InvalidTransition | None:
    """A refused or dismissed file withdrawn by its commune: « retiré » replaced the
    service's decision in every listing, and nothing was left for the service to do, not even
    a note. The permissions let it through (``decide`` takes it, for the files that recorded
    it); it is refused where commands arrive. Once the service re-opens the file, the commune
    may withdraw it again."""
    if isinstance(command, WithdrawApplication):
        return nothing_to_withdraw(state)
    return None


def nothing_to_withdraw(state: Application) -> InvalidTransition | None:
    """Why a commune may not withdraw its file now that the service decided against it, or
    None (``withdrawing_a_decided_refusal``)."""
    if state.status in ("refused", "dismissed"):
        decided = lower(STATUS, state.status)
        return InvalidTransition(
            f"the application is {state.status}: there is no request left to withdraw",
            rule="withdraw-decided",
            french=f"Le dossier est {decided} : il n'y a plus de demande à retirer (si le "
            "service rouvre le dossier, vous pourrez la retirer)",
        )
    return None


def withdraw(c: WithdrawApplication, state: Application) -> list[Event]:
    """The commune withdraws; whatever was already paid becomes a repayment due.

    Not while a payment is ordered: its outcome could no longer be recorded on a withdrawn
    file, and money would move that the log does not show."""
    if any(p.status == "ordered" for p in state.payments):
        raise InvalidTransition(
            "a payment is being disbursed: withdraw once its outcome is recorded",
            rule="payment-in-flight",
            source="Guichet: every movement of money is recorded",
            french="Un paiement est en cours de versement : retirez la demande une fois son "
            "résultat enregistré",
        )
    events: list[Event] = [ApplicationWithdrawn(actor=c.actor, at=c.at, reason=c.reason)]
    if state.paid_cents > 0:
        reason = f"application withdrawn after {euros(state.paid_cents)} was paid"
        events.append(
            RepaymentDue(actor=c.actor, at=c.at, amount_cents=state.paid_cents, reason=reason)
        )
    return events
