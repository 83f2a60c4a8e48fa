"""The workflows a Guichet worker registers: the one list the worker (``worker.build_worker``)
and the auditor's replayer (``audit.replaying``) share, so that a history replays on exactly
what runs it. It lives here, with the workflows, so that the auditor does not import the
composition root."""

from __future__ import annotations

from workflows.checkpoint import CheckpointWorkflow
from workflows.digest import DailyDigestWorkflow
from workflows.grant_application import GrantApplicationWorkflow
from workflows.redelivery import NoticeRedeliveryWorkflow


def workflow_classes() -> list[type]:
    """Every workflow a Guichet worker runs.

    A function, not a constant: the names are read when it is called, so a script can
    substitute one class (tests/histories/incompatible/ patches ``GrantApplicationWorkflow``
    in this module).
    """
    return [
        GrantApplicationWorkflow,
        CheckpointWorkflow,
        DailyDigestWorkflow,
        NoticeRedeliveryWorkflow,
    ]
