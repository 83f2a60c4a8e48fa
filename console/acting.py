"""Who acts on the command line: once the console has accounts, ``--as`` names one of them.

The four-eyes rule compares account ids: ``--as payment_officer:nobody-real`` ordered a
payment on a file alice had accepted, since the CLI checked only how the id was written. Where
the event log's database holds console accounts, a command that acts for a person must name an
account that may sign in, of that role (and, for a co-financer, of that funder; for an
applicant, of that commune): the person the log then names is someone the console knows.

The account also names the person: the command carries its display name (``Actor.named``),
which the mails and pages write before the id (« Alice Martin (alice) »), as the web console
does; ``--as`` has no way to type one.

Where there is no account at all (the database has no account yet, or no tables: the CLI
alone is used, as in a test bench), ``--as`` stays the operator's word, unnamed, as ``guichet
audit show`` then says of every actor. ``system`` is no person and has no account: the worker's
own actor, which a few commands also take (a file declared complete, dismissed), goes by one
name only, ``system:guichet``: any other ``system:<id>`` would put a name in the log that no
account and no worker answers for. The database unreachable: the command is refused rather
than recorded unchecked.

This is a guard-rail for the people who run the CLI, not a wall: whoever reaches Temporal's
frontend sends commands as anyone (deploy/README.md, "Compose").
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from audit.exporting import utc_text
from console.errors import CliError, usage_error
from console.web.accounts import Account, AccountStore
from domain.actor import SYSTEM, Actor
from eventlog import EventLog, EventLogError, EventLogNotMigrated


async def check_actor(event_log_url: str, actor: Actor) -> Actor:
    """``actor`` as the command records it: named as its account is; refused, in a sentence
    saying what to do, when the console's accounts do not know it; as typed where there are
    no accounts."""
    if actor.same_as(SYSTEM):
        return actor
    known = await _accounts(event_log_url)
    if not known:
        return actor
    if actor.role == "system":
        raise usage_error(
            f"--as {_as_text(actor)}: Guichet acts as system:guichet only, and the console "
            "has accounts, so a person acts under their own (`guichet user list` gives them)"
        )
    account = next((a for a in known if a.username == actor.id), None)
    written = _as_text(actor)
    if account is None:
        raise usage_error(
            f"--as {written}: no console account is named {actor.id}, and the console has "
            "accounts, so --as names one (`guichet user list` gives them); create it with "
            f"guichet user add {actor.id} --role {actor.role}{_scope_options(actor)}"
        )
    if account.disabled_at is not None:
        raise usage_error(
            f"--as {written}: the account {actor.id} is disabled since "
            f"{utc_text(account.disabled_at)} and acts no more (`guichet user disable "
            f"{actor.id} --enable` lets it again)"
        )
    mismatch = _mismatch(account, actor)
    if mismatch:
        raise usage_error(
            f"--as {written}: the account {actor.id} {mismatch}: write --as "
            f"{_as_text(account.actor)}, or change the account with guichet user add "
            f"{actor.id} --role {actor.role}{_scope_options(actor)} --replace"
        )
    return actor.named(account.display_name)


async def _accounts(event_log_url: str) -> list[Account]:
    """The console's accounts, none where the database has no account table (nor file)."""
    if _no_sqlite_file(event_log_url):
        return []  # reading would create an empty log file where the CLI was pointed
    log = EventLog.from_url(event_log_url)
    try:
        return await AccountStore(log.engine).all()
    except EventLogNotMigrated:
        return []  # no tables: no account can exist
    except EventLogError as error:
        raise CliError(
            f"--as could not be checked against the console's accounts, so nothing was sent: "
            f"{error}"
        ) from None
    finally:
        await log.close()


def _no_sqlite_file(url: str) -> bool:
    parsed = sa.make_url(url)
    return parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file()


def _mismatch(account: Account, actor: Actor) -> str:
    """What the account is that the actor is not, or ""."""
    if account.role != actor.role:
        return f"is a {account.role}, not a {actor.role}"
    if actor.role == "cofinancer" and account.funder != actor.funder:
        return f"decides for the funder {account.funder}, not {actor.funder}"
    if actor.role == "applicant" and account.insee != actor.insee:
        return f"acts for the commune {account.insee}, not {actor.insee}"
    return ""


def _as_text(actor: Actor) -> str:
    extra = actor.funder if actor.role == "cofinancer" else actor.insee
    return f"{actor.role}:{actor.id}" + (f":{extra}" if extra else "")


def _scope_options(actor: Actor) -> str:
    if actor.role == "cofinancer":
        return f" --funder {actor.funder}"
    if actor.role == "applicant":
        return f" --insee {actor.insee}"
    return ""
