"""Eligibility rules at submission: each rule passes, fails, and cites its source."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain import NotPvdMember, RuleViolation, UnknownCommune, assert_eligible
from domain.catalogue import load_catalogue
from domain.commands import ApplicationRequest
from domain.commune import Convention
from domain.deadline import PARIS
from domain.decider import INITIAL_STATE, decide
from domain.events import ApplicationSubmitted, EligibilityConfirmed, EligibilityRejected
from domain.rules.eligibility import eligibility_verdicts
from domain.verdict import RuleVerdict
from tests.unit.builders import (
    DETR_PROGRAMME,
    FLAT_PROGRAMME,
    NON_PVD_COMMUNE,
    PVD_COMMUNE,
    T0,
    flat_plan,
    request,
    submit,
)

RECEIVED = T0.date()


def outcomes(verdicts: tuple[RuleVerdict, ...]) -> dict[str, str]:
    return {v.rule: v.outcome for v in verdicts}


def test_eligible_request_passes_every_rule() -> None:
    """A PVD commune asking an open programme with nothing started passes all six rules."""
    verdicts = eligibility_verdicts(request(), PVD_COMMUNE, DETR_PROGRAMME, RECEIVED)
    assert [v.rule for v in verdicts] == [
        "commune-known",
        "pvd-membership",
        "programme-known",
        "programme-open",
        "convention-required",
        "no-prior-start",
    ]
    assert outcomes(verdicts) == {
        "commune-known": "pass",
        "pvd-membership": "pass",
        "programme-known": "pass",
        "programme-open": "pass",
        "convention-required": "not_applicable",
        "no-prior-start": "pass",
    }


def test_unknown_insee_code_fails_commune_known_with_registry_source() -> None:
    """An INSEE code the registry does not know fails `commune-known`, citing the COG."""
    verdicts = eligibility_verdicts(request(insee="99999"), None, DETR_PROGRAMME, RECEIVED)
    known = verdicts[0]
    assert (known.rule, known.outcome) == ("commune-known", "fail")
    assert known.source == "Code officiel géographique 2023 (registre des communes)"
    assert "99999" in known.message and "insee.fr" in known.message
    assert outcomes(verdicts)["pvd-membership"] == "not_applicable"


def test_registry_answer_for_another_code_counts_as_unknown() -> None:
    """A commune whose code differs from the request's is no answer for this request."""
    verdicts = eligibility_verdicts(request(insee="24555"), PVD_COMMUNE, DETR_PROGRAMME, RECEIVED)
    assert outcomes(verdicts)["commune-known"] == "fail"


def test_known_commune_off_the_pvd_list_fails_pvd_membership() -> None:
    """A known commune not on the PVD list fails `pvd-membership`, a different rule and text."""
    verdicts = eligibility_verdicts(
        request(insee=NON_PVD_COMMUNE.insee), NON_PVD_COMMUNE, DETR_PROGRAMME, RECEIVED
    )
    result = outcomes(verdicts)
    assert result["commune-known"] == "pass"
    assert result["pvd-membership"] == "fail"
    membership = verdicts[1]
    assert membership.source == "ANCT, liste des communes PVD (millésime COG 2023)"
    assert "not on the Petites Villes de Demain list" in membership.message


def test_commune_joining_the_list_after_the_request_date_is_not_yet_a_member() -> None:
    """Membership is dated: a commune listed after the request day fails on that day."""
    late = PVD_COMMUNE.model_copy(update={"pvd_since": date(2025, 6, 1)})
    verdicts = eligibility_verdicts(request(), late, DETR_PROGRAMME, RECEIVED)
    assert outcomes(verdicts)["pvd-membership"] == "fail"


def test_unknown_programme_fails_programme_known() -> None:
    """A programme id absent from the catalogue fails `programme-known`."""
    verdicts = eligibility_verdicts(request(programme_id="nope"), PVD_COMMUNE, None, RECEIVED)
    result = outcomes(verdicts)
    assert result["programme-known"] == "fail"
    assert result["programme-open"] == "not_applicable"


