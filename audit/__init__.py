"""The auditor's read API: what every file looked like at any moment, who did what under
which rule, and whether the record was altered after the fact.

Functions, not CLI parsing: ``guichet audit`` and the web console both call them.

    entries = await timeline(log, "app-42", as_of=datetime(2025, 3, 1, tzinfo=UTC))
    state = await state_as_of(log, "app-42", position=120)
    report = await verify(log, read_file(Path("checkpoints.json")), trusted=public_key)
"""

from audit.checkpoints import Checkpoint, CheckpointError, checkpoint_now, read_file, sign, stored
from audit.crosscheck import Difference, cross_check
from audit.describing import describe, format_euros
from audit.exporting import export, parse_jsonl, select_applications
from audit.signing import SigningKeyError, signing_key_from_env
from audit.timeline import CitedRule, TimelineEntry, state_as_of, timeline
from audit.verifying import AuditReport, Finding, verify

__all__ = [
    "AuditReport",
    "Checkpoint",
    "CheckpointError",
    "CitedRule",
    "Difference",
    "Finding",
    "SigningKeyError",
    "TimelineEntry",
    "checkpoint_now",
    "cross_check",
    "describe",
    "export",
    "format_euros",
    "parse_jsonl",
    "read_file",
    "select_applications",
    "sign",
    "signing_key_from_env",
    "state_as_of",
    "stored",
    "timeline",
    "verify",
]
