"""The console's door: its home address, signing in and out, and where each role lands.

Every change is a POST carrying the session's CSRF token (``console.web.auth``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from console.web.accounts import Account
from console.web.app import render
from console.web.auth import NotSignedIn, Throttled, caller, read_form, services, sign_in
from console.web.sessions import Session

router = APIRouter(include_in_schema=False)

HOME = {"cofinancer": "/cofinancement", "payment_officer": "/paiements", "expert": "/avis"}


def home_of(account: Account) -> str:
    """Where a person lands after signing in."""
    return HOME.get(account.role, "/dossiers")


@router.get("/")
async def index(request: Request) -> Response:
    """The person's home, or the sign-in page."""
    try:
        who = await caller(request)
    except NotSignedIn:
        return RedirectResponse("/connexion", status_code=303)
    return RedirectResponse(home_of(who.account), status_code=303)


@router.get("/connexion")
async def sign_in_page(request: Request, suivant: str = "", expiree: str = "") -> Response:
    """The sign-in form; ``expiree`` when a form was sent after the session had expired."""
    context = {"next": _safe_next(suivant), "error": "", "expired": bool(expiree)}
    return render(request, "connexion.html", context)


@router.post("/connexion")
async def sign_in_post(request: Request) -> Response:
    """Check the password (throttled); a new session id on success."""
    form = await read_form(request)
    username = form.get("identifiant", "").strip().lower()[:64]
    context = {"next": _safe_next(form.get("suivant", "")), "username": username}
    try:
        account = await sign_in(request, username, form.get("mot_de_passe", ""))
    except NotSignedIn:
        return render(
            request,
            "connexion.html",
            context | {"error": "Identifiant ou mot de passe incorrect."},
            401,
        )
    except Throttled as refused:  # the form again, with the name typed and the page asked for
        answer = render(request, "connexion.html", context | {"error": refused.french}, 429)
        answer.headers["Retry-After"] = str(refused.wait_seconds)
        return answer
    request.state.session = Session.fresh(account.username)
    return RedirectResponse(_safe_next(form.get("suivant", "")) or home_of(account), 303)


@router.post("/deconnexion")
async def sign_out(request: Request) -> Response:
    """End the person's sessions, in every browser, and start an anonymous one.

    Every one of them: the cookie is stateless, and a new cookie alone left the old one valid
    for the rest of its 12 hours to whoever had copied it. Ending this browser's session only
    would need a server-side list of the ended ones, read on every request; the account's
    "sessions valid after" moment ends them all at the cost of signing the person out of
    their other browsers too, which is also what someone who fears for their session wants."""
    await read_form(request)
    signed_in = request.state.session.user
    if signed_in is not None:
        await services(request).accounts.end_sessions(signed_in)
    request.state.session = Session.fresh()
    return RedirectResponse("/connexion", status_code=303)


def _safe_next(target: str) -> str:
    # Only paths of this site: never an open redirect.
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target[:300]
    return ""
