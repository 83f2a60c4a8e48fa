"""Personal data never reaches a log line in clear: the worker's structlog pipeline masks
e-mail addresses and IBANs wherever they appear, tracebacks included."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr

import structlog

from activities.logging import mask_personal_data, mask_text
from workers.logging import configure_logging
from workers.settings import Settings

EMAIL = "maire.adjointe@valserhone.fr"
IBAN = "FR76 3000 6000 0112 3456 7890 189"


def test_addresses_and_ibans_are_masked_but_ids_are_kept() -> None:
    """``m***@valserhone.fr`` and ``FR76…0189``; application ids and references untouched."""
    text = mask_text(f"to {EMAIL} pay {IBAN} file dsil-detr-investissement-01033-ab12 ARR-1")
    assert EMAIL not in text and "3456 7890" not in text
    assert "m***@valserhone.fr" in text and "FR76…0189" in text
    assert "dsil-detr-investissement-01033-ab12" in text and "ARR-1" in text


def test_the_processor_masks_nested_values() -> None:
    """Keys, lists and nested dicts of an event are all masked."""
    masked = mask_personal_data(None, "info", {"to": [EMAIL], "x": {"iban": IBAN}, "n": 3})
    assert masked == {"to": ["m***@valserhone.fr"], "x": {"iban": "FR76…0189"}, "n": 3}


def test_the_worker_logging_renders_no_personal_data() -> None:
    """configure_logging's JSON output has the masked forms only, exceptions included."""
    out = io.StringIO()
    with redirect_stderr(out):
        configure_logging(Settings(log_format="json"))
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(out))
        log = structlog.get_logger("test")
        log.info("notice sent", recipient=EMAIL, note=f"IBAN {IBAN}")
        try:
            raise ValueError(f"bounced: {EMAIL}")
        except ValueError:
            log.exception("delivery failed")
    structlog.reset_defaults()
    text = out.getvalue()
    assert EMAIL not in text and "0112 3456" not in text, text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["recipient"] == "m***@valserhone.fr"
    assert "m***@valserhone.fr" in lines[1]["exception"]
