"""What a plan revision does to the co-financers' decisions, said to the commune before it
sends the plan: each line's decision so far, and which lines keep it.

The plan's page judges the revised plan as ``domain.decider_instruction.merge_plan`` will
record it (a line keeps its decision when its id, funder and amount are unchanged, or, under
rules 2, when it now asks what was granted); these words only read that plan.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from console.web.labels import euros
from domain.plan import FinancingPlan, FundingLine
from domain.rules.financing import opinion_covers
from domain.state import Application


def decision_words(line: FundingLine) -> str:
    """What was decided on a co-financer's line: « accordé 30 000,00 € », « refusé »,
    « en attente »."""
    if line.status == "approved":
        return f"accordé {euros(line.amount_cents)}"
    return "refusé" if line.status == "refused" else "en attente"


def decisions(plan: FinancingPlan) -> dict[str, str]:
    """Each line's decision so far by its id, as the form shows it beside the line; « — »
    for the commune's own line, which no one decides."""
    return {
        line.line_id: "—" if line.kind == "owner" else decision_words(line) for line in plan.lines
    }


@dataclass(frozen=True)
class Outcome:
    """The co-financers' lines of a revised plan, by what becomes of their decision: one
    sentence each, naming the line by its funder."""

    kept: list[str] = field(default_factory=list)
    """Lines that keep their co-financer's decision."""
    waiting: list[str] = field(default_factory=list)
    """Lines that will wait for their co-financer's decision: changed, added, or undecided."""
    dropped: list[str] = field(default_factory=list)
    """Lines taken out of the plan, whose decision no longer counts."""


def outcome(current: FinancingPlan, revised: FinancingPlan) -> Outcome:
    """What sending ``revised`` (the plan ``merge_plan`` made of the form) does to each
    co-financer's line of ``current``."""
    said = Outcome()
    for line in revised.lines:
        if line.kind == "owner":
            continue
        name = _name(line, revised)
        before = current.line(line.line_id)
        if line.status != "pending":
            brought_down = before is not None and before.requested_cents != line.requested_cents
            down = ", le montant demandé ramené à ce qui a été accordé" if brought_down else ""
            said.kept.append(f"{name} : {decision_words(line)}{down}")
        elif before is None or before.kind == "owner":
            said.waiting.append(f"{name} : ligne ajoutée, {euros(line.requested_cents)} demandés")
        else:
            said.waiting.append(f"{name} : {_change(before, line)}")
    kept_ids = {line.line_id for line in revised.lines}
    for line in current.lines:
        if line.kind != "owner" and line.line_id not in kept_ids:
            said.dropped.append(f"{_name(line, current)} : {decision_words(line)}")
    return said


def commission_opinion_kept(state: Application, revised: FinancingPlan) -> bool | None:
    """The DETR commission's opinion as the file will hold it once ``revised`` is recorded:
    none when the plan counts on more DETR than the opinion was given on (rules 5,
    ``domain.rules.financing.OPINION_COVERS_RULES``), so the plan's page does not say it is
    given when the revision will ask for it again."""
    covered = opinion_covers(revised, state.commission_opinion_on_cents, rules=state.rules)
    return state.commission_opinion if covered else None


def _change(before: FundingLine, line: FundingLine) -> str:
    """Why a line that was in the plan waits for a decision, and what it had so far."""
    if before.funder != line.funder:
        change = f"ligne demandée auparavant à {before.funder}"
    elif before.requested_cents != line.requested_cents:
        asked = euros(line.requested_cents)
        change = f"{asked} demandés au lieu de {euros(before.requested_cents)}"
    else:
        return "toujours en attente"
    if before.status == "pending":
        return change
    return f"{change} ({decision_words(before)} jusqu'ici)"


def _name(line: FundingLine, plan: FinancingPlan) -> str:
    """The line by its funder; with its id when the plan asks that funder twice."""
    twice = Counter(other.funder for other in plan.lines)[line.funder] > 1
    return f"{line.funder} (ligne {line.line_id})" if twice else line.funder


def shortfall(plan: FinancingPlan) -> str:
    """What the co-financers' decisions leave missing from the plan, and what to do, as the
    commune's mail says it (« Il manque … : révisez-le »); empty when nothing is missing. The
    file's page showed a partial grant and a refusal with a bare « Réviser » button."""
    short = [
        line
        for line in plan.lines
        if line.kind != "owner"
        and (
            line.status == "refused"
            or (line.status == "approved" and (line.granted_cents or 0) < line.requested_cents)
        )
    ]
    if not short:
        return ""
    said = [
        f"{line.funder} refuse sa ligne de {euros(line.requested_cents)}"
        if line.status == "refused"
        else f"{line.funder} accorde {euros(line.granted_cents)} sur les "
        f"{euros(line.requested_cents)} demandés"
        for line in short
    ]
    missing = sum(line.requested_cents - (line.granted_cents or 0) for line in short)
    return (
        f"{' ; '.join(said)}. Il manque {euros(missing)} au plan de financement : révisez-le, "
        "en inscrivant sur chaque ligne le montant accordé, et en retirant ou en remplaçant "
        "une ligne refusée (un autre financeur, ou la part de la commune)."
    )
