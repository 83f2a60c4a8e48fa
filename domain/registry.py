"""The commune registry: every commune of one official geography vintage, with PVD membership.

Eligibility is membership of the official list, keyed by INSEE code and dated by the list's
vintage (COG 2023 lists 1,653 PVD communes); it is never computed from population. Parsing is
pure (text in, registry out); ``load_registry`` reads the packaged data files, the only I/O.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from datetime import date
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType

from pydantic import ValidationError

from domain.commune import Commune, Convention

COLUMNS = (
    "insee",
    "name",
    "department",
    "region",
    "population",
    "pvd_id",
    "acv_id",
    "france_services_id",
)
PVD_LAUNCH = date(2020, 10, 1)
"""Default first day of PVD membership: the programme launch. [?] Communes joined the list in
waves from December 2020; pass ``pvd_since`` when a dated list is available."""

DATA = files("domain") / "data"
COMMUNES_COG2023: Traversable = DATA / "communes-cog2023.csv"
DEMO_CONVENTIONS: Traversable = DATA / "conventions-demo.csv"
"""Invented conventions for a few PVD communes, for demonstrations and tests only."""

_NO_CONVENTIONS: Mapping[str, tuple[Convention, ...]] = MappingProxyType({})
_INSEE = re.compile(r"^\d[0-9AB]\d{3}$")


class RegistryError(ValueError):
    """The communes or conventions file is malformed; the message names the line."""


class CommuneRegistry:
    """The communes of one vintage, looked up by INSEE code or name prefix; read-only.

    Rows are checked when the registry is built (every constraint of ``Commune``), but a
    ``Commune`` object is made only when asked for: building 35,039 pydantic models up front
    would triple the load time for a service that looks up a handful of communes.
    """

    def __init__(
        self,
        rows: Mapping[str, tuple[str, ...]],
        *,
        vintage: str,
        pvd_since: date,
        conventions: Mapping[str, tuple[Convention, ...]],
    ) -> None:
        self._rows = dict(rows)
        self._vintage = vintage
        self._pvd_since = pvd_since
        self._conventions = dict(conventions)
        self._made: dict[str, Commune] = {}
        self._name_index: list[tuple[str, str]] | None = None

    @classmethod
    def from_csv(
        cls,
        text: str,
        *,
        vintage: str = "COG 2023",
        pvd_since: date = PVD_LAUNCH,
        conventions: Mapping[str, tuple[Convention, ...]] = _NO_CONVENTIONS,
    ) -> CommuneRegistry:
        """Parse the communes CSV (columns ``COLUMNS``); conventions are attached by INSEE code."""
        rows: dict[str, tuple[str, ...]] = {}
        for line, values in _table(text, COLUMNS):
            insee, population = values[0], values[4]
            if not _INSEE.match(insee):
                raise RegistryError(f"line {line}: invalid INSEE code {insee!r}")
            if population and not population.isdigit():
                raise RegistryError(f"line {line}: invalid population {population!r}")
            if insee in rows:
                raise RegistryError(f"line {line}: duplicate INSEE code {insee!r}")
            rows[insee] = tuple(values)
        unknown = sorted(set(conventions) - set(rows))
        if unknown:
            raise RegistryError(f"conventions for INSEE codes not in {vintage}: {unknown}")
        return cls(rows, vintage=vintage, pvd_since=pvd_since, conventions=conventions)

    @property
    def vintage(self) -> str:
        """The geography vintage the list is dated by, e.g. ``"COG 2023"``."""
        return self._vintage

    @property
    def pvd_since(self) -> date:
        """The first day of PVD membership given to every listed commune."""
        return self._pvd_since

    def get(self, insee: str) -> Commune | None:
        """The commune with this INSEE code, or None."""
        return self._commune(insee) if insee in self._rows else None

    def departments(self) -> frozenset[str]:
        """The department codes of the listed communes (``01``, ``2A``, ``974``…)."""
        return frozenset(row[2] for row in self._rows.values())

    def pvd_communes(self) -> list[Commune]:
        """Every commune on the PVD list of this vintage, in file (INSEE) order."""
        return [self._commune(i) for i, row in self._rows.items() if row[5]]

    def search(self, name_prefix: str, limit: int = 20) -> list[Commune]:
        """Communes whose name starts with ``name_prefix``, ignoring case, accents and hyphens."""
        key = name_key(name_prefix)
        if not key or limit <= 0:
            return []
        index = self._index()
        found: list[Commune] = []
        for name, insee in index[bisect_left(index, (key, "")) :]:
            if not name.startswith(key) or len(found) >= limit:
                break
            found.append(self._commune(insee))
        return found

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, insee: object) -> bool:
        return insee in self._rows

    def _commune(self, insee: str) -> Commune:
        made = self._made.get(insee)
        if made is None:
            made = self._made[insee] = self._make(self._rows[insee])
        return made

    def _make(self, row: tuple[str, ...]) -> Commune:
        insee, name, department, region, population, pvd_id, acv_id, fs_id = row
        return Commune(
            insee=insee,
            name=name,
            department=department,
            region=region or None,
            population=int(population) if population else None,
            pvd_id=pvd_id or None,
            pvd_since=self._pvd_since if pvd_id else None,
            acv_id=acv_id or None,
            france_services_id=fs_id or None,
            conventions=self._conventions.get(insee, ()),
        )

    def _index(self) -> list[tuple[str, str]]:
        # Built on first search only: most callers look up by INSEE code.
        if self._name_index is None:
            self._name_index = sorted((name_key(r[1]), i) for i, r in self._rows.items())
        return self._name_index


def parse_conventions(text: str) -> dict[str, tuple[Convention, ...]]:
    """Parse ``insee,kind,signed_on`` rows (lines starting with ``#`` are comments)."""
    found: dict[str, list[Convention]] = {}
    for line, (insee, kind, signed_on) in _table(text, ("insee", "kind", "signed_on")):
        try:
            convention = Convention.model_validate({"kind": kind, "signed_on": signed_on})
        except ValidationError as error:
            raise RegistryError(f"conventions line {line}: {_first(error)}") from None
        found.setdefault(insee, []).append(convention)
    return {insee: tuple(sorted(cs, key=lambda c: c.signed_on)) for insee, cs in found.items()}


def load_registry(
    path: Path | Traversable | None = None,
    conventions_path: Path | Traversable | None = None,
    *,
    vintage: str = "COG 2023",
    pvd_since: date = PVD_LAUNCH,
) -> CommuneRegistry:
    """Read the packaged COG 2023 registry (or ``path``), with conventions if a file is given."""
    text = (path or COMMUNES_COG2023).read_text(encoding="utf-8")
    conventions = (
        # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte-order mark, which made the
        # header read "\ufeffinsee" and be refused as not insee,kind,signed_on.
        parse_conventions(conventions_path.read_text(encoding="utf-8-sig"))
        if conventions_path is not None
        else _NO_CONVENTIONS
    )
    return CommuneRegistry.from_csv(
        text, vintage=vintage, pvd_since=pvd_since, conventions=conventions
    )


def _table(text: str, columns: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    """CSV rows with their line numbers; blank lines and ``#`` comment lines are skipped."""
    numbers: list[int] = []

    def data_lines() -> Iterator[str]:
        for number, raw in enumerate(io.StringIO(text), 1):
            if raw.strip() and not raw.startswith("#"):
                numbers.append(number)
                yield raw

    reader = csv.reader(data_lines())
    if tuple(next(reader, ())) != columns:
        raise RegistryError(f"the header must be {','.join(columns)}")
    for values in reader:
        if len(values) != len(columns):
            raise RegistryError(
                f"line {numbers[-1]}: {len(values)} fields, expected {len(columns)}"
            )
        yield numbers[-1], values


_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "’": "'", "‘": "'",
                            "ʼ": "'"})  # fmt: skip
"""What folding to ASCII would drop: Cœuvres is Coeuvres, L’Isle-Adam is L'Isle-Adam."""


def name_key(name: str) -> str:
    """A commune's name as searches compare it: no case, accents, hyphens or apostrophes."""
    spelled = name.translate(_LIGATURES)
    plain = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode()
    return re.sub(r"[\s'’-]+", " ", plain.casefold()).strip()


def _first(error: ValidationError) -> str:
    detail = error.errors()[0]
    return f"{'.'.join(str(p) for p in detail['loc'])}: {detail['msg']}"
