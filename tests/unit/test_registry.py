"""The commune registry: the COG 2023 vintage pinned, look-ups, search and conventions."""

from __future__ import annotations

from datetime import date

import pytest

from domain.commune import Convention
from domain.registry import (
    DEMO_CONVENTIONS,
    CommuneRegistry,
    RegistryError,
    load_registry,
    parse_conventions,
)

HEADER = "insee,name,department,region,population,pvd_id,acv_id,france_services_id\n"


@pytest.fixture(scope="module")
def registry() -> CommuneRegistry:
    return load_registry()


def test_registry_pins_the_cog_2023_vintage(registry: CommuneRegistry) -> None:
    """COG 2023: 35,039 communes, of which exactly 1,653 are on the PVD list."""
    assert registry.vintage == "COG 2023"
    assert len(registry) == 35_039
    assert len(registry.pvd_communes()) == 1_653


def test_valserhone_is_a_pvd_commune_since_the_launch(registry: CommuneRegistry) -> None:
    """01033 Valserhône: PVD pvd-84-01-1, population 16,712, member from 2020-10-01."""
    commune = registry.get("01033")
    assert commune is not None
    assert (commune.name, commune.pvd_id, commune.population) == (
        "Valserhône",
        "pvd-84-01-1",
        16_712,
    )
    assert commune.pvd_since == date(2020, 10, 1)
    assert commune.is_pvd_member_on(date(2021, 1, 1))
    assert not commune.is_pvd_member_on(date(2020, 9, 30))


def test_amberieu_is_known_but_not_pvd(registry: CommuneRegistry) -> None:
    """01004 Ambérieu-en-Bugey is in the registry but not on the PVD list."""
    commune = registry.get("01004")
    assert commune is not None and commune.name == "Ambérieu-en-Bugey"
    assert commune.pvd_id is None and commune.pvd_since is None
    assert not commune.is_pvd_member_on(date(2024, 1, 1))


def test_unknown_code_gives_none(registry: CommuneRegistry) -> None:
    """A code not in the vintage is simply unknown."""
    assert registry.get("00000") is None
    assert "00000" not in registry


def test_corsican_and_overseas_codes_parse(registry: CommuneRegistry) -> None:
    """2A004 Ajaccio is in Corse-du-Sud; 97602 Bandraboua (Mayotte) is overseas and PVD."""
    ajaccio = registry.get("2A004")
    assert ajaccio is not None and ajaccio.department == "2A" and not ajaccio.is_overseas
    bandraboua = registry.get("97602")
    assert bandraboua is not None and bandraboua.is_overseas
    assert bandraboua.pvd_id == "pvd-06-976-1"


def test_blank_region_and_population_become_none(registry: CommuneRegistry) -> None:
    """Communes merged since 2023 have no region or population: None, not empty strings."""
    ruffieu = registry.get("01330")
    assert ruffieu is not None and ruffieu.region is None and ruffieu.population is None


def test_search_by_name_prefix_ignores_case_accents_and_hyphens(
    registry: CommuneRegistry,
) -> None:
    """Searching "saint etienne" finds Saint-Étienne first; the limit is respected."""
    found = registry.search("saint etienne", limit=3)
    assert [c.insee for c in found][:1] == ["42218"]
    assert len(found) == 3
    assert all(c.name.startswith("Saint-Étienne") for c in found)
    assert registry.search("VALSERH") == [registry.get("01033")]
    assert registry.search("") == []


def test_pvd_since_is_a_registry_parameter() -> None:
    """The first day of membership is configurable, not hard-coded to the launch."""
    registry = CommuneRegistry.from_csv(
        HEADER + "01033,Valserhône,01,ARA,16712,pvd-84-01-1,,1\n", pvd_since=date(2021, 3, 1)
    )
    commune = registry.get("01033")
    assert commune is not None and commune.pvd_since == date(2021, 3, 1)
    assert registry.pvd_since == date(2021, 3, 1)


def test_conventions_are_dated_facts_of_the_commune() -> None:
    """Conventions from the CSV are attached to their commune with their signature dates."""
    conventions = parse_conventions(
        "# demo\ninsee,kind,signed_on\n01033,cadre,2022-06-30\n01033,adhesion,2021-03-15\n"
    )
    registry = CommuneRegistry.from_csv(
        HEADER + "01033,Valserhône,01,ARA,16712,pvd-84-01-1,,1\n", conventions=conventions
    )
    commune = registry.get("01033")
    assert commune is not None
    assert commune.conventions == (
        Convention(kind="adhesion", signed_on=date(2021, 3, 15)),
        Convention(kind="cadre", signed_on=date(2022, 6, 30)),
    )
    assert commune.convention_signed_on("cadre", date(2022, 1, 1)) is None
    assert commune.convention_signed_on("adhesion", date(2022, 1, 1)) == date(2021, 3, 15)


def test_demo_conventions_load_only_when_asked(registry: CommuneRegistry) -> None:
    """The shipped demo conventions attach to PVD communes; the default registry has none."""
    demo = load_registry(conventions_path=DEMO_CONVENTIONS)
    with_conventions = [c for c in demo.pvd_communes() if c.conventions]
    assert len(with_conventions) >= 5
    assert all(c.pvd_id for c in with_conventions)
    assert all(not c.conventions for c in registry.pvd_communes())


def test_a_convention_for_an_unknown_commune_is_refused() -> None:
    """Conventions must name a commune of the vintage."""
    with pytest.raises(RegistryError, match="not in COG 2023"):
        CommuneRegistry.from_csv(
            HEADER + "01033,Valserhône,01,ARA,16712,pvd-84-01-1,,1\n",
            conventions={"99999": (Convention(kind="adhesion", signed_on=date(2021, 1, 1)),)},
        )


def test_a_bad_convention_row_names_its_line() -> None:
    """An unknown convention kind is reported with its line number."""
    with pytest.raises(RegistryError, match="conventions line 2: kind"):
        parse_conventions("insee,kind,signed_on\n01033,ort,2021-01-01\n")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("1033,Valserhône,01,ARA,16712,,,\n", "line 2: invalid INSEE code '1033'"),
        ("01033,Valserhône,01,ARA,-3,,,\n", "line 2: invalid population '-3'"),
        ("01033,Valserhône,01\n", "line 2: 3 fields, expected 8"),
    ],
)
def test_a_malformed_commune_row_names_its_line(row: str, message: str) -> None:
    """Every constraint of Commune is checked when the registry is built, not on first use."""
    with pytest.raises(RegistryError, match=message):
        CommuneRegistry.from_csv(HEADER + row)


def test_a_wrong_header_is_refused() -> None:
    """A file with other columns is not silently misread."""
    with pytest.raises(RegistryError, match="the header must be"):
        CommuneRegistry.from_csv("code,name\n01033,Valserhône\n")


def test_a_search_reads_ligatures_and_curly_apostrophes_as_people_type_them() -> None:
    """Phones type ’; 109 communes are spelled with œ; folding to ASCII dropped both."""
    from domain.registry import load_registry

    registry = load_registry()
    assert [c.name for c in registry.search("Coeuvres")] == ["Cœuvres-et-Valsery"]
    assert [c.name for c in registry.search("L’Isle-Adam")] == ["L'Isle-Adam"]
    assert "Œting" in [c.name for c in registry.search("Oeting")]
