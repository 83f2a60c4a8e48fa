"""Eligibility look-ups: what the commune registry and the catalogue say at submission.

The rules themselves are pure (``domain.rules.eligibility``); this activity only fetches the
facts they need, which the submitted event then snapshots.
"""

from __future__ import annotations

from temporalio import activity

from activities.logging import activity_logger
from domain.commune import Commune
from domain.model import Frozen
from domain.programme import Catalogue, Programme
from domain.registry import CommuneRegistry


class EligibilityLookup(Frozen):
    programme_id: str
    insee: str


class EligibilityFacts(Frozen):
    """The commune and programme as known today; None where the code or id is unknown."""

    commune: Commune | None
    programme: Programme | None
    registry_vintage: str


class ReferenceData:
    """Activities over the commune registry and the programme catalogue."""

    def __init__(self, registry: CommuneRegistry, catalogue: Catalogue) -> None:
        self._registry = registry
        self._catalogue = catalogue

    @activity.defn(name="look_up_eligibility")
    async def look_up_eligibility(self, lookup: EligibilityLookup) -> EligibilityFacts:
        """The facts the eligibility rules need for this commune and programme."""
        facts = EligibilityFacts(
            commune=self._registry.get(lookup.insee),
            programme=self._catalogue.get(lookup.programme_id),
            registry_vintage=self._registry.vintage,
        )
        activity_logger().info(
            "eligibility facts",
            insee=lookup.insee,
            commune_known=facts.commune is not None,
            programme_known=facts.programme is not None,
        )
        return facts
