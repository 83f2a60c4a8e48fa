"""What the JSON API answers besides success: the bodies of its refusals, as the OpenAPI
document describes them, and the router every part of the API is built on.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from workflows.client_errors import CommandRefused


class Problem(BaseModel):
    """Every refusal's body, whatever its status: two sentences in French."""

    error: str
    """What happened (« Demande incorrecte », « Dossier introuvable »…)."""
    detail: str
    """What to fix, naming the field or parameter when it is about one."""


class Refusal(Problem):
    """A command the file refused (409): the rule it broke, with its legal source."""

    detail_fr: str
    rule: str
    source: str
    kind: str


def answers(description: str, model: object = Problem) -> dict[str, Any]:
    return {"model": model, "description": description}


API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: answers("A parameter or field that cannot be used; the detail names it."),
    401: answers("No valid session or Basic credentials."),
    403: answers("This role may not do it, or the CSRF header is missing."),
    404: answers(
        "No such file, or one outside this account's files; to an expert whose every request "
        "on it was withdrawn, ``error`` says so and ``detail`` gives the reason."
    ),
    422: answers("A body that does not match its schema; the detail names the field."),
    500: answers("Guichet's own error, logged on the server: retry, then tell its operators."),
    503: answers("The database or every worker is unavailable: retry later."),
}
"""What every route of the API may answer besides its success, for the OpenAPI document
(FastAPI would describe a 422 as its own ``{"detail": [...]}``, which the API never sends)."""
JSON_BODY: dict[int | str, dict[str, Any]] = {
    415: answers("A body sent without Content-Type: application/json.")
}
REFUSED: dict[int | str, dict[str, Any]] = {
    409: answers(
        "Refused by the file's rules (``rule`` and ``source`` say which); or the file has "
        "ended, the submission's key served for another request, or the expert's request on "
        "the file was withdrawn (``error`` and ``detail``).",
        Refusal | Problem,
    ),
    **JSON_BODY,
}


def api_router() -> APIRouter:
    """A router of the API: under ``/api/v1``, with the refusals every route may answer."""
    return APIRouter(prefix="/api/v1", tags=["guichet"], responses=API_ERRORS)


class Refused(Exception):
    """A command the workflow refused, answered as 409 with its rule (see ``app``)."""

    def __init__(self, refused: CommandRefused) -> None:
        super().__init__(str(refused))
        self.refused = refused
