"""The pages group a file's statuses as the domain does (``console.web.statuses``): every
status of ``domain.state.Status`` lands where the domain's permissions put it, and a status
the domain adds to instruction is read as such without touching a template."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from console.reasons import decision_standing
from console.web.accounts import Account
from console.web.app import templates
from console.web.cofinancer_lines import funder_line
from console.web.queue_filters import DECIDED_BUT_RUNNING
from console.web.statuses import (
    ENDED,
    GRANTS_NO_LONGER_STAND,
    PAYMENT_WORK,
    TURNED_DOWN,
)
from domain.commands import RefuseApplication, WithdrawApplication
from domain.decider_evolve import evolve
from domain.decider_permissions import PERMISSIONS, Permission
from domain.events import ApplicationDismissed, ApplicationLapsed, ApplicationRefused, Event
from domain.state import Application, Status
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    SYSTEM,
    apply,
    at,
    claim,
    history,
    paid,
    to_accepted,
    to_instruction,
    to_started,
)

ALICE = Account("alice", "caseworker")
DECISIONS = ("AcceptApplication", "RefuseApplication", "DismissApplication")


def in_status(status: str) -> Application:
    """A file under instruction, its lines still pending, put in ``status`` (any string: a
    status the domain might add), nobody having accepted it."""
    return apply(to_instruction()).model_copy(update={"status": status})


def decision_may_come(status: str) -> bool:
    """What the domain says: one of the decisions ending instruction is allowed there."""
    return any(status in PERMISSIONS[d].statuses for d in DECISIONS)


def render(template: str, **context: Any) -> str:
    return templates.env.get_template(template).render(account=ALICE, **context)


def file_page(state: Application) -> str:
    return render("dossier.html", state=state, actions=[], waiting=[], timeline=[],
                  decision=None, decision_notes={})  # fmt: skip


def commune_page(state: Application) -> str:
    return render("commune.html", commune=state.commune, insee="01033", files=[state], totals=[])


def plan_cells(page: str) -> list[str]:
    """The « Décision » cells of the co-financers' lines on the file page."""
    table = page.split('id="t-plan"')[1].split("</table>")[0]
    return [row.split("<td>")[-1] for row in table.split("<tbody>")[1].split("</tr>")[:-1]]


@pytest.mark.parametrize("status", get_args(Status))
def test_every_status_of_the_domain_is_grouped_as_its_permissions_say(status: Status) -> None:
    """The templates listed the statuses under review by hand (and those ended, for a line
    « Sans objet »): a status missing from a list was said wrong. For each status the domain
    has, « pas encore attribuée » shows exactly where a decision may still come, and a pending
    line reads « Sans objet » exactly where none may any more."""
    state = in_status(status)
    page = file_page(state)
    expected = decision_may_come(status)
    assert ("<dt>Subvention</dt><dd>pas encore attribuée</dd>" in page) is expected
    assert all(("Sans objet" in cell) is not expected for cell in plan_cells(page)[1:])
    if status != "closed":  # a closed file shows its final subsidy
        assert ('data-testid="pas-attribuee"' in commune_page(state)) is expected


