"""Composition root: settings read once, logging configured once, then connect and run.

``python worker.py`` (or ``guichet worker``) runs a worker against the Temporal server and the
event log named by the environment; ``guichet dev`` runs the same worker on embedded defaults.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, NoReturn, TextIO, cast

import pydantic
import sqlalchemy as sa
import structlog
from pydantic_core import ErrorDetails
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.envconfig import ClientConfigProfile
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.worker import Worker

from activities.checkpointing import CheckpointSigner
from activities.digest import DEFAULT_STALE_DAYS, DigestActivities
from activities.directory import Directory, DirectoryError, load_directory
from activities.eligibility import ReferenceData
from activities.ledger import LedgerGateway
from activities.logging import mask_personal_data
from activities.mail import DEFAULT_PORTS, Mailer, SmtpMailer, SmtpSettings
from activities.outbox import Outbox
from activities.payments import PaymentActivities, PaymentGateway
from activities.recording import EventRecorder
from console.stop_signal import catch_stop_signals
from domain.catalogue import load_catalogue
from domain.programme import Catalogue
from domain.registry import CommuneRegistry, RegistryError, load_registry
from eventlog import EventLog
from eventlog.edge import masked
from eventlog.signing import KEY_FILE_VARIABLE, SigningKeyError, signing_key_from_env
from workflows.client import GuichetClient
from workflows.encryption import data_converter, key_from_env
from workflows.messages import DEFAULT_TASK_QUEUE
from workflows.namespace_check import search_attribute_problems
from workflows.registration import workflow_classes

DEFAULT_STATE_DIR = Path(".guichet")
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
GRACEFUL_SHUTDOWN = timedelta(seconds=30)


class SettingsError(ValueError):
    """An environment variable's value cannot be used; names the variable and why."""


SETTING_VARIABLES = {
    "temporal_address": "TEMPORAL_ADDRESS",
    "namespace": "TEMPORAL_NAMESPACE",
    "task_queue": "GUICHET_TASK_QUEUE",
    "database_url": "GUICHET_DATABASE_URL",
    "state_dir": "GUICHET_STATE_DIR",
    "log_format": "GUICHET_LOG_FORMAT",
    "log_level": "GUICHET_LOG_LEVEL",
    "smtp": "GUICHET_SMTP_*",
    "directory_file": "GUICHET_DIRECTORY_FILE",
    "digest_stale_days": "GUICHET_DIGEST_STALE_DAYS",
    "conventions_file": "GUICHET_CONVENTIONS_FILE",
    "console_url": "GUICHET_CONSOLE_URL",
}
"""Each setting's environment variable, for the sentence that says which one is wrong."""


