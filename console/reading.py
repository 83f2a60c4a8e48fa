"""The read model behind ``guichet show``: the workflow's state, the rules' verdicts on the
plan, and the timeline of the event log, as one JSON-ready dict and as text for people."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from audit.exporting import utc_text
from console.connection import Target
from console.parsing import format_euros
from console.timeline import timeline_entry
from domain import french
from domain.deadline import PARIS
from domain.decider import fold
from domain.decider_deadlines import APPLIES_IN
from domain.decider_instruction import file_plan_verdicts_shown
from domain.events import EligibilityConfirmed, EligibilityRejected, Event
from domain.french import NO_REASON_FROM_THE_BANK
from domain.rules.award import max_confirmed, programme_max_cents
from domain.state import Application
from eventlog import EventLog, EventLogError
from workflows.client import GuichetClient
from workflows.client_errors import ApplicationNotFound, NoWorker


async def _timeline(
    url: str, application_id: str
) -> tuple[list[Event], list[dict[str, Any]], str | None]:
    """The stream's events and rows, or the reason the log could not be read."""
    log = EventLog.from_url(url)
    try:
        # Read as events here too: a row altered into no event is said like an outage.
        pairs = [timeline_entry(record) for record in await log.read_stream(application_id)]
    except (EventLogError, OSError) as error:
        return [], [], f"the event log could not be read: {error}"
    finally:
        await log.close()
    return [event for event, _ in pairs], [row for _, row in pairs], None


async def read_file_view(
    guichet: GuichetClient, target: Target, application_id: str
) -> dict[str, Any]:
    """Everything ``show`` prints. Falls back to the fold of the log when Temporal no longer
    holds the workflow (its history is deleted after the retention period; the log is not),
    or when no worker runs to answer for it (``stopped``: why)."""
    events, rows, problem = await _timeline(target.event_log_url, application_id)
    source, stopped = "temporal", ""
    try:
        state = await guichet.state(application_id)
    except ApplicationNotFound:
        if not events:
            raise
        state, source = fold(events), "event log"
    except NoWorker as no_worker:
        if not events:
            raise
        state, source, stopped = fold(events), "event log", str(no_worker)
    verdicts: list[dict[str, Any]] = []
    for event in events:
        if isinstance(event, EligibilityConfirmed | EligibilityRejected):
            verdicts = [{"stage": "eligibility", **v.model_dump()} for v in event.verdicts]
    programme_max: int | None = None
    provisional = False
    verdicts += [{"stage": "financing", **v.model_dump()} for v in file_plan_verdicts_shown(state)]
    if state.plan and state.programme and state.commune:
        programme_max = programme_max_cents(state.programme, state.plan, rules=state.rules)
        provisional = not max_confirmed(state.programme, state.plan, rules=state.rules)
    return {
        "application_id": application_id,
        "source": source,
        "status": state.status,
        "state": state.model_dump(mode="json"),
        "amounts": _amounts(state, programme_max),
        "programme_max_provisional": provisional,
        "verdicts": verdicts,
        "timeline": rows,
        "timeline_problem": problem,
        "no_worker": stopped,
        "checklist": _checklist(state),
    }


def _checklist(state: Application) -> list[str]:
    """The documents the programme expects, each with where it stands."""
    lines = []
    for required, held in state.document_checklist():
        if held is not None:
            where = f"attached: {held.filename} ({held.sha256[:12]})"
        elif required.stage == "balance" and not state.balance_asked:
            where = "with the balance claim"
        else:
            where = "MISSING"
        lines.append(f"{required.kind:<17} {where}")
    return lines


def _amounts(state: Application, programme_max: int | None) -> dict[str, Any]:
    values = {
        "award": state.award_cents,
        "paid": state.paid_cents,
        "repayment_due": state.repayment_due_cents,
        "repaid": state.repaid_cents,
        # What the file cost its funders in the end, once closed.
        "final": state.final_cents,
        "programme_max": programme_max,
    }
    return {name: {"cents": cents, "euros": format_euros(cents)} for name, cents in values.items()}


