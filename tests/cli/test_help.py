"""``guichet … --help``: every option says what it is for, and no sentence is cut in two."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from console.app import reflowed
from console.cli import app, load_commands
from eventlog.migrating import latest_revision

load_commands()
runner = CliRunner()


def commands() -> Iterator[tuple[list[str], Any]]:
    """Every leaf command of the CLI (Typer's own click) with the words that run it."""

    def walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, command

    yield from walk(typer.main.get_command(app), [])


COMMANDS = dict((" ".join(path), command) for path, command in commands())


def test_reflowing_joins_lines_and_keeps_paragraphs_examples_and_lists() -> None:
    """A paragraph's lines join; paragraphs, examples and list items keep their breaks."""
    text = """Do a thing
    across lines.

    Example: guichet a
    Example: guichet b
    - one
      item"""
    assert reflowed(text) == (
        "Do a thing across lines.\n\nExample: guichet a\nExample: guichet b\n- one item"
    )


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_parameter_has_help(name: str) -> None:
    """Every option and argument of the command says what it is for."""
    silent = [p.name for p in COMMANDS[name].params if not getattr(p, "help", None)]
    assert silent == [], f"guichet {name}: no help for {silent}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_no_help_line_continues_a_sentence(name: str) -> None:
    """No line of the help starts in the middle of a sentence."""
    help_text = COMMANDS[name].help or ""
    cut = [line for line in help_text.splitlines()[1:] if line[:1].islower() or line[:1] == "("]
    assert cut == [], f"guichet {name}: a sentence is cut before {cut}"


def test_the_screen_shows_a_docstring_sentence_whole() -> None:
    """On a wide terminal a docstring's sentence shows on one line."""
    shown = runner.invoke(app, ["submit", "--help"], env={"COLUMNS": "200"}).output
    assert "the key derived from the content lands on the same application." in shown


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_screen_shows_each_help_text_without_losing_words(name: str) -> None:
    """Rich markup eats a bracketed word ("[plan]") and Typer brackets an optional argument
    again ("[[APPLICATION]]"): the rendered help keeps every word of each parameter's help."""
    shown = " ".join(
        runner.invoke(app, [*name.split(), "--help"], env={"COLUMNS": "400"}).output.split()
    )
    assert "[[" not in shown, f"guichet {name}: doubled brackets"
    for parameter in COMMANDS[name].params:
        words = " ".join((getattr(parameter, "help", None) or "").split())
        assert words in shown, f"guichet {name}: {parameter.name}'s help shows cut"


def test_version_names_the_release_and_the_log_schema_it_needs() -> None:
    """``guichet --version``: what an operator quotes in a report, without reaching a server."""
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"guichet {version('guichet')} ")
    assert f"event log schema {latest_revision()}" in result.output


@pytest.mark.parametrize("words", [[], ["list"], ["audit", "verify"], ["user", "list"]])
def test_a_flag_shows_no_type_as_if_it_took_a_value(words: list[str]) -> None:
    """``--json`` and ``--help`` take no value: no ``<bool>`` beside them; an option that
    takes one still says which (``<str>``, ``<int>``…)."""
    shown = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "200"}).output
    assert "--help" in shown
    assert "<bool>" not in shown
    if words == ["list"]:
        assert "<str>" in shown