class Settings(pydantic.BaseModel):
    """Everything the process reads from its environment, read once at start."""

    model_config = pydantic.ConfigDict(frozen=True)

    temporal_address: str | None = None
    """None: ``guichet dev`` starts an embedded dev server."""
    namespace: str = "default"
    task_queue: str = DEFAULT_TASK_QUEUE
    database_url: str | None = None
    """None: a SQLite event log in the state folder."""
    state_dir: Path = DEFAULT_STATE_DIR
    log_format: Literal["console", "json"] = "console"
    log_level: LogLevel = "INFO"
    smtp: SmtpSettings | None = None
    """None: notices are delivered as log lines (no ``GUICHET_SMTP_HOST``)."""
    directory_file: Path | None = None
    """TOML or JSON mapping person and pool ids to e-mail addresses."""
    digest_stale_days: int = pydantic.Field(default=DEFAULT_STALE_DAYS, ge=1)
    conventions_file: Path | None = None
    """CSV of signed conventions (insee,kind,signed_on): the communes' dated facts."""
    payload_key: pydantic.SecretBytes | None = None
    """AES-256 key sealing Temporal payloads (``GUICHET_PAYLOAD_KEY`` or ``_KEY_FILE``)."""
    console_url: pydantic.HttpUrl | None = None
    """The web console's public address (``GUICHET_CONSOLE_URL``): mails then link to the
    file's page."""

    @pydantic.field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        """``debug`` is DEBUG, as logging reads it; ``VERBOSE`` is refused, not taken as INFO."""
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``, ``GUICHET_*`` variables."""
        env = os.environ if env is None else env
        # An empty value counts as unset, as a blank line in a ConfigMap or a `NAME=` in a
        # compose file means: an empty namespace or state folder is never what was meant.
        values: dict[str, object] = {
            "temporal_address": env.get("TEMPORAL_ADDRESS") or None,
            "namespace": env.get("TEMPORAL_NAMESPACE") or "default",
            "task_queue": env.get("GUICHET_TASK_QUEUE") or DEFAULT_TASK_QUEUE,
            "database_url": _database_url(env.get("GUICHET_DATABASE_URL") or None),
            "state_dir": Path(env.get("GUICHET_STATE_DIR") or DEFAULT_STATE_DIR),
            "log_format": env.get("GUICHET_LOG_FORMAT") or "console",
            "log_level": env.get("GUICHET_LOG_LEVEL") or "INFO",
            "smtp": _smtp_settings(
                host=env.get("GUICHET_SMTP_HOST"),
                port=env.get("GUICHET_SMTP_PORT"),
                sender=env.get("GUICHET_SMTP_FROM"),
                sender_name=env.get("GUICHET_SMTP_FROM_NAME"),
                tls=env.get("GUICHET_SMTP_TLS") or "starttls",
                username=env.get("GUICHET_SMTP_USERNAME"),
                password=env.get("GUICHET_SMTP_PASSWORD"),
            ),
            "directory_file": env.get("GUICHET_DIRECTORY_FILE") or None,
            "digest_stale_days": env.get("GUICHET_DIGEST_STALE_DAYS") or DEFAULT_STALE_DAYS,
            "conventions_file": env.get("GUICHET_CONVENTIONS_FILE") or None,
            "payload_key": key_from_env(env),
            "console_url": env.get("GUICHET_CONSOLE_URL") or None,
        }
        try:
            return cls.model_validate(values)
        except pydantic.ValidationError as error:
            raise SettingsError(_sentence(error.errors()[0])) from None

    def mailer(self) -> Mailer | None:
        """SMTP delivery when configured, else None (notices become log lines)."""
        return SmtpMailer(self.smtp) if self.smtp else None

    def directory(self) -> Directory | None:
        """The id → e-mail directory named by ``GUICHET_DIRECTORY_FILE``, if any; a file that
        cannot be read or holds no such table is a ``SettingsError`` naming it."""
        if self.directory_file is None:
            return None
        try:
            return load_directory(self.directory_file)
        except DirectoryError as error:
            raise SettingsError(f"GUICHET_DIRECTORY_FILE: {error}") from None

    def registry(self) -> CommuneRegistry:
        """The communes, with the signed conventions of ``GUICHET_CONVENTIONS_FILE``."""
        return registry_with_conventions(self.conventions_file)

    @property
    def event_log_url(self) -> str:
        """The event log's database URL (SQLite in the state folder by default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.state_dir / 'eventlog.sqlite3').resolve()}"

    def data_converter(self) -> DataConverter:
        """The pydantic converter, with payloads sealed when a payload key is set."""
        key = self.payload_key.get_secret_value() if self.payload_key else None
        return data_converter(key)


def registry_with_conventions(conventions_file: Path | None) -> CommuneRegistry:
    """The communes with the conventions of ``conventions_file``, or a ``SettingsError``
    naming GUICHET_CONVENTIONS_FILE and the path: a FileNotFoundError reached the operator
    as « unexpected error »."""
    try:
        return load_registry(conventions_path=conventions_file)
    except FileNotFoundError:
        raise SettingsError(
            f"GUICHET_CONVENTIONS_FILE: no file at {conventions_file}: check the path"
        ) from None
    except OSError as error:
        raise SettingsError(
            f"GUICHET_CONVENTIONS_FILE: {conventions_file} cannot be read "
            f"({error.strerror or error})"
        ) from None
    except RegistryError as error:
        raise SettingsError(f"GUICHET_CONVENTIONS_FILE: {conventions_file}: {error}") from None
    except UnicodeDecodeError:  # a ValueError, not an OSError: it was an « unexpected error »
        raise SettingsError(
            f"GUICHET_CONVENTIONS_FILE: {conventions_file} is not UTF-8 text: save it as "
            '"CSV UTF-8" (insee,kind,signed_on)'
        ) from None


