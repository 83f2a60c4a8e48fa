"""``guichet attach-document`` and ``guichet document``: documents from and to the command line.

Attaching keeps the bytes in the event log's database first (by their hash, so a retry costs
nothing), then sends ``AttachDocument`` to the workflow. Taking one back checks that the file
names it and that the bytes still hash to what the log recorded before writing them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, cast, get_args

import typer
from pydantic import ValidationError

from console.app import AsOption, JsonOption, app, emit_json, friendly, say
from console.auditing import with_log
from console.connection import run_with_client
from console.documents import DocumentRefused, keep_document, served_document
from console.errors import CliError, usage_error
from console.parsing import parse_actor, problems
from domain.commands import AttachDocument
from domain.decider import fold
from domain.documents import ACCEPTED_FORMATS, MAX_DOCUMENT_BYTES, Document, DocumentKind
from domain.events import parse_event
from eventlog import EventLog
from eventlog.documents import DocumentStore
from workflows.client import GuichetClient
from workflows.messages import CommandResult

KINDS = get_args(DocumentKind)
LIMIT_MB = MAX_DOCUMENT_BYTES // 1_000_000


@app.command("attach-document", rich_help_panel="Act on an application")
@friendly
def attach_document(
    application_id: Annotated[str, typer.Argument(metavar="ID", help="The application id.")],
    path: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help=f"The document: {', '.join(ACCEPTED_FORMATS)}, {LIMIT_MB} MB at most.",
        ),
    ],
    kind: Annotated[str, typer.Option(help=f"What it is, one of: {', '.join(KINDS)}.")],
    as_: AsOption,
    note: Annotated[str, typer.Option(help="What it is for, on the file's timeline.")] = "",
    request_id: Annotated[
        str | None,
        typer.Option(help="Idempotency id: sent again with the same command, it runs once."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Attach a document to an application: a signed quote, the council's decision, a proof
    of expense, the award decision…

    The file records the document's SHA-256, inside the hash chain; its bytes are kept beside
    the log. The same bytes attached again change nothing. The other side hears of it by
    mail (the commune's document goes to the file's caseworker).

    Who may: applicant (its commune's files), caseworker, supervisor, cofinancer,
    payment_officer, while the file runs.

    Example: guichet attach-document dsil-detr-investissement-01053-3f2a9c1b7d4e devis.pdf
    --kind quote --note "Devis signé de la menuiserie" --as applicant:mairie-belley:01053
    """
    actor = parse_actor(as_)
    if kind not in KINDS:
        raise usage_error(f"--kind {kind!r}: choose one of {', '.join(KINDS)}")
    content = _read(path)
    request_id = request_id or str(uuid.uuid4())

    async def keep(log: EventLog) -> Document:
        store = DocumentStore(log.engine)
        return await keep_document(store, path.name, content, cast("DocumentKind", kind))

    try:
        document = with_log(keep)
        command = AttachDocument(actor=actor, at=datetime.now(UTC), document=document, note=note)
    except DocumentRefused as refused:
        raise usage_error(refused.message) from None
    except ValidationError as error:
        raise usage_error(f"attach-document: {problems(error)}") from None

    async def work(guichet: GuichetClient) -> CommandResult:
        return await guichet.act(application_id, command, request_id=request_id)

    result = run_with_client(work, request_id=request_id)
    if json_output:
        emit_json(
            {
                **result.model_dump(mode="json"),
                "request_id": request_id,
                "document": document.model_dump(mode="json"),
            }
        )
        return
    events = ", ".join(result.events) or "nothing new (already attached)"
    typer.echo(f"{result.application_id}: {result.status} ({events})")
    typer.echo(f"  {document.filename}  sha256 {document.sha256}")


def _read(path: Path) -> bytes:
    """The document's bytes; a path that cannot be read, or too large a file, is said."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise usage_error(f"{path}: {size:,} bytes; a document weighs {LIMIT_MB} MB at most")
        return path.read_bytes()
    except IsADirectoryError:
        raise usage_error(f"{path} is a folder: name the document's file") from None
    except OSError as error:
        raise usage_error(f"cannot read {path}: {error.strerror}") from None


@app.command("document", rich_help_panel="Submit and read")
@friendly
def document(
    application_id: Annotated[str, typer.Argument(metavar="ID", help="The application id.")],
    sha256: Annotated[
        str,
        typer.Argument(
            metavar="SHA256",
            help="The document's hash, as `guichet show` lists it (the first 12 characters do).",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to write it (default: its own name, in this folder)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace a file already at --output.")] = False,
) -> None:
    """Write one of an application's documents to a file, after checking that its bytes
    still hash to the SHA-256 the event log recorded when it was attached.

    Example: guichet document dsil-detr-investissement-01053-3f2a9c1b7d4e 9f2c41d0a7be
    """

    async def fetch(log: EventLog) -> tuple[str, bytes]:
        records = await log.read_stream(application_id)
        if not records:
            raise CliError(f"no application {application_id} in the event log", 1)
        state = fold(parse_event(record.data) for record in records)
        matching = [d.sha256 for d in state.documents if d.sha256.startswith(sha256.lower())]
        if len(matching) != 1:
            listed = ", ".join(f"{d.sha256[:12]} {d.filename}" for d in state.documents)
            which = "several documents start with" if matching else "no document has the hash"
            raise CliError(
                f"{application_id}: {which} {sha256}; its documents: {listed or 'none'}", 1
            )
        try:
            held, content = await served_document(state, DocumentStore(log.engine), matching[0])
        except DocumentRefused as refused:
            raise CliError(refused.message, 1) from None
        return held.filename, content

    if len(sha256) < 6:
        raise usage_error("SHA256: give at least its first 6 characters")
    filename, content = with_log(fetch)
    target = output or Path(filename)
    if target.exists() and not force:
        raise usage_error(f"{target} already exists: choose another --output, or pass --force")
    try:
        target.write_bytes(content)
    except OSError as error:
        raise CliError(f"cannot write {target}: {error.strerror}", 1) from None
    say(f"wrote {target} ({len(content):,} bytes, its SHA-256 as recorded)")
