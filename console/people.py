"""Commands to submit, list and read applications: ``submit``, ``list``, ``show``."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, get_args
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from temporalio.service import RPCError

from audit.describing import last_day_iso
from console.acting import check_actor
from console.app import AsOption, JsonOption, app, emit_json, friendly, say
from console.connection import resolve_target, run_with_client
from console.deadlines import deadline_filter
from console.errors import CliError, usage_error
from console.parsing import (
    INSEE_CODE,
    check_application_id,
    check_department,
    load_document,
    parse_actor,
    problems,
)
from console.reading import read_file_view, render_file
from console.web.statuses import ENDED
from domain.actor import ACCOUNT_NAME
from domain.catalogue import load_catalogue
from domain.commands import RULES, ApplicationRequest, contact_email_problem
from domain.errors import DomainError
from domain.labels import LABEL
from domain.registry import load_registry
from domain.rules.eligibility import assert_eligible
from domain.rules.financing import plan_verdicts_shown
from domain.state import Status
from domain.verdict import RuleVerdict
from workers.settings import registry_with_conventions
from workflows.client import GuichetClient, application_id_for
from workflows.client_errors import NoWorker
from workflows.listing import ApplicationSummary
from workflows.messages import Submission

PARIS = ZoneInfo("Europe/Paris")
SETTLE_SECONDS = 10.0


def content_key(request: ApplicationRequest) -> str:
    """An idempotency key from the request itself: the same file submitted twice is one file."""
    canonical = request.model_dump_json(exclude_none=False)
    return "content-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def read_request(path: Path) -> ApplicationRequest:
    """The ApplicationRequest held by a JSON or TOML file."""
    try:
        request = ApplicationRequest.model_validate(load_document(path))
    except ValidationError as error:
        raise usage_error(f"{path} is not a valid request: {problems(error)}") from None
    if (unreachable := contact_email_problem(request)) is not None:
        raise usage_error(f"{path}: {unreachable.message}")
    return request


def precheck(
    request: ApplicationRequest, conventions_file: Path | None = None, today: date | None = None
) -> None:
    """The eligibility rules, locally, on the same reference data as the worker (its signed
    conventions included: ``GUICHET_CONVENTIONS_FILE``, or the running ``guichet dev``'s)."""
    catalogue = load_catalogue()
    if catalogue.get(request.programme_id) is None:
        known = ", ".join(p.id for p in catalogue.programmes)
        raise usage_error(
            f"programme_id {request.programme_id!r} is no programme of the catalogue ({known})"
        )
    try:
        assert_eligible(
            request,
            registry_with_conventions(conventions_file).get(request.insee),
            catalogue.get(request.programme_id),
            today or datetime.now(PARIS).date(),
        )
    except DomainError as error:
        raise CliError(f"not eligible: {error.message} [{error.rule}; {error.source}]") from None


def failing_plan_rules(request: ApplicationRequest) -> list[RuleVerdict]:
    """The financing plan's rules the request fails, as the file will show them: the request
    is still taken (a caseworker may ask for a corrected plan), but not in silence."""
    commune = load_registry().get(request.insee)
    programme = load_catalogue().get(request.programme_id)
    if commune is None or programme is None:
        return []
    plan = request.with_dotations_named().plan
    shown = plan_verdicts_shown(plan, programme, commune, rules=RULES)  # submitted under them
    return [v for v in shown if v.outcome == "fail"]


@app.command(rich_help_panel="Submit and read")
@friendly
def submit(
    file: Annotated[Path, typer.Argument(help="A JSON or TOML file holding the request.")],
    as_: AsOption,
    key: Annotated[
        str | None,
        typer.Option(
            help="Idempotency key, 8 to 200 characters (default: derived from the file's "
            "content); a new one submits the same request again, e.g. after a withdrawal."
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Submit a grant request; eligibility is checked here first, then by Guichet.

    Re-running the same command is safe: the key derived from the content lands on the same
    application. examples/request-detr.toml, in the repository, is a commented request to
    start from.

    Example: guichet submit examples/request-detr.toml --as applicant:mairie-belley:01034
    """
    actor = parse_actor(as_)
    request = read_request(file)
    target = resolve_target()
    precheck(request, target.conventions_file)
    if key is not None and (key != key.strip() or not key.strip()):
        raise usage_error(f"--key {key!r}: a key has no space at its ends, and is not blank")
    idempotency_key = key or content_key(request)
    try:
        submission = Submission(
            application_id=application_id_for(request.programme_id, request.insee, idempotency_key),
            idempotency_key=idempotency_key,
            actor=actor,
            request=request,
        )
    except ValidationError as error:
        raise usage_error(f"cannot submit: {problems(error)}") from None

    async def work(guichet: GuichetClient) -> tuple[str, bool, str, NoWorker | None]:
        named = await check_actor(target.event_log_url, actor)
        application_id, created = await guichet.submit(submission.replaced({"actor": named}))
        # The workflow looks eligibility up, then records the submission: wait for it briefly.
        status = "draft"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_SECONDS
        while status == "draft" and loop.time() < deadline:
            try:
                status = (await guichet.state(application_id)).status
            except NoWorker as waiting:  # the request is taken: it waits for a worker
                return application_id, created, status, waiting
            if status == "draft":
                await asyncio.sleep(0.2)
        return application_id, created, status, None

    application_id, created, status, waiting = run_with_client(work, target=target)
    failing = failing_plan_rules(request)
    if waiting is not None:
        typer.echo(
            f"guichet: {application_id} is taken and will be checked once a worker runs: {waiting}",
            err=True,
        )
    ended = not created and status in ENDED
    again = (
        f"this request was submitted before, and that file is {status}; to submit it again as "
        "a new file, send it with --key and a new key (8 characters or more)"
    )
    if json_output:
        emit_json({"application_id": application_id, "created": created, "status": status,
                   "idempotency_key": idempotency_key,
                   "failing_rules": [v.model_dump() for v in failing],
                   "note": again if ended else None})  # fmt: skip
        return
    verb = "submitted" if created else "already submitted"
    typer.echo(f"{application_id}: {status} ({verb})")
    if ended:
        say(f"note: {again}")
    for verdict in failing:
        say(f"warning: the plan fails {verdict.rule}: {verdict.message}")


STATUSES: tuple[str, ...] = get_args(Status)


def _check_list_filters(
    status: str | None, insee: str | None, department: str | None, caseworker: str | None
) -> None:
    """A value no file can carry (« submited », « 1 » for the Ain, « Alice ») listed nothing
    and exited 0, as if no file matched: said, exit 2. A programme is not checked here (files
    of a programme retired from the catalogue are still listed): an empty list names the
    catalogue's."""
    if status is not None and status not in STATUSES:
        raise usage_error(f"--status {status!r}: use one of {', '.join(STATUSES)}")
    if insee is not None and not INSEE_CODE.fullmatch(insee):
        raise usage_error(f"--insee {insee!r} is no INSEE code: five characters, e.g. 01033, 2A004")
    check_department(department)
    if department is not None and department not in load_registry().departments():
        raise usage_error(
            f"--department {department}: no commune of the registry is in it (codes as INSEE "
            "writes them: 01, 2A, 974)"
        )
    if caseworker is not None and not re.fullmatch(ACCOUNT_NAME, caseworker):
        raise usage_error(
            f"--caseworker {caseworker!r}: write the id as the caseworker signs in: 2 to 64 "
            "lowercase letters, digits, « . », « _ » or « - » (e.g. alice)"
        )


def _label(typed: str) -> str:
    """The label as files carry it (``domain.labels``: « attente d'avis » is stored with the
    French apostrophe), or the reason it cannot be one."""
    try:
        return LABEL.validate_python(typed)
    except ValidationError as error:
        raise usage_error(f"--label {typed!r}: {error.errors()[0]['msg']}") from None


def _quoted(option: str, value: str) -> str:
    if "'" in value or "\\" in value:
        raise usage_error(f"{option} {value!r}: quotes and backslashes are not allowed")
    return f"'{value}'"


@app.command("list", rich_help_panel="Submit and read")
@friendly
def list_(
    status: Annotated[str | None, typer.Option(help="e.g. submitted, in_instruction.")] = None,
    programme: Annotated[str | None, typer.Option(help="Programme id.")] = None,
    insee: Annotated[str | None, typer.Option(help="Commune INSEE code.")] = None,
    department: Annotated[str | None, typer.Option(help="Department code, e.g. 01.")] = None,
    caseworker: Annotated[str | None, typer.Option(help="Caseworker id.")] = None,
    label: Annotated[
        str | None, typer.Option(help="Files carrying this label, e.g. 'dossier complexe'.")
    ] = None,
    due_within: Annotated[
        str | None, typer.Option(help="Next deadline within 48h, 7d, 2w… (running files).")
    ] = None,
    overdue: Annotated[bool, typer.Option(help="Next deadline already passed.")] = False,
    limit: Annotated[
        int, typer.Option(min=1, max=10_000, help="At most this many files, newest first.")
    ] = 200,
    json_output: JsonOption = False,
) -> None:
    """List applications through Temporal visibility (search attributes).

    Example: guichet list --status in_instruction --department 01
    Example: guichet list --caseworker alice --due-within 7d --overdue
    Example: guichet list --label "attente d'avis"
    """
    _check_list_filters(status, insee, department, caseworker)
    filters = {
        "GuichetStatus": ("--status", status),
        "GuichetProgramme": ("--programme", programme),
        "GuichetInsee": ("--insee", insee),
        "GuichetDepartment": ("--department", department),
        "GuichetCaseworker": ("--caseworker", caseworker),
        "GuichetLabels": ("--label", _label(label) if label is not None else None),
    }
    clauses = [
        f"{key} = {_quoted(option, value)}"
        for key, (option, value) in filters.items()
        if value is not None
    ]
    deadline = deadline_filter(datetime.now(PARIS), due_within, overdue)
    query = " AND ".join([*clauses, deadline] if deadline else clauses)

    async def work(guichet: GuichetClient) -> tuple[list[ApplicationSummary], int, str]:
        rows = await guichet.list(query, limit=limit)
        matching = await guichet.count(query) if len(rows) >= limit else len(rows)
        try:  # visibility needs no worker: say when none runs, or the files seem fine
            missing = await guichet.missing_worker()
        except RPCError:
            missing = None  # the listing answered: a look that failed must not hide it
        return rows, matching, str(missing or "")

    rows, matching, no_worker = run_with_client(work)
    if matching > len(rows):  # on stderr: --json's output stays the list alone
        say(f"{matching:,} files match; the {len(rows):,} most recent are listed: add filters "
            "or raise --limit")  # fmt: skip
    if no_worker:
        say(f"note: {no_worker}")
    programmes = [p.id for p in load_catalogue().programmes]
    if not rows and programme is not None and programme not in programmes:
        # A typo, or a retired programme: on stderr, so that --json's output stays the list.
        say(f"note: {programme!r} is no programme of the catalogue ({', '.join(programmes)})")
    if json_output:
        emit_json([asdict(row) for row in rows])
        return
    if not rows:
        typer.echo("no application matches")
        return
    typer.echo(
        f"{'APPLICATION':<48} {'STATUS':<22} {'INSEE':<6} {'DEP':<4} {'CASEWORKER':<16} UNTIL"
    )
    for row in rows:
        # The next deadline's last day, as `show` gives it (it expires at midnight after it).
        due = last_day_iso(row.next_deadline) if row.next_deadline else ""
        carried = f"  [{', '.join(row.labels)}]" if row.labels else ""
        typer.echo(
            f"{row.application_id:<48} {row.status or '?':<22} {row.insee or '':<6} "
            f"{row.department or '':<4} {row.caseworker or '':<16} {due:<10}{carried}".rstrip()
        )


@app.command(rich_help_panel="Submit and read")
@friendly
def show(
    application_id: Annotated[str, typer.Argument(metavar="ID", help="The application id.")],
    json_output: JsonOption = False,
) -> None:
    """Show one application: status, plan and rule verdicts, payments, timeline.

    The timeline comes from the event log: time, actor and role, what happened. Amounts are
    in euros; --json keeps exact cents.

    Example: guichet show dsil-detr-investissement-01053-3f2a9c1b7d4e --json
    """
    check_application_id(application_id)
    target = resolve_target()
    view = run_with_client(lambda guichet: read_file_view(guichet, target, application_id))
    if json_output:
        emit_json(view)
        return
    typer.echo(render_file(view))