def _sentence(problem: ErrorDetails) -> str:
    """The variable to fix and why, from pydantic's first error; the value read is said back
    unless it may hold a secret (a password, or the SMTP settings as a whole)."""
    field, *inner = [str(part) for part in problem["loc"]] or [""]
    variable = SETTING_VARIABLES.get(field, field)
    if field == "smtp" and inner:
        variable = SMTP_VARIABLES.get(inner[0], f"GUICHET_SMTP_{inner[0].upper()}")
    if problem["type"] == "missing" and variable == "GUICHET_SMTP_FROM":
        return (
            "GUICHET_SMTP_FROM is required with GUICHET_SMTP_HOST: the address the notices are "
            "sent from, e.g. guichet@example.fr"
        )
    if problem["type"] == "missing":
        return f"{variable} is required"
    value = problem["input"]
    if "password" in inner or isinstance(value, Mapping):
        return f"{variable}: {problem['msg']}"
    return f"{variable}: {problem['msg']} (read {value!r})"


DATABASE_DRIVERS = ("postgresql+asyncpg", "sqlite+aiosqlite")
"""The databases the event log runs on, each with the asynchronous driver the image has."""


def _database_url(url: str | None) -> str | None:
    """``GUICHET_DATABASE_URL`` when the event log can open it; a ``SettingsError`` saying the
    form to write otherwise. Said back with its password masked.

    Text that is no URL, or ``postgresql://`` without ``+asyncpg`` (which SQLAlchemy gives to
    psycopg, not installed), reached the operator as « unexpected error (ArgumentError …) »
    or « (ModuleNotFoundError …) »."""
    if url is None:
        return None
    try:
        driver = sa.make_url(url).drivername
    except sa.exc.ArgumentError:
        driver = None
    if driver not in DATABASE_DRIVERS:
        raise SettingsError(
            "GUICHET_DATABASE_URL: write postgresql+asyncpg://USER:PASSWORD@HOST:5432/DATABASE "
            f"(or sqlite+aiosqlite:///PATH for a file) (read {masked(url)!r})"
        )
    return url


SMTP_VARIABLES = {"sender": "GUICHET_SMTP_FROM", "sender_name": "GUICHET_SMTP_FROM_NAME"}
"""The SMTP fields whose variable is not ``GUICHET_SMTP_<FIELD>``."""


def _smtp_settings(
    *, host: str | None, port: str | None, tls: str, **rest: str | None
) -> dict[str, object] | None:
    """``GUICHET_SMTP_*`` (an empty value counts as unset); the port defaults to the TLS
    mode's (25, 587 or 465). None without a host: notices are then logged.

    The TLS mode is checked here, in words: with an unknown one, the port had no default and
    pydantic's sentence blamed GUICHET_SMTP_PORT."""
    if not host:
        return None
    if tls not in DEFAULT_PORTS:
        raise SettingsError(
            f"GUICHET_SMTP_TLS: use none, starttls (the default, port 587) or tls (implicit "
            f"TLS, which some mail servers call SSL, port 465) (read {tls!r})"
        )
    given = {key: value for key, value in rest.items() if value}
    return {"host": host, "port": port or DEFAULT_PORTS[tls], "tls": tls, **given}


