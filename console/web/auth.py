"""Who is asking: the session or HTTP Basic credentials, role checks, CSRF on every change.

Pages and the JSON API share these dependencies; only the way a refusal is answered differs
(a redirect to the sign-in page or an HTML page, versus JSON), see ``console.web.errors``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, NamedTuple

import structlog
from fastapi import Request, Security
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from console.web.accounts import Account, AccountStore
from console.web.openapi import BASIC, CSRF_HEADER, SAFE_METHODS, SESSION
from console.web.services import WebServices
from console.web.sessions import Session
from console.web.throttle import Scope
from domain.actor import Role

REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
"""The id a form carries: sent again (a double click, a retry), it lands on the same request."""
UNREADABLE_FORM = "formulaire illisible : envoyez-le de nouveau depuis la page"
MAX_FORM_FIELDS = 3000
"""A batch of 500 files with its other fields fits; a flood of fields does not."""


class NotSignedIn(Exception):
    """No valid session or credentials."""


class Forbidden(Exception):
    """Signed in, but this role may not see or do this; the message, when given, says why."""


class BadRequest(Exception):
    """Malformed input; the message says what to fix."""


class CsrfRejected(BadRequest):
    """The form's CSRF token is missing or belongs to another session."""


SignedIn = Annotated[None, Security(BASIC)]
ByCookie = Annotated[None, Security(SESSION)]


class Throttled(Exception):
    """Too many failed sign-ins: wait ``retry_after`` seconds. ``scope`` says whose failures
    (``console.web.throttle``): this account's from this address, or, past a rate no person
    reaches by mistyping, this account's from everywhere or this address's under every name;
    ``limit`` the failures that limit lets through."""

    def __init__(self, retry_after: float, scope: Scope = "pair", limit: int = 0) -> None:
        super().__init__(f"retry after {retry_after:.0f} s ({scope})")
        self.retry_after = retry_after
        self.scope = scope
        self.limit = limit

    @property
    def wait_seconds(self) -> int:
        """Whole seconds to wait (``Retry-After``), never less than the throttle's wait."""
        return int(self.retry_after) + 1

    @property
    def french(self) -> str:
        again = f"réessayez dans {self.wait_seconds} s"
        if self.scope == "account":
            return (
                "Trop d'échecs de connexion à ce compte, depuis plusieurs adresses (plus de "
                f"{self.limit} en une heure) : par précaution, toute connexion à ce compte "
                f"attend ; {again}. Si cela se reproduit, prévenez l'administrateur de Guichet."
            )
        if self.scope == "address":
            return (
                "Trop d'échecs de connexion depuis votre adresse, tous comptes confondus (plus "
                f"de {self.limit} en une heure) : par précaution, toute connexion depuis cette "
                f"adresse attend ; {again}. Si vous êtes nombreux derrière la même adresse, "
                "prévenez l'administrateur de Guichet."
            )
        return f"Trop d'échecs de connexion : {again}."


@dataclass(frozen=True)
class Caller:
    """The authenticated person and how they proved it (CSRF applies to sessions only)."""

    account: Account
    by_session: bool


def services(request: Request) -> WebServices:
    """The app's services (set at start-up)."""
    found: WebServices = request.app.state.services
    return found


def session(request: Request) -> Session:
    """The visitor's session (read or created by the session middleware)."""
    found: Session = request.state.session
    return found


def client_address(request: Request) -> str:
    """The caller's address, for throttling (the proxy's, unless uvicorn trusts it)."""
    return request.client.host if request.client else "unknown"


async def caller(request: Request) -> Caller:
    """The signed-in person; Basic credentials are accepted on the JSON API only."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic ") and request.url.path.startswith("/api/"):
        return Caller(await _basic(request, header[6:]), by_session=False)
    current = session(request)
    if current.user is None:
        raise NotSignedIn
    account = await services(request).accounts.get(current.user)
    if account is None or account.disabled_at is not None:  # disabled since it signed in
        raise NotSignedIn
    if not account.session_valid(current.issued_at):  # signed out, password or role changed
        raise NotSignedIn
    return Caller(account, by_session=True)


async def _basic(request: Request, encoded: str) -> Account:
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise NotSignedIn from None
    return await sign_in(request, username, password)


async def sign_in(request: Request, username: str, password: str) -> Account:
    """Check a password under the throttle; ``Throttled`` or ``NotSignedIn`` when refused."""
    found = services(request)
    address = client_address(request)
    # Checked before the password: a guesser learns nothing from an attempt it must wait for.
    # The wait is this account's from this address (or a rate of failures no person reaches),
    # so the right password typed elsewhere goes through.
    wait = await found.throttle.admit(username, address)
    # Said in the server's log, not only as an access line: an operator watching for someone
    # guessing passwords looks for these events.
    refused = structlog.get_logger("guichet.console").warning
    if wait.scope is not None:
        named = await _named_in_the_log(found.accounts, username)
        refused("sign-in throttled", **named, address=address, wait=wait.seconds, scope=wait.scope)
        raise Throttled(wait.seconds, wait.scope, wait.limit)
    account = await found.accounts.authenticate(username, password)
    if account is None:
        named = await _named_in_the_log(found.accounts, username)
        refused("sign-in failed", **named, address=address)
        raise NotSignedIn  # counted already, by ``admit``: a burst finds each one counted
    await found.throttle.passed(username, address)
    return account


async def _named_in_the_log(accounts: AccountStore, typed: str) -> dict[str, str]:
    """How a refused sign-in names its account in the log: by name when an account has it;
    else by a digest of what was typed, which may be a password typed in the name field. The
    digest still shows one guesser trying the same name again."""
    if await accounts.get(typed) is not None:
        return {"username": typed}
    return {"unknown_username_sha256": hashlib.sha256(typed.encode()).hexdigest()[:12]}


def roles(*allowed: Role) -> Callable[..., Awaitable[Account]]:
    """A dependency: the signed-in account, if its role is one of ``allowed``. Its two ways
    in are declared for the OpenAPI document (``console.web.openapi``)."""

    async def dependency(
        request: Request, _basic: SignedIn = None, _session: ByCookie = None
    ) -> Account:
        who = await caller(request)
        request.state.account = who.account
        if who.account.role not in allowed:
            raise Forbidden
        if request.method not in SAFE_METHODS:
            if who.by_session:
                _check_header_csrf(request)
            else:
                _check_not_a_plain_form(request)
        return who.account

    return dependency


def _check_header_csrf(request: Request) -> None:
    # Forms check their own hidden field (read_form); scripts send the header.
    if request.url.path.startswith("/api/"):
        token = request.headers.get(CSRF_HEADER)
        if not services(request).signer.csrf_ok(session(request), token):
            raise CsrfRejected("en-tête X-CSRF-Token absent ou invalide")


PLAIN_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded", "text/plain")
"""Bodies another site's page may send without asking first (CORS "simple" requests)."""
SCRIPT_HEADER = "x-requested-with"


