"""``guichet show``'s text: what an operator reads of one file."""

from __future__ import annotations

from console.parsing import format_euros
from console.reading import _amounts, _checklist, render_file
from domain.state import Application
from tests.unit.builders import apply, to_instruction


def view_of(state: Application) -> dict[str, object]:
    """What ``read_file_view`` hands ``render_file``, for a state built in-process."""
    return {
        "application_id": state.application_id,
        "source": "temporal",
        "status": state.status,
        "state": state.model_dump(mode="json"),
        "amounts": _amounts(state, None),
        "verdicts": [],
        "timeline": [],
        "timeline_problem": "",
        "checklist": _checklist(state),
    }


def test_the_owner_s_line_is_not_shown_waiting_for_a_decision() -> None:
    """The owner's contribution shows no status; a co-financer's pending line does."""
    text = render_file(view_of(apply(to_instruction())))
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ")}
    assert rows["owner"].endswith("—")
    assert rows["detr"].endswith("pending")


def test_the_timeline_says_its_times_are_utc() -> None:
    """The timeline's heading says its times are UTC."""
    assert "\ntimeline (UTC)\n" in render_file(view_of(apply(to_instruction()))) + "\n"


def test_each_time_of_the_timeline_carries_its_zone() -> None:
    """``2025-03-03T08:00:00Z``: pasted into ``audit show --as-of`` (a time without a zone is
    Paris time there), it is the same instant."""
    from tests.unit.builders import history

    rows = [
        {"at": e.at.isoformat(), "actor": e.actor.id, "role": e.actor.role,
         "funder": e.actor.funder, "summary": e.type}
        for e in history(to_instruction())
    ]  # fmt: skip
    view = {**view_of(apply(to_instruction())), "timeline": rows}
    assert "\n  2025-03-03T08:00:00Z  " in render_file(view)


def test_the_project_summary_shows_under_its_title_when_there_is_one() -> None:
    """The request's summary is shown under its title; no empty line when it has none."""
    state = apply(to_instruction())
    assert "\nsummary " not in render_file(view_of(state))
    assert state.request is not None
    request = state.request.model_copy(update={"project_summary": "Toiture et éclairage."})
    text = render_file(view_of(state.model_copy(update={"request": request})))
    assert "\nsummary     Toiture et éclairage.\n" in text


def test_a_withdrawal_shows_even_once_the_status_moved_on() -> None:
    """Withdrawn after a payment, the file reads « repayment_due », then « closed »: the text
    still says it was withdrawn, and when."""
    from domain.commands import WithdrawApplication
    from tests.unit.builders import APPLICANT, at, claim, paid, to_started

    withdraw = WithdrawApplication(actor=APPLICANT, at=at(50), reason="projet abandonné")
    state = apply([*to_started(), claim("advance", 20_000), *paid(1), withdraw])
    assert state.status == "repayment_due"
    assert "\nwithdrawn   2025-04-22T08:00:00Z\n" in render_file(view_of(state))
    assert "\nwithdrawn " not in render_file(view_of(apply(to_started())))


def test_money_reads_whole_once_a_file_is_settled() -> None:
    """An advance against a bank guarantee says so (it allows 60 % instead of 30 %); once
    the balance is claimed its proof of expense is MISSING, no longer « with the balance
    claim »; a repaid file gives what was repaid, and closed, what it cost in the end."""
    from domain.catalogue import load_catalogue
    from domain.commands import DeclareCompletion, RecordRepayment
    from tests.unit.builders import APPLICANT, PAYMENT_OFFICER, at, claim, paid, to_started

    advance = claim("advance", 20_000, with_bank_guarantee=True)
    completed = DeclareCompletion(actor=APPLICANT, at=at(40), completed_on=at(40).date())
    balance = claim("balance", expense=10_000, days=41)
    owing = apply([*to_started(), advance, *paid(1), completed, balance])
    assert owing.status == "repayment_due" and owing.repayment_due_cents > 0
    detr = load_catalogue().get("dsil-detr-investissement")
    expecting = owing.replaced({"programme": detr})  # its documents, proof of expense included
    assert "proof_of_expense  with the balance claim" in render_file(
        view_of(apply(to_started()).replaced({"programme": detr}))
    )
    text = render_file(view_of(expecting))
    assert "advance" in text and "(with a bank guarantee)" in text
    assert "proof_of_expense  MISSING" in text and "with the balance claim" not in text
    assert "\nfinal " not in text
    repaid = apply(
        [RecordRepayment(actor=PAYMENT_OFFICER, at=at(50), amount_cents=owing.repayment_due_cents,
                         reference="TITRE-1")],
        owing,
    )  # fmt: skip
    settled = render_file(view_of(repaid))
    due = owing.repayment_due_cents
    assert repaid.status == "closed" and f"repaid {format_euros(due)}" in settled
    assert f"\nfinal       {format_euros(20_000_00 - due)} (paid, less what was repaid)" in settled
    assert _amounts(repaid, None)["final"]["cents"] == 20_000_00 - due  # --json gives it too
    assert _amounts(owing, None)["final"]["cents"] is None


