"""One subcommand per command a person may send, generated from ``domain.commands``.

Each pydantic command model becomes ``guichet <kebab-name> ID [options] --as role:id``:
text and choice fields become options, ``*_cents`` fields become euro options converted
exactly to cents, a financing plan is read from ``--plan FILE``, dates are ISO days. The
command goes to the workflow as an Update with a request id, so re-sending it is safe.
"""

from __future__ import annotations

import inspect
import re
import types
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin

import typer
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from console.acting import check_actor
from console.app import AsOption, JsonOption, app, emit_json, friendly, say
from console.connection import resolve_target, run_with_client
from console.errors import CliError, usage_error
from console.help_texts import EXAMPLES
from console.parsing import (
    InputError,
    check_application_id,
    euros_to_cents,
    parse_actor,
    parse_date,
    plan_document,
    problems,
)
from console.web.accounts import Account, AccountStore
from domain.actor import ACCOUNT_NAME
from domain.commands import AssignCaseworker, Command, RequestOpinion, RouteFile
from domain.decider_instruction import acceptance_refused, nothing_to_withdraw
from domain.decider_permissions import PERMISSIONS
from domain.decider_settlement import settlement_refused
from domain.plan import FinancingPlan
from domain.registry import load_registry
from domain.state import Application
from eventlog import EventLog, EventLogError
from workflows.client import GuichetClient
from workflows.messages import CommandResult

_KW = inspect.Parameter.KEYWORD_ONLY
_COMMON = ("actor", "at", "type", "expert_name")
"""The fields no option types: the actor (``--as``), the time (now), the expert's name (their
account's, read when the question is sent)."""
OWN_COMMANDS = {"SubmitApplication": "submit", "AttachDocument": "attach-document"}
"""Commands whose subcommand is written by hand (a request file, a document's bytes)."""
_FLAG_NAMES = {"approve": "--approve/--refuse", "favourable": "--favourable/--unfavourable"}


def command_models() -> list[type[BaseModel]]:
    """The commands people send: all but system-only ones and ``OWN_COMMANDS``.

    A command missing from the permission table is left out: nobody may send it yet.
    """
    union = get_args(Command)[0]
    models: list[type[BaseModel]] = list(get_args(union))
    chosen: list[type[BaseModel]] = []
    for model in models:
        permission = PERMISSIONS.get(_type_name(model))
        if _type_name(model) in OWN_COMMANDS or permission is None:
            continue
        if permission.roles != frozenset({"system"}):
            chosen.append(model)
    return chosen


def kebab(name: str) -> str:
    """``RequestCorrection`` → ``request-correction``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _type_name(model: type[BaseModel]) -> str:
    return str(model.model_fields["type"].default)


def _bare(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``| None`` and ``Annotated``; True when None was allowed."""
    optional = False
    if get_origin(annotation) in (Union, types.UnionType):
        arms = [a for a in get_args(annotation) if a is not type(None)]
        optional = len(arms) < len(get_args(annotation))
        annotation = arms[0]
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation, optional


def _flag(name: str, field: FieldInfo) -> str:
    """The option a field is typed in: ``--amount`` for ``amount_cents``, ``--plan`` for a
    plan, ``--approve/--refuse`` for ``approve``, else the field's name in kebab case."""
    if name.endswith("_cents"):
        return "--" + name.removesuffix("_cents").replace("_", "-")
    if _bare(field.annotation)[0] is FinancingPlan:
        return "--plan"
    return _FLAG_NAMES.get(name, f"--{name.replace('_', '-')}")


def _option(name: str, field: FieldInfo) -> inspect.Parameter:
    """The Typer parameter for one field of a command model."""
    bare, _ = _bare(field.annotation)
    required = field.is_required()
    help_text = field.description or ""
    default: Any = ... if required else None
    flag = _flag(name, field)
    if name.endswith("_cents"):
        annotation: Any = Annotated[
            str | None, typer.Option(flag, help=f"{help_text or 'Amount'}, in euros, e.g. 1234.50.")
        ]
    elif bare is FinancingPlan:
        annotation = Annotated[
            Path | None,
            typer.Option(
                flag,
                help="A JSON or TOML file: the financing plan, or a request file whose plan "
                "table it takes (examples/request-detr.toml).",
            ),
        ]
    elif bare is bool:
        annotation = Annotated[bool, typer.Option(flag, help=help_text)]
        default = ... if required else field.default
    elif bare is date:
        day = f"{help_text} A day, e.g. 2025-04-01." if help_text else "A day, e.g. 2025-04-01."
        annotation = Annotated[str | None, typer.Option(flag, help=day)]
    elif get_origin(bare) is Literal:
        choices = ", ".join(str(c) for c in get_args(bare))
        annotation = Annotated[
            str | None,
            typer.Option(flag, help=f"One of: {choices}. {help_text}"),
        ]
    elif bare is int:
        annotation = Annotated[int | None, typer.Option(flag, help=help_text)]
    else:
        annotation = Annotated[str | None, typer.Option(flag, help=help_text)]
    return inspect.Parameter(name, _KW, default=default, annotation=annotation)