def _check_not_a_plain_form(request: Request) -> None:
    """A browser keeps Basic credentials once given and sends them with any request to the
    site, even from another site's page. JSON needs the browser to ask first, a plain form
    does not: one sent with Basic credentials must carry a header no form can set."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in PLAIN_FORMS and SCRIPT_HEADER not in request.headers:
        raise CsrfRejected(
            "un formulaire envoyé avec des identifiants Basic porte l'en-tête "
            "X-Requested-With (n'importe quelle valeur) : un autre site ne peut pas l'ajouter"
        )


class Upload(NamedTuple):
    """A posted multipart form: its text fields, its one file's bytes and the file's name as
    the browser gave it."""

    fields: dict[str, str]
    data: bytes
    filename: str


async def read_upload(request: Request, name: str, limit: int) -> Upload:
    """A posted multipart form with its one file ``name`` (at most ``limit`` bytes), after
    its CSRF token was checked."""
    upload = await read_multipart(request, name, limit)
    if not upload.data:
        raise BadRequest("aucun fichier déposé, ou un fichier vide")
    if len(upload.data) > limit:
        raise BadRequest(f"fichier trop volumineux : {limit // 1_000_000} Mo au plus")
    return upload


async def read_multipart(request: Request, name: str, limit: int) -> Upload:
    """A posted multipart form, after its CSRF token was checked: its file ``name`` read up
    to ``limit`` bytes and one more (so that the caller can say it is too large), empty when
    none was sent, with the fields typed beside it (for the form to come back with them).

    The file's name as the browser sent it: browsers escape ``"``, CR and LF in it as
    ``%22``, ``%0D`` and ``%0A`` (HTML's multipart encoding), given back here as they were."""
    try:
        form: FormData = await request.form(max_fields=MAX_FORM_FIELDS, max_files=1)
    except HTTPException as error:
        raise _too_large_or_unreadable(error) from None
    except Exception:  # multipart parser errors: the input is malformed
        raise BadRequest(UNREADABLE_FORM) from None
    fields: dict[str, str] = {}
    data = b""
    filename = ""
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields[key] = one_line_break(value)
        elif key == name:
            data = await value.read(limit + 1)
            filename = value.filename or ""
        else:
            raise BadRequest(f"un seul fichier est attendu ici, dans le champ « {name} »")
    # On the API the token travels in the header, which ``roles`` checked already.
    on_api = request.url.path.startswith("/api/")
    if not on_api and not services(request).signer.csrf_ok(session(request), fields.get("csrf")):
        raise CsrfRejected(
            "le jeton de sécurité du formulaire est absent ou périmé : rechargez la page"
        )
    for escaped, character in (("%22", '"'), ("%0D", "\r"), ("%0A", "\n")):
        filename = filename.replace(escaped, character)
    return Upload(fields, data, filename)


def _too_large_or_unreadable(error: HTTPException) -> Exception:
    """The body over the console's limit keeps its 413; the parser's own refusals (a field
    over 1 MB…) are an unreadable form, said in French."""
    return error if error.status_code == 413 else BadRequest(UNREADABLE_FORM)


def one_line_break(text: str) -> str:
    """The text with each line break one newline, as the browser counted it against the
    field's ``maxlength``: a form sends a textarea's breaks as CRLF, and a 300-character
    message with two breaks would arrive as 302 characters, refused as too long. A line
    break pasted from a word processor (U+000B, its Shift+Entrée) is one too, not a control
    character to refuse."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", "\n")


async def read_form(request: Request) -> dict[str, str]:
    """The posted form as text fields, after its CSRF token was checked."""
    try:
        form: FormData = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
    except HTTPException as error:
        raise _too_large_or_unreadable(error) from None
    except Exception:  # multipart/urlencoded parser errors: the input is malformed
        raise BadRequest(UNREADABLE_FORM) from None
    fields: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            raise BadRequest("aucun fichier n'est attendu ici")
        if key in fields and key == "dossier":
            fields[key] += "\n" + value
        else:
            fields[key] = one_line_break(value)
    if not services(request).signer.csrf_ok(session(request), fields.get("csrf")):
        raise CsrfRejected(
            "le jeton de sécurité du formulaire est absent ou périmé : rechargez la page"
        )
    return fields