class _CurrentStderr:
    """``sys.stderr`` as it is when a line is written, not as it was at configuration: a
    command run in-process (tests, an embedding program) may swap and close the one it had."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(settings: Settings) -> None:
    """structlog once for the process: JSON lines in production, readable in development.

    The libraries' standard-library records (Temporal's SDK, uvicorn, SQLAlchemy) go through
    the same processors, so that a production log is JSON from end to end."""
    level = logging.getLevelNamesMapping()[settings.log_level]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        mask_personal_data,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(_CurrentStderr())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    # The libraries' own INFO is chatter: their warnings and errors are what an operator needs.
    # Like any basicConfig, a no-op where logging is set up already (a host application, tests).
    logging.basicConfig(handlers=[handler], level=max(level, logging.WARNING))
    if settings.log_format == "json":
        _forward_temporal_core_logs()


def _forward_temporal_core_logs() -> None:
    """Temporal's core (in Rust) writes its own lines to stderr, as coloured text: during a
    Temporal outage, its retries (the lines that matter then) reached a JSON pipeline
    unparsed. Forwarded to the standard library's logging, they go through the formatter
    above. Only while no Temporal client exists yet (the first one creates the default
    runtime); a process that already has one keeps it."""
    forwarding = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
    )
    with contextlib.suppress(RuntimeError):  # a client was made before: its runtime stays
        Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=forwarding)))


class TemporalSettingsError(ValueError):
    """The Temporal connection's TLS or API-key settings cannot be used; says which and why."""


def temporal_security(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """TLS, API key and gRPC headers for Temporal, from the SDK's standard variables, as the
    ``temporal`` CLI reads them: ``TEMPORAL_TLS``, ``TEMPORAL_TLS_SERVER_CA_CERT_PATH``,
    ``TEMPORAL_TLS_CLIENT_CERT_PATH`` and ``TEMPORAL_TLS_CLIENT_KEY_PATH`` (mTLS),
    ``TEMPORAL_TLS_SERVER_NAME``, ``TEMPORAL_API_KEY`` (TLS on by default with it),
    ``TEMPORAL_GRPC_META_<NAME>``; a ``TEMPORAL_CONFIG_FILE`` profile when one is named. None
    of them: plain gRPC, as the dev server and a cluster's internal frontend speak.

    The address and namespace stay Guichet's own (``Settings``, or a running ``guichet dev``)."""
    env = os.environ if env is None else env
    try:
        profile = ClientConfigProfile.load(
            disable_file=not env.get("TEMPORAL_CONFIG_FILE"), override_env_vars=dict(env)
        )
        config = profile.to_client_connect_config()
    except (OSError, ValueError, RuntimeError) as error:
        raise TemporalSettingsError(
            f"the Temporal TLS or API-key settings (TEMPORAL_TLS_*, TEMPORAL_API_KEY, "
            f"TEMPORAL_CONFIG_FILE) cannot be used: {error}"
        ) from None
    return {key: config[key] for key in ("tls", "api_key", "rpc_metadata") if config.get(key)}


async def connect(settings: Settings, address: str | None = None) -> Client:
    """A Temporal client with the pydantic converter every Guichet payload needs (sealed
    with the payload key when one is set), over TLS when the environment asks for it
    (``temporal_security``)."""
    target = address or settings.temporal_address or "127.0.0.1:7233"
    return await Client.connect(
        target,
        namespace=settings.namespace,
        data_converter=settings.data_converter(),
        **temporal_security(),
    )


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


def check_signing_key(env: Mapping[str, str] | None = None) -> None:
    """A ``SettingsError`` when a signing key is configured but cannot be used (a file path
    mistyped, a Secret holding something else). The activity reads the key again at each
    checkpoint, so that a rotated file is picked up: checked only there, such a worker
    started as if all were well and failed every scheduled checkpoint, hours later."""
    env = os.environ if env is None else env
    try:
        signing_key_from_env(env)
    except SigningKeyError as error:  # names where the key was looked for, never the key
        variable = KEY_FILE_VARIABLE if env.get(KEY_FILE_VARIABLE) else None
        raise SettingsError(f"{variable}: {error}" if variable else str(error)) from None


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
