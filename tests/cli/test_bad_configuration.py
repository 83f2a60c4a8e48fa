"""Configuration an operator got wrong: one sentence naming the variable (and the path or
the value) and exit code 2, as the README promises for bad input; never « unexpected error »,
never a password."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.cli.support import guichet

NO_TEMPORAL = "127.0.0.1:1"
"""Nothing listens there: a sentence about Temporal would mean the settings passed."""


@pytest.fixture(autouse=True)
def _no_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", NO_TEMPORAL)
    monkeypatch.setenv("GUICHET_STATE_DIR", str(tmp_path / "state"))


def test_an_unknown_log_level_is_refused_with_the_levels_there_are(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """GUICHET_LOG_LEVEL=VERBOSE was silently taken as INFO."""
    monkeypatch.setenv("GUICHET_LOG_LEVEL", "VERBOSE")
    code, _, err = guichet(capsys, "worker")
    assert (code, err) == (
        2,
        "guichet: GUICHET_LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or "
        "'CRITICAL' (read 'VERBOSE')\n",
    )


def test_a_log_level_in_small_letters_is_taken() -> None:
    from workers.settings import Settings

    assert Settings.from_env({"GUICHET_LOG_LEVEL": "debug"}).log_level == "DEBUG"


@pytest.mark.parametrize(
    ("variable", "content", "said"),
    [
        (
            "GUICHET_CONVENTIONS_FILE",
            None,
            "GUICHET_CONVENTIONS_FILE: no file at {path}: check the path",
        ),
        (
            "GUICHET_CONVENTIONS_FILE",
            "insee;signed_on\n",
            "GUICHET_CONVENTIONS_FILE: {path}: the header must be insee,kind,signed_on",
        ),
        (
            "GUICHET_DIRECTORY_FILE",
            None,
            "GUICHET_DIRECTORY_FILE: no directory file at {path}: check the path",
        ),
        (
            "GUICHET_DIRECTORY_FILE",
            'alice = "not an address"\n',
            "GUICHET_DIRECTORY_FILE: directory file {path}: 'alice' has a non-address "
            "'not an address'",
        ),
    ],
)
def test_a_file_the_settings_name_that_cannot_be_used_is_named_before_connecting(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    variable: str,
    content: str | None,
    said: str,
) -> None:
    """`guichet worker` said « unexpected error (FileNotFoundError: …) » or « (DirectoryError
    …) », exit 1, once Temporal had answered."""
    path = tmp_path / ("conventions.csv" if "CONVENTIONS" in variable else "directory.toml")
    if content is not None:
        path.write_text(content, encoding="utf-8")
    monkeypatch.setenv(variable, str(path))
    code, _, err = guichet(capsys, "worker")
    assert (code, err) == (2, f"guichet: {said.format(path=path)}\n")


def test_files_a_spreadsheet_or_notepad_saved_with_a_byte_order_mark_are_read(
    tmp_path: Path,
) -> None:
    """A "CSV UTF-8" export starts with a byte-order mark: its header read "\\ufeffinsee" and
    was refused as « the header must be insee,kind,signed_on », the header shown on screen."""
    from workers.settings import Settings

    conventions = tmp_path / "conventions.csv"
    conventions.write_bytes(b"\xef\xbb\xbfinsee,kind,signed_on\r\n01034,cadre,2023-05-02\r\n")
    directory = tmp_path / "directory.toml"
    directory.write_bytes(b'\xef\xbb\xbfalice = "alice@ain.gouv.fr"\n')
    settings = Settings(conventions_file=conventions, directory_file=directory)

    commune = settings.registry().get("01034")
    assert commune is not None and [c.kind for c in commune.conventions] == ["cadre"]
    directory_read = settings.directory()
    assert directory_read is not None
    assert asyncio.run(directory_read.addresses("alice")) == ("alice@ain.gouv.fr",)


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16"])
def test_a_conventions_file_not_in_utf8_says_how_to_save_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    encoding: str,
) -> None:
    """Saved as Excel's "CSV" (Windows-1252) or "Unicode text" (UTF-16), it ended `guichet
    worker` in « unexpected error (UnicodeDecodeError …) », exit 1."""
    path = tmp_path / "conventions.csv"
    path.write_bytes("insee,kind,signed_on\n01034,cadre,2023-05-02 # signée\n".encode(encoding))
    monkeypatch.setenv("GUICHET_CONVENTIONS_FILE", str(path))
    code, _, err = guichet(capsys, "worker")
    assert (code, err) == (
        2,
        f'guichet: GUICHET_CONVENTIONS_FILE: {path} is not UTF-8 text: save it as "CSV UTF-8" '
        "(insee,kind,signed_on)\n",
    )


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        (
            "GUICHET_SIGNING_KEY_FILE",
            "{missing}",
            "GUICHET_SIGNING_KEY_FILE: cannot read the signing key file {missing}: No such file "
            "or directory",
        ),
        (
            "GUICHET_SIGNING_KEY_FILE",
            "{not_a_key}",
            "GUICHET_SIGNING_KEY_FILE: the signing key file {not_a_key} is neither a PEM "
            "Ed25519 key nor the base64 of 32 raw key bytes",
        ),
        (
            "GUICHET_SIGNING_KEY",
            "c2VjcmV0",
            "GUICHET_SIGNING_KEY is neither a PEM Ed25519 key nor the base64 of 32 raw key bytes",
        ),
    ],
)
def test_a_signing_key_that_cannot_be_used_stops_the_worker_at_start(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    variable: str,
    value: str,
    said: str,
) -> None:
    """The key is read at each checkpoint (a rotated file is picked up): a path mistyped
    started a worker in silence, whose every scheduled checkpoint then failed, hours later."""
    paths = {"missing": tmp_path / "signing.pem", "not_a_key": tmp_path / "directory.toml"}
    paths["not_a_key"].write_text('alice = "alice@ain.gouv.fr"\n', encoding="utf-8")
    monkeypatch.setenv(variable, value.format(**paths))
    code, _, err = guichet(capsys, "worker")
    assert (code, err) == (2, f"guichet: {said.format(**paths)}\n")
    assert "c2VjcmV0" not in err


def test_a_usable_signing_key_lets_the_worker_go_on_starting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A key `guichet audit keygen` wrote passes: the worker goes on to Temporal."""
    key = tmp_path / "signing.pem"
    assert guichet(capsys, "audit", "keygen", str(key))[0] == 0
    monkeypatch.setenv("GUICHET_SIGNING_KEY_FILE", str(key))
    code, _, err = guichet(capsys, "worker")
    assert code == 1 and f"Temporal is not reachable at {NO_TEMPORAL}" in err


def test_a_database_that_does_not_exist_says_to_create_it(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A DBAPIError « database "nosuchdb" does not exist » reached the operator as an
    unexpected error (exit 1)."""
    missing = sa.make_url(pg_url).set(password="S3cret", database="guichet_nosuchdb")
    monkeypatch.setenv("GUICHET_DATABASE_URL", missing.render_as_string(hide_password=False))
    shown = missing.render_as_string(hide_password=True)
    for command in (["user", "list"], ["migrate"]):
        code, _, err = guichet(capsys, *command)
        assert code == 2, err
        assert (
            f"the database of the event log PostgreSQL {shown} does not exist: create it "
            "(`createdb guichet_nosuchdb` on that server, or ask its operator), then run "
            "`guichet migrate`\n"
        ) in err
        assert "S3cret" not in err


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("guichet-db:5432/guichet", "'guichet-db:5432/guichet'"),
        ("postgres://guichet:S3cret@db/guichet", "'postgres://guichet:***@db/guichet'"),
        ("postgresql://guichet:S3cret@db/guichet", "'postgresql://guichet:***@db/guichet'"),
        ("sqlite:///events.db", "'sqlite:///events.db'"),
    ],
)
@pytest.mark.parametrize("command", [["worker"], ["migrate"], ["status"]])
def test_a_database_url_the_event_log_cannot_open_says_the_form_to_write(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
    said: str,
    command: list[str],
) -> None:
    """Text that is no URL, or a URL without the asyncpg or aiosqlite driver, reached the
    operator as « unexpected error (ArgumentError: Could not parse SQLAlchemy URL …) », or
    (NoSuchModuleError, ModuleNotFoundError: psycopg2) in the image, exit 1."""
    monkeypatch.setenv("GUICHET_DATABASE_URL", url)
    code, _, err = guichet(capsys, *command)
    assert (code, err) == (
        2,
        "guichet: GUICHET_DATABASE_URL: write "
        "postgresql+asyncpg://USER:PASSWORD@HOST:5432/DATABASE (or sqlite+aiosqlite:///PATH "
        f"for a file) (read {said})\n",
    )


def test_a_console_without_its_secret_warns_that_sessions_will_not_survive(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without GUICHET_CONSOLE_SECRET the console signed sessions with a random key of its
    own, in silence: every restart signed everyone out, and two replicas refused each
    other's sessions."""
    monkeypatch.setenv("GUICHET_LOG_FORMAT", "json")
    monkeypatch.delenv("GUICHET_CONSOLE_SECRET", raising=False)
    code, _, err = guichet(capsys, "console", "--port", "0")
    assert code == 1 and "Temporal is not reachable" in err  # it went on starting
    (warning,) = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert warning["level"] == "warning"
    assert warning["event"].startswith("GUICHET_CONSOLE_SECRET is not set: sessions are signed")
    assert "set GUICHET_CONSOLE_SECRET (32+ characters" in warning["event"]

    monkeypatch.setenv("GUICHET_CONSOLE_SECRET", "s" * 32)
    code, _, err = guichet(capsys, "console", "--port", "0")
    assert code == 1 and "GUICHET_CONSOLE_SECRET" not in err