def test_a_status_the_domain_adds_to_instruction_is_read_as_under_review(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new review status (a commission's sitting, say) needs no template changed: the pages
    read the domain's table."""
    for decision in DECISIONS:
        allowed = PERMISSIONS[decision]
        widened = Permission(allowed.roles, allowed.statuses | {"in_commission"})  # type: ignore[arg-type]
        monkeypatch.setitem(PERMISSIONS, decision, widened)
    state = in_status("in_commission")
    assert "<dt>Subvention</dt><dd>pas encore attribuée</dd>" in file_page(state)
    assert not any("Sans objet" in cell for cell in plan_cells(file_page(state)))
    assert 'data-testid="pas-attribuee"' in commune_page(state)


def after(state: Application, event: Event) -> str:
    """The status ``evolve`` gives ``state`` once ``event`` is recorded."""
    return evolve(state, event).status


def test_turned_down_is_where_a_refusal_or_a_dismissal_leaves_a_file() -> None:
    """``TURNED_DOWN`` (a decision standing, the CLI's « that file is … ») is exactly the
    statuses the domain's refusal and dismissal events lead to."""
    state = in_status("in_instruction")
    decided = {
        after(state, ApplicationRefused(actor=CASEWORKER, at=at(3), reason="x")),
        after(state, ApplicationDismissed(actor=CASEWORKER, at=at(3), reason="x")),
    }
    assert decided == TURNED_DOWN


def test_grants_no_longer_stand_once_turned_down_or_lapsed() -> None:
    """The commune page grants nothing of a file turned down, or of an award that lapsed:
    the status the domain's lapse event leads to."""
    lapse = ApplicationLapsed(actor=SYSTEM, at=at(800), deadline="start_of_works")
    assert {*TURNED_DOWN, after(in_status("awarded"), lapse)} == GRANTS_NO_LONGER_STAND


def test_an_ended_file_is_terminal_or_turned_down() -> None:
    """A file no longer under way: no command changes it (``is_terminal``), or it stands
    under a refusal or a dismissal; a file under review or awarded is under way."""
    for status in get_args(Status):
        assert (status in ENDED) is (in_status(status).is_terminal or status in TURNED_DOWN)
    assert not ENDED & {"submitted", "in_instruction", "accepted", "awarded", "repayment_due"}


def test_a_decision_stands_after_a_refusal_not_wherever_a_reopening_is_permitted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reopening may come to be permitted on an accepted file: an accepted file stands
    under no refusal all the same, and a refused one under its refusal."""
    allowed = PERMISSIONS["ReopenApplication"]
    widened = Permission(allowed.roles, allowed.statuses | {"accepted"})
    monkeypatch.setitem(PERMISSIONS, "ReopenApplication", widened)
    events = history(to_accepted())
    assert decision_standing(events, apply(to_accepted())) is None
    refusal = RefuseApplication(actor=CASEWORKER, at=at(2), reason="hors programme")
    refused = [*to_instruction(), refusal]
    standing = decision_standing(history(refused), apply(refused))
    assert isinstance(standing, ApplicationRefused)


@pytest.mark.parametrize("status", get_args(Status))
def test_a_co_financer_s_pending_line_waits_as_the_permissions_say(status: Status) -> None:
    """A pending line is to decide where the domain lets the co-financer decide it, later
    where a decision on the file may still come, and moot elsewhere."""
    state = in_status(status)
    assert state.plan is not None
    pending = next(line for line in state.plan.lines if line.status == "pending")
    stage = funder_line(state, pending).stage
    if status in PERMISSIONS["DecideFunding"].statuses:
        assert stage == "to_decide"
    elif decision_may_come(status):
        assert stage == "later"
    else:
        assert stage == "moot"


def test_the_payment_queue_lists_a_file_with_a_claim_or_a_repayment_owed() -> None:
    """The payment officer's page lists files where a claim awaits its order, and where the
    commune owes back what it was paid (withdrawn after an advance)."""
    claimed = [*to_started(), claim("advance", 20_000)]
    withdraw = WithdrawApplication(actor=APPLICANT, at=at(50), reason="projet abandonné")
    owing = apply([*claimed, *paid(1), withdraw])
    assert owing.repayment_due_cents > 0
    assert {apply(claimed).status, apply([*claimed, *paid(1)]).status, owing.status} <= (
        PAYMENT_WORK
    )


def test_the_queue_s_views_leave_out_files_turned_down_not_those_that_may_be_reopened() -> None:
    """« En cours » leaves out refused and dismissed files: once an accepted file may be
    reopened too (a rules change), it must still count as work in progress."""
    assert set(DECIDED_BUT_RUNNING) == TURNED_DOWN
