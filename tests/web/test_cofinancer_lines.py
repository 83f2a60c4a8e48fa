"""The co-financer's lines page: what it may decide now comes first, what never will says so."""

from __future__ import annotations

from console.web.cofinancer_lines import FunderLine, funder_line
from domain.commands import (
    DeclareComplete,
    DismissApplication,
    LapseAward,
    RecordRepayment,
    RefuseApplication,
    RequestCorrection,
    WithdrawApplication,
)
from domain.state import Application
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    DETR_OFFICER,
    PAYMENT_OFFICER,
    SYSTEM,
    apply,
    approve,
    at,
    claim,
    paid,
    submit,
    to_instruction,
    to_started,
)
from tests.unit.test_deadlines import submitted


def detr_line(state: Application) -> FunderLine:
    assert state.plan is not None
    found = state.plan.line("detr")
    assert found is not None
    return funder_line(state, found)


def test_a_pending_line_of_a_file_in_instruction_is_to_decide_by_its_deadline() -> None:
    """A pending line of a file in instruction is to decide, by its own deadline."""
    state = apply([*submitted(), DeclareComplete(actor=CASEWORKER, at=at(1))])
    deadline = state.deadline("cofinancer_decision", "detr")
    assert deadline is not None
    item = detr_line(state)
    assert (item.stage, item.due_at) == ("to_decide", deadline.due_at)


def test_a_file_not_yet_complete_will_be_decided_later() -> None:
    """A pending line of a file not yet complete waits for completeness."""
    assert detr_line(apply([submit()])).stage == "later"


def test_a_complete_file_asked_a_correction_waits_for_the_answer_not_completeness() -> None:
    asked = RequestCorrection(actor=CASEWORKER, at=at(2), reason="incomplete", message="Devis ?")
    waiting = detr_line(apply([*to_instruction(), asked]))
    assert waiting.stage == "later"
    assert waiting.later_words == "À décider une fois la correction demandée à la commune apportée"
    assert detr_line(apply([submit()])).later_words == "À décider quand le dossier sera complet"


def test_a_decided_line_is_decided() -> None:
    """A line with a decision shows it."""
    state = apply([*to_instruction(), approve(DETR_OFFICER, "detr", 100_000)])
    assert detr_line(state).stage == "decided"


def test_a_pending_line_of_a_closed_file_is_moot() -> None:
    """A pending line of a refused or withdrawn file will never be decided."""
    refused = apply([*to_instruction(), RefuseApplication(actor=CASEWORKER, at=at(2), reason="x")])
    withdrawn = apply([submit(), WithdrawApplication(actor=APPLICANT, at=at(1), reason="x")])
    assert (detr_line(refused).stage, detr_line(withdrawn).stage) == ("moot", "moot")


def test_lines_to_decide_come_first_soonest_deadline_first_and_moot_ones_last() -> None:
    """To decide (soonest first), later, decided, then moot."""
    base = apply([submit()])
    items = [
        FunderLine(base, base.plan.lines[1], "moot"),  # type: ignore[union-attr]
        FunderLine(base, base.plan.lines[1], "decided"),  # type: ignore[union-attr]
        FunderLine(base, base.plan.lines[1], "to_decide", at(30)),  # type: ignore[union-attr]
        FunderLine(base, base.plan.lines[1], "later"),  # type: ignore[union-attr]
        FunderLine(base, base.plan.lines[1], "to_decide", at(10)),  # type: ignore[union-attr]
    ]
    ordered = sorted(items, key=FunderLine.order)
    assert [(i.stage, i.due_at) for i in ordered] == [
        ("to_decide", at(10)),
        ("to_decide", at(30)),
        ("later", None),
        ("decided", None),
        ("moot", None),
    ]


