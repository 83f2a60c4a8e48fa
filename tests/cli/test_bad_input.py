"""Bad input typed at the ``guichet`` CLI (run in-process through ``console.cli.run``): exit
code 2 (usage) or 1 (refused), one sentence on stderr, never a traceback."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr, redirect_stdout
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from console.cli import run

UNREACHABLE = {"TEMPORAL_ADDRESS": "127.0.0.1:1"}
"""Input that gets past validation then fails on the unreachable server, with code 1."""
ANY_TEXT = st.text(max_size=400)
NASTY = st.sampled_from(
    [
        "-1", "1e3", "nan", "inf", "1.005", "100000000000.01", "12,345.678", "١٢٣", "0x10",
        "'; DROP TABLE eventlog_events; --", "<script>x</script>", "\x00", "\x1b[31m", "é" * 5000,
    ]
)  # fmt: skip


def guichet(*args: str) -> tuple[int, str]:
    """Run one CLI command in-process; its exit code and what it wrote."""
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, UNREACHABLE), redirect_stdout(out), redirect_stderr(err):
        code = run(list(args))
    return code, out.getvalue() + err.getvalue()


def assert_one_sentence_refusal(code: int, text: str) -> None:
    assert code in (1, 2), (code, text)
    assert "Traceback" not in text, text
    if text.startswith("Usage: "):  # click's own parsing error (e.g. a value like "-1")
        assert code == 2 and ("No such option" in text or "Missing" in text), text
        return
    assert text.startswith("guichet: "), text
    assert text.rstrip("\n").count("\n") == 0, text


@settings(max_examples=60, deadline=None)
@given(amount=st.one_of(NASTY, ANY_TEXT))
def test_bad_amounts_are_refused_in_one_sentence(amount: str) -> None:
    """Negative, exponent, float noise, huge, foreign digits, control characters, injection."""
    code, text = guichet(
        "claim-payment", "X", "--kind", "advance", "--amount", amount,
        "--proof-reference", "Q-1", "--as", "applicant:mairie:01053",
    )  # fmt: skip
    assert_one_sentence_refusal(code, text)


@settings(max_examples=60, deadline=None)
@given(reason=st.one_of(NASTY, ANY_TEXT, st.text(min_size=301, max_size=500)))
def test_bad_reasons_are_refused_in_one_sentence(reason: str) -> None:
    """Empty, oversized, control characters, injection strings: a sentence, not a traceback."""
    code, text = guichet("dismiss-application", "X", "--reason", reason, "--as", "caseworker:a")
    assert_one_sentence_refusal(code, text)


@settings(max_examples=60, deadline=None)
@given(actor=st.one_of(NASTY, ANY_TEXT), file=st.one_of(NASTY, ANY_TEXT))
def test_bad_actors_and_file_ids_are_refused_in_one_sentence(actor: str, file: str) -> None:
    """Whatever is typed for --as and the file id, the answer is one sentence."""
    code, text = guichet("declare-complete", file, "--as", actor)
    assert_one_sentence_refusal(code, text)


def test_a_negative_amount_is_a_usage_error() -> None:
    """The classic: exit 2 and the amount named."""
    code, text = guichet(
        "claim-payment", "X", "--kind", "advance", "--amount", "-5",
        "--proof-reference", "Q-1", "--as", "applicant:mairie:01053",
    )  # fmt: skip
    assert code == 2 and "-5" in text, text
