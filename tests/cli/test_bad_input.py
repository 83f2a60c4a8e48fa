"""Bad input typed at the ``guichet`` CLI (run in-process through ``console.cli.run``): exit
code 2 (usage) or 1 (refused), one sentence on stderr, never a traceback."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

import pytest
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
    code, text = guichet("dismiss-application", "X", "--reason", reason, "--as", "caseworker:aa")
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


def test_a_port_out_of_range_or_a_host_not_of_this_machine_is_said_plainly() -> None:
    """No OverflowError from bind(), and a bad --host is not blamed on the port."""
    for port in ("99999", "-5"):
        code, text = guichet("console", "--port", port)
        assert code == 2 and "Traceback" not in text and "unexpected error" not in text, text
        assert "Invalid value for '--port'" in text, text
    code, text = guichet("console", "--host", "192.0.2.1", "--port", "0")
    assert code == 1, text
    assert text.startswith("guichet: the console cannot listen on 192.0.2.1 ("), text
    assert text.endswith("pass an address of this machine with --host\n"), text


def test_a_bad_duration_names_the_option_it_was_given_to() -> None:
    """`schedules --redeliver-every banana` names --redeliver-every, not --every."""
    code, text = guichet("schedules", "--redeliver-every", "banana")
    assert (code, text) == (
        2,
        "guichet: --redeliver-every 'banana' is not a duration: write 15m, 1h or 1d\n",
    )


def test_a_duration_beyond_a_year_is_refused_not_an_overflow() -> None:
    """`--every 99999999999d` overflowed timedelta: exit 1, « unexpected error »."""
    for option, typed in (("--redeliver-every", "99999999999d"), ("--redeliver-every", "367d")):
        code, text = guichet("schedules", option, typed)
        assert (code, text) == (2, f"guichet: {option} '{typed}' is too long: at most 366d\n")
    code, text = guichet("audit", "schedule-checkpoints", "--every", "9" * 5000 + "s")
    assert code == 2 and text.endswith("is too long: at most 366d\n"), text


def test_a_password_with_no_terminal_to_type_it_in_asks_for_password_stdin() -> None:
    """`user add` from a script without --password-stdin: one sentence, not a getpass warning."""
    code, text = guichet("user", "add", "carol", "--role", "payment_officer")
    assert (code, text) == (
        2,
        "guichet: no terminal to type the password in: send it with --password-stdin\n",
    )


def test_a_zero_window_says_it_must_be_above_zero() -> None:
    """`--due-within 0d` has the right form; the sentence says what is wrong with it."""
    code, text = guichet("list", "--due-within", "0d")
    assert code == 2
    assert "expected a whole number above 0" in text, text


def test_an_applicant_account_acts_for_a_commune_that_exists() -> None:
    """--insee 99999 made an account no file could ever be submitted by; --insee 1034 was
    told « an applicant account names its commune » though it named one."""
    code, text = guichet("user", "add", "mairie-ghost", "--role", "applicant", "--insee", "99999")
    assert code == 2 and "no commune of the registry (COG) has that code" in text, text
    code, text = guichet("user", "add", "mairie-x", "--role", "applicant", "--insee", "1034")
    assert code == 2 and "commune '1034': an INSEE code has five characters" in text, text


@pytest.mark.parametrize(
    ("departments", "said"),
    [
        ("01,banane", "department 'BANANE': two or three characters, e.g. 01, 2A or 974"),
        ("01,99", "department 99: no commune of the registry is in it"),
    ],
)
def test_a_sector_names_departments_that_exist(departments: str, said: str) -> None:
    """`user add --departments`: each code is said back when it cannot be a department or
    no commune is in it, before any password is asked."""
    code, text = guichet("user", "add", "ddt", "--role", "caseworker", "--departments", departments)
    assert code == 2 and said in text, text


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("Claire\nDubois", "guichet: name: contains the control character U+000A"),
        ("Claire\tDubois", "guichet: name: contains the control character U+0009"),
        ("  ", "guichet: name: only blank space; give the person's name, or none at all"),
        ("x" * 201, "guichet: name: 201 characters, at most 200"),
    ],
)
def test_a_name_a_mail_could_not_carry_is_refused_before_the_password(name: str, said: str) -> None:
    """`user add --name`: the mails write it in their subject and body, one line of at most
    the column's 200 characters; said before any password is asked (no terminal here)."""
    code, text = guichet("user", "add", "abf-ain", "--role", "expert", "--name", name)
    assert code == 2 and text.startswith(said), text
    assert text.count("\n") == 1, text


@pytest.mark.parametrize(
    ("option", "typed", "said"),
    [
        ("--status", "submited", "use one of draft, submitted"),
        ("--department", "1", "the leading zero included"),
        ("--insee", "1033", "five characters"),
        ("--caseworker", "Alice", "2 to 64 lowercase letters"),
        ("--caseworker", "a", "2 to 64 lowercase letters"),
        ("--department", "20", "no commune of the registry is in it"),
    ],
)
def test_a_list_filter_no_file_can_match_says_so(option: str, typed: str, said: str) -> None:
    """« submited », « 1 » for the Ain, « Alice »: answered « no application matches », exit
    0, as if the files were not there. Exit 2, saying what to type, before any server."""
    code, text = guichet("list", option, typed)
    assert code == 2 and said in text, text
    assert_one_sentence_refusal(code, text)


@pytest.mark.parametrize(
    ("actor", "said"),
    [
        ("applicant:mairie-01093", "an applicant acts for its commune"),
        ("applicant:mairie-belley:1034", "'1034' is no INSEE code"),
    ],
)
def test_an_applicant_names_its_commune(actor: str, said: str) -> None:
    """Without it, the own-commune check had nothing to compare: `applicant:mairie-01093`
    withdrew another commune's file. Exit 2, before anything is sent."""
    code, text = guichet("withdraw-application", "X", "--reason", "test", "--as", actor)
    assert code == 2 and said in text, text


@pytest.mark.parametrize("words", [["show", ""], ["actions", " ", "--as", "caseworker:alice"]])
def test_an_empty_file_id_is_bad_input(words: list[str]) -> None:
    """An empty id went to Temporal: « Temporal refused the request: WorkflowId is not set on
    request », exit 1. Exit 2, saying where ids come from."""
    code, text = guichet(*words)
    assert code == 2 and "is no application id: `guichet list` gives them" in text, text


def test_a_commune_attaches_no_expert_s_signed_opinion(tmp_path: Path) -> None:
    """Refused before anything is read or sent, whatever rules the file was submitted under:
    the services would read the commune's scan as the expert's signed opinion."""
    scan = tmp_path / "avis.pdf"
    scan.write_bytes(b"%PDF-1.7\nscan")
    file_id = "dsil-detr-investissement-01034-3f2a9c1b7d4e"
    code, text = guichet(
        "attach-document", file_id, str(scan), "--kind", "opinion",
        "--as", "applicant:mairie-belley:01034",
    )  # fmt: skip
    assert code == 2 and text.startswith("guichet: --kind opinion: a commune does not attach")
    assert_one_sentence_refusal(code, text)


def test_an_opinion_of_blanks_is_refused_as_the_console_refuses_it() -> None:
    """`give-opinion --opinion "   "` recorded an opinion without reasons, for good (it is
    given once); the console's form reads it as empty: so does the CLI, before sending."""
    code, text = guichet(
        "give-opinion", "X", "--number", "1", "--verdict", "unfavourable",
        "--opinion", "   ", "--as", "expert:abf-ain",
    )  # fmt: skip
    assert code == 2 and text.startswith("guichet: give-opinion: --opinion: "), text
