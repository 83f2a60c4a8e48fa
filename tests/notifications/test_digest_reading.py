"""The caseworker's digest as its reader gets it from the listing: files named as the work
queue names them, not by the codes visibility publishes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from temporalio.testing import ActivityEnvironment

from activities.digest import DigestActivities, DigestNotices, DigestRequest
from domain.catalogue import load_catalogue
from domain.registry import load_registry
from workflows.client import GuichetClient
from workflows.listing import ApplicationSummary

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


class Listing(GuichetClient):
    """A client whose visibility listing is these rows, whatever the query."""

    def __init__(self, *rows: ApplicationSummary) -> None:
        self.rows = rows

    async def each(
        self, query: str = "", limit: int | None = None
    ) -> AsyncIterator[ApplicationSummary]:
        for row in self.rows:
            yield row


def listed(application_id: str, programme: str, insee: str) -> ApplicationSummary:
    return ApplicationSummary(
        application_id=application_id,
        status="in_instruction",
        programme=programme,
        insee=insee,
        department=insee[:2],
        caseworker="alice",
        running=True,
        last_activity=NOW - timedelta(days=10),
    )


async def test_the_caseworker_s_digest_names_each_file_s_commune_and_programme() -> None:
    """The queue shows « Valserhône » and the programme's name; the digest showed
    « dsil-detr-investissement-01033-… (dsil-detr-investissement, en instruction) »: the
    code twice, and no commune to know the file by."""
    listing = Listing(
        listed("dsil-detr-investissement-01033-abc", "dsil-detr-investissement", "01033"),
        listed("retired-offer-99999-def", "retired-offer", "99999"),
    )
    activities = DigestActivities(listing, catalogue=load_catalogue(), registry=load_registry())

    digests: DigestNotices = await ActivityEnvironment().run(
        activities.collect_digests, DigestRequest(at=NOW)
    )

    (digest,) = digests.notices
    assert (
        "- dsil-detr-investissement-01033-abc (Valserhône, « Subvention d'investissement de "
        "l'État (DETR / DSIL) », en instruction) : dernière action le 20/11/2026" in digest.body
    )
    # What neither the catalogue nor the registry knows is said as listed.
    assert "- retired-offer-99999-def (99999, « retired-offer », en instruction)" in digest.body
