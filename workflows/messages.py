"""Payload models of GrantApplicationWorkflow: one model in, one model out per message.

These cross the Temporal boundary through the pydantic data converter, so they are plain
frozen models built from the domain's own types.
"""

from __future__ import annotations

import hashlib

from pydantic import Field

from domain.actor import Actor
from domain.commands import ApplicationRequest, Command
from domain.model import Frozen
from domain.state import Application, Status

WORKFLOW_NAME = "GrantApplicationWorkflow"
DEFAULT_TASK_QUEUE = "guichet"


class Submission(Frozen):
    """A request as the commune's agent sends it, before eligibility is looked up."""

    application_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,119}$")
    """Workflow id = application id = event stream id; no personal data in it."""
    idempotency_key: str = Field(min_length=8, max_length=200)
    actor: Actor
    request: ApplicationRequest


def request_digest(request: ApplicationRequest) -> str:
    """What tells two submitted requests apart: a key sent again with another request is
    another submission, not a retry of the first."""
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


class WorkflowStart(Frozen):
    """The workflow's input: the submission, and the state carried over a continue-as-new."""

    submission: Submission
    carried_state: Application | None = None
    history_limit: int = Field(default=5_000, ge=20)
    """Continue-as-new past this many history events, well before Temporal's 50k suggestion:
    a file lives for years. Tests lower it to see a file carried over."""


class CommandRequest(Frozen):
    """A command for the workflow. Its ``at`` is replaced by the workflow's clock."""

    command: Command


class CommandResult(Frozen):
    """What an accepted command did: the new status and the events it recorded."""

    application_id: str
    status: Status
    version: int
    events: tuple[str, ...]


class ActionsQuery(Frozen):
    actor: Actor


class AllowedActions(Frozen):
    commands: tuple[str, ...]