def test_a_commune_s_totals_leave_out_what_no_one_is_asked_any_more() -> None:
    """An ineligible or withdrawn request asks nothing of its funders; a refused one did ask."""
    from console.web.commune_page import funding_totals
    from tests.unit.builders import NON_PVD_COMMUNE, request

    asked = apply([submit()])
    withdrawn = apply([submit(), WithdrawApplication(actor=APPLICANT, at=at(1), reason="x")])
    outsider = APPLICANT.replaced({"insee": NON_PVD_COMMUNE.insee})
    ineligible = apply(
        [submit(request(insee=NON_PVD_COMMUNE.insee), commune=NON_PVD_COMMUNE, actor=outsider)]
    )
    assert ineligible.status == "ineligible"
    refused = apply([*to_instruction(), RefuseApplication(actor=CASEWORKER, at=at(2), reason="x")])
    once = {t.funder: t.asked_cents for t in funding_totals([asked])}
    totals = {t.funder: t.asked_cents for t in funding_totals([asked, withdrawn, ineligible])}
    assert totals == once
    twice = {t.funder: t.asked_cents for t in funding_totals([asked, refused])}
    assert twice == {funder: 2 * cents for funder, cents in once.items()}


def test_a_commune_s_totals_grant_nothing_of_a_lapsed_award() -> None:
    """Works not started in time: the award lapsed (caducité), so its lines grant nothing any
    more; they still count as asked, as a refused request's do."""
    from console.web.commune_page import funding_totals

    awarded = apply(to_started()[:-1])
    lapsed = apply([LapseAward(actor=SYSTEM, at=at(800))], awarded)
    assert lapsed.status == "lapsed"
    before = {t.funder: (t.asked_cents, t.granted_cents) for t in funding_totals([awarded])}
    after = {t.funder: (t.asked_cents, t.granted_cents) for t in funding_totals([lapsed])}
    assert any(granted for _, granted in before.values())
    assert after == {funder: (asked, 0) for funder, (asked, _) in before.items()}


def test_a_commune_s_totals_grant_nothing_of_a_refused_or_dismissed_request() -> None:
    """The DETR line approved, then the request refused (or dismissed): the row says 0 € of
    subsidy, and the totals counted the line as granted all the same."""
    from console.web.commune_page import funding_totals

    decided = [*to_instruction(), approve(DETR_OFFICER, "detr", 100_000)]
    for ending in (RefuseApplication, DismissApplication):
        ended = apply([*decided, ending(actor=CASEWORKER, at=at(3), reason="x")])
        assert ended.status in ("refused", "dismissed")
        totals = {t.funder: (t.asked_cents, t.granted_cents) for t in funding_totals([ended])}
        assert totals["DETR"] == (100_000_00, 0)
    granted = {t.funder: t.granted_cents for t in funding_totals([apply(decided)])}
    assert granted["DETR"] == 100_000_00


def test_a_commune_s_totals_leave_out_a_request_withdrawn_after_a_payment() -> None:
    """Withdrawn after its advance was paid, the file owes it back (« reversement dû »), then
    is closed once repaid: its status no longer says « withdrawn », and its lines were still
    counted as asked and granted."""
    from console.web.commune_page import funding_totals

    paid_out = [*to_started(), claim("advance", 20_000), *paid(1)]
    withdraw = WithdrawApplication(actor=APPLICANT, at=at(50), reason="projet abandonné")
    owing = apply([*paid_out, withdraw])
    repaid = apply(
        [
            RecordRepayment(
                actor=PAYMENT_OFFICER, at=at(60), amount_cents=20_000_00, reference="TRESOR-1"
            )
        ],
        owing,
    )
    assert (owing.status, repaid.status) == ("repayment_due", "closed")
    assert funding_totals([apply(paid_out)]) != []
    assert funding_totals([owing]) == funding_totals([repaid]) == []


async def test_state_reads_run_a_few_at_once_and_keep_their_order() -> None:
    """Pages read many files' states: at most ``limit`` at once, results in the rows' order
    (a co-financer's page read 500 files one at a time, 7 to 10 s)."""
    import asyncio

    from console.web.files import at_most

    running, most = 0, 0

    async def read(n: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        for _ in range(n % 3):  # finishing out of order: yield to the others, no timed wait
            await asyncio.sleep(0)
        running -= 1
        return n

    assert await at_most(3, [read(n) for n in range(10)]) == list(range(10))
    assert most == 3