def test_closed_programme_fails_programme_open() -> None:
    """A request received after the programme's closing day fails `programme-open`."""
    verdicts = eligibility_verdicts(request(), PVD_COMMUNE, DETR_PROGRAMME, date(2026, 1, 1))
    assert outcomes(verdicts)["programme-open"] == "fail"


def test_programme_open_on_both_bounds() -> None:
    """The opening and closing days themselves receive requests."""
    for day in (date(2025, 1, 1), date(2025, 12, 31)):
        verdicts = eligibility_verdicts(request(), PVD_COMMUNE, DETR_PROGRAMME, day)
        assert outcomes(verdicts)["programme-open"] == "pass"


def flat_request() -> ApplicationRequest:
    return request(flat_plan(), programme_id=FLAT_PROGRAMME.id)


def test_convention_required_passes_when_signed_before_the_request() -> None:
    """An offer needing the convention d'adhésion passes when it was signed by the date."""
    verdicts = eligibility_verdicts(flat_request(), PVD_COMMUNE, FLAT_PROGRAMME, RECEIVED)
    assert outcomes(verdicts)["convention-required"] == "pass"


def test_convention_required_fails_without_signed_convention() -> None:
    """No convention signed by the request date fails `convention-required`."""
    bare = PVD_COMMUNE.model_copy(update={"conventions": ()})
    verdicts = eligibility_verdicts(flat_request(), bare, FLAT_PROGRAMME, RECEIVED)
    assert outcomes(verdicts)["convention-required"] == "fail"


def test_convention_signed_after_the_request_does_not_count() -> None:
    """A convention signed after the request day does not open the offer that day."""
    later = PVD_COMMUNE.model_copy(
        update={"conventions": (Convention(kind="adhesion", signed_on=date(2025, 9, 1)),)}
    )
    verdicts = eligibility_verdicts(flat_request(), later, FLAT_PROGRAMME, RECEIVED)
    assert outcomes(verdicts)["convention-required"] == "fail"


def test_convention_cadre_requirement_needs_the_cadre_not_the_adhesion() -> None:
    """An offer needing the convention-cadre is not opened by the convention d'adhésion."""
    cadre = FLAT_PROGRAMME.model_copy(update={"requires_convention": "cadre"})
    verdicts = eligibility_verdicts(flat_request(), PVD_COMMUNE, cadre, RECEIVED)
    assert outcomes(verdicts)["convention-required"] == "fail"


def test_works_started_before_reception_fail_no_prior_start() -> None:
    """Works legally started before the request was received fail `no-prior-start`."""
    req = request(prior_start_on=date(2025, 2, 1), prior_start_kind="works")
    verdict = eligibility_verdicts(req, PVD_COMMUNE, DETR_PROGRAMME, RECEIVED)[-1]
    assert (verdict.rule, verdict.outcome) == ("no-prior-start", "fail")
    assert verdict.source == "CGCT R2334-24 ; décret 2018-514 art. 3"


@pytest.mark.parametrize("kind", ["studies", "land_purchase"])
def test_studies_and_land_purchase_do_not_count_as_a_start(kind: str) -> None:
    """Studies and land purchase before the request do not bar the subsidy."""
    req = request(prior_start_on=date(2025, 2, 1), prior_start_kind=kind)
    assert eligibility_verdicts(req, PVD_COMMUNE, DETR_PROGRAMME, RECEIVED)[-1].outcome == "pass"


def test_works_started_on_the_reception_day_pass() -> None:
    """Only a start strictly before the reception day bars the subsidy."""
    req = request(prior_start_on=RECEIVED, prior_start_kind="works")
    assert eligibility_verdicts(req, PVD_COMMUNE, DETR_PROGRAMME, RECEIVED)[-1].outcome == "pass"


def test_start_date_without_kind_is_read_as_works() -> None:
    """A prior start date without a kind is taken as works, the case that bars the aid."""
    req = request(prior_start_on=date(2025, 2, 1))
    assert eligibility_verdicts(req, PVD_COMMUNE, DETR_PROGRAMME, RECEIVED)[-1].outcome == "fail"