def render_file(view: dict[str, Any]) -> str:
    """``show``'s text: headline, plan and verdicts, payments, timeline."""
    state = view["state"]
    amounts = view["amounts"]
    request = state.get("request") or {}
    commune = state.get("commune") or {}
    out = [f"{view['application_id']}  —  {view['status']}"]
    if view.get("no_worker"):
        out.append(f"(read from the event log: {view['no_worker']})")
    elif view["source"] != "temporal":
        out.append("(read from the event log: Temporal no longer holds this workflow)")
    if request:
        out.append(f"project     {request['project_title']}")
        if request.get("project_summary"):
            out.append(f"summary     {request['project_summary']}")
        out.append(f"programme   {request['programme_id']}")
    if commune:
        out.append(
            f"commune     {commune['name']} ({commune['insee']}), dep. {commune['department']}"
        )
    if state.get("routed_to"):
        out.append(f"instructed  by the service of department {state['routed_to']} (routed)")
    if state.get("caseworker_id"):
        out.append(f"caseworker  {state['caseworker_id']}")
    if state.get("withdrawn_at"):
        out.append(f"withdrawn   {utc_text(datetime.fromisoformat(state['withdrawn_at']))}")
    if state.get("labels"):
        out.append(f"labels      {', '.join(state['labels'])}")
    out.append(
        f"award       {amounts['award']['euros']}   paid {amounts['paid']['euros']}   "
        f"repayment due {amounts['repayment_due']['euros']}"
        + (f"   repaid {amounts['repaid']['euros']}" if amounts["repaid"]["cents"] else "")
    )
    if amounts["final"]["cents"] is not None:
        out.append(f"final       {amounts['final']['euros']} (paid, less what was repaid)")
    if correction := state.get("correction"):
        out.append(f"correction  ({correction['reason']}) {correction['message']}")
    if plan := state.get("plan"):
        maximum = amounts["programme_max"]["cents"]
        out += ["", _plan_text(plan, maximum, view.get("programme_max_provisional", False))]
    if view["verdicts"]:
        out += ["", "rules"]
        out += [
            f"  {v['outcome']:<14} {v['rule']:<28} {v['message']}  [{v['source']}]"
            for v in view["verdicts"]
        ]
    if state.get("payments"):
        out += ["", "payments"]
        out += [f"  {_payment_text(p)}" for p in state["payments"]]
    if view.get("checklist"):
        out += ["", "expected documents (a checklist of the programme)"]
        out += [f"  {line}" for line in view["checklist"]]
    if state.get("documents"):
        out += ["", "documents (guichet document ID SHA256 writes one to a file)"]
        out += [
            f"  {d['sha256'][:12]}  {d['kind']:<17} {d['filename']}  ({d['size_bytes']:,} bytes, "
            f"{d['attached_by']['role']} {_named(d['attached_by'])})"
            for d in state["documents"]
        ]
    if state.get("opinions"):
        out += ["", "opinions asked (guichet give-opinion ID --number N answers one)"]
        reviewed = state["status"] in APPLIES_IN["expert_opinion"]
        out += [f"  {_opinion_text(o, reviewed)}" for o in state["opinions"]]
    out += ["", "timeline (UTC)"]
    if view["timeline_problem"]:
        out.append(f"  ({view['timeline_problem']})")
    for row in view["timeline"]:
        who = french.person(row["actor"], row.get("name"), row["role"], row["funder"])
        # With its zone (Z), as `guichet audit show` prints it: pasted into --as-of, which
        # reads a time without a zone as Paris time, it is the same instant.
        at = utc_text(datetime.fromisoformat(row["at"]))
        out.append(f"  {at}  {who:<36} {row['summary']}")
    return "\n".join(out)


def _named(actor: dict[str, Any]) -> str:
    """A person the state names (its JSON), as ``domain.french.person`` writes them."""
    return french.person(actor["id"], actor.get("name"))


PAYMENT_MOMENTS = (
    ("ordered_at", "ordered"),
    ("disbursed_at", "paid"),
    ("failed_at", "refused by the bank"),
)
"""A payment's moments, each shown as its Paris day when it has one."""


def _payment_text(payment: dict[str, Any]) -> str:
    """One payment: number, kind, amount, status, then the Paris days of its order and of
    the bank's payment or refusal, and the bank's reason for a refusal (as the file page)."""
    text = (
        f"{payment['number']:>2} {payment['kind']:<8} "
        f"{format_euros(payment['amount_cents']):>16}  {payment['status']}"
    )
    if payment["with_bank_guarantee"]:
        text += "  (with a bank guarantee)"
    days = [
        f"{word} {_paris_day(payment[field])}" for field, word in PAYMENT_MOMENTS if payment[field]
    ]
    text += f"  ({', '.join(days)}, Paris)" if days else ""
    if payment["status"] == "failed" and payment["failure"]:
        text += f": {_bank_reason(payment['failure'])}"
    return text


def _bank_reason(reason: str) -> str:
    """The bank's words, or that it gave none (``domain.french.bank_reason``, in English):
    the words Guichet records for a refusal without a reason are not the bank's."""
    return "no reason given" if reason == NO_REASON_FROM_THE_BANK else reason


def _paris_day(moment: str) -> date:
    """The day in Paris of a moment as the state's JSON gives it: the UTC date would put an
    act of 00:30 in Paris on the day before."""
    return datetime.fromisoformat(moment).astimezone(PARIS).date()


def _opinion_text(opinion: dict[str, Any], reviewed: bool) -> str:
    """One request: its number, expert, day due and question, then where it stands (an
    unanswered one is awaited while the file is under review)."""
    if opinion["verdict"]:
        # The day in Paris, as ``due_on`` is: the UTC date made an answer late by hours look
        # on time.
        answered = _paris_day(opinion["answered_at"])
        answer = f"{opinion['verdict']} ({answered}, Paris): {opinion['opinion']}"
    elif opinion["withdrawn_reason"] is not None:
        answer = f"withdrawn: {opinion['withdrawn_reason']}"
    else:
        answer = "awaited" if reviewed else "unanswered: the file left instruction"
    expert = french.expert(opinion["expert_id"], opinion.get("expert_name", ""))
    return (
        f"{opinion['number']:>2} {expert:<16} due {opinion['due_on']}  "
        f"{opinion['question']}\n     -> {answer}"
    )


def _plan_text(plan: dict[str, Any], programme_max: int | None, provisional: bool) -> str:
    basis = plan["basis"]
    maximum = ""
    if programme_max is not None:
        maximum = f", programme max {format_euros(programme_max)}"
        maximum += " (provisional, to be confirmed)" if provisional else ""
    lines = [
        f"financing plan ({basis}): total cost {format_euros(plan['total_cost_cents'])}, "
        f"subsidisable base {format_euros(plan['subsidisable_base_cents'])}{maximum}",
        f"  {'LINE':<12} {'FUNDER':<10} {'KIND':<8} {'REQUESTED':>16} {'GRANTED':>16}  STATUS",
    ]
    for line in plan["lines"]:
        # The owner's own contribution is never decided on: "pending" would say otherwise.
        status = "—" if line["kind"] == "owner" else line["status"]
        lines.append(
            f"  {line['line_id']:<12} {line['funder']:<10} {line['kind']:<8} "
            f"{format_euros(line['requested_cents']):>16} "
            f"{format_euros(line['granted_cents']):>16}  {status}"
        )
    return "\n".join(lines)