def test_a_placeholder_maximum_reads_as_provisional() -> None:
    """The plan's headline says the programme's maximum is provisional when the catalogue
    marks it « à confirmer »."""
    state = apply(to_instruction())
    view = {**view_of(state), "programme_max_provisional": True}
    view["amounts"] = _amounts(state, 30_000_00)
    assert "programme max €30,000.00 (provisional, to be confirmed)" in render_file(view)
    assert "provisional" not in render_file({**view, "programme_max_provisional": False})


def test_an_opinion_s_answer_day_is_the_paris_day_beside_its_due_day() -> None:
    """Answered at 00:30 in Paris the day after it was due, it reads as that day: the UTC
    date (the day before) made a late answer look on time."""
    from datetime import UTC, datetime

    from console.reading import _opinion_text

    opinion = {
        "number": 1, "expert_id": "abf-ain", "due_on": "2026-12-21", "question": "Toiture ?",
        "verdict": "reserved", "opinion": "Enduit à la chaux", "withdrawn_reason": None,
        "answered_at": datetime(2026, 12, 21, 23, 30, tzinfo=UTC).isoformat(),
    }  # fmt: skip
    assert "-> reserved (2026-12-22, Paris): Enduit à la chaux" in _opinion_text(opinion, True)


def test_a_payment_shows_the_paris_days_it_was_ordered_and_paid_or_refused() -> None:
    """A payment read « disbursed » and no more: not on which day it was ordered, nor paid.
    Its line gives both, in Paris as an opinion's answer day: ordered at 00:30 in Paris
    (23:30 UTC the day before) it was ordered on that Paris day."""
    from datetime import UTC, datetime, timedelta

    from domain.commands import OrderPayment, RecordDisbursement, RecordPaymentFailure
    from tests.unit.builders import PAYMENT_OFFICER, SYSTEM, claim, to_started

    late = datetime(2025, 3, 24, 23, 30, tzinfo=UTC)  # 25 March, 00:30 in Paris
    ordered = apply(
        [*to_started(), claim("advance", 10_000),
         OrderPayment(actor=PAYMENT_OFFICER, at=late, payment_number=1)]
    )  # fmt: skip
    assert "advance" in render_file(view_of(ordered))
    assert "ordered  (ordered 2025-03-25, Paris)" in render_file(view_of(ordered))
    paid = apply(
        [RecordDisbursement(actor=SYSTEM, at=late + timedelta(days=2), payment_number=1,
                            gateway_reference="VIR-1")],
        ordered,
    )  # fmt: skip
    assert "disbursed  (ordered 2025-03-25, paid 2025-03-27, Paris)" in render_file(view_of(paid))
    refused = apply(
        [RecordPaymentFailure(actor=SYSTEM, at=late + timedelta(days=1), payment_number=1,
                              reason="IBAN")],
        ordered,
    )  # fmt: skip
    text = render_file(view_of(refused))
    assert "failed  (ordered 2025-03-25, refused by the bank 2025-03-26, Paris)" in text
    claimed = apply([*to_started(), claim("advance", 10_000)])
    assert "claimed\n" in render_file(view_of(claimed)) + "\n"  # nothing ordered: no days


