"""The payment officer's journey through the console: a payment the bank refused, the four
eyes rule seen from the officer who accepted the file."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import pytest

from activities.ledger import LedgerGateway
from activities.payments import DisbursementOrder, PaymentRefused
from domain.deadline import day_of
from domain.french import day
from tests.polling import eventually
from tests.web.conftest import PASSWORD, Console, signed_in
from tests.web.test_api_contract import basic
from tests.web.test_console_api import awarded_file, send, submit_file


def row_of(page: str, application_id: str) -> str:
    """The row of the payments page that links to the file."""
    return page[page.index(f'<a href="/dossiers/{application_id}">') :].split("</tr>")[0]


async def test_a_payment_the_bank_refused_says_why_and_what_to_do_before_ordering_it_again(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bank refused an advance (account closed): « Paiements » read « Échec » and no more,
    the file page gave the bank's reason as the transfer's reference, and offered the same
    order again without a word, which the same account refuses again. Nor did it say on which
    day the bank refused it, nor, once ordered again, paid it (the API's file neither)."""

    async def refuse(self: LedgerGateway, order: DisbursementOrder) -> str:
        raise PaymentRefused("Compte clôturé (code AC04)")

    application_id = await awarded_file(console)
    today = day_of(datetime.now(UTC), paris=True).isoformat()
    await send(console, "agent", application_id, type="DeclareStart", started_on=today)
    await send(console, "agent", application_id, type="ClaimPayment", kind="advance",
               amount_cents=12_000_00, proof_reference="OS-1")  # fmt: skip
    with monkeypatch.context() as bank:
        bank.setattr(LedgerGateway, "disburse", refuse)
        await send(console, "carol", application_id, type="OrderPayment", payment_number=1)

        async def failed() -> bool:
            return (await console.guichet.state(application_id)).payments[0].status == "failed"

        await eventually(failed)
    async with signed_in(console, "carol") as carol:
        page = html.unescape((await carol.get(f"/dossiers/{application_id}")).text)
        queue = html.unescape((await carol.get("/paiements")).text)
    bounced = (await api_file(console, "carol", application_id))["state"]["payments"][0]
    ordered_on, refused_on = (paris_day(bounced[f]) for f in ("ordered_at", "failed_at"))
    queued = row_of(queue, application_id)
    assert f"(refusé par la banque le {refused_on} : Compte clôturé (code AC04) ; à" in queued
    assert f"corrigé)</span></td><td>{ordered_on}</td>" in queued
    table = page[page.index('data-testid="paiements"') :].split("</table>")[0]
    row = table.split("<tbody>")[1]
    assert "Échec <span" in row
    assert f"(refusé par la banque le {refused_on} : Compte clôturé (code AC04))" in row
    # Ordered, never paid: no day of payment, no transfer's reference.
    assert f"</span></td><td>carol</td><td>{ordered_on}</td><td>—</td><td>—</td></tr>" in row
    assert "n° 1, avance : 12\u202f000,00\xa0€, refusé par la banque : nouvel ordre" in page
    refused = "Le versement n° 1 a été refusé par la banque (« Compte clôturé (code AC04) ») : "
    assert refused in page
    await send(console, "carol", application_id, type="OrderPayment", payment_number=1)

    async def paid() -> bool:
        return (await console.guichet.state(application_id)).paid_cents == 12_000_00

    await eventually(paid)
    async with signed_in(console, "carol") as carol:
        page = html.unescape((await carol.get(f"/dossiers/{application_id}")).text)
    table = page.split('data-testid="paiements"')[1].split("</table>")[0]
    assert "refusé par la banque" not in table and "LEDGER-" in table
    payment = (await api_file(console, "agent", application_id))["state"]["payments"][0]
    reordered, first = (datetime.fromisoformat(p["ordered_at"]) for p in (payment, bounced))
    assert payment["failed_at"] is None and reordered > first
    paid_on = paris_day(payment["disbursed_at"])
    assert f"<td>{paris_day(payment['ordered_at'])}</td><td>{paid_on}</td><td>LEDGER-" in table


async def api_file(console: Console, username: str, application_id: str) -> dict[str, Any]:
    """The file as ``GET /api/v1/applications/{id}`` gives it to ``username``."""
    async with console.client() as client:
        answer = await client.get(f"/api/v1/applications/{application_id}", headers=basic(username))
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def paris_day(moment: str) -> str:
    """A moment of the API's JSON as the console writes its day: 01/03/2025, in Paris."""
    return day(datetime.fromisoformat(moment))


async def test_the_officer_who_accepted_a_file_is_told_another_orders_its_payments(
    console: Console,
) -> None:
    """Paul accepted a file as a caseworker, then became a payment officer: « Paiements »
    listed its claim to him, and its page showed no order and no reason (the domain refuses
    him, four eyes). Both now say that another officer orders it; carol is offered the order."""
    application_id = await submit_file(console)
    await console.services.accounts.add("paul", PASSWORD, "caseworker", replace=True)
    await send(console, "alice", application_id, type="DeclareComplete")
    await send(console, "prefecture", application_id, type="DecideFunding", line_id="detr",
               approve=True, granted_cents=40_000_00)  # fmt: skip
    await send(console, "region", application_id, type="DecideFunding", line_id="region",
               approve=True, granted_cents=20_000_00)  # fmt: skip
    await send(console, "paul", application_id, type="AcceptApplication")
    await send(console, "alice", application_id, type="NotifyAward", decision_reference="ARR-1")
    await console.services.accounts.add("paul", PASSWORD, "payment_officer", replace=True)
    today = day_of(datetime.now(UTC), paris=True).isoformat()
    await send(console, "agent", application_id, type="DeclareStart", started_on=today)
    await send(console, "agent", application_id, type="ClaimPayment", kind="advance",
               amount_cents=5_000_00, proof_reference="OS-1")  # fmt: skip
    async with signed_in(console, "paul") as paul:
        page = html.unescape((await paul.get(f"/dossiers/{application_id}")).text)
        queue = html.unescape((await paul.get("/paiements")).text)
    async with signed_in(console, "carol") as carol:
        theirs = html.unescape((await carol.get(f"/dossiers/{application_id}")).text)
        carol_queue = html.unescape((await carol.get("/paiements")).text)
    assert "/actions/OrderPayment" not in page
    assert (
        "Ordonner le paiement : pas par vous, vous avez accepté ce dossier : un autre comptable "
        "en ordonne les paiements (principe des quatre yeux" in page
    )
    assert "(vous : un autre comptable l'ordonne" in row_of(queue, application_id)
    assert "/actions/OrderPayment" in theirs and "pas par vous" not in theirs
    assert "(vous :" not in row_of(carol_queue, application_id)
