"""Console accounts: argon2id password hashes and roles, in the event log's database.

The table is created by migration 0004 (``console_account``). An account is an ``Actor``
once signed in: its username is the actor id, its display name the actor's name, a
co-financer account names its funder and an applicant account its commune, so no form can
ever choose who acts nor how they are named.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.actor import ACCOUNT_NAME, ROLES, Actor, Role, pool_of
from domain.commands import DEPARTMENT_CODE
from domain.model import NOT_IN_A_NAME
from eventlog.edge import translated

USERNAME = re.compile(ACCOUNT_NAME)
INSEE = re.compile(r"^\d[0-9AB]\d{3}$")
FUNDER = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,59}$")
PERSON_ROLES: tuple[Role, ...] = tuple(role for role in ROLES if role != "system")
COMMUNE_READERS: tuple[Role, ...] = ("applicant", "caseworker", "supervisor", "auditor")
"""Who reads a commune's page (its files and conventions): pages link to it for them only."""
QUEUE_ROLES: tuple[Role, ...] = tuple(role for role in PERSON_ROLES if role != "expert")
"""Who reads the work queue, which lists files by visibility: an expert sees only the files
an opinion was asked of them on (``/avis``), which visibility does not know."""
MIN_PASSWORD = 10
UNASSIGNED = "aucun"
"""The work queue's caseworker value for the files nobody holds: no account may be named so."""
NAME_LENGTH = 200
"""The most characters a display name holds: the ``display_name`` column's size."""
POOLS = frozenset(pool_of(role) for role in ROLES)
"""The ids notices go to when no one person is named (``caseworkers``, ``payment-officers``…,
as ``domain.decider_deadlines.recipients`` writes them): an account named so would receive,
or send its own mail to, a whole pool's."""

