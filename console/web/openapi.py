"""How the API's callers sign in, as the OpenAPI document declares it.

``caller`` (``console.web.auth``) takes HTTP Basic credentials on the API, else the console's
session cookie; a change sent under the session also carries the ``X-CSRF-Token`` header.
Every ``roles`` dependency names the two ways in as security dependencies that check nothing
themselves, so FastAPI declares them on exactly the operations that check who calls, and
``with_csrf_on_changes`` adds the header to the session's requirement where it is needed.
"""

from __future__ import annotations

from typing import Any

from fastapi.openapi.models import APIKey, APIKeyIn, HTTPBase
from fastapi.security.base import SecurityBase

from console.web.sessions import COOKIE

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD")
"""The methods that change nothing: no CSRF check."""


class SignIn(SecurityBase):
    """One way to sign in, for the OpenAPI document: ``caller`` does the checking, in its own
    order (Basic credentials first), so this dependency checks nothing."""

    def __init__(self, scheme_name: str, model: APIKey | HTTPBase) -> None:
        self.scheme_name = scheme_name
        self.model = model

    async def __call__(self) -> None:
        """Nothing to check here (see the class)."""


BASIC = SignIn(
    "basic",
    HTTPBase(
        scheme="basic",
        description="The account's name and password, throttled as the sign-in page is. A "
        "multipart or form body sent with them also carries an X-Requested-With header "
        "(any value), which another site's page cannot add.",
    ),
)
SESSION = SignIn(
    "session",
    APIKey.model_validate(
        {
            "in": APIKeyIn.cookie,
            "name": COOKIE,
            "description": "The console's session, once signed in on its pages (the pages' "
            "own script).",
        }
    ),
)
CSRF = SignIn(
    "csrf",
    APIKey.model_validate(
        {
            "in": APIKeyIn.header,
            "name": CSRF_HEADER,
            "description": "With the session, on every change (POST): the session's token, "
            "which the console's pages carry.",
        }
    ),
)


def with_csrf_on_changes(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the CSRF header required beside the session on each operation that
    changes something (FastAPI declares each security dependency as a way in of its own)."""
    changes = False
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method.upper() in SAFE_METHODS:
                continue
            for requirement in operation.get("security", ()):
                if SESSION.scheme_name in requirement:
                    requirement[CSRF.scheme_name] = []
                    changes = True
    if changes:
        schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes[CSRF.scheme_name] = CSRF.model.model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
    return document
