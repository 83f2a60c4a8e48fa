"""``guichet attach-document`` and ``guichet document``: documents from and to the command line.

Attaching decides the command on the file's state first (nothing is kept for a refused one:
kept bytes are never deleted), keeps the bytes in the event log's database by their hash (a
retry costs nothing), then sends ``AttachDocument`` to the workflow. Taking one back checks
that the file names it and that the bytes still hash to what the log recorded.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, cast, get_args

import typer
from pydantic import ValidationError

from console.acting import check_actor
from console.app import AsOption, JsonOption, app, emit_json, friendly, say
from console.auditing import with_log
from console.connection import resolve_target, run_with_client
from console.documents import DocumentRefused, attach, document_from, served_document
from console.errors import CliError, usage_error
from console.parsing import parse_actor, problems
from domain.commands import AttachDocument
from domain.decider import fold
from domain.decider_documents import kind_refused
from domain.documents import ACCEPTED_FORMATS, MAX_DOCUMENT_BYTES, Document, DocumentKind
from domain.events import parse_event
from eventlog import EventLog, EventLogError
from eventlog.documents import DocumentStore
from workflows.client import GuichetClient

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
    the log; its name keeps an extension of the format read from its bytes. The same bytes
    attached again change nothing. The other side hears of it by mail: the commune's
    document goes to the file's caseworker, the services' to the commune, a co-financer's
    or the payment officer's to the caseworker. Nothing is kept when the file would refuse
    the document.

    Who may: applicant (its commune's files), caseworker, supervisor, cofinancer,
    payment_officer, while the file runs.

    Example: guichet attach-document dsil-detr-investissement-01053-3f2a9c1b7d4e devis.pdf
    --kind quote --note "Devis signé de la menuiserie" --as applicant:mairie-belley:01053
    """
    actor = parse_actor(as_)
    if kind not in KINDS:
        raise usage_error(f"--kind {kind!r}: choose one of {', '.join(KINDS)}")
    # For every file: the domain refuses it only to files submitted under rules 4.
    if (wrong_kind := kind_refused(actor, cast("DocumentKind", kind))) is not None:
        raise usage_error(f"--kind {kind}: {wrong_kind.message}")
    content = _read(path)
    request_id = request_id or str(uuid.uuid4())
    try:
        document = asyncio.run(document_from(path.name, content, cast("DocumentKind", kind)))
        command = AttachDocument(actor=actor, at=datetime.now(UTC), document=document, note=note)
    except DocumentRefused as refused:
        raise usage_error(refused.message) from None
    except ValidationError as error:
        raise usage_error(f"attach-document: {problems(error)}") from None
    target = resolve_target()

    async def work(guichet: GuichetClient) -> tuple[Document, bool]:
        named = command.replaced({"actor": await check_actor(target.event_log_url, actor)})
        state = await guichet.state(application_id)
        log = EventLog.from_url(target.event_log_url)
        try:
            store = DocumentStore(log.engine)
            return await attach(guichet, store, state, named, content, request_id=request_id)
        except EventLogError as error:
            raise CliError(f"the document could not be kept: {error}") from None
        finally:
            await log.close()

    held, new = run_with_client(work, target=target, request_id=request_id)
    if json_output:
        emit_json(
            {
                "application_id": application_id,
                "attached": new,
                "document": held.model_dump(mode="json"),
                "request_id": request_id,
            }
        )
        return
    said = "attached" if new else "already attached: nothing new (its first name and kind stay)"
    typer.echo(f"{application_id}: {said}")
    typer.echo(f"  {held.filename}  sha256 {held.sha256}")


def _read(path: Path) -> bytes:
    """The document's bytes: a regular file, read up to the limit and a byte more (a device
    or a pipe would never end); a path that cannot be read, or too large a file, is said."""
    try:
        if not path.is_file():
            what = "a folder" if path.is_dir() else "not a regular file"
            raise usage_error(f"{path} is {what}: name the document's file")
        with path.open("rb") as opened:
            content = opened.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as error:
        raise usage_error(f"cannot read {path}: {error.strerror}") from None
    if len(content) > MAX_DOCUMENT_BYTES:
        raise usage_error(f"{path}: over {MAX_DOCUMENT_BYTES:,} bytes; a document weighs "
                          f"{LIMIT_MB} MB at most")  # fmt: skip
    return content


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
            "--output",
            "-o",
            help="Where to write it: a file, a folder (under its own name), or - for the "
            "standard output (default: its own name, in this folder).",
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
            listed = "".join(f"\n  {d.sha256[:12]}  {d.filename}" for d in state.documents)
            which = "several documents start with" if matching else "no document has the hash"
            raise CliError(
                f"{application_id}: {which} {sha256}; its documents:{listed or ' none'}", 1
            )
        try:
            held, content = await served_document(state, DocumentStore(log.engine), matching[0])
        except DocumentRefused as refused:
            raise CliError(refused.message, 1) from None
        return held.filename, content

    if len(sha256) < 6:
        raise usage_error("SHA256: give at least its first 6 characters")
    filename, content = with_log(fetch)
    if output == Path("-"):
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return
    target = output / filename if output is not None and output.is_dir() else output
    target = target or Path(filename)
    try:
        if target.exists() and not force:
            raise usage_error(f"{target} already exists: choose another --output, or pass --force")
        target.write_bytes(content)
    except OSError as error:
        raise CliError(f"cannot write {target}: {error.strerror}", 1) from None
    say(f"wrote {target} ({len(content):,} bytes, its SHA-256 as recorded)")
