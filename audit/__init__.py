"""The auditor's read API: what every file looked like at any moment, who did what under
which rule, and whether the record was altered after the fact.

Functions, not CLI parsing: ``guichet audit`` and the web console both call them.

    entries = await timeline(log, "app-42", as_of=datetime(2025, 3, 1, tzinfo=UTC))
    state = await state_as_of(log, "app-42", position=120)
    async for state in states_as_of(log, at=datetime(2025, 12, 31, 23, 59, tzinfo=UTC)): ...
    report = await verify(log, read_file(Path("checkpoints.json")), trusted=public_key)
"""

from audit.checkpoints import CheckpointError, read_file
from audit.crosscheck import Difference, cross_check
from audit.describing import describe, format_euros
from audit.exporting import export, parse_jsonl, select_applications
from audit.file_checks import verify_file
from audit.findings import AuditReport, Finding
from audit.portfolio import export_states, states_as_of
from audit.timeline import CitedRule, TimelineEntry, state_as_of, timeline
from audit.verifying import verify
from eventlog.checkpoints import Checkpoint, checkpoint_now, sign, stored
from eventlog.signing import SigningKeyError, signing_key_from_env

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
    "export_states",
    "format_euros",
    "parse_jsonl",
    "read_file",
    "select_applications",
    "sign",
    "signing_key_from_env",
    "state_as_of",
    "states_as_of",
    "stored",
    "timeline",
    "verify",
    "verify_file",
]
