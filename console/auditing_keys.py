"""``guichet audit`` key and checkpoint commands: keygen, export-key, checkpoint,
export-checkpoints, schedule-checkpoints.

The private key is never printed, logged or put in an error message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoints import CheckpointError, export_file
from audit.scheduling import DEFAULT_EVERY, MINIMUM_EVERY, SCHEDULE_ID, schedule_checkpoints
from console.app import JsonOption, emit_json, friendly, say
from console.auditing import audit_app, with_log
from console.connection import run_with_client
from console.errors import CliError, usage_error
from eventlog import EventLog
from eventlog.checkpoints import Checkpoint, checkpoint_now, stored
from eventlog.signing import (
    KEY_FILE_VARIABLE,
    KEY_VARIABLE,
    SigningKeyError,
    key_id,
    public_key_pem,
    public_key_text,
    signing_key_configured,
    signing_key_from_env,
    write_new_key,
)
from workflows.client import GuichetClient

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MAXIMUM_EVERY = timedelta(days=366)
"""Past a year an interval is a typo, not a schedule."""


def parse_every(text: str, option: str = "--every") -> timedelta:
    """``90s``, ``15m``, ``1h``, ``1d``: at least one minute, at most a year (errors name
    ``option``; ``99999999999d`` overflowed ``timedelta`` into an « unexpected error »)."""
    match = _DURATION.match(text.lower())
    if match is None:
        raise usage_error(f"{option} {text!r} is not a duration: write 15m, 1h or 1d")
    digits, unit = match.group(1).lstrip("0") or "0", _UNITS[match.group(2)]
    if len(digits) > 9 or (every := timedelta(**{unit: int(digits)})) > MAXIMUM_EVERY:
        raise usage_error(f"{option} {text!r} is too long: at most 366d")
    if every < MINIMUM_EVERY:
        raise usage_error(f"{option} {text!r} is too short: at least 1m")
    return every


def describe_every(every: timedelta) -> str:
    """``timedelta(minutes=30)`` → ``30m``: an interval as ``--every`` takes it."""
    seconds = int(every.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def configured_key() -> Ed25519PrivateKey:
    """The signing key from the environment, or a sentence saying how to configure one."""
    try:
        key = signing_key_from_env()
    except SigningKeyError as error:
        raise usage_error(str(error)) from None
    if key is None:
        raise usage_error(
            f"no signing key: set {KEY_FILE_VARIABLE} (create one with `guichet audit keygen "
            f"FILE`) or {KEY_VARIABLE}"
        )
    return key


@audit_app.command("keygen")
@friendly
def keygen(
    file: Annotated[Path, typer.Argument(help="Where to write the new private key (PEM).")],
    force: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """Create a new Ed25519 signing key in FILE (mode 0600); prints only its public key.

    Example: guichet audit keygen /etc/guichet/signing.pem
    """
    try:
        public = write_new_key(file, overwrite=force)
    except SigningKeyError as error:
        if not force and file.exists():  # eventlog.signing's sentence does not know our option
            raise usage_error(
                f"{file} already exists: choose another file, or pass --force to replace it "
                "(the key it holds is then lost, and checkpoints it signed verify only with "
                "its public key)"
            ) from None
        raise usage_error(str(error)) from None
    say(f"private key written to {file} (mode 0600): set {KEY_FILE_VARIABLE}={file}")
    typer.echo(public_key_text(public))


@audit_app.command("export-key")
@friendly
def export_key(
    pem: Annotated[bool, typer.Option("--pem", help="PEM instead of base64.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Print the public key of the configured signing key, for auditors to verify with.

    Example: guichet audit export-key --pem > guichet.pub
    """
    public = configured_key().public_key()
    if json_output:
        emit_json({"key_id": key_id(public), "public_key": public_key_text(public)})
        return
    typer.echo(public_key_pem(public).rstrip("\n") if pem else public_key_text(public))


def _checkpoint_line(checkpoint: Checkpoint) -> str:
    return (
        f"position {checkpoint.position}  hash {checkpoint.hash}  "
        f"signed {checkpoint.signed_at.isoformat()}  key {checkpoint.key_id}"
    )


@audit_app.command("checkpoint")
@friendly
def checkpoint(json_output: JsonOption = False) -> None:
    """Sign the head of the chain now with the configured key and store the checkpoint.

    Example: GUICHET_SIGNING_KEY_FILE=signing.pem guichet audit checkpoint
    """
    key = configured_key()

    async def work(log: EventLog) -> tuple[Checkpoint | None, bool]:
        await log.migrate()  # the checkpoints table may be newer than this database
        return await checkpoint_now(log, key, datetime.now(UTC))

    signed, created = with_log(work)
    if signed is None:
        raise CliError("the event log is empty: nothing to sign yet")
    if json_output:
        emit_json({"created": created, **signed.model_dump(mode="json")})
        return
    typer.echo(("signed " if created else "already signed ") + _checkpoint_line(signed))


@audit_app.command("export-checkpoints")
@friendly
def export_checkpoints(
    file: Annotated[Path, typer.Argument(help="The JSON file to write.")],
    force: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """Write every stored checkpoint to FILE: keep it outside the database.

    An existing FILE is refused unless --force: it may be the evidence an auditor kept, and
    a log whose checkpoints were deleted would replace it with fewer.

    Example: guichet audit export-checkpoints checkpoints-2025-03.json
    """
    if file.is_file() and not force:  # a device or a pipe (/dev/stdout) replaces nothing
        raise usage_error(
            f"{file} already exists: it may be checkpoints kept as evidence; write to a new "
            "file, or pass --force to replace it"
        )
    found = with_log(stored)
    try:
        export_file(found, file, datetime.now(UTC))
    except CheckpointError as error:
        raise usage_error(str(error)) from None
    typer.echo(f"{len(found)} checkpoint(s) written to {file}")


@audit_app.command("schedule-checkpoints")
@friendly
def schedule_checkpoints_command(
    every: Annotated[str, typer.Option(help="Interval: 15m, 1h, 1d.")] = "1h",
) -> None:
    """Sign a checkpoint at a fixed interval (a Temporal Schedule run by the workers).

    The workers sign, so they need GUICHET_SIGNING_KEY_FILE or GUICHET_SIGNING_KEY. Running it
    again changes the interval.

    Example: guichet audit schedule-checkpoints --every 1h
    """
    interval = parse_every(every)

    async def work(guichet: GuichetClient) -> bool:
        return await schedule_checkpoints(
            guichet.temporal, task_queue=guichet.task_queue, every=interval
        )

    created = run_with_client(work)
    verb = "created" if created else "updated"
    typer.echo(f"schedule {SCHEDULE_ID} {verb}: a checkpoint every {describe_every(interval)}")
    if not signing_key_configured():
        say(f"reminder: the workers need {KEY_FILE_VARIABLE} or {KEY_VARIABLE} to sign")


__all__ = ["DEFAULT_EVERY", "configured_key", "describe_every", "parse_every"]
