"""Eligibility of a request at submission: known commune on the PVD list, open programme,
signed convention when the offer needs one, and no works started before the request.

The registry and catalogue look-ups happen outside the domain; their answers arrive here as
values (``None`` when the code or id is unknown).
"""

from __future__ import annotations

from datetime import date

from domain.commands import ApplicationRequest
from domain.commune import Commune
from domain.deadline import last_day_after
from domain.errors import NotPvdMember, RuleViolation, UnknownCommune
from domain.french import day
from domain.programme import Programme
from domain.verdict import RuleVerdict

COMMUNE_REGISTRY = "Code officiel géographique 2023 (registre des communes)"
PVD_LIST = "ANCT, liste des communes PVD (millésime COG 2023)"
CATALOGUE = "catalogue des dispositifs de Guichet"
CONVENTIONS = "ANCT, convention d'adhésion et convention-cadre PVD"
NO_PRIOR_START = "CGCT R2334-24 ; décret 2018-514 art. 3"


_PRIOR_START_FR = {"studies": "Les études", "land_purchase": "Les acquisitions foncières"}
"""What was started before the request, in French, when it is not works."""


def _verdict(rule: str, source: str, ok: bool | None, message: str, *, french: str) -> RuleVerdict:
    outcome = "not_applicable" if ok is None else ("pass" if ok else "fail")
    return RuleVerdict(rule=rule, source=source, outcome=outcome, message=message, french=french)


def _window_fr(programme: Programme) -> str:
    """When the programme receives requests, in French: ``du 01/01/2025 au 31/12/2025``."""
    opens, closes = programme.opens_on, programme.closes_on
    if opens is not None and closes is not None:
        return f"du {day(opens)} au {day(closes)}"
    if opens is not None:
        return f"à partir du {day(opens)}"
    if closes is not None:
        return f"jusqu'au {day(closes)}"
    return "sans limite de dates"


def _commune_known(request: ApplicationRequest, commune: Commune | None) -> RuleVerdict:
    if commune is None or commune.insee != request.insee:
        return _verdict(
            "commune-known",
            COMMUNE_REGISTRY,
            False,
            f"INSEE code {request.insee} is not in the commune registry (COG 2023): "
            "check the code on insee.fr",
            french=f"Le code INSEE {request.insee} ne figure pas au registre des communes "
            "(COG 2023) : vérifiez le code sur insee.fr",
        )
    return _verdict(
        "commune-known",
        COMMUNE_REGISTRY,
        True,
        f"{commune.name} ({commune.insee}) is known",
        french=f"{commune.name} ({commune.insee}) figure au registre des communes",
    )


def _pvd_membership(commune: Commune | None, received_on: date) -> RuleVerdict:
    if commune is None:
        return _verdict(
            "pvd-membership",
            PVD_LIST,
            None,
            "no known commune to check",
            french="Aucune commune connue à vérifier",
        )
    if not commune.is_pvd_member_on(received_on):
        return _verdict(
            "pvd-membership",
            PVD_LIST,
            False,
            f"{commune.name} ({commune.insee}) is not on the Petites Villes de Demain list on "
            f"{received_on.isoformat()}: only PVD communes may apply; ask the prefecture "
            "if you believe the list is wrong",
            french=f"{commune.name} ({commune.insee}) ne figure pas sur la liste « Petites "
            f"villes de demain » à la date du {day(received_on)} : seules les communes PVD "
            "peuvent déposer une demande ; adressez-vous à la préfecture si vous pensez que la "
            "liste est erronée",
        )
    return _verdict(
        "pvd-membership",
        PVD_LIST,
        True,
        f"{commune.name} is a PVD commune ({commune.pvd_id})",
        french=f"{commune.name} est une commune « Petites villes de demain » ({commune.pvd_id})",
    )


def _programme_known(request: ApplicationRequest, programme: Programme | None) -> RuleVerdict:
    if programme is None or programme.id != request.programme_id:
        return _verdict(
            "programme-known",
            CATALOGUE,
            False,
            f"programme {request.programme_id!r} is not in the catalogue: "
            "choose a programme from the catalogue",
            french=f"Le dispositif « {request.programme_id} » ne figure pas au catalogue : "
            "choisissez un dispositif du catalogue",
        )
    return _verdict(
        "programme-known",
        CATALOGUE,
        True,
        f"programme {programme.name}",
        french=f"Dispositif « {programme.name} » présent au catalogue",
    )


def _programme_open(programme: Programme | None, received_on: date) -> RuleVerdict:
    if programme is None:
        return _verdict(
            "programme-open",
            CATALOGUE,
            None,
            "no known programme to check",
            french="Aucun dispositif connu à vérifier",
        )
    if not programme.is_open_on(received_on):
        window = f"{programme.opens_on or '…'} to {programme.closes_on or '…'}"
        return _verdict(
            "programme-open",
            programme.source,
            False,
            f"{programme.name} does not receive requests on {received_on.isoformat()} "
            f"(open {window}): apply while it is open",
            french=f"Le dispositif « {programme.name} » ne reçoit pas de demandes le "
            f"{day(received_on)} (ouvert {_window_fr(programme)}) : déposez votre demande "
            "pendant sa période d'ouverture",
        )
    return _verdict(
        "programme-open",
        programme.source,
        True,
        f"{programme.name} is open",
        french=f"Le dispositif « {programme.name} » est ouvert",
    )