def test_a_payment_the_bank_refused_says_the_bank_s_reason_after_its_day() -> None:
    """The line said the day the bank refused the payment and not why, which the file page
    says beside it: the operator had to open the console to learn what to correct. The
    bank's words follow the days; a refusal without them says so, not the words Guichet
    records for it."""
    from datetime import UTC, datetime, timedelta

    from domain.commands import OrderPayment, RecordPaymentFailure
    from domain.french import NO_REASON_FROM_THE_BANK
    from tests.unit.builders import PAYMENT_OFFICER, SYSTEM, claim, to_started

    late = datetime(2025, 3, 24, 23, 30, tzinfo=UTC)  # 25 March, 00:30 in Paris
    ordered = [*to_started(), claim("advance", 10_000),
               OrderPayment(actor=PAYMENT_OFFICER, at=late, payment_number=1)]  # fmt: skip

    def refused(reason: str) -> str:
        failure = RecordPaymentFailure(
            actor=SYSTEM, at=late + timedelta(days=1), payment_number=1, reason=reason
        )
        return render_file(view_of(apply([*ordered, failure])))

    days = "failed  (ordered 2025-03-25, refused by the bank 2025-03-26, Paris)"
    assert f"{days}: Compte clôturé (code AC04)\n" in refused("Compte clôturé (code AC04)")
    assert f"{days}: no reason given\n" in refused(NO_REASON_FROM_THE_BANK)
    again = OrderPayment(actor=PAYMENT_OFFICER, at=late + timedelta(days=3), payment_number=1)
    failure = RecordPaymentFailure(actor=SYSTEM, at=late + timedelta(days=1), payment_number=1,
                                   reason="IBAN")  # fmt: skip
    text = render_file(view_of(apply([*ordered, failure, again])))
    assert "IBAN" not in text  # ordered anew: the refusal is the timeline's, not the line's


def test_an_opinion_names_its_expert_as_the_mails_do() -> None:
    """« Claire Dubois (abf-ain) » where the request recorded her name; the id alone before."""
    from console.reading import _opinion_text

    opinion = {
        "number": 1, "expert_id": "abf-ain", "due_on": "2026-12-21", "question": "Toiture ?",
        "verdict": None, "withdrawn_reason": None, "answered_at": None,
    }  # fmt: skip
    assert _opinion_text(opinion, True).startswith(" 1 abf-ain          due 2026-12-21")
    named = {**opinion, "expert_name": "Claire Dubois"}
    assert _opinion_text(named, True).startswith(" 1 Claire Dubois (abf-ain) due 2026-12-21")


def test_who_acted_is_named_as_the_mails_name_them() -> None:
    """« Alice Martin (instructeur-1, caseworker) » where the command carried the account's
    name, in the timeline and beside the documents; the id alone where it carried none."""
    from uuid import uuid4

    from console.timeline import timeline_entry
    from domain.commands import AttachDocument
    from eventlog import RecordedEvent
    from tests.unit.builders import CASEWORKER, QUOTE, at, history

    named = CASEWORKER.named("Alice Martin")
    *before, complete = to_instruction()
    commands = [*before, complete.replaced({"actor": named})]
    commands.append(AttachDocument(actor=named, at=at(2), document=QUOTE))
    records = [
        RecordedEvent(
            position=n, stream_id="dossier-1", version=n, event_id=uuid4(), type=e.type,
            data=e.model_dump(mode="json"), schema_version=1, occurred_at=e.at,
            recorded_at=e.at, prev_hash="0" * 64, hash="0" * 64,
        )
        for n, e in enumerate(history(commands), start=1)
    ]  # fmt: skip
    rows = [timeline_entry(record)[1] for record in records]
    assert [row["name"] for row in rows if row["actor"] == CASEWORKER.id] == ["Alice Martin"] * 2
    text = render_file({**view_of(apply(commands)), "timeline": rows})
    assert "  Alice Martin (instructeur-1, caseworker) " in text
    assert "  agent@villebourg.fr (applicant) " in text
    assert "bytes, caseworker Alice Martin (instructeur-1))" in text
