"""The console's FastAPI application: sessions, error answers, templates, static files.

``create_app(services)`` is the whole web console; ``console.web.serve`` runs it with
uvicorn. Pages answer in HTML (a refused page is a sentence, never a stack trace), the JSON
API under ``/api/v1`` in JSON, and its OpenAPI document is at ``/api/openapi.json``. No
asset comes from elsewhere: the CSS and the one small script are served from ``/static``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.service import RPCError

from console.reasons import reason_in_french
from console.web import labels
from console.web.accounts import COMMUNE_READERS, sector_words
from console.web.auth import BadRequest, CsrfRejected, Forbidden, NotSignedIn, Throttled
from console.web.files import FileNotVisible
from console.web.findings import (
    clock_moment,
    finding_in_french,
    notes_in_french,
    scope_in_french,
    unreadable_in_french,
)
from console.web.form_fields import FormError
from console.web.openapi import with_csrf_on_changes
from console.web.outages import (
    FILE_ENDED,
    FILE_UNKNOWN,
    UNAVAILABLE,
    database_outage,
    no_worker_sentence,
)
from console.web.problems import in_french, where
from console.web.services import WebServices
from console.web.sessions import COOKIE, MAX_AGE, Session
from console.web.statuses import awaits_decision
from domain.documents import MAX_DOCUMENT_BYTES
from domain.french import bank_reason
from eventlog import EventLogUnavailable, UnreadableEvent
from workflows.client_errors import (
    ApplicationEnded,
    ApplicationExists,
    ApplicationNotFound,
    GuichetError,
    NoWorker,
)

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(
    labels=labels,
    word=labels.word,
    euros=labels.euros,
    expert=labels.expert,
    person=labels.person,
    day=labels.day,
    moment=labels.moment,
    number=labels.number,
    size=labels.size,
    last_day=labels.last_day,
    commune_readers=COMMUNE_READERS,
    sector_words=sector_words,
    finding=finding_in_french,
    verification_notes=notes_in_french,
    journal_scope=scope_in_french,
    clock_moment=clock_moment,
    bank_reason=bank_reason,
    reason_in_french=reason_in_french,
    awaits_decision=awaits_decision,
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
}


class _ConsoleApp(FastAPI):
    """FastAPI, whose OpenAPI document requires the CSRF header beside the session on a
    change, as ``roles`` checks it."""

    def openapi(self) -> dict[str, Any]:
        return with_csrf_on_changes(super().openapi())


def route_modules() -> tuple[ModuleType, ...]:
    """The modules whose ``router`` the console serves, in the order their routes match."""
    # Imported here: the route modules use this module's ``render``.
    from console.web import (
        api,
        api_audit,
        api_commands,
        audit_pages,
        batch_pages,
        cofinancer_lines,
        commune_page,
        documents,
        exports,
        file_page,
        journal,
        opinions,
        payments_page,
        plan_page,
        portfolio_downloads,
        portfolio_page,
        queue_view,
        signing_in,
        submission_page,
        team,
    )

    return (
        signing_in,
        queue_view,
        file_page,
        plan_page,
        submission_page,
        documents,
        team,
        opinions,
        exports,
        commune_page,
        cofinancer_lines,
        payments_page,
        batch_pages,
        portfolio_page,
        audit_pages,
        portfolio_downloads,
        journal,
        api,
        api_commands,
        api_audit,
    )


def create_app(services: WebServices) -> FastAPI:
    """The console for these services."""
    app = _ConsoleApp(
        title="Guichet — API",
        version="1",
        description="Demandes de subvention Petites villes de demain: lecture et actions.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # the hosted Swagger UI loads from a CDN: we serve the document only
        redoc_url=None,
    )
    app.state.services = services
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    # Each one added wraps those before it. The streamed limit comes first, innermost: its
    # refusal, raised as the route reads, must not cross the task groups of the other two.
    app.add_middleware(_StreamedBodyLimit)
    app.middleware("http")(_body_limit)  # inside the session's: its refusal is a page too
    app.middleware("http")(_session_middleware)
    _error_handlers(app)
    for module in route_modules():
        app.include_router(module.router)
    from console.web import api_errors

    app.add_exception_handler(api_errors.Refused, _refused)
    return app


STARLETTE_DETAILS = {
    "Not Found": "Aucune page à cette adresse.",
    "Method Not Allowed": "Cette adresse ne s'utilise pas ainsi (méthode HTTP non permise).",
    "There was an error parsing the body": "Corps de la requête illisible (JSON ou formulaire).",
}
"""Starlette's and FastAPI's own English details, said in French."""

TOO_LARGE = "Requête trop volumineuse"
MAX_BODY = 2_000_000
"""The largest request body but the journal's upload: a form, a command or a batch of 500
files is far below. A reverse proxy usually has its own limit; this one holds without it."""
LARGE_BODIES = {"/journal": 60_000_000}
"""Paths that take a file, with their limit (above the file's own: the form around it)."""
DOCUMENT_UPLOAD = re.compile(r"^/(?:dossiers/[^/]+/pieces|api/v1/applications/[^/]+/documents)$")
DOCUMENT_BODY = MAX_DOCUMENT_BYTES + 100_000
"""A document's upload: the document, and the form or the few fields around it."""


def body_limit(path: str) -> int:
    """The largest body a request to ``path`` may send."""
    if DOCUMENT_UPLOAD.match(path):
        return DOCUMENT_BODY
    return LARGE_BODIES.get(path, MAX_BODY)


def _too_large(limit: int, path: str = "") -> str:
    if DOCUMENT_UPLOAD.match(path):
        return (
            f"Cette pièce dépasse {MAX_DOCUMENT_BYTES // 1_000_000} Mo : réduisez-la "
            "(numérisation en 150 ou 200 dpi) ou découpez-la, puis joignez-la de nouveau."
        )
    return f"Cette requête dépasse {limit // 1_000_000} Mo : allégez-la."


FILE_ACTION = re.compile(r"^/dossiers/([A-Za-z0-9][A-Za-z0-9._-]{2,119})/")
"""An address under a file's page (an action, an upload, a document): its errors lead back."""


async def _body_limit(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    declared = request.headers.get("content-length", "")
    limit = body_limit(request.url.path)
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        return error_page(request, 413, TOO_LARGE, _too_large(limit, request.url.path))
    return await call_next(request)


class _StreamedBodyLimit:
    """The same limit for a body sent without Content-Length (chunked): counted as it is read.

    ``_body_limit`` refuses a declared size before reading anything; a chunked body declares
    none, so this stops reading at the limit and answers the same 413 through the error
    handlers (the read happens inside the route, where they apply).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise StarletteHTTPException(413, _too_large(limit, scope["path"]))
            return message

        await self.app(scope, counted, send)


async def _session_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    services: WebServices = request.app.state.services
    session = services.signer.load(request.cookies.get(COOKIE)) or Session.fresh()
    request.state.session = session
    response = await call_next(request)
    current: Session = request.state.session
    if current.changed:
        response.set_cookie(
            COOKIE,
            services.signer.dump(current),
            max_age=MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.url.path.startswith("/static/"):
        # Files, amounts and people's names: after signing out on a town hall's shared
        # computer, Back must not show them again from the browser's cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


UNSENT_JSON = "envoyez le corps en JSON, avec l'en-tête Content-Type: application/json"


def _declares_json(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    """An error as a page (or JSON on the API)."""
    if _is_api(request):
        return JSONResponse({"error": title, "detail": message}, status_code=status)
    under_a_file = FILE_ACTION.match(request.url.path)
    back = f"/dossiers/{under_a_file[1]}" if under_a_file else None
    context = {"title": title, "message": message, "back": back}
    return render(request, "erreur.html", context, status)


def _withdrawn_from_expert(request: Request, withdrawn: str) -> Response:
    """An expert's page, download or API call on a file whose every request to them was
    withdrawn: the withdrawal and why (``files.withdrawn_from``), still refused. Not found
    to a read, refused (409) to a send such as their answer; no way back to the file, whose
    page would only say the same."""
    status = 404 if request.method in ("GET", "HEAD") else 409
    title = "Demande d'avis retirée"
    if _is_api(request):
        return JSONResponse({"error": title, "detail": withdrawn}, status_code=status)
    context = {"title": title, "message": withdrawn, "back": None}
    return render(request, "erreur.html", context, status)


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page, with what every page needs (the person, the CSRF token, the labels)."""
    services: WebServices = request.app.state.services
    session: Session = request.state.session
    base = {
        "account": getattr(request.state, "account", None),
        "csrf": services.signer.csrf_token(session),
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, template, {**base, **context}, status_code=status)


async def _refused(request: Request, error: Exception) -> Response:
    refused = getattr(error, "refused", None)
    body = {
        "error": "commande refusée",
        "detail": str(error),
        "detail_fr": getattr(refused, "french", str(error)),
        "rule": getattr(refused, "rule", ""),
        "source": getattr(refused, "source", ""),
        "kind": getattr(refused, "kind", ""),
    }
    return JSONResponse(body, status_code=409)


def _error_handlers(app: FastAPI) -> None:
    async def not_signed_in(request: Request, _: Exception) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"error": "non authentifié", "detail": "connectez-vous ou envoyez Basic"},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="guichet"'},
            )
        if request.method == "GET":  # the same page again, its filters included
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/connexion?suivant={quote(wanted)}", status_code=303)
        # A form sent after the session expired: what it carried is not sent; back on its
        # page after signing in (an action's address leads to its file's page).
        target = quote(request.url.path, safe="/")
        return RedirectResponse(f"/connexion?suivant={target}&expiree=1", status_code=303)

    async def forbidden(request: Request, error: Exception) -> Response:
        reason = str(error) or "Votre rôle ne permet pas cette page."
        return error_page(request, 403, "Accès refusé", reason)

    async def csrf(request: Request, error: Exception) -> Response:
        return error_page(request, 403, "Formulaire refusé", str(error))

    async def bad_request(request: Request, error: Exception) -> Response:
        return error_page(request, 400, "Demande incorrecte", str(error))

    async def not_visible(request: Request, error: Exception) -> Response:
        if isinstance(error, FileNotVisible) and error.withdrawn:
            return _withdrawn_from_expert(request, error.withdrawn)
        return error_page(request, 404, "Dossier introuvable", "Aucun dossier à ce numéro.")

    async def throttled(request: Request, error: Exception) -> Response:
        # Credentials sent with a request (HTTP Basic); the sign-in form answers for itself.
        refused = error if isinstance(error, Throttled) else Throttled(59)
        if _is_api(request):
            response = error_page(request, 429, "Trop d'essais", refused.french)
        else:  # the form again, to try once the wait is over without going back
            context = {"next": "", "error": refused.french, "username": ""}
            response = render(request, "connexion.html", context, 429)
        response.headers["Retry-After"] = str(refused.wait_seconds)
        return response

    async def invalid(request: Request, error: Exception) -> Response:
        detail = error.errors() if isinstance(error, RequestValidationError) else []
        first = detail[0] if detail else {}
        message = f"{where(first.get('loc', ()))} — {in_french(first)}"
        about_body = tuple(first.get("loc", ()))[:1] == ("body",)
        if _is_api(request) and about_body and not _declares_json(request):
            # FastAPI reads a body as JSON only when it says so: else « a JSON object is
            # expected » of what may well be one.
            return error_page(request, 415, "Type de contenu non pris en charge", UNSENT_JSON)
        if _is_api(request):
            return JSONResponse({"error": "données invalides", "detail": message}, 422)
        return error_page(request, 400, "Demande incorrecte", message)

    async def http_error(request: Request, error: Exception) -> Response:
        status = error.status_code if isinstance(error, StarletteHTTPException) else 500
        titles = {404: "Page introuvable", 405: "Méthode non permise", 413: TOO_LARGE,
                  503: "Guichet indisponible"}  # fmt: skip
        title = titles.get(status, "Erreur")
        detail = str(getattr(error, "detail", ""))
        return error_page(request, status, title, STARLETTE_DETAILS.get(detail, detail))

    async def guichet_error(request: Request, error: Exception) -> Response:
        return error_page(request, 502, "Guichet indisponible", f"{UNAVAILABLE} ({error})")

    async def already_submitted(request: Request, error: Exception) -> Response:
        found = getattr(error, "application_id", "")
        return error_page(
            request,
            409,
            "Demande déjà déposée",
            f"Cette clé de dépôt a déjà servi pour le dossier {found}, avec un autre contenu : "
            "pour une nouvelle demande, rechargez la page de dépôt (par l'API, donnez une "
            "nouvelle clé).",
        )

    async def file_ended(request: Request, _: Exception) -> Response:
        return error_page(request, 409, "Dossier terminé", f"{FILE_ENDED}.")

    async def file_unknown(request: Request, _: Exception) -> Response:
        return error_page(request, 404, "Dossier introuvable", f"{FILE_UNKNOWN}.")

    async def no_worker(request: Request, error: Exception) -> Response:
        assert isinstance(error, NoWorker)
        return error_page(request, 503, "Guichet indisponible", no_worker_sentence(error))

    async def database_error(request: Request, error: Exception) -> Response:
        return error_page(
            request, 503, "Guichet indisponible", database_outage(error, path=request.url.path)
        )

    async def unreadable_event(request: Request, error: Exception) -> Response:
        # An altered row: the data is wrong, not the server; the auditor is told where.
        assert isinstance(error, UnreadableEvent)
        sentence = unreadable_in_french(error)
        return error_page(request, 409, "Journal altéré", sentence[0].upper() + sentence[1:])

    async def temporal_error(request: Request, error: Exception) -> Response:
        # Temporal down or overloaded, on a call no page catches (the work queue's list).
        detail = error.message if isinstance(error, RPCError) else str(error)
        return error_page(request, 502, "Guichet indisponible", f"{UNAVAILABLE} ({detail})")

    app.add_exception_handler(NotSignedIn, not_signed_in)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(CsrfRejected, csrf)
    app.add_exception_handler(BadRequest, bad_request)
    app.add_exception_handler(FormError, bad_request)
    app.add_exception_handler(FileNotVisible, not_visible)
    app.add_exception_handler(Throttled, throttled)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(GuichetError, guichet_error)
    app.add_exception_handler(ApplicationEnded, file_ended)
    app.add_exception_handler(ApplicationExists, already_submitted)
    app.add_exception_handler(ApplicationNotFound, file_unknown)
    app.add_exception_handler(NoWorker, no_worker)
    app.add_exception_handler(RPCError, temporal_error)
    app.add_exception_handler(EventLogUnavailable, database_error)
    app.add_exception_handler(UnreadableEvent, unreadable_event)
    app.add_exception_handler(Exception, _unexpected)


async def _unexpected(request: Request, _: Exception) -> Response:
    """Any other error (Starlette logs it, then answers with this): JSON on the API, whose
    callers read JSON, without the error's words, which are for the server's log."""
    if _is_api(request):
        body = {"error": "Erreur interne", "detail": UNEXPECTED}
        return JSONResponse(body, status_code=500, headers={"Cache-Control": "no-store"})
    return PlainTextResponse("Internal Server Error", status_code=500)


UNEXPECTED = (
    "Guichet n'a pas pu répondre à cause d'une erreur de sa part, dite dans le journal du "
    "serveur : réessayez ; si cela se reproduit, prévenez l'exploitation avec l'heure"
)
