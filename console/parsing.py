"""Turning what people type into domain values, exactly: euros, actors, dates, files.

Every parser raises ``InputError`` with one sentence that says what to type instead; the
CLI turns it into exit code 2.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from domain.actor import ACCOUNT_NAME, ROLES, Actor
from domain.commands import DEPARTMENT_CODE
from domain.deadline import PARIS

_THOUSANDS = " \u00a0\u202f_"
"""What may stand between groups of three digits: a space (plain, no-break, or the narrow
one French typesetting uses) or an underscore."""
_EUROS = re.compile(r"(?:[0-9]+|[0-9]{1,3}(?:[ \u00a0\u202f_][0-9]{3})+)(?:[.,][0-9]{1,2})?")
MAX_CENTS = 10**13


INSEE_CODE = re.compile(r"[0-9][0-9AB][0-9]{3}")
"""A commune's INSEE code as the COG writes it: 01034, 2A004."""


class InputError(ValueError):
    """Something the person typed cannot be used; the message says what to type instead."""


class AmountError(ValueError):
    """Not an amount in euros (``too_large``: one, beyond ``MAX_CENTS``)."""

    def __init__(self, too_large: bool = False) -> None:
        super().__init__("too large" if too_large else "not an amount")
        self.too_large = too_large


def cents_of(text: str) -> int:
    """``"12 345,67 €"`` → ``1234567``, exactly (Decimal, never a float), or ``AmountError``.

    Digits 0 to 9 only (« ٣٤ » is not 34), a separator between every group of three or none
    (« 1 2 5 » and « 12 345678 » are no amounts), a decimal point or comma with one or two
    decimals; signs, exponents and a third decimal are refused rather than rounded. The CLI
    and the console (and the submission page's script) read amounts alike.
    """
    cleaned = text.strip().removeprefix("€").removesuffix("€").strip()
    if not _EUROS.fullmatch(cleaned):
        raise AmountError()
    digits = "".join(c for c in cleaned if c not in _THOUSANDS).replace(",", ".")
    cents = int(Decimal(digits) * 100)  # two decimals at most: an exact integer
    if cents > MAX_CENTS:
        raise AmountError(too_large=True)
    return cents


def whole_number(text: str, low: int, high: int) -> int | None:
    """``text`` as a whole number from ``low`` to ``high`` in ASCII digits, or None.

    ``int()`` never sees more digits than ``high`` has: past 4,300 it raises (a page's
    « inactif » of 5,000 nines was a 500), and « ² » is a digit to ``isdigit`` but not to
    ``int``."""
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > len(str(high)):
        return None
    value = int(text)
    return value if low <= value <= high else None


def euros_to_cents(text: str) -> int:
    """``"1234.50"`` → ``123450`` (``cents_of``), or ``InputError`` saying what to type."""
    try:
        return cents_of(text)
    except AmountError as error:
        if error.too_large:
            raise InputError(f"{text!r} is out of range: at most €100,000,000,000.00") from None
        raise InputError(
            f"{text!r} is not an amount in euros: write it like 1234.50 or 1 234,50 "
            "(no sign, at most two decimals)"
        ) from None


