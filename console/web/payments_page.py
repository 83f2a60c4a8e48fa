"""The payment officer's queue: claims waiting for an order (and payments under way), then
the repayments the communes still owe, across files.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from console.web.accounts import Account
from console.web.app import render
from console.web.auth import roles, services
from console.web.claims import claims_of
from console.web.listings import states
from console.web.outages import no_worker_sentence
from console.web.queue_filters import reader_clause
from console.web.queue_pages import QUEUE_LIMIT, SPENT_PAGE, listing_page, page_scope, page_text
from console.web.statuses import PAYMENT_WORK, status_in
from workflows.client_errors import PageExpired

router = APIRouter(include_in_schema=False)


@router.get("/paiements")
async def payments_page(
    request: Request, account: Annotated[Account, Depends(roles("payment_officer", "auditor"))]
) -> Response:
    """Claims waiting for an order (and payments under way), then repayments the communes
    still owe, across files, 500 files a page."""
    found = services(request)
    paying = f"GuichetStatus IN ({status_in(PAYMENT_WORK)})"
    readable = reader_clause(account)
    query = f"{readable} AND {paying}" if readable else paying
    scope = page_scope("paiements", account)
    page, after, page_problem = listing_page(found, request.query_params, scope)
    try:
        listing = await states(found, account, query, after)
    except PageExpired:
        page, page_problem = 1, SPENT_PAGE
        listing = await states(found, account, query)
    waiting = [
        (state, payment)
        for state in listing.files
        for payment in state.payments
        if payment.status in ("claimed", "ordered", "failed")
    ]
    owed = [state for state in listing.files if state.repayment_due_cents > 0]
    # The proof and the expense declared, which the officer checks before ordering.
    claimed = await claims_of(found, [state.application_id for state, _ in waiting])
    stopped = listing.stopped
    following = None
    if listing.next_page:
        following = "/paiements?" + urlencode(
            {"suite": page_text(found, listing.next_page, scope, page + 1), "page": page + 1}
        )
    context = {
        "waiting": [
            (state, payment, claimed.get(state.application_id, {}).get(payment.number))
            for state, payment in waiting
        ],
        "owed": owed,
        "left_out_of": listing.left_out_of,
        "queue_limit": QUEUE_LIMIT,
        "page": page,
        "next_page": following,
        "first_page": "/paiements",
        "page_problem": page_problem,
        "stopped": no_worker_sentence(stopped) if stopped else "",
    }
    return render(request, "paiements.html", context)
