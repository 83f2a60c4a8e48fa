"""The pages group a file's statuses as the domain does (``console.web.statuses``): every
status of ``domain.state.Status`` lands where the domain's permissions put it, and a status
the domain adds to instruction is read as such without touching a template."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from console.web.accounts import Account
from console.web.app import templates
from domain.decider_permissions import PERMISSIONS, Permission
from domain.state import Application, Status
from tests.unit.builders import apply, to_instruction

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
