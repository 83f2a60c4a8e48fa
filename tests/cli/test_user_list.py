"""``guichet user list``: the console accounts, what each acts for; what the actors of the
log's events stand for, read without changing anything."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from console.web.accounts import AccountStore
from eventlog import EventLog
from eventlog.edge import masked
from tests.cli.support import guichet

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite log the command finds through GUICHET_DATABASE_URL."""
    address = f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    monkeypatch.setenv("GUICHET_DATABASE_URL", address)
    return address


def _with_accounts(url: str) -> None:
    async def create() -> None:
        log = EventLog.from_url(url)
        await log.migrate()
        store = AccountStore(log.engine, FAST)
        await store.add("alice", "x" * 12, "caseworker", display_name="Alice Martin",
                        departments=("01", "38"))  # fmt: skip
        await store.add("prefecture", "x" * 12, "cofinancer", funder="DETR")
        await store.add("mairie-01033", "x" * 12, "applicant", insee="01033")
        await store.add("audrey", "x" * 12, "auditor")
        await log.close()

    asyncio.run(create())


def test_the_accounts_are_listed_with_what_each_acts_for(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _with_accounts(url)
    code, out, _ = guichet(capsys, "user", "list")
    assert code == 0
    assert out.splitlines() == [
        "alice  caseworker  departments 01, 38  Alice Martin",
        "audrey  auditor",
        "mairie-01033  applicant  commune 01033",
        "prefecture  cofinancer  funder DETR",
    ]
    code, out, _ = guichet(capsys, "user", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and [a["username"] for a in listed] == [
        "alice", "audrey", "mairie-01033", "prefecture"
    ]  # fmt: skip
    assert listed[0] == {
        "username": "alice",
        "role": "caseworker",
        "funder": None,
        "insee": None,
        "departments": ["01", "38"],
        "name": "Alice Martin",
        "disabled_at": None,
    }


def test_a_log_without_accounts_says_how_to_create_one_and_creates_nothing(
    url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Listing reads only: a log never migrated is not migrated by it."""
    code, _, err = guichet(capsys, "user", "list")
    assert code == 1 and "guichet migrate" in err
    asyncio.run(_migrated(url))
    code, out, err = guichet(capsys, "user", "list")
    assert (code, out) == (0, "")
    assert "no console account yet: `guichet user add` creates one" in err


async def _migrated(url: str) -> None:
    log = EventLog.from_url(url)
    await log.migrate()
    await log.close()


def test_every_demo_account_is_seeded_and_listed(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`guichet dev --demo` seeds one account per role and a co-financer per funder, password
    demo-<username>: a name too short for the password rule stopped `dev --demo` at start."""
    from console.web.serve import DEMO_ACCOUNTS, seed_demo_accounts

    async def seed() -> None:
        log = EventLog.from_url(url)
        await log.migrate()
        await seed_demo_accounts(log, lambda _line: None)
        await log.close()

    asyncio.run(seed())
    code, out, _ = guichet(capsys, "user", "list", "--json")
    assert code == 0
    listed = {(a["username"], a["role"], a["funder"]) for a in json.loads(out)}
    assert listed == {(name, role, funder) for name, role, funder, _ in DEMO_ACCOUNTS}
    assert {funder for _, _, funder, _ in DEMO_ACCOUNTS if funder} >= {"BDT", "ANCT", "ANAH"}
    # The demo's expert has a name, which her opinion request carries into the mails.
    names = {a["username"]: a["name"] for a in json.loads(out)}
    assert names["abf-ain"] == "Claire Dubois" and names["alice"] == "Alice Martin"


def test_a_database_that_does_not_answer_is_named_without_its_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`guichet user list` against a PostgreSQL that is down printed the URL of
    GUICHET_DATABASE_URL as typed, password and all, before the masked inner sentence."""
    monkeypatch.setenv(
        "GUICHET_DATABASE_URL", "postgresql+asyncpg://postgres:S3cret@127.0.0.1:1/rvb_ops"
    )
    code, _, err = guichet(capsys, "user", "list")
    assert code == 1
    assert "S3cret" not in err, err
    assert err.startswith(
        "guichet: the event log at postgresql+asyncpg://postgres:***@127.0.0.1:1/rvb_ops failed:"
    ), err


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+asyncpg://u:S3cret@db:5432/guichet",
            "postgresql+asyncpg://u:***@db:5432/guichet",
        ),
        ("mysql://u:S3cret@db/guichet", "mysql://u:***@db/guichet"),
        ("not a url://u:S3cret@db/guichet", "not a url://u:***@db/guichet"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_a_database_url_is_masked_however_it_is_written(url: str, shown: str) -> None:
    """The one helper every message and log line uses, readable by SQLAlchemy or not."""
    assert masked(url) == shown


def test_an_account_disabled_signs_in_no_more_and_is_listed_as_such(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Someone who left: their account stays (the log's events name it), refused at sign-in,
    and no longer among the accounts a file may be given to; enabled again, it signs in."""
    _with_accounts(url)
    code, out, err = guichet(capsys, "user", "disable", "alice")
    assert code == 0 and out.startswith("account alice disabled since 20")
    assert "`guichet list --caseworker alice` gives them" in err
    code, out, _ = guichet(capsys, "user", "list")
    assert out.splitlines()[0].startswith("alice  caseworker  departments 01, 38  Alice Martin  ")
    assert "DISABLED since 20" in out.splitlines()[0]
    code, out, _ = guichet(capsys, "user", "list", "--json")
    assert json.loads(out)[0]["disabled_at"].startswith("20")

    async def signs_in() -> tuple[bool, list[str]]:
        log = EventLog.from_url(url)
        try:
            store = AccountStore(log.engine, FAST)
            account = await store.authenticate("alice", "x" * 12)
            return account is not None, [a.username for a in await store.active()]
        finally:
            await log.close()

    assert asyncio.run(signs_in()) == (False, ["audrey", "mairie-01033", "prefecture"])
    assert guichet(capsys, "user", "disable", "alice", "--enable")[1] == (
        "account alice may sign in again\n"
    )
    assert asyncio.run(signs_in())[0] is True
    code, _, err = guichet(capsys, "user", "disable", "ghost")
    assert code == 2 and "no account ghost" in err


def test_user_add_stores_the_name_trimmed(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("x" * 12 + "\n"))
    args = ("user", "add", "abf-ain", "--role", "expert", "--password-stdin")
    code, out, _ = guichet(capsys, *args, "--name", "  Claire Dubois ")
    assert (code, out) == (0, "account abf-ain (expert) saved\n")
    code, out, _ = guichet(capsys, "user", "list", "--json")
    assert json.loads(out)[0]["name"] == "Claire Dubois"
    code, _, err = guichet(capsys, *args, "--replace", "--name", "Claire\nDubois")
    assert code == 2 and "name: contains the control character U+000A" in err, err
