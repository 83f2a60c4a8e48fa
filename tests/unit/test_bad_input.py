"""Bad input against the domain, generated: every malformed command is refused in a sentence
(pydantic ``ValidationError`` or ``DomainError``) and decides no event.

Wrong types, negative and huge amounts, floats for cents, unknown or malformed INSEE codes,
dates in the wrong order or centuries ahead, control characters, oversized strings; text
that only looks dangerous (SQL, HTML, other scripts) is data, kept verbatim."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from domain import DomainError
from domain.commands import (
    Command,
    DeclareCompletion,
    DeclareStart,
    WithdrawApplication,
    contact_email_problem,
)
from domain.decider import decide
from tests.unit.builders import (
    APPLICANT,
    CASEWORKER,
    apply,
    at,
    claim,
    request,
    submit,
    to_accepted,
    to_instruction,
    to_started,
)

COMMAND = TypeAdapter(Command)
GOOD_CLAIM = claim("advance", 20_000).model_dump(mode="json")
GOOD_WITHDRAWAL = WithdrawApplication(
    actor=APPLICANT, at=at(2), reason="Projet abandonné"
).model_dump(mode="json")

NOT_CENTS = st.one_of(
    st.integers(max_value=-1),
    st.integers(min_value=10**13 + 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
CONTROL = st.characters(codec="utf-8", categories=["Cc"]).filter(lambda c: c not in "\t\n\r")
BAD_TEXT = st.one_of(
    st.just(""),
    st.text(min_size=301, max_size=600),
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=20), CONTROL, st.text(max_size=20)),
    st.integers(),
    st.lists(st.text(max_size=3), max_size=2),
)
BAD_INSEE = st.one_of(st.text(max_size=4), st.text(min_size=6, max_size=40), st.integers())
HARMLESS = st.sampled_from(
    [
        "'; DROP TABLE eventlog_events; --",
        "<script>alert('x')</script>",
        "{{ 7*7 }} ${jndi:ldap://x}",
        "Ouvrage d’art — Œuvre Ça 日本語 العربية 🏛️",
        "../../etc/passwd",
    ]
)


def refused(data: dict[str, Any]) -> ValidationError:
    """Validation refuses ``data`` with at least one located, worded error."""
    with pytest.raises(ValidationError) as caught:
        COMMAND.validate_python(data)
    errors = caught.value.errors()
    assert errors and all(e["msg"] for e in errors)
    return caught.value


@given(amount=NOT_CENTS)
def test_amounts_that_are_not_whole_cents_are_refused(amount: object) -> None:
    """Negative, beyond 100 billion euros, floats, strings, booleans, containers."""
    refused({**GOOD_CLAIM, "amount_cents": amount})


@given(amount=st.floats(min_value=0, max_value=1e9))
def test_floats_for_cents_are_refused_even_when_whole(amount: float) -> None:
    """12.0 is not accepted as 12 cents: money is never a float, not even in JSON."""
    refused({**GOOD_CLAIM, "amount_cents": amount})
    with pytest.raises(ValidationError):
        COMMAND.validate_json(
            f'{{"type": "ClaimPayment", "actor": {{"id": "a", "role": "applicant", '
            f'"insee": "01033"}}, "at": "2025-03-03T09:00:00+01:00", "kind": "advance", '
            f'"amount_cents": {amount!r}, "proof_reference": "F"}}'
        )


@given(text=BAD_TEXT)
def test_empty_oversized_control_or_non_text_reasons_are_refused(text: object) -> None:
    """Reasons must be 1 to 300 characters of printable text."""
    refused({**GOOD_WITHDRAWAL, "reason": text})


def test_a_refusal_or_a_dismissal_may_give_its_reasons_at_length() -> None:
    """A refusal is a reasoned administrative decision (CRPA L211-2): 300 characters did not
    hold its grounds; like a correction request, it takes up to 4,000."""
    grounds = "Motifs : " + "le plan de financement ne respecte pas la part minimale ; " * 40
    assert 300 < len(grounds) <= 4000
    for kind in ("RefuseApplication", "DismissApplication", "ReopenApplication"):
        fields = {"type": kind, "actor": GOOD_WITHDRAWAL["actor"], "at": GOOD_WITHDRAWAL["at"]}
        assert COMMAND.validate_python({**fields, "reason": grounds}).reason == grounds  # type: ignore[union-attr]
        refused({**fields, "reason": "x" * 4001})


def test_a_correction_request_and_its_answer_may_list_what_is_missing_at_length() -> None:
    """What a commune must add (quotes, deliberations, plans…) does not fit in 300
    characters: the request and the answer take up to 4,000, like a note."""
    lines = "\n".join(f"- pièce {n} : devis signé du lot {n}, daté et paraphé" for n in range(60))
    assert 300 < len(lines) <= 4000
    for kind in ("RequestCorrection", "AnswerCorrection"):
        fields = {"type": kind, "actor": GOOD_WITHDRAWAL["actor"], "at": GOOD_WITHDRAWAL["at"]}
        extra = {"reason": "incomplete"} if kind == "RequestCorrection" else {}
        assert COMMAND.validate_python({**fields, **extra, "message": lines}).message == lines
        refused({**fields, **extra, "message": "x" * 4001})
        refused({**fields, **extra, "message": ""})


@given(
    field=st.sampled_from(["type", "actor", "at"]),
    value=st.one_of(st.none(), st.just("not a date"), st.lists(st.integers(), max_size=2)),
)
def test_commands_with_a_wrong_type_tag_actor_or_time_are_refused(
    field: str, value: object
) -> None:
    """The discriminator, the actor and the aware timestamp are all required and typed."""
    refused({**GOOD_WITHDRAWAL, field: value})


def test_a_naive_timestamp_and_an_unknown_field_are_refused() -> None:
    """Times carry their zone; commands forbid fields they do not know."""
    refused({**GOOD_WITHDRAWAL, "at": "2025-03-03T09:00:00"})
    refused({**GOOD_WITHDRAWAL, "approved_by_mayor": True})


@given(insee=BAD_INSEE)
def test_malformed_insee_codes_are_refused(insee: object) -> None:
    """An INSEE code is five characters."""
    with pytest.raises(ValidationError):
        request(insee=insee)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(insee=st.from_regex(r"\A9[89][0-9]{3}\Z"))
def test_an_unknown_commune_is_refused_with_the_rule_and_nothing_submitted(insee: str) -> None:
    """A code the registry does not know (98xxx, 99xxx) gets a refusal or an ineligibility."""
    command = submit(request(insee=insee), commune=None)
    try:
        events = decide(command, apply([]))
    except DomainError as error:
        assert error.message
        return
    assert "Submitted" not in {e.type for e in events} or any(
        "Ineligib" in e.type or "Refused" in e.type for e in events
    ), [e.type for e in events]


@given(days=st.integers(min_value=1, max_value=3650))
def test_completion_before_the_start_of_works_is_refused(days: int) -> None:
    """Dates in the wrong order: works cannot end before they started."""
    state = apply(to_started())
    started = state.started_on or at(10).date()
    command = DeclareCompletion(
        actor=APPLICANT, at=at(400), completed_on=started - timedelta(days=days)
    )
    with pytest.raises(DomainError) as caught:
        decide(command, state)
    assert caught.value.message


@given(years=st.integers(min_value=2, max_value=970))
def test_a_start_of_works_far_in_the_future_is_refused(years: int) -> None:
    """A start declared years ahead of today's command is refused, not recorded (past the
    year 2999 the command itself is refused: ``domain.model.Day``)."""
    state = apply([*to_accepted()])
    from domain.commands import NotifyAward

    state = apply([NotifyAward(actor=CASEWORKER, at=at(4), decision_reference="A-1")], state)
    when = at(10).date()
    far = date(min(when.year + years, 9999), when.month, min(when.day, 28))
    with pytest.raises(DomainError) as caught:
        decide(DeclareStart(actor=APPLICANT, at=at(10), started_on=far), state)
    assert caught.value.message


@given(text=HARMLESS)
def test_text_that_looks_like_code_is_kept_verbatim_as_data(text: str) -> None:
    """SQL, HTML, templates, paths and other scripts are a reason like any other, unchanged."""
    state = apply(to_instruction())
    command = COMMAND.validate_python({**GOOD_WITHDRAWAL, "reason": text})
    (event,) = decide(command, state)
    assert event.reason == text  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("address", "reachable"),
    [
        (None, True),  # the notices go to the submitting account
        ("urbanisme@mairie-belley.fr", True),
        ("a.b+pvd@sous.domaine.gouv.fr", True),
        ("élus@mairie-évian.fr", True),  # internationalised names pass
        ("urbanisme@mairie", False),
        ("Mairie <urbanisme@mairie.fr>", False),
        ("a@b.fr, c@d.fr", False),
        ("a@@b.fr", False),
        ("a@b..fr", False),
        ("un espace@mairie.fr", False),
        ("=?utf-8?q?=0D=0ABcc=3A_escroc=40example.com?=@example.fr", False),
        ("=?utf-8?q?mairie?=@belley.fr", False),
        ("urbanisme@=?utf-8?q?mairie?=.fr", False),
    ],
)
def test_a_new_request_s_contact_address_must_take_mail(
    address: str | None, reachable: bool
) -> None:
    """Checked where requests arrive; the model itself still reads any recorded address."""
    problem = contact_email_problem(request().replaced({"contact_email": address}))
    assert (problem is None) is reachable
    if problem is not None:
        assert problem.rule == "contact-email" and repr(address) in problem.message


def test_an_encoded_word_in_a_contact_address_is_refused_saying_what_to_type() -> None:
    """« =? » opens an RFC 2047 encoded word, which the mail refuses in a To header: the
    address was taken at entry and the commune learnt of it only when a notice was not
    delivered. Refused where the request arrives, saying to type the address plainly."""
    address = "=?utf-8?q?mairie?=@belley.fr"
    problem = contact_email_problem(request().replaced({"contact_email": address}))
    assert problem is not None and problem.rule == "contact-email"
    assert problem.french.startswith(f"contact_email — « {address} » contient « =? »")
    assert "sans « =? »" in problem.french and "nom@domaine.fr" in problem.french
    assert problem.message.startswith(f"contact_email {address!r} is not one e-mail address")
    assert "'=?'" in problem.message