def format_euros(cents: int | None) -> str:
    """``123450`` → ``"€1,234.50"``; the same style as the domain's messages."""
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}€{cents // 100:,}.{cents % 100:02d}"


def funder_code(text: str) -> str:
    """A funder as the co-financers' accounts name it: ``Région`` → ``REGION`` (capitals,
    no accents; upper-casing alone made « RÉGION », which no account decides for)."""
    plain = unicodedata.normalize("NFKD", text.strip())
    return "".join(c for c in plain if not unicodedata.combining(c)).upper()


def parse_actor(text: str) -> Actor:
    """``role:id[:extra]``: a co-financer names its funder, an applicant its commune (INSEE).

    Examples: ``caseworker:alice``, ``cofinancer:prefecture-01:DETR``,
    ``applicant:mairie-bourg:01053``. An applicant without its commune would pass the
    own-commune check on any file (``check_permission`` compares the commune an actor names):
    ``applicant:mairie-01093`` withdrew another commune's file.
    """
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise InputError(
            f"--as {text!r} must be role:id (or role:id:funder for a co-financer, "
            "role:id:insee for an applicant), e.g. caseworker:alice"
        )
    role, actor_id = parts[0].strip().lower().replace("-", "_"), parts[1].strip()
    if role not in ROLES:
        raise InputError(f"unknown role {parts[0]!r} in --as: use one of {', '.join(ROLES)}")
    if not re.fullmatch(ACCOUNT_NAME, actor_id):
        # The four-eyes rule compares ids exactly: « Alice » would pass where « alice » is
        # refused. Ids are written as people sign in to the console.
        raise InputError(
            f"--as {text!r}: {actor_id!r} is not an account name as people sign in with it "
            "(2 to 64 lowercase letters, digits, « . », « _ » or « - », e.g. alice)"
        )
    extra = parts[2].strip() if len(parts) == 3 else None
    if role == "cofinancer" and extra is None:
        raise InputError(
            "a co-financer acts for one funder: write --as cofinancer:<id>:<FUNDER>, "
            "e.g. cofinancer:prefecture-01:DETR"
        )
    if role == "applicant" and extra is None:
        raise InputError(
            "an applicant acts for its commune: write --as applicant:<id>:<INSEE>, "
            "e.g. applicant:mairie-belley:01034"
        )
    if role == "applicant" and not INSEE_CODE.fullmatch(extra or ""):
        raise InputError(
            f"--as {text!r}: {extra!r} is no INSEE code: five characters, the leading zero "
            "included (01034, 2A004)"
        )
    if extra is not None and role not in ("cofinancer", "applicant"):
        raise InputError(
            f"only a co-financer (funder) or an applicant (INSEE code) takes a third part in "
            f"--as, not a {role}"
        )
    fields: dict[str, Any] = {"id": actor_id, "role": role}
    if extra is not None:
        # The funder as plans and accounts write it: « detr » would match no line of DETR.
        fields["funder" if role == "cofinancer" else "insee"] = (
            funder_code(extra) if role == "cofinancer" else extra
        )
    try:
        return Actor.model_validate(fields)
    except ValidationError as error:
        raise InputError(f"--as {text!r}: {problems(error)}") from None


ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
"""A day as people are told to write it, 2025-04-01: Python's ``date.fromisoformat`` also takes
« 2026-W49 » (read as that week's Monday) and « 20261207 »."""


FIRST_YEAR, LAST_YEAR = 1900, 2999
"""The years a typed day may fall in: a date input typed digit by digit sends « 0002-12-07 »,
and a day of year 1 overflowed the domain's arithmetic into an English error on the console."""


class DayError(ValueError):
    """Not a day written 2025-04-01 (``no_such_day``: written so, but not in the calendar;
    ``out_of_range``: a year before ``FIRST_YEAR`` or after ``LAST_YEAR``)."""

    def __init__(self, no_such_day: bool = False, out_of_range: bool = False) -> None:
        super().__init__(
            "no such day" if no_such_day else "year out of range" if out_of_range else "not a day"
        )
        self.no_such_day = no_such_day
        self.out_of_range = out_of_range

    def in_french(self, text: str) -> str:
        """What the console says of ``text``, after the field's name."""
        if self.no_such_day:
            return f"le {text} n'existe pas au calendrier"
        if self.out_of_range:
            return f"une année de {FIRST_YEAR} à {LAST_YEAR}"
        return "date attendue au format AAAA-MM-JJ"


def day_of(text: str) -> date:
    """``"2025-04-01"`` → that day, or ``DayError``: only the one form the CLI's and the
    console's messages ask for, so that nothing typed is read as another day."""
    if not ISO_DAY.fullmatch(text):
        raise DayError()
    try:
        day = date.fromisoformat(text)
    except ValueError:  # 2026-02-29, 2026-13-01
        raise DayError(no_such_day=True) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise DayError(out_of_range=True)
    return day


def parse_date(text: str, option: str) -> date:
    """An ISO day (``2025-04-01``); ``today`` is accepted for convenience: today in Paris, as
    the workers count a file's days (the machine's own day, in UTC on a server, was the day
    before from midnight to 1 or 2 a.m. in Paris: a start « today » recorded yesterday)."""
    written = text.strip()
    if written.lower() == "today":
        return datetime.now(PARIS).date()
    try:
        return day_of(written)
    except DayError as error:
        if error.no_such_day:
            raise InputError(f"{option} {written}: there is no such day in the calendar") from None
        if error.out_of_range:
            raise InputError(
                f"{option} {written}: write a year from {FIRST_YEAR} to {LAST_YEAR}"
            ) from None
        raise InputError(f"{option} {text!r} is not a date: write it like 2025-04-01") from None


def load_document(path: Path) -> dict[str, Any]:
    """A JSON or TOML file (by extension; JSON is tried first when there is none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                data = tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(
            f"{path} is not valid {suffix.lstrip('.') or 'JSON/TOML'}: {error}"
        ) from None
    if not isinstance(data, dict):
        raise InputError(f"{path} must hold an object (a table), not {type(data).__name__}")
    return data


def plan_document(path: Path) -> dict[str, Any]:
    """A financing plan from a file: the plan itself, or a request file's ``[plan]`` table
    (what ``guichet submit`` reads), so that one file serves the submission and its revisions."""
    document = load_document(path)
    plan = document.get("plan")
    if "lines" not in document and isinstance(plan, dict):
        return plan
    return document


SHOWN_PROBLEMS = 5
"""How many validation problems an error names before it counts the rest."""


def problems(
    error: ValidationError, where_of: Callable[[tuple[int | str, ...]], str] | None = None
) -> str:
    """Every validation problem (the first few) in one line, each ``where: what``:
    ``project_title: Field required; plan.lines.0.funder: Field required``. ``where_of``
    names a problem's place (its ``loc``) otherwise than by its dotted path."""
    found = error.errors()
    phrases = []
    for problem in found[:SHOWN_PROBLEMS]:
        loc = tuple(problem["loc"])
        where = where_of(loc) if where_of else ".".join(str(part) for part in loc)
        message = str(problem["msg"]).removeprefix("Value error, ")
        phrases.append(f"{where}: {message}" if where else message)
    rest = len(found) - SHOWN_PROBLEMS
    more = f" (and {rest} more problem{'s' if rest > 1 else ''})" if rest > 0 else ""
    return "; ".join(phrases) + more


DEPARTMENT = re.compile(DEPARTMENT_CODE)
"""A department code as the COG writes it: 01, 2A, 974 (a leading zero included)."""


def check_department(department: str | None) -> None:
    """``--department 1`` matched nothing and said nothing: a code has two or three
    characters, its leading zero included."""
    if department is not None and not DEPARTMENT.match(department):
        raise InputError(
            f"--department {department!r} is no department code: write two or three "
            "characters, the leading zero included (01, 2A, 974)"
        )


APPLICATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")
"""What a file's id is made of (``Submission.application_id``, at least 3 characters, is
checked by Temporal's answer: this catches an empty or garbled argument)."""


def check_application_id(text: str) -> str:
    """``text`` when it can be a file's id; ``InputError`` otherwise (an empty argument went to
    Temporal, which answered « WorkflowId is not set on request »)."""
    if not APPLICATION_ID.fullmatch(text):
        raise InputError(
            f"{text!r} is no application id: `guichet list` gives them, e.g. "
            "dsil-detr-investissement-01034-3f2a9c1b7d4e"
        )
    return text
