"""Schema evolution on read: upcasters turn old event data into the current shape.

Stored rows never change (the log is evidence); an upcaster is applied each time an event is
read, one version step at a time. ``verify`` reads the stored rows, never upcast data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class Upcasters:
    """A registry mapping ``(type, from_version)`` to a function lifting data one version."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcaster] = {}

    def register(self, type_: str, from_version: int, upcaster: Upcaster) -> None:
        """Register the step ``from_version`` → ``from_version + 1`` for events of ``type_``."""
        key = (type_, from_version)
        if key in self._steps:
            raise ValueError(f"an upcaster for {type_} v{from_version} is already registered")
        self._steps[key] = upcaster

    def upcaster(self, type_: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator form of :meth:`register`."""

        def decorate(function: Upcaster) -> Upcaster:
            self.register(type_, from_version, function)
            return function

        return decorate

    def upcast(
        self, type_: str, schema_version: int, data: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """Apply every registered step from ``schema_version``; return the new version and data."""
        while (step := self._steps.get((type_, schema_version))) is not None:
            data = step(data)
            schema_version += 1
        return schema_version, data

    def __len__(self) -> int:
        return len(self._steps)
