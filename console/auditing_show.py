"""``guichet audit show``: a file's timeline and state as of a date or a log position, its
events checked against the hash chain, with notes on who acted."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, NamedTuple

import sqlalchemy as sa
import typer

from audit.describing import format_euros
from audit.exporting import utc_text
from audit.file_checks import check_files, with_documents
from audit.findings import AuditReport
from audit.timeline import TimelineEntry, state_as_of, state_json, timeline
from console.app import JsonOption, emit_json, friendly
from console.auditing import (
    AsOfOption,
    PositionOption,
    audit_app,
    parse_as_of,
    tamper_warning,
    with_log,
)
from console.errors import EXIT_REFUSED, CliError, usage_error
from console.web.accounts import Account, AccountStore
from domain.french import person
from domain.state import Application
from eventlog import EventLog, EventLogError

MAX_POSITION = 2**63 - 1
"""The largest position a log can hold (a signed 64-bit integer, in both databases)."""


def _render_state(state: dict[str, Any]) -> list[str]:
    request = state.get("request") or {}
    commune = state.get("commune") or {}
    out = [f"status      {state['status']} (version {state['version']})"]
    if request:
        out.append(f"project     {request['project_title']} — {request['programme_id']}")
    if commune:
        out.append(
            f"commune     {commune['name']} ({commune['insee']}), dep. {commune['department']}"
        )
    if state.get("caseworker_id"):
        out.append(f"caseworker  {state['caseworker_id']}")
    euros = format_euros
    out.append(
        f"award       {euros(state['award_cents'])}   paid {euros(state['paid_cents'])}   "
        f"repayment due {euros(state['repayment_due_cents'])}"
    )
    return out


def _render_timeline(entries: list[TimelineEntry]) -> list[str]:
    # Each time carries its zone (Z), so that pasting it into --as-of, which reads a moment
    # without a zone as Paris time, lands on the same instant.
    out = ["", "timeline (UTC)"]
    for entry in entries:
        who = person(entry.actor_id, entry.actor_name, entry.role, entry.funder)
        out.append(f"  #{entry.position:<6} {utc_text(entry.at)}  {who:<34} {entry.summary}")
        for rule in entry.rules:
            source = f" [{rule.source}]" if rule.source else ""
            out.append(f"  {'':<28}rule {rule.rule}: {rule.outcome}{source}")
    return out


class _Shown(NamedTuple):
    """What ``audit show`` read: the file at the cut, where it begins, its check, and the
    console's accounts (who the actors are)."""

    entries: list[TimelineEntry]
    state: Application
    first: TimelineEntry
    check: AuditReport
    accounts: list[Account] | None
    """None: they could not be read (a log copied without them, an older schema)."""


async def _accounts(log: EventLog) -> list[Account] | None:
    try:
        return await AccountStore(log.engine).all()
    except (EventLogError, sa.exc.DBAPIError):
        return None


def actor_notes(entries: list[TimelineEntry], accounts: list[Account] | None) -> list[str]:
    """What an auditor should know of who acted: ids no console account has (the CLI's
    ``--as`` records any name on the operator's word: « payment_officer:ghost » ordered a
    payment), and acts after the actor's account was disabled."""
    people = [e for e in entries if e.role != "system"]
    if not people or accounts is None:
        return []
    if not accounts:
        return [
            "no console account exists: every actor of this file was recorded as named on the "
            "command line (--as), on the operator's word"
        ]
    known = {account.username: account for account in accounts}
    unknown = sorted({e.actor_id for e in people if e.actor_id not in known})
    notes = []
    if unknown:
        notes.append(
            f"actor(s) {', '.join(unknown)} have no console account: recorded as named on the "
            "command line (--as), on the operator's word; `guichet user list` gives the accounts"
        )
    for entry in people:
        account = known.get(entry.actor_id)
        if account and account.disabled_at and entry.at > account.disabled_at:
            notes.append(
                f"position {entry.position}: {entry.actor_id} acted after its account was "
                f"disabled ({utc_text(account.disabled_at)})"
            )
    return notes


@audit_app.command("show")
@friendly
def show(
    application_id: Annotated[
        str, typer.Argument(metavar="APPLICATION", help="The application id.")
    ],
    as_of: AsOfOption = None,
    position: PositionOption = None,
    json_output: JsonOption = False,
) -> None:
    """A file's timeline and its state as of a date or a log position (from the log only).

    The file's events are checked against the hash chain: exit code 1, after the view, when
    one does not match.

    Example: guichet audit show dsil-detr-investissement-01053-3f2a9c1b7d4e --as-of 2025-03-01
    """
    if as_of is not None and position is not None:
        raise usage_error("give --as-of or --position, not both")
    if position is not None and position > MAX_POSITION:
        raise usage_error(
            f"--position {position} is beyond any log: positions go up to {MAX_POSITION}"
        )
    moment = parse_as_of(as_of) if as_of is not None else None

    async def work(log: EventLog) -> _Shown:
        whole = await timeline(log, application_id)
        if not whole:
            raise CliError(f"no application {application_id} in the event log")
        entries = await timeline(log, application_id, as_of=moment, up_to_position=position)
        state = await state_as_of(log, application_id, at=moment, position=position)
        check = await check_files(log, [application_id])  # after the reads: it covers them
        check = await with_documents(log, check, [application_id])
        return _Shown(entries, state, whole[0], check, await _accounts(log))

    found = with_log(work)
    notes = []
    if position is not None and position > found.check.head_position:
        notes.append(
            f"the log ends at position {found.check.head_position}: this is the file as "
            "it stands now"
        )
    notes += actor_notes(found.entries, found.accounts)
    if json_output:
        _show_json(application_id, moment, position, found, notes)
    else:
        _show_text(application_id, moment, position, found, notes)
    if not found.check.ok:
        raise typer.Exit(EXIT_REFUSED)


def _show_json(
    application_id: str,
    moment: datetime | None,
    position: int | None,
    found: _Shown,
    notes: list[str],
) -> None:
    check = found.check
    emit_json(
        {
            "application_id": application_id,
            "as_of": moment.isoformat() if moment else None,
            "position": position,
            # No event yet at that cut: there was no file, not a draft.
            "state": state_json(found.state) if found.entries else None,
            "timeline": [entry.model_dump(mode="json") for entry in found.entries],
            "head_position": check.head_position,
            "notes": notes,
            "chain": {
                "ok": check.ok,
                "checked": check.checked,
                "findings": [f.model_dump(mode="json") for f in check.findings],
            },
        }
    )
    if not check.ok:  # stdout is the JSON: the warning goes beside it
        typer.echo("\n".join(tamper_warning(check, f"the file {application_id}")), err=True)


def _show_text(
    application_id: str,
    moment: datetime | None,
    position: int | None,
    found: _Shown,
    notes: list[str],
) -> None:
    cut = f" as of {moment.isoformat()}" if moment else ""
    cut += f" at position {position}" if position is not None else ""
    lines = [f"{application_id}{cut}", *(f"note: {note}" for note in notes)]
    if found.entries:
        lines += _render_state(state_json(found.state))
        lines += _render_timeline(found.entries)
    else:
        first = found.first
        lines.append(
            f"no event yet: the file begins at position {first.position}, {utc_text(first.at)}"
        )
    if not found.check.ok:
        lines += ["", *tamper_warning(found.check, f"the file {application_id}")]
    typer.echo("\n".join(lines))
