"""``--as`` names a console account once there are any: the four-eyes rule compares names,
and ``--as payment_officer:nobody-real`` ordered a payment on a file alice had accepted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from console.acting import check_actor
from console.errors import CliError
from console.parsing import parse_actor
from console.web.accounts import AccountStore
from domain.actor import SYSTEM
from domain.commands import Command
from eventlog import EventLog
from tests.cli.support import guichet
from tests.conftest import start_dev_server
from workflows.client_errors import NoWorker
from workflows.messages import CommandResult, Submission

PASSWORD = "mot-de-passe-solide"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "request-detr.toml"


@pytest.fixture
async def with_accounts(tmp_path: Path) -> AsyncIterator[str]:
    """A SQLite log whose console has accounts (one of them disabled); its URL."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'events.db'}"
    log = EventLog.from_url(url)
    await log.migrate()
    store = AccountStore(log.engine, PasswordHasher(time_cost=1, memory_cost=1024))
    await store.add("alice", PASSWORD, "caseworker")
    await store.add("carol", PASSWORD, "payment_officer")
    await store.add("prefecture", PASSWORD, "cofinancer", funder="DETR")
    await store.add("mairie-belley", PASSWORD, "applicant", insee="01034")
    await store.add("leaver", PASSWORD, "payment_officer")
    await store.set_disabled("leaver", True)
    await log.close()
    yield url


async def refusal(url: str, written: str, exit_code: int = 2) -> str:
    """The sentence ``--as written`` is refused with, or "" when it may act."""
    try:
        await check_actor(url, parse_actor(written))
    except CliError as refused:
        assert refused.exit_code == exit_code
        return refused.message
    return ""


async def test_an_id_no_account_has_is_refused_and_told_how_to_create_it(
    with_accounts: str,
) -> None:
    """A made-up payment officer is refused before anything is sent; the sentence says how to
    create the account."""
    said = await refusal(with_accounts, "payment_officer:nobody-real")
    assert said.startswith("--as payment_officer:nobody-real: no console account is named")
    assert "guichet user add nobody-real --role payment_officer" in said
    assert "guichet user add mairie-x --role applicant --insee 01034" in await refusal(
        with_accounts, "applicant:mairie-x:01034"
    )


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("caseworker:carol", "the account carol is a payment_officer, not a caseworker"),
        ("payment_officer:leaver", "the account leaver is disabled since"),
        ("cofinancer:prefecture:REGION", "decides for the funder DETR, not REGION"),
        ("applicant:mairie-belley:01053", "acts for the commune 01034, not 01053"),
        ("system:alice", "Guichet acts as system:guichet only"),
    ],
)
async def test_an_account_acts_only_as_what_it_is(
    with_accounts: str, written: str, said: str
) -> None:
    """Another role, a disabled account, another funder or commune, a person passing for
    the system: refused, saying which."""
    assert said in await refusal(with_accounts, written)


@pytest.mark.parametrize(
    "written",
    [
        "payment_officer:carol",
        "caseworker:alice",
        "cofinancer:prefecture:detr",
        "applicant:mairie-belley:01034",
        "system:guichet",
    ],
)
async def test_the_accounts_as_they_are_and_the_system_act(
    with_accounts: str, written: str
) -> None:
    """What the accounts are (a funder typed in lower case is the same funder), and the
    worker's own actor, which no account is."""
    assert await refusal(with_accounts, written) == ""


async def test_without_any_account_the_id_is_the_operator_s_word(tmp_path: Path) -> None:
    """No account yet, no tables, or no log file at all (which is not created by looking)."""
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    log = EventLog.from_url(empty)
    await log.migrate()
    await log.close()
    bare = tmp_path / "bare.db"
    bare.write_bytes(b"")
    missing = tmp_path / "missing.db"
    for url in (empty, f"sqlite+aiosqlite:///{bare}", f"sqlite+aiosqlite:///{missing}"):
        assert await refusal(url, "payment_officer:nobody-real") == "", url
    assert not missing.exists()


async def test_an_unreachable_database_refuses_rather_than_records_unchecked() -> None:
    """Accounts that cannot be read might exist: nothing is sent."""
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/guichet"
    said = await refusal(url, "payment_officer:carol", exit_code=1)
    assert said.startswith("--as could not be checked against the console's accounts")


