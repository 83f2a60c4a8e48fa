"""The payments queue's template (« Paiements ») rendered on states built by the pure domain:
what the payment officers read of each payment waiting on them, without a server (the route
is tested in test_payments)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.web.accounts import Account
from console.web.app import templates
from console.web.claims import claims
from domain.commands import Command, OrderPayment, RecordPaymentFailure
from tests.unit.builders import PAYMENT_OFFICER, SYSTEM, apply, claim, history, to_started

CAROL = Account("carol", "payment_officer")
LATE = datetime(2025, 3, 24, 23, 30, tzinfo=UTC)
"""25 March, 00:30 in Paris: the UTC date would be the day before."""


def queue_page(commands: list[Command]) -> str:
    """The payments page listing the one file ``commands`` build, as Carol reads it."""
    state = apply(commands)
    found = claims(history(commands))
    waiting = [(state, p, found.get(p.number)) for p in state.payments]
    values = {"account": CAROL, "waiting": waiting, "owed": [], "page": 1, "left_out_of": 0}
    return templates.env.get_template("paiements.html").render(values)


def row_of(page: str) -> str:
    """The queue's one payment row."""
    return page.split("<tbody>")[1].split("</tr>")[0]


def test_a_payment_waiting_on_the_officers_says_the_paris_day_it_was_ordered_and_refused() -> None:
    """The queue read « Échec (refusé par la banque : … » without a day, where the file page
    gives the day of the order and of the bank's refusal: the officer could not tell a
    refusal of this morning from one a month old, nor since when an order waits on the bank.
    Paris days, as the file page writes them: an order at 00:30 in Paris is on that day."""
    ordered = [*to_started(), claim("advance", 10_000),
               OrderPayment(actor=PAYMENT_OFFICER, at=LATE, payment_number=1)]  # fmt: skip
    page = queue_page(ordered)
    assert '<th scope="col">État</th><th scope="col">Ordonné le</th>' in page
    assert "<td>Ordonné</td><td>25/03/2025</td>" in row_of(page)
    refusal = RecordPaymentFailure(actor=SYSTEM, at=LATE + timedelta(days=1), payment_number=1,
                                   reason="Compte clôturé")  # fmt: skip
    row = row_of(queue_page([*ordered, refusal]))
    assert (
        "(refusé par la banque le 26/03/2025 : Compte clôturé ; à ordonner de nouveau une fois "
        "corrigé)</span></td><td>25/03/2025</td>"
    ) in row
    claimed = row_of(queue_page([*to_started(), claim("advance", 10_000)]))
    assert "<td>Demandé</td><td>—</td>" in claimed  # not ordered yet