def _value(name: str, field: FieldInfo, raw: Any) -> Any:
    """The model value for what was typed (euros → cents, files → plans, text → dates)."""
    if raw is None:
        return None
    bare, _ = _bare(field.annotation)
    if name.endswith("_cents"):
        try:
            return euros_to_cents(str(raw))
        except InputError as error:
            raise InputError(f"{_flag(name, field)} {error}") from None
    if bare is FinancingPlan:
        return plan_document(Path(raw))
    if bare is date:
        return parse_date(str(raw), _flag(name, field))
    # As the console's forms read it: « --opinion "   " » is no reason given.
    return raw.strip() if isinstance(raw, str) else raw


def build_command(model: type[BaseModel], raw: dict[str, Any], as_text: str) -> tuple[str, Command]:
    """The application id and the validated command from the options typed."""
    application_id = str(raw.pop("application_id"))
    fields = {
        name: _value(name, field, raw.get(name))
        for name, field in model.model_fields.items()
        if name not in _COMMON
    }
    data = {key: value for key, value in fields.items() if value is not None}
    data.update(actor=parse_actor(as_text), at=datetime.now(UTC))
    try:
        # The model itself (not the union) so that errors name the field, not the type tag.
        command = cast("Command", model.model_validate(data))
    except ValidationError as error:
        flags = {name: _flag(name, field) for name, field in model.model_fields.items()}
        given_plans = [n for n, f in flags.items() if f == "--plan" and raw.get(n) is not None]
        flags |= {name: f"--plan {raw[name]}" for name in given_plans}
        problem = problems(error, lambda loc: _where(flags, loc))
        raise usage_error(f"{kebab(_type_name(model))}: {problem}") from None
    return application_id, command


def _where(flags: dict[str, str], loc: tuple[int | str, ...]) -> str:
    """A problem's place as the person typed it: the option (``--payment-number``), and
    inside a plan file the file and the path to the value (``--plan p.toml: lines.0.funder``)."""
    option = flags.get(str(loc[0]), str(loc[0])) if loc else ""
    inside = ".".join(str(part) for part in loc[1:])
    return f"{option}: {inside}" if inside else option


def _register(model: type[BaseModel]) -> None:
    name = _type_name(model)
    params = [
        inspect.Parameter(
            "application_id",
            _KW,
            annotation=Annotated[
                str, typer.Argument(metavar="ID", help="The application id.", show_default=False)
            ],
        ),
        *(_option(n, f) for n, f in model.model_fields.items() if n not in _COMMON),
        inspect.Parameter("as_", _KW, annotation=AsOption),
        inspect.Parameter(
            "request_id",
            _KW,
            default=None,
            annotation=Annotated[
                str | None,
                typer.Option(
                    help="Idempotency id: sent again with the same command, it runs once "
                    "(default: a fresh uuid)."
                ),
            ],
        ),
        inspect.Parameter("json_output", _KW, default=False, annotation=JsonOption),
    ]

    def callback(**kwargs: Any) -> None:
        as_text = kwargs.pop("as_")
        request_id = kwargs.pop("request_id") or str(uuid.uuid4())
        as_json = kwargs.pop("json_output")
        application_id, command = build_command(model, kwargs, as_text)
        check_application_id(application_id)
        target = resolve_target()

        if isinstance(command, RouteFile):
            _check_department(command.department)

        async def work(guichet: GuichetClient) -> CommandResult:
            actor = await check_actor(target.event_log_url, command.actor)  # named
            sent = command.replaced({"actor": actor})
            if isinstance(sent, RequestOpinion):
                expert = await _check_expert(target.event_log_url, sent.expert_id)
                sent = sent.naming_the_expert(expert.display_name)
            if isinstance(command, AssignCaseworker):
                await _check_caseworker(target.event_log_url, command.caseworker_id)
            return await guichet.act(application_id, sent, request_id=request_id)

        result = run_with_client(work, target=target, request_id=request_id)
        if as_json:
            emit_json({**result.model_dump(mode="json"), "request_id": request_id})
            return
        events = ", ".join(result.events) or "nothing new (already done)"
        typer.echo(f"{result.application_id}: {result.status} ({events})")

    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    callback.__annotations__ = {p.name: p.annotation for p in params}
    summary, example = EXAMPLES.get(name, (model.__doc__ or name, ""))
    roles = ", ".join(sorted(PERMISSIONS[name].roles))
    app.command(
        kebab(name),
        help=f"{summary}\n\nWho may: {roles}.",
        epilog=f"Example: {example}" if example else None,
        rich_help_panel="Act on an application",
    )(friendly(callback))