def _convention_required(
    commune: Commune | None, programme: Programme | None, received_on: date, cadre_window: bool
) -> RuleVerdict:
    if commune is None or programme is None or programme.requires_convention == "none":
        return _verdict(
            "convention-required",
            CONVENTIONS,
            None,
            "no convention required",
            french="Aucune convention requise",
        )
    kind = programme.requires_convention
    label = "convention d'adhésion" if kind == "adhesion" else "convention-cadre"
    signed = commune.convention_signed_on(kind, received_on)
    if signed is None:
        return _verdict(
            "convention-required",
            CONVENTIONS,
            False,
            f"{programme.name} requires the PVD {label} to be signed before the request; "
            f"{commune.name} has none signed by {received_on.isoformat()}: "
            "apply once it is signed",
            french=f"Le dispositif « {programme.name} » exige que la {label} PVD soit signée "
            f"avant la demande ; {commune.name} n'en a signé aucune à la date du "
            f"{day(received_on)} : déposez votre demande une fois la convention signée",
        )
    closed_on = _cadre_window_closed(commune, programme, signed, received_on)
    if kind == "adhesion" and cadre_window and closed_on is not None:
        return _verdict(
            "convention-required",
            CONVENTIONS,
            False,
            f"{programme.name} needs the PVD convention-cadre within the delay after the "
            f"convention d'adhésion signed on {signed.isoformat()}, that is by "
            f"{closed_on.isoformat()}; {commune.name} has none signed by "
            f"{received_on.isoformat()}: the offers that need it are closed to it",
            french=f"Le dispositif « {programme.name} » demande la convention-cadre PVD dans "
            f"le délai qui suit la convention d'adhésion signée le {day(signed)}, soit au plus "
            f"tard le {day(closed_on)} ; {commune.name} n'en a signé aucune à la date du "
            f"{day(received_on)} : les offres qui l'exigent lui sont fermées",
        )
    return _verdict(
        "convention-required",
        CONVENTIONS,
        True,
        f"{label} signed on {signed.isoformat()}",
        french=f"{label[:1].upper()}{label[1:]} signée le {day(signed)}",
    )


def _cadre_window_closed(
    commune: Commune, programme: Programme, adhesion_on: date, received_on: date
) -> date | None:
    """The last day of the convention-cadre's delay when it has passed without one signed
    (the programme's ``convention_cadre`` deadline, whose expiry closes the offers), else
    None: a request received then would be found eligible, then dismissed at once."""
    rule = next((r for r in programme.deadlines if r.kind == "convention_cadre"), None)
    if rule is None or commune.convention_signed_on("cadre", received_on) is not None:
        return None
    last_day = last_day_after(adhesion_on, rule.duration)
    return last_day if received_on > last_day else None


def _no_prior_start(request: ApplicationRequest, received_on: date) -> RuleVerdict:
    started = request.prior_start_on
    # A start date without a kind is read as works: the legal start is a signed quote or
    # contract, and letting an unqualified date through would hide the one case that bars aid.
    kind = request.prior_start_kind or "works"
    if started is None or started >= received_on:
        return _verdict(
            "no-prior-start",
            NO_PRIOR_START,
            True,
            "nothing started before the request",
            french="Rien n'a été commencé avant la demande",
        )
    if kind != "works":
        return _verdict(
            "no-prior-start",
            NO_PRIOR_START,
            True,
            f"{kind.replace('_', ' ')} before the request do not count as a start of works",
            french=f"{_PRIOR_START_FR.get(kind, kind.replace('_', ' '))} antérieures à la "
            "demande ne valent pas commencement des travaux",
        )
    return _verdict(
        "no-prior-start",
        NO_PRIOR_START,
        False,
        f"works were legally started on {started.isoformat()}, before the request was "
        f"received on {received_on.isoformat()}: a subsidy cannot fund works already begun "
        "(studies and land purchase do not count)",
        french=f"Les travaux ont juridiquement commencé le {day(started)}, avant la réception "
        f"de la demande le {day(received_on)} : une subvention ne peut pas financer des "
        "travaux déjà commencés (les études et les acquisitions foncières ne valent pas "
        "commencement des travaux)",
    )


def eligibility_verdicts(
    request: ApplicationRequest,
    commune: Commune | None,
    programme: Programme | None,
    received_on: date,
    *,
    cadre_window: bool = True,
) -> tuple[RuleVerdict, ...]:
    """Every eligibility verdict of a request received on ``received_on``, in a stable order.

    ``cadre_window=False`` for files submitted before the convention-cadre's delay was checked
    at receipt (rules 0, ``domain.commands.RULES``): they replay as they were decided."""
    # A registry answer for another code is no answer: later rules then have nothing to check.
    known = commune if commune is not None and commune.insee == request.insee else None
    offered = programme if programme is not None and programme.id == request.programme_id else None
    return (
        _commune_known(request, commune),
        _pvd_membership(known, received_on),
        _programme_known(request, programme),
        _programme_open(offered, received_on),
        _convention_required(known, offered, received_on, cadre_window),
        _no_prior_start(request, received_on),
    )


_ERRORS: dict[str, type[RuleViolation]] = {
    "commune-known": UnknownCommune,
    "pvd-membership": NotPvdMember,
}


def assert_eligible(
    request: ApplicationRequest,
    commune: Commune | None,
    programme: Programme | None,
    received_on: date,
) -> tuple[RuleVerdict, ...]:
    """Raise the first failing eligibility rule as its ``DomainError``; else return the verdicts.

    ``UnknownCommune`` and ``NotPvdMember`` for the commune rules, ``RuleViolation`` otherwise.
    """
    verdicts = eligibility_verdicts(request, commune, programme, received_on)
    for verdict in verdicts:
        if verdict.outcome == "fail":
            error = _ERRORS.get(verdict.rule, RuleViolation)
            raise error(
                verdict.message, rule=verdict.rule, source=verdict.source, french=verdict.french
            )
    return verdicts
