"""Activity logging: every line an activity writes names its workflow, type and attempt, and
no line carries personal data in clear (``mask_personal_data``)."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

import structlog
from temporalio import activity

from activities.mail import mask_addresses


def activity_logger() -> structlog.stdlib.BoundLogger:
    """A structlog logger bound to the running activity's ``workflow_id``, type and attempt."""
    info = activity.info()
    logger: structlog.stdlib.BoundLogger = structlog.get_logger("guichet.activity")
    return logger.bind(
        workflow_id=info.workflow_id,
        activity_type=info.activity_type,
        attempt=info.attempt,
    )


_IBAN = re.compile(r"\b([A-Z]{2}\d{2})((?: ?[A-Z0-9]){11,30})\b")


def mask_text(text: str) -> str:
    """E-mail addresses and IBANs in ``text`` masked: ``a***@example.fr``, ``FR76…1234``."""
    text = mask_addresses(text)
    return _IBAN.sub(lambda m: f"{m[1]}…{m[2].replace(' ', '')[-4:]}", text)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_masked(item) for item in value)
    return value


def mask_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: no e-mail address or IBAN reaches a log line in clear.

    It runs after exceptions are formatted, so tracebacks are masked too."""
    return {key: _masked(value) for key, value in event_dict.items()}
