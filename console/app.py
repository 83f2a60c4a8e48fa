"""The ``guichet`` Typer application and what every command shares: output, errors, actors.

Commands are registered by ``console.cli`` (which imports every command module); this module
holds no command itself, so the modules can share it without import cycles.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from pydantic import BaseModel
from typer.core import TyperOption

from console.errors import EXIT_USAGE, CliError
from console.parsing import InputError
from workers.connection import TemporalSettingsError
from workers.settings import SettingsError
from workflows.encryption import PayloadKeyError

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="guichet",
    help=(
        "Guichet: grant requests of the Petites Villes de Demain programme, run as durable "
        "Temporal workflows with a tamper-evident event log.\n\n"
        "Start everything locally with `guichet dev --demo`, then, in another terminal, "
        "`guichet list` and `guichet show ID`. Commands that report take --json for scripts; "
        "every command takes --help, with examples. Exit codes: 0 done, 1 refused or "
        "unreachable, 2 bad input."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)


_type_shown_beside = TyperOption.display_type_rich


def _no_type_beside_a_flag(option: TyperOption, ctx: Any) -> str | None:
    """Typer 0.29 prints ``<bool>`` beside ``--json`` or ``--help`` as if they took a value;
    a flag takes none, so its help shows no type."""
    return None if option.is_flag else _type_shown_beside(option, ctx)


TyperOption.display_type_rich = _no_type_beside_a_flag  # type: ignore[method-assign,assignment]


def _print_version(asked: bool) -> None:
    if not asked:
        return
    from importlib.metadata import version  # only when asked: the CLI starts on every call

    from eventlog.migrating import latest_revision

    typer.echo(
        f"guichet {version('guichet')} (event log schema {latest_revision()}, "
        f"temporalio {version('temporalio')}, Python {sys.version.split()[0]})"
    )
    raise typer.Exit()


@app.callback()
def _options(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_print_version,
            help="Print this Guichet's version, the log schema it needs, and leave.",
        ),
    ] = False,
) -> None:
    """The options of ``guichet`` itself, before any command."""


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
AsOption = Annotated[
    str,
    typer.Option(
        "--as",
        envvar="GUICHET_AS",
        help="Who acts: role:<id>, cofinancer:<id>:<funder> or applicant:<id>:<insee>, the "
        "id as the person signs in (lowercase), or set GUICHET_AS. Once the console has "
        "accounts, an account that may sign in, of that role, funder or commune; with none "
        "at all, the operator's word; Guichet itself is system:guichet.",
        show_default=False,
    ),
]


def friendly(func: Callable[P, R]) -> Callable[P, R]:
    """Turn ``CliError``/``InputError`` (and an unusable payload key) into one sentence on
    stderr and the right exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except InputError as error:
            fail(str(error), EXIT_USAGE)
        except CliError as error:
            fail(error.message, error.exit_code)
        except PayloadKeyError as error:  # read with the settings, by any command
            fail(f"payload encryption is misconfigured: {error}", EXIT_USAGE)
        except (SettingsError, TemporalSettingsError) as error:  # read by any command
            fail(str(error), EXIT_USAGE)

    return wrapper


def fail(message: str, code: int) -> NoReturn:
    """Print ``guichet: <message>`` on stderr and leave with ``code``."""
    typer.echo(f"guichet: {message}", err=True)
    raise typer.Exit(code)


def emit_json(value: Any) -> None:
    """Print ``value`` as indented JSON (pydantic models in their JSON form)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def say(message: str) -> None:
    """Progress for people, on stderr so that stdout stays clean for --json."""
    print(message, file=sys.stderr, flush=True)


_OWN_LINE = ("Example", "- ")
"""Lines that start so keep their own line (several examples, a list)."""


def reflowed(text: str) -> str:
    """``text`` with each sentence on one line: the help shows paragraphs after the first as
    written, so a docstring's line breaks would cut sentences in the middle on screen."""
    lines: list[str] = []
    for line in inspect.cleandoc(text).splitlines():
        line = line.strip()
        if lines and lines[-1] and line and not line.startswith(_OWN_LINE):
            lines[-1] += " " + line
        else:
            lines.append(line)
    return "\n".join(lines)


def reflow_help(typer_app: typer.Typer) -> None:
    """Reflow the help of every command and group registered on ``typer_app``, recursively."""
    for command in typer_app.registered_commands:
        text = command.help or inspect.getdoc(command.callback)
        if text:
            command.help = reflowed(text)
        if command.epilog:
            command.epilog = reflowed(command.epilog)
    for group in typer_app.registered_groups:
        instance = group.typer_instance
        if instance is not None:
            if instance.info.help:
                instance.info.help = reflowed(str(instance.info.help))
            reflow_help(instance)
