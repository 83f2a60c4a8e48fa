"""structlog and the standard library's logging, set up once for the process."""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import TextIO, cast

import structlog
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from activities.logging import mask_personal_data
from workers.settings import Settings


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
