"""Composition root: the worker with every workflow and activity, run until a stop signal
(settings, logging and the Temporal client: the ``workers`` package beside it).

``python worker.py`` (or ``guichet worker``) runs a worker against the Temporal server and the
event log named by the environment; ``guichet dev`` runs the same worker on embedded defaults.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from typing import Any, NoReturn

import pydantic
import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.checkpointing import CheckpointSigner
from activities.digest import DEFAULT_STALE_DAYS, DigestActivities
from activities.directory import Directory
from activities.eligibility import ReferenceData
from activities.ledger import LedgerGateway
from activities.mail import Mailer
from activities.outbox import Outbox
from activities.payments import PaymentActivities, PaymentGateway
from activities.recording import EventRecorder
from console.stop_signal import catch_stop_signals
from domain.catalogue import load_catalogue
from domain.programme import Catalogue
from domain.registry import CommuneRegistry
from eventlog import EventLog
from workers.connection import connect
from workers.settings import Settings, check_signing_key
from workflows.client import GuichetClient
from workflows.namespace_check import search_attribute_problems
from workflows.registration import workflow_classes

GRACEFUL_SHUTDOWN = timedelta(seconds=30)


def build_worker(
    client: Client,
    *,
    task_queue: str,
    log: EventLog,
    registry: CommuneRegistry,
    catalogue: Catalogue,
    gateway: PaymentGateway | None = None,
    mailer: Mailer | None = None,
    directory: Directory | None = None,
    digest_stale_days: int = DEFAULT_STALE_DAYS,
    console_url: str | None = None,
    **options: Any,
) -> Worker:
    """The worker with every workflow and activity of Guichet.

    On SIGTERM, in-flight activities (a payment, an append) get ``GRACEFUL_SHUTDOWN`` to
    finish; the deployment's grace period is longer. ``options`` go to Temporal's ``Worker``
    (tests use ``max_cached_workflows=0`` to play a worker that dies without its sticky
    cache being missed).
    """
    options.setdefault("graceful_shutdown_timeout", GRACEFUL_SHUTDOWN)
    recorder = EventRecorder(log)
    reference = ReferenceData(registry, catalogue)
    payments = PaymentActivities(gateway or LedgerGateway(log.engine))
    outbox = Outbox(log.engine, mailer=mailer, directory=directory, console_url=console_url)
    digests = DigestActivities(
        GuichetClient(client, task_queue),
        log=log,
        stale_days=digest_stale_days,
        catalogue=catalogue,
        registry=registry,
    )
    checkpoints = CheckpointSigner(log)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=workflow_classes(),
        activities=[
            recorder.record_events,
            reference.look_up_eligibility,
            payments.disburse_payment,
            outbox.enqueue_notices,
            outbox.deliver_notices,
            outbox.redeliver_stale_notices,
            digests.collect_digests,
            checkpoints.sign_checkpoint,
        ],
        # A payload that fails validation must fail the workflow, not retry its task forever
        # (sdk-python issue #815).
        workflow_failure_exception_types=[pydantic.ValidationError],
        **options,
    )


def worker_for(
    client: Client,
    settings: Settings,
    log: EventLog,
    *,
    registry: CommuneRegistry | None = None,
    **options: Any,
) -> Worker:
    """The worker as the settings describe it: reference data, mail, digest, log.
    ``registry``: the settings' own, already read (``Settings.registry``)."""
    return build_worker(
        client,
        task_queue=settings.task_queue,
        log=log,
        registry=registry or settings.registry(),
        catalogue=load_catalogue(),
        mailer=settings.mailer(),
        directory=settings.directory(),
        digest_stale_days=settings.digest_stale_days,
        console_url=str(settings.console_url) if settings.console_url else None,
        **options,
    )


class NamespaceNotReady(Exception):
    """The namespace lacks Guichet's search attributes: every file would fail its first
    workflow task, again and again, so the worker does not start."""


async def run_worker(settings: Settings, client: Client | None = None) -> None:
    """Run until SIGTERM or SIGINT, then finish in-flight tasks and stop; returns (the process
    then ends with 0) once they are done, or ends the process with 128 + the signal's number
    at a second signal (``_abandon_in_flight``)."""
    logger = structlog.get_logger("guichet.worker")
    # The files the settings name are read first: one that cannot be used is said at once,
    # not once Temporal and the database have answered.
    registry = settings.registry()
    settings.directory()
    check_signing_key()
    if settings.smtp is None:
        # Once, at start, where an operator reads: each notice's own line is at INFO, and the
        # rows say delivered. `guichet dev` builds its worker with `worker_for`, not here: there
        # the log is where notices are meant to go.
        logger.warning(
            "notices will be written to this log, not mailed: set GUICHET_SMTP_HOST and "
            'GUICHET_SMTP_FROM for them to reach people (deploy/README.md, "Notices")'
        )
    if client is None:
        # Said first: a server that takes the connection but does not answer holds it 30 s.
        address = settings.temporal_address or "127.0.0.1:7233"
        logger.info("connecting to Temporal", address=address, namespace=settings.namespace)
        client = await connect(settings)
    if problems := await search_attribute_problems(client):
        raise NamespaceNotReady(
            f"namespace {client.namespace!r} lacks Guichet's search attributes "
            f"({'; '.join(problems)}): register them with `temporal operator search-attribute "
            "create` (deploy/README.md), then start the worker"
        )
    log = EventLog.from_url(settings.event_log_url)
    await log.migrate()
    worker = worker_for(client, settings, log, registry=registry)
    stop = asyncio.Event()
    # The first signal stops polling and gives in-flight activities GRACEFUL_SHUTDOWN; a
    # second one abandons them. Unlike `guichet dev`, a stop that ran its course ends with 0,
    # not 128 + the signal: systemd counts exit code 143 as a failure (death by SIGTERM, or
    # 0, as a success), and Kubernetes takes 0 as the normal end it is.
    catch_stop_signals(stop.set, again=_abandon_in_flight)
    async with worker:
        logger.info("worker started", task_queue=settings.task_queue, namespace=settings.namespace)
        await stop.wait()
        logger.info(
            "worker stopping",
            grace_seconds=GRACEFUL_SHUTDOWN.total_seconds(),
            hint="a second Ctrl-C (or SIGTERM) stops at once",
        )
    await log.close()
    # Said once everything in flight is done: « stopping » alone left the operator to guess
    # whether the 30 s of grace ran out.
    logger.info("worker stopped")


def _abandon_in_flight(signum: int) -> NoReturn:
    """A second signal during the grace: the operator chose not to wait. Said in the log (JSON
    in production), and the process ends with 128 + ``signum``. Nothing is lost: an activity
    cut short is started again by Temporal after its timeout, and each one is idempotent
    (event ids, message ids, a payment's idempotency key). No child process to kill, unlike
    ``console.stop_signal.stop_at_once``: the worker runs in this one."""
    structlog.get_logger("guichet.worker").warning(
        "worker stopped at once (second signal): activities in flight are abandoned, "
        "Temporal starts them again after their timeout"
    )
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(128 + signum)


def main() -> None:
    """Entry point of ``python worker.py``: ``guichet worker``, with its ``--help``, its
    one-sentence errors (Temporal unreachable, a bad payload key) and its exit codes, kept
    through ``os._exit`` (sdk-python #300: the finaliser crash after a clean shutdown)."""
    from console.cli import main as guichet  # the CLI builds on this module: imported late

    sys.argv[1:1] = ["worker"]
    guichet()


if __name__ == "__main__":
    main()
