"""The auditor's file of signed checkpoints, kept outside the database: written by
``guichet audit export-checkpoints``, read back by ``guichet audit verify --checkpoints`` and
the console's journal page. What a checkpoint signs and how the log stores them is
``eventlog.checkpoints``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from audit.writing import Replacement
from eventlog.canonical import format_timestamp
from eventlog.checkpoints import Checkpoint

FILE_FORMAT = "guichet-checkpoints-v1"


class CheckpointError(Exception):
    """A checkpoint file cannot be read or written; the message says which and why."""


def export_file(checkpoints: list[Checkpoint], path: Path, exported_at: datetime) -> None:
    """Write checkpoints to a JSON file the auditor keeps outside the database."""
    document = {
        "format": FILE_FORMAT,
        "exported_at": format_timestamp(exported_at),
        "checkpoints": [c.model_dump(mode="json") for c in checkpoints],
    }
    try:  # whole or not at all: an earlier copy the auditor kept is never half overwritten
        with Replacement(path) as handle:
            handle.write(json.dumps(document, indent=2) + "\n")
    except OSError as error:
        raise CheckpointError(f"cannot write {path}: {error.strerror}") from None


def read_file(path: Path) -> list[Checkpoint]:
    """The checkpoints of a file written by :func:`export_file`."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CheckpointError(f"cannot read {path}: {error.strerror}") from None
    return parse_export(data, str(path))


def parse_export(data: bytes, where: str) -> list[Checkpoint]:
    """The checkpoints of an export's content (``where``: how messages name it)."""
    try:
        document = json.loads(data.decode("utf-8"))
    except ValueError:  # not UTF-8 or not JSON
        raise CheckpointError(f"{where} is not JSON: is it a checkpoints export?") from None
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
        raise CheckpointError(f"{where} is not a checkpoints export ({FILE_FORMAT})")
    try:
        return [Checkpoint.model_validate(item) for item in document.get("checkpoints", [])]
    except ValidationError as error:
        problem = error.errors()[0]["msg"]
        raise CheckpointError(f"{where} holds a malformed checkpoint: {problem}") from None
