"""Who is behind a recipient id: person and pool ids (``alice``, ``supervisors``,
``cofinancer:REGION``) resolved to e-mail addresses.

``Directory`` is the interface the outbox uses; ``MappingDirectory`` is the simple one read
from ``GUICHET_DIRECTORY_FILE``. When console accounts carry e-mail addresses, a directory
over them implements the same interface (and can fall back on the file).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol


class DirectoryError(Exception):
    """The directory file cannot be read; the message names the file and the problem."""


class Directory(Protocol):
    """Resolves a person or pool id to the e-mail addresses that receive its notices."""

    async def addresses(self, recipient: str) -> tuple[str, ...]:
        """The addresses of ``recipient``; empty when the id is unknown."""
        ...


def is_address(recipient: str) -> bool:
    """Whether an outbox recipient is already an e-mail address (else an id to resolve)."""
    local, at, domain = recipient.rpartition("@")
    return bool(at and local and "." in domain and not any(c.isspace() for c in recipient))


class MappingDirectory:
    """A fixed id → addresses mapping (a pool id may name several addresses)."""

    def __init__(self, entries: Mapping[str, Sequence[str]] | None = None) -> None:
        self._entries = {key: tuple(value) for key, value in (entries or {}).items()}

    def __len__(self) -> int:
        return len(self._entries)

    async def addresses(self, recipient: str) -> tuple[str, ...]:
        """The addresses listed for ``recipient``, or none."""
        return self._entries.get(recipient, ())


def load_directory(path: Path) -> MappingDirectory:
    """Read a TOML or JSON file mapping ids to an address or a list of addresses.

    TOML example (quote ids holding a colon or a slash)::

        alice = "alice.martin@ain.gouv.fr"
        supervisors = ["chef.service@ain.gouv.fr", "adjointe@ain.gouv.fr"]
        "cofinancer:REGION" = "subventions@auvergnerhonealpes.fr"
        caseworkers = "instruction-pvd@anct.gouv.fr"
        "caseworkers/01" = "ddt-subventions@ain.gouv.fr"

    An id followed by ``/`` and a department (``caseworkers/01``) is that pool's service in
    the department: a file's notice goes there first, else to the pool's own entry.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark, as Notepad writes
        data: object = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except FileNotFoundError:
        raise DirectoryError(f"no directory file at {path}: check the path") from None
    except (OSError, ValueError) as error:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise DirectoryError(f"directory file {path}: {error}") from None
    if not isinstance(data, dict):
        raise DirectoryError(f"directory file {path}: expected a table of id = address")
    return MappingDirectory({key: _addresses(path, key, value) for key, value in data.items()})


def _addresses(path: Path, key: str, value: object) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values:
        raise DirectoryError(f"directory file {path}: {key!r} must be an address or a list")
    for item in values:
        if not isinstance(item, str) or not is_address(item):
            raise DirectoryError(f"directory file {path}: {key!r} has a non-address {item!r}")
    return tuple(values)