def _check_department(department: str) -> None:
    """A file goes to a department's service only where communes are (the console checks
    it too): 99 would leave it in no one's sector."""
    if department not in load_registry().departments():
        raise usage_error(
            f"--department {department}: no commune of the registry is in it (codes as "
            "INSEE writes them: 01, 2A, 974)"
        )


async def _check_expert(event_log_url: str, expert_id: str) -> Account:
    """The expert's console account an opinion is asked of (the console checks it too): a
    mistyped id would be mailed, reminded, and never answer. Its display name is the one the
    mails give the expert."""
    log = EventLog.from_url(event_log_url)
    try:
        account = await AccountStore(log.engine).get(expert_id)
    except EventLogError as error:
        raise CliError(f"the console's accounts could not be read: {error}") from None
    finally:
        await log.close()
    if account is not None and account.role == "expert" and account.disabled_at is not None:
        raise usage_error(
            f"--expert-id {expert_id}: this expert's account is disabled (someone who left): "
            "ask another expert, or let it sign in again: "
            f"guichet user disable {expert_id} --enable"
        )
    if account is None or account.role != "expert":
        raise usage_error(
            f"--expert-id {expert_id}: no expert account has this id (create one with "
            f"guichet user add {expert_id} --role expert)"
        )
    return account


def _not_yet(command_type: str, state: Application) -> str:
    """Why a command the role and the file's status allow would still be refused now, or "":
    `actions` listed it, and the file then refused it."""
    if command_type == "ClaimPayment":
        if (waiting := state.payment_under_way) is not None:
            return f"payment {waiting.number} ({waiting.kind}) is still {waiting.status}"
        single = state.programme is not None and state.programme.payments.kind == "single"
        if single and state.status != "completed":
            return "this programme pays once, the balance, when the works are completed"
    if command_type == "WithdrawApplication" and (decided := nothing_to_withdraw(state)):
        return decided.message
    if command_type == "SettleAfterCompletionDeadline" and (early := settlement_refused(state)):
        return early.message
    if command_type == "AcceptApplication" and state.plan is not None:
        pending = [
            line.line_id
            for line in state.plan.lines
            if line.kind != "owner" and line.status == "pending"
        ]
        if pending:
            return f"lines still wait for their co-financer's decision: {', '.join(pending)}"
        if state.programme and state.commune and (held := acceptance_refused(state)):
            return f"{held.message} [{held.rule}]"
    return ""


async def _check_caseworker(event_log_url: str, caseworker_id: str) -> None:
    """A file goes to a caseworker's or a supervisor's account: « Alice » or « ghost » was
    recorded, and the file left every queue (each lists the files of the one signed in).
    Unchecked only where the console has no account at all (the CLI alone is used) or no
    log tables yet."""
    if not re.fullmatch(ACCOUNT_NAME, caseworker_id):
        raise usage_error(
            f"--caseworker-id {caseworker_id!r}: write the id as the caseworker signs in, in "
            "lowercase (e.g. alice)"
        )
    log = EventLog.from_url(event_log_url)
    try:
        accounts = await AccountStore(log.engine).active()
    except EventLogError:
        accounts = []  # no log tables yet (no worker ever ran): nothing to check against
    finally:
        await log.close()
    instructing = {a.username for a in accounts if a.role in ("caseworker", "supervisor")}
    if accounts and caseworker_id not in instructing:
        raise usage_error(
            f"--caseworker-id {caseworker_id}: no caseworker's or supervisor's account that may "
            f"sign in has this id (`guichet user list` gives them, and says which are "
            f"disabled; create one with guichet user add {caseworker_id} --role caseworker)"
        )


for _model in command_models():
    _register(_model)


@app.command(rich_help_panel="Submit and read")
@friendly
def actions(
    application_id: Annotated[str, typer.Argument(metavar="ID", help="The application id.")],
    as_: AsOption,
    json_output: JsonOption = False,
) -> None:
    """What this actor may do to the application now (the subcommands it may run).

    Example: guichet actions PVD-01053-ab12 --as caseworker:alice
    """
    actor = parse_actor(as_)
    check_application_id(application_id)

    async def work(guichet: GuichetClient) -> tuple[tuple[str, ...], dict[str, str]]:
        allowed = await guichet.allowed_actions(application_id, actor)
        if not {"ClaimPayment", "AcceptApplication"} & set(allowed):
            return allowed, {}
        state = await guichet.state(application_id)
        later = {c: reason for c in allowed if (reason := _not_yet(c, state))}
        return tuple(c for c in allowed if c not in later), later

    allowed, later = run_with_client(work)
    if json_output:
        emit_json({"application_id": application_id, "commands": list(allowed),
                   "subcommands": [kebab(c) for c in allowed],
                   "not_now": later})  # fmt: skip
        return
    if not allowed:
        typer.echo(f"{actor.role} {actor.id} may do nothing on {application_id} now")
    for command in allowed:
        typer.echo(kebab(command))
    for command, reason in later.items():
        say(f"not now: {kebab(command)}: {reason}")