accounts = sa.Table(
    "console_account",
    sa.MetaData(),
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("funder", sa.String(60), nullable=True),
    sa.Column("insee", sa.String(5), nullable=True),
    sa.Column("display_name", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("departments", sa.String(400), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("sessions_valid_after", sa.DateTime(timezone=True), nullable=True),
)


class AccountError(ValueError):
    """An account that cannot be created as asked; the message says why."""


@dataclass(frozen=True)
class Account:
    """A person who may sign in, and the actor they are in every command."""

    username: str
    role: Role
    funder: str | None = None
    insee: str | None = None
    display_name: str = ""
    departments: tuple[str, ...] = ()
    """The departments whose files a caseworker, supervisor or payment officer handles (their
    service's sector: a DDT's, a préfecture's, a DDFiP's); none: the whole programme."""
    disabled_at: datetime | None = None
    """Since when the person may no longer sign in (``guichet user disable``): someone who
    left; the name stays, the log's events name it."""
    sessions_valid_after: datetime | None = None
    """The sessions opened before this moment are over (migration 0013): set when the person
    signs out, when their password or role is changed, when the account is disabled."""

    def session_valid(self, issued_at: float) -> bool:
        """Whether a session opened at ``issued_at`` (seconds since the epoch) still counts:
        the cookie is stateless, so ending sessions is refusing those issued before."""
        ends = self.sessions_valid_after
        return ends is None or issued_at >= ends.timestamp()

    def covers(self, department: str | None) -> bool:
        """Whether this person's sector holds a file of that department (a file without a
        known commune only for those whose sector is the whole programme)."""
        return not self.departments or department in self.departments

    @property
    def actor(self) -> Actor:
        """The actor recorded in the commands this person sends, named as the account is
        (``Actor.named``): the mails and pages say « Alice Martin (alice) »."""
        actor = Actor(id=self.username, role=self.role, funder=self.funder, insee=self.insee)
        return actor.named(self.display_name)

    @property
    def label(self) -> str:
        """The name shown in the header."""
        return self.display_name or self.username


SECTOR_ROLES: tuple[Role, ...] = ("caseworker", "supervisor", "payment_officer")
"""The roles whose account may name departments (``Account.departments``): the services
of a department, the DDFiP's accountant among them."""
DEPARTMENT = re.compile(DEPARTMENT_CODE)
MAX_DEPARTMENTS = 40


def parse_departments(text: str | None) -> tuple[str, ...]:
    """``01, 38`` → ``("01", "38")``, sorted and each once; ``AccountError`` names a code that
    cannot be one."""
    codes = sorted({part.strip().upper() for part in (text or "").split(",") if part.strip()})
    for code in codes:
        if not DEPARTMENT.match(code):
            raise AccountError(f"department {code!r}: two or three characters, e.g. 01, 2A or 974")
    if len(codes) > MAX_DEPARTMENTS:
        raise AccountError(f"at most {MAX_DEPARTMENTS} departments per account")
    return tuple(codes)


def sector_words(account: Account) -> str:
    """« département 01 », « départements 01, 38 »: an account's sector, as pages say it."""
    noun = "départements" if len(account.departments) > 1 else "département"
    return f"{noun} {', '.join(account.departments)}"


def check_account(
    username: str,
    role: str,
    funder: str | None,
    insee: str | None,
    departments: tuple[str, ...] = (),
) -> Role:
    """Raise ``AccountError`` unless the account is well formed; return the role."""
    if not USERNAME.match(username):
        raise AccountError(
            f"username {username!r}: 2 to 64 lower-case letters, digits, '.', '_' or '-'"
        )
    valid = next((r for r in PERSON_ROLES if r == role), None)
    if valid is None:
        raise AccountError(f"role {role!r}: choose one of {', '.join(PERSON_ROLES)}")
    if valid == "cofinancer" and not funder:
        raise AccountError("a cofinancer account names its funder, e.g. --funder DETR")
    if valid == "cofinancer" and not FUNDER.match(funder or ""):
        raise AccountError(
            f"funder {funder!r}: capitals, digits, '_' or '-', as plans write it, e.g. DETR"
        )
    if valid == "applicant" and not insee:
        raise AccountError("an applicant account names its commune, e.g. --insee 01033")
    if valid == "applicant" and not INSEE.match(insee or ""):
        raise AccountError(
            f"commune {insee!r}: an INSEE code has five characters, the leading zero included "
            "(01033, 2A004)"
        )
    if funder and valid != "cofinancer":
        raise AccountError("only a cofinancer account names a funder")
    if insee and valid != "applicant":
        raise AccountError("only an applicant account names a commune")
    if departments and valid not in SECTOR_ROLES:
        raise AccountError(
            f"only {', '.join(SECTOR_ROLES)} accounts name departments (their service's sector)"
        )
    return valid


def check_display_name(name: str) -> str:
    """The name as stored, its surrounding spaces trimmed (empty: none given, the username
    is shown); ``AccountError`` says what to fix. Mails write it in their subject and body
    (« Claire Dubois (abf-ain) »): a line break would break their layout; a name longer than
    the column would fail as a database error, which says nothing of the name."""
    if found := NOT_IN_A_NAME.search(name):  # as the name a command carries
        raise AccountError(
            f"name: contains the control character U+{ord(found[0]):04X} (a line break, a tab "
            "or the like); write the name on one line, without it"
        )
    trimmed = name.strip()
    if name and not trimmed:
        raise AccountError("name: only blank space; give the person's name, or none at all")
    if len(trimmed) > NAME_LENGTH:
        raise AccountError(f"name: {len(trimmed)} characters, at most {NAME_LENGTH}")
    return trimmed


class AccountStore:
    """Create accounts and check passwords; hashing runs in a thread (it is slow on purpose)."""

    def __init__(self, engine: AsyncEngine, hasher: PasswordHasher | None = None) -> None:
        self._engine = engine
        self._hasher = hasher or PasswordHasher()
        self._dummy = self._hasher.hash("not a password anyone has")

    async def add(
        self,
        username: str,
        password: str,
        role: str,
        *,
        funder: str | None = None,
        insee: str | None = None,
        display_name: str = "",
        departments: tuple[str, ...] = (),
        replace: bool = False,
    ) -> Account:
        """Create (or, with ``replace``, reset) an account; a reset ends the sessions open
        with the former password or role."""
        valid = check_account(username, role, funder, insee, departments)
        display_name = check_display_name(display_name)
        if username == UNASSIGNED:
            raise AccountError(
                f"username {UNASSIGNED!r} is reserved: the work queue lists unassigned files "
                "under it; choose another"
            )
        if username in POOLS:
            raise AccountError(
                f"username {username!r} is reserved: it is the id of a pool of people notices "
                "go to (the mail directory gives it their addresses); choose a person's name"
            )
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
        digest = await asyncio.to_thread(self._hasher.hash, password)
        now = datetime.now(UTC)
        values = {
            "password_hash": digest,
            "role": valid,
            "funder": funder,
            "insee": insee,
            "display_name": display_name,
            "departments": ",".join(departments) or None,
            "updated_at": now,
        }
        async with self._database(), self._engine.begin() as conn:
            exists = await conn.scalar(
                sa.select(accounts.c.username).where(accounts.c.username == username)
            )
            if exists and not replace:
                raise AccountError(f"account {username} already exists (use --replace)")
            if exists:
                # A password reset is how an operator answers a stolen password, a role
                # change takes back what the old role could do: the cookies out there go too.
                await conn.execute(
                    accounts.update()
                    .where(accounts.c.username == username)
                    .values(**values, sessions_valid_after=now)
                )
            else:
                await conn.execute(
                    accounts.insert().values(username=username, created_at=now, **values)
                )
        return Account(username, valid, funder, insee, display_name, departments)

    async def set_departments(self, username: str, departments: tuple[str, ...]) -> Account:
        """Give an existing account its sector (none: the whole programme); the password
        and everything else stay."""
        account = await self.get(username)
        if account is None:
            raise AccountError(f"no account {username}: create it with guichet user add")
        check_account(username, account.role, account.funder, account.insee, departments)
        async with self._database(), self._engine.begin() as conn:
            await conn.execute(
                accounts.update()
                .where(accounts.c.username == username)
                .values(departments=",".join(departments) or None, updated_at=datetime.now(UTC))
            )
        return replace(account, departments=departments)

    async def set_disabled(self, username: str, disabled: bool) -> Account:
        """Refuse (or, ``disabled`` False, allow again) the account's sign-ins and open
        sessions; the password and everything else stay."""
        account = await self.get(username)
        if account is None:
            raise AccountError(f"no account {username}: `guichet user list` gives the accounts")
        now = datetime.now(UTC)
        since = (account.disabled_at or now) if disabled else None
        # Disabling also ends the open sessions for good: enabled again, the account does not
        # bring back the cookies issued before.
        change: dict[str, datetime | None] = {"disabled_at": since, "updated_at": now}
        if disabled:
            change["sessions_valid_after"] = now
        async with self._database(), self._engine.begin() as conn:
            await conn.execute(
                accounts.update().where(accounts.c.username == username).values(**change)
            )
        ended = now if disabled else account.sessions_valid_after
        return replace(account, disabled_at=since, sessions_valid_after=ended)

    async def end_sessions(self, username: str) -> None:
        """End every session the account has open, in every browser (its sign-out): the
        cookie holds no server-side id, so its sessions end together."""
        now = datetime.now(UTC)
        async with self._database(), self._engine.begin() as conn:
            await conn.execute(
                accounts.update()
                .where(accounts.c.username == username)
                .values(sessions_valid_after=now, updated_at=now)
            )

    async def get(self, username: str) -> Account | None:
        """The account, or None."""
        async with self._database(), self._engine.connect() as conn:
            row = (
                await conn.execute(sa.select(accounts).where(accounts.c.username == username))
            ).first()
        return _account(row) if row is not None else None

    async def all(self) -> list[Account]:
        """Every account, by username."""
        async with self._database(), self._engine.connect() as conn:
            rows = (await conn.execute(sa.select(accounts).order_by(accounts.c.username))).all()
        return [_account(row) for row in rows]

    async def active(self) -> list[Account]:
        """The accounts that may sign in, by username: whom a file, a question or a plan
        line may go to."""
        return [account for account in await self.all() if account.disabled_at is None]

    async def authenticate(self, username: str, password: str) -> Account | None:
        """The account when the password matches, else None (same work either way)."""
        async with self._database(), self._engine.connect() as conn:
            row = (
                await conn.execute(sa.select(accounts).where(accounts.c.username == username))
            ).first()
        digest = str(row.password_hash) if row is not None else self._dummy
        ok = await asyncio.to_thread(self._matches, digest, password)
        if not ok or row is None or row.disabled_at is not None:
            return None
        return _account(row)

    @contextlib.asynccontextmanager
    async def _database(self) -> AsyncIterator[None]:
        """The accounts live beside the event log: a database that cannot be reached raises
        ``EventLogUnavailable``, with the sentence the log gives."""
        with translated(self._engine.url):
            yield

    def _matches(self, digest: str, password: str) -> bool:
        try:
            return self._hasher.verify(digest, password)
        except (VerificationError, InvalidHashError):
            return False


def _account(row: sa.Row[tuple[object, ...]]) -> Account:
    departments = tuple(str(row.departments).split(",")) if row.departments else ()
    role = check_account(str(row.username), str(row.role), row.funder, row.insee, departments)
    return Account(
        str(row.username), role, row.funder, row.insee, str(row.display_name), departments,
        disabled_at=_aware(row.disabled_at),
        sessions_valid_after=_aware(row.sessions_valid_after),
    )  # fmt: skip


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands a stored moment back without its zone: it was written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