@pytest.mark.temporal
async def test_the_cli_refuses_a_made_up_payment_officer_before_sending_anything(
    with_accounts: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`guichet order-payment … --as payment_officer:nobody-real`: exit 2, one sentence; the
    account that exists goes on to Temporal (which knows no such file)."""
    env = await start_dev_server()
    try:
        monkeypatch.setenv("TEMPORAL_ADDRESS", env.client.service_client.config.target_host)
        monkeypatch.setenv("GUICHET_DATABASE_URL", with_accounts)
        order = ["order-payment", "dossier-inconnu", "--payment-number", "1", "--as"]
        code, _, err = await asyncio.to_thread(
            guichet, capsys, *order, "payment_officer:nobody-real"
        )
        assert (code, err.startswith("guichet: --as payment_officer:nobody-real: no")) == (2, True)
        code, _, err = await asyncio.to_thread(guichet, capsys, *order, "payment_officer:carol")
        assert (code, "no application dossier-inconnu" in err) == (1, True), err
    finally:
        await env.shutdown()


async def test_an_opinion_is_not_asked_of_an_expert_whose_account_is_disabled(
    with_accounts: str,
) -> None:
    """`request-opinion --expert-id` naming someone who left: refused before anything is
    sent, saying so (the question would be mailed, reminded, and never answered)."""
    from console.actions import _check_expert

    log = EventLog.from_url(with_accounts)
    store = AccountStore(log.engine, PasswordHasher(time_cost=1, memory_cost=1024))
    await store.add("abf-ain", PASSWORD, "expert")
    await store.add("abf-parti", PASSWORD, "expert")
    await store.set_disabled("abf-parti", True)
    await log.close()
    assert (await _check_expert(with_accounts, "abf-ain")).username == "abf-ain"
    with pytest.raises(CliError) as refused:
        await _check_expert(with_accounts, "abf-parti")
    assert refused.value.exit_code == 2
    assert refused.value.message.startswith(
        "--expert-id abf-parti: this expert's account is disabled"
    )


async def test_the_expert_asked_is_named_from_their_account_not_from_an_option(
    with_accounts: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`request-opinion` takes no --expert-name: the mails' « Marie Dupont (abf-ain) » is
    the account's display name, read when the question is sent."""
    from console.actions import _check_expert

    log = EventLog.from_url(with_accounts)
    store = AccountStore(log.engine, PasswordHasher(time_cost=1, memory_cost=1024))
    await store.add("abf-ain", PASSWORD, "expert", display_name="Marie Dupont")
    await log.close()
    assert (await _check_expert(with_accounts, "abf-ain")).display_name == "Marie Dupont"
    code, out, _ = await asyncio.to_thread(guichet, capsys, "request-opinion", "--help")
    assert code == 0 and "--expert-id" in out and "--expert-name" not in out


async def test_the_actor_is_named_as_its_account_is(with_accounts: str) -> None:
    """The mails and pages say « Alice Martin (alice) »: ``--as`` names the account, the
    account names the person; an account without a name, the system, and every actor where
    there are no accounts go unnamed."""
    log = EventLog.from_url(with_accounts)
    store = AccountStore(log.engine, PasswordHasher(time_cost=1, memory_cost=1024))
    await store.add("alice", PASSWORD, "caseworker", display_name="Alice Martin", replace=True)
    await log.close()
    named = await check_actor(with_accounts, parse_actor("caseworker:alice"))
    assert (named.id, named.name) == ("alice", "Alice Martin")
    assert (await check_actor(with_accounts, parse_actor("payment_officer:carol"))).name is None
    assert (await check_actor(with_accounts, parse_actor("system:guichet"))) == SYSTEM
    unknown = f"sqlite+aiosqlite:///{with_accounts.rsplit('/', 1)[0]}/missing.db"
    assert (await check_actor(unknown, parse_actor("caseworker:alice"))).name is None


async def test_a_command_line_command_carries_the_account_s_name(
    with_accounts: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`guichet add-note … --as caseworker:alice` sends alice's display name with the command,
    as the console does; there is no option to type one."""
    from console import actions

    log = EventLog.from_url(with_accounts)
    store = AccountStore(log.engine, PasswordHasher(time_cost=1, memory_cost=1024))
    await store.add("alice", PASSWORD, "caseworker", display_name="Alice Martin", replace=True)
    await log.close()
    sent: list[Command] = []

    class Recording:
        async def act(self, application_id: str, command: Command, request_id: str) -> Any:
            sent.append(command)
            return CommandResult(
                application_id=application_id, status="submitted", version=2, events=("NoteAdded",)
            )

    def run_here(work: Any, **_: Any) -> Any:
        return asyncio.run(work(Recording()))

    monkeypatch.setattr(actions, "run_with_client", run_here)
    monkeypatch.setenv("GUICHET_DATABASE_URL", with_accounts)
    note = ["add-note", "dossier-1", "--note", "Appel du maire", "--as", "caseworker:alice"]
    code, out, err = await asyncio.to_thread(guichet, capsys, *note)
    assert code == 0, err
    assert [c.actor.name for c in sent] == ["Alice Martin"]
    code, out, _ = await asyncio.to_thread(guichet, capsys, "add-note", "--help")
    assert code == 0 and "--name" not in out


async def test_a_request_submitted_from_the_command_line_carries_the_account_s_name(
    with_accounts: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`guichet submit … --as applicant:mairie-belley:01034`: the commune's agent is named as
    their account is, in the submission the workflow starts with."""
    from console import people

    log = EventLog.from_url(with_accounts)
    store = AccountStore(log.engine, PasswordHasher(time_cost=1, memory_cost=1024))
    await store.add(
        "mairie-belley", PASSWORD, "applicant", insee="01034", display_name="Paul Girard",
        replace=True,
    )  # fmt: skip
    await log.close()
    submitted: list[Submission] = []

    class Recording:
        async def submit(self, submission: Submission) -> tuple[str, bool]:
            submitted.append(submission)
            return submission.application_id, True

        async def state(self, application_id: str) -> Any:
            raise NoWorker("guichet", None, command_pending=True)

    monkeypatch.setattr(people, "run_with_client", lambda work, **_: asyncio.run(work(Recording())))
    monkeypatch.setenv("GUICHET_DATABASE_URL", with_accounts)
    as_ = "applicant:mairie-belley:01034"
    code, _, err = await asyncio.to_thread(guichet, capsys, "submit", str(EXAMPLE), "--as", as_)
    assert code == 0, err
    assert [s.actor.name for s in submitted] == ["Paul Girard"]