def test_assert_eligible_raises_unknown_commune_first() -> None:
    """`assert_eligible` raises UnknownCommune for an unknown code, even if more fails."""
    with pytest.raises(UnknownCommune) as caught:
        assert_eligible(request(insee="99999"), None, None, RECEIVED)
    assert caught.value.rule == "commune-known"


def test_assert_eligible_raises_not_pvd_member() -> None:
    """`assert_eligible` raises NotPvdMember for a known commune off the list."""
    with pytest.raises(NotPvdMember) as caught:
        assert_eligible(request(insee="24999"), NON_PVD_COMMUNE, DETR_PROGRAMME, RECEIVED)
    assert caught.value.rule == "pvd-membership"
    assert "ANCT" in caught.value.source


def test_assert_eligible_raises_rule_violation_for_other_rules() -> None:
    """Other failures are plain RuleViolations naming their rule."""
    with pytest.raises(RuleViolation) as caught:
        assert_eligible(request(), PVD_COMMUNE, DETR_PROGRAMME, date(2026, 2, 1))
    assert type(caught.value) is RuleViolation
    assert caught.value.rule == "programme-open"


def test_assert_eligible_returns_verdicts_when_eligible() -> None:
    """An eligible request gets its verdicts back."""
    verdicts = assert_eligible(request(), PVD_COMMUNE, DETR_PROGRAMME, RECEIVED)
    assert len(verdicts) == 6


def test_a_request_received_just_after_midnight_is_received_that_day_in_paris() -> None:
    """00:30 in Paris on 1 January 2026 is 23:30 UTC on 31 December, the DETR programme's
    last day: received in 2026, the request is refused as the programme is closed. A file
    submitted before Guichet counted Paris days keeps the UTC day it was decided on."""
    workflow_clock = datetime(2026, 1, 1, 0, 30, tzinfo=PARIS).astimezone(UTC)
    (_, paris) = decide(submit(when=workflow_clock), INITIAL_STATE)
    assert isinstance(paris, EligibilityRejected)
    assert [v.rule for v in paris.verdicts] == ["programme-open"]
    (submitted, utc) = decide(submit(when=workflow_clock, rules=0), INITIAL_STATE)
    assert isinstance(utc, EligibilityConfirmed)
    assert isinstance(submitted, ApplicationSubmitted) and submitted.rules == 0


SHOPIN = load_catalogue().get("bdt-shopin-diagnostic")


@pytest.mark.parametrize(
    ("received_on", "cadre_signed_on", "outcome"),
    [
        (date(2022, 11, 10), None, "pass"),  # the delay's last day: 18 months after 10 May 2021
        (date(2022, 11, 11), None, "fail"),
        (date(2025, 7, 1), None, "fail"),
        (date(2025, 7, 1), date(2023, 2, 1), "pass"),  # signed late, but signed
    ],
)
def test_an_offer_is_closed_once_the_convention_cadre_delay_has_passed(
    received_on: date, cadre_signed_on: date | None, outcome: str
) -> None:
    """Shop'in needs the convention d'adhésion and the convention-cadre within 18 months of
    it (DOMAIN.md: at expiry, the offers that need it close). A request received after that,
    with no convention-cadre, is refused at receipt: it used to be found eligible, then
    dismissed at once by the expired deadline, "without an answer" to a question never asked."""
    assert SHOPIN is not None
    conventions = PVD_COMMUNE.conventions + tuple(
        Convention(kind="cadre", signed_on=signed) for signed in [cadre_signed_on] if signed
    )
    commune = PVD_COMMUNE.model_copy(update={"conventions": conventions})
    shopin_request = flat_request().replaced({"programme_id": SHOPIN.id})
    verdicts = eligibility_verdicts(shopin_request, commune, SHOPIN, received_on)
    convention = next(v for v in verdicts if v.rule == "convention-required")
    assert convention.outcome == outcome, convention.message
    if outcome == "fail":
        assert "by 2022-11-10" in convention.message
        assert "au plus tard le 10/11/2022" in convention.french
    unchecked = eligibility_verdicts(
        shopin_request, commune, SHOPIN, received_on, cadre_window=False
    )
    assert outcomes(unchecked)["convention-required"] == "pass"  # files submitted before
